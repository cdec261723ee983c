"""Re-evaluations after a 重大变化 (附件2 三) on the fakes: supervision's request opens one, due in 20 working days on
the official calendar; the region office lists it (a bureau its 盟市's only) and records the on-site check's outcome
(still meets / does not meet with the reason) once; replays and repeats change nothing."""
from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, date, datetime

import pytest
from region_builders import REGION_OFFICE, Clock, make_bus
from review_builders import BUREAU, BUREAU_BAOTOU, reviewer

from review_routing.bootstrap import EVENT_HANDLERS
from review_routing.domain.region.re_evaluations import RE_EVALUATION_DAYS, ReEvaluation
from review_routing.service_layer.region import re_evaluations as re
from shared.config import REPO_ROOT
from shared.errors import Conflict, InvalidInput, NotFound, NotPermitted
from shared.workdays import WorkingCalendar

EXAMPLE = json.loads((REPO_ROOT / "contracts" / "examples" / "supervision.re_evaluation_requested.v1.json")
                     .read_text("utf-8"))
OPENED_AT = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)   # Friday 26 September 2025, 10:00 in Beijing, before 国庆


def requested(request_id: str = "reeval-1", league: str = "鄂尔多斯市", **payload) -> dict:
    envelope = copy.deepcopy(EXAMPLE)
    envelope["event_id"] = str(uuid.uuid4())
    envelope["payload"].update({"request_id": request_id, "league": league, "requested_on": "2025-09-26",
                                **payload})
    envelope["payload"]["changes"][0]["changed_on"] = "2025-09-25"
    return envelope


@pytest.fixture
def clock():
    return Clock(OPENED_AT)


@pytest.fixture
def bus(uow, clock):
    return make_bus(uow, clock)


def test_the_handler_is_registered():
    assert EVENT_HANDLERS["supervision.re_evaluation_requested"] is re.on_re_evaluation_requested


def test_a_request_opens_a_re_evaluation_due_in_20_working_days_on_the_official_calendar(bus, uow):
    bus.handle_event(requested(), uow)
    [item] = bus.handle(re.ListReEvaluations(REGION_OFFICE))
    # 20 working days after Fri 26 Sep 2025: 国庆 1–8 Oct off, Sun 28 Sep and Sat 11 Oct worked → Thu 30 Oct
    assert RE_EVALUATION_DAYS == 20 and item["due_date"] == "2025-10-30"
    assert WorkingCalendar(lambda d: None).add_working_days(date(2025, 9, 26), 20) == date(2025, 10, 24)
    assert (item["request_id"], item["mine_id"], item["mine_name"], item["league"], item["county"]) == (
        "reeval-1", "mine-001", "鄂尔多斯示范煤矿", "鄂尔多斯市", "准格尔旗")
    assert (item["status"], item["status_label"], item["overdue"], item["outcome"]) == (
        "open", "待实地核查", False, None)
    assert item["changes"] == [{"field": "scale", "label": "开采规模", "changed_on": "2025-09-25",
                                "before": "大型", "after": "中型"}]
    assert item["changes_text"] == "开采规模：大型 → 中型（2025-09-25）"
    assert item["reason"] == EXAMPLE["payload"]["reason"]
    assert item["listed_announcement_no"] == EXAMPLE["payload"]["listed_announcement_no"]
    assert uow.audit.actions() == ["re_evaluation_opened"] and uow.published == []


def test_a_replayed_request_opens_nothing_new(bus, uow, clock):
    event = requested()
    bus.handle_event(event, uow)
    before = uow.re_evaluations.get("reeval-1").to_dict()
    clock.advance(days=3)
    bus.handle_event({**copy.deepcopy(event), "event_id": str(uuid.uuid4())}, uow)   # the same request again
    bus.handle_event(event, uow)
    assert uow.re_evaluations.get("reeval-1").to_dict() == before
    assert len(bus.handle(re.ListReEvaluations(REGION_OFFICE))) == 1
    assert uow.audit.actions() == ["re_evaluation_opened"]


def test_the_office_records_that_the_mine_still_meets_the_standard_once(bus, uow, clock):
    bus.handle_event(requested(), uow)
    clock.advance(days=12)
    out = bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "meets", None, "2025-10-07"))
    assert (out["status"], out["outcome"]["result"], out["outcome"]["result_label"]) == (
        "concluded", "meets", "仍符合绿色矿山标准")
    assert out["outcome"]["checked_on"] == "2025-10-07" and out["outcome"]["recorded_by"] == "region"
    stored = uow.re_evaluations.get("reeval-1").to_dict()
    again = bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "meets", "", "2025-10-07"))
    assert again == out and uow.re_evaluations.get("reeval-1").to_dict() == stored
    with pytest.raises(Conflict) as refused:
        bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "fails", "排土场未复绿", "2025-10-07"))
    assert "不能更改" in refused.value.message
    bus.handle_event(requested(), uow)                                 # a late replay leaves the outcome alone
    assert uow.re_evaluations.get("reeval-1").to_dict() == stored
    assert uow.audit.actions() == ["re_evaluation_opened", "re_evaluation_concluded"]
    [(event, topic)] = [(e, t) for e, t in uow.published if e["type"] == "review_routing.re_evaluation_concluded"]
    assert topic == "review_routing.region.events" and event["aggregate_id"] == "reeval-1"
    assert {k: event["payload"][k] for k in ("result", "reason", "checked_on", "requested_on", "due_date")} == {
        "result": "meets", "reason": None, "checked_on": "2025-10-07", "requested_on": "2025-09-26",
        "due_date": "2025-10-30"}
    assert bus.handle(re.ListReEvaluations(REGION_OFFICE, status="open")) == []
    assert [i["request_id"] for i in bus.handle(re.ListReEvaluations(REGION_OFFICE, status="concluded"))] == [
        "reeval-1"]


def test_does_not_meet_needs_the_reason_and_every_field_error_is_named(bus, uow, clock):
    bus.handle_event(requested(), uow)
    clock.advance(days=5)
    with pytest.raises(InvalidInput) as refused:
        bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "fails", "  ", None))
    assert {e.field: e.message for e in refused.value.errors} == {
        "reason": "不符合的理由：核查结论为“不符合绿色矿山标准”时须写明理由",
        "checked_on": "实地核查日期：请填写实地核查的日期"}
    with pytest.raises(InvalidInput) as refused:
        bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "maybe", None, "2025-09-01"))
    assert {e.field for e in refused.value.errors} == {"result", "checked_on"}
    assert "早于复核请求日期 2025-09-26" in {e.field: e.message for e in refused.value.errors}["checked_on"]
    with pytest.raises(InvalidInput) as refused:
        bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "meets", None, "2025-12-01"))
    assert refused.value.errors[0].message == "实地核查日期：2025-12-01 晚于今天"
    with pytest.raises(InvalidInput):
        bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "meets", None, "2025-10-32"))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "fails", "未复绿\u202e", "2025-09-30"))
    assert refused.value.errors[0].message.startswith("理由：含有不可见字符")
    assert uow.re_evaluations.get("reeval-1").status == "open"
    out = bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "fails",
                                                  " 扩界后新增采区 未按 设计复绿 ", "2025-09-30"))
    assert (out["outcome"]["result_label"], out["outcome"]["reason"]) == (
        "不符合绿色矿山标准", "扩界后新增采区 未按 设计复绿")


def test_overdue_after_the_due_date_while_open(bus, uow, clock):
    bus.handle_event(requested(), uow)
    clock.now = datetime(2025, 10, 30, 16, 30, tzinfo=UTC)  # 31 Oct 00:30 in Beijing: the day after the due date
    [item] = bus.handle(re.ListReEvaluations(REGION_OFFICE))
    assert item["overdue"] is True
    bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "reeval-1", "meets", None, "2025-10-31"))
    assert bus.handle(re.ShowReEvaluation(REGION_OFFICE, "reeval-1"))["overdue"] is False


def test_who_sees_and_who_records(bus, uow):
    bus.handle_event(requested("reeval-1"), uow)
    bus.handle_event(requested("reeval-2", league="包头市", mine_id="mine-002"), uow)
    assert [i["request_id"] for i in bus.handle(re.ListReEvaluations(REGION_OFFICE))] == ["reeval-1", "reeval-2"]
    assert [i["request_id"] for i in bus.handle(re.ListReEvaluations(BUREAU))] == ["reeval-1"]
    assert [i["request_id"] for i in bus.handle(re.ListReEvaluations(REGION_OFFICE, league="包头市"))] == ["reeval-2"]
    with pytest.raises(NotPermitted):
        bus.handle(re.ListReEvaluations(BUREAU, league="包头市"))
    with pytest.raises(NotPermitted):
        bus.handle(re.ShowReEvaluation(BUREAU_BAOTOU, "reeval-1"))
    with pytest.raises(NotPermitted):
        bus.handle(re.ListReEvaluations(reviewer("natural_resources")))
    with pytest.raises(NotPermitted):
        bus.handle(re.RecordReEvaluationOutcome(BUREAU, "reeval-1", "meets", None, "2025-09-26"))
    with pytest.raises(NotFound):
        bus.handle(re.RecordReEvaluationOutcome(REGION_OFFICE, "nope", "meets", None, "2025-09-26"))
    with pytest.raises(InvalidInput):
        bus.handle(re.ListReEvaluations(REGION_OFFICE, status="closed"))


def test_the_aggregate_round_trips():
    item = ReEvaluation.open(requested()["payload"], at=OPENED_AT, today=date(2025, 9, 26),
                             calendar=WorkingCalendar())
    item.record_outcome(result="fails", reason="不符合", checked_on="2025-10-09", by="region", by_name="自治区",
                        at=OPENED_AT, today=date(2025, 10, 10))
    again = ReEvaluation.from_dict(item.to_dict())
    assert again.to_dict() == item.to_dict() and again.due_date == date(2025, 10, 30)
