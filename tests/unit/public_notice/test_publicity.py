"""公示 batches: the window on the official calendar, proposals, composing, publishing, opening and closing, and the
entry methods the objections and listing areas call."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from public_notice.bootstrap import bootstrap
from public_notice.domain import publicity as rules
from public_notice.domain.commands import Sweep
from public_notice.domain.publicity import PublicityBatch
from public_notice.service_layer import publicity as area
from public_notice.service_layer.publicity import ChangeBatch, ComposeBatch, DeleteBatch, PublishBatch
from shared.config import Settings
from shared.contracts import new_event
from shared.errors import InvalidInput, InvalidTransition, NotFound, NotPermitted
from shared.identity import Principal
from shared.workdays import WorkingCalendar

CAL = WorkingCalendar()
OFFICE = Principal("region", "region_office", "自治区自然资源厅")


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


def beijing_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


def decided(n: int, *, version: int = 1, league: str = "鄂尔多斯市", decision: str = "proposed") -> dict:
    app = f"app-{n:04d}"
    return new_event("review_routing.region_review_decided", producer="review_routing",
                     aggregate_type="region_review", aggregate_id=f"{app}.v{version}", aggregate_version=3,
                     correlation_id=str(uuid.uuid4()), payload={
                         "review_id": f"{app}.v{version}", "application_id": app, "version_no": version,
                         "league": league, "case_no": f"150600-2026-{n:05d}", "decision": decision,
                         "reasons": [] if decision == "proposed" else [{"indicator": None, "text": "不符"}],
                         "decided_by": "region", "decided_at": "2026-11-20T02:00:00Z",
                         "enterprise": {"id": None, "name": f"示范企业{n}", "credit_code": f"9115060000000{n:05d}"},
                         "mine": {"mine_id": f"mine-{n:04d}", "name": f"示范矿山{n}号", "minerals": ["煤"],
                                  "scale": "large", "county": None},
                         "evaluation": {"institution_id": "i1", "institution_name": "评估公司",
                                        "assessment_id": "a", "total": "92.50", "verdict": "达标"}})


@pytest.fixture
def clock():
    return Clock(beijing_noon(date(2026, 12, 1)))   # a Tuesday


class NoDirectory:
    """Nobody to tell (the notification areas also handle these events)."""

    def find(self, **equals):
        return []


@pytest.fixture
def bus(uow, clock):
    return bootstrap(Settings.from_env({}), uow_factory=lambda: uow, clock=clock, directory=NoDirectory())


def propose(bus, uow, *ns, **kw):
    for n in ns:
        bus.handle_event(decided(n, **kw), uow)


def published(uow, kind):
    return [e for e, _ in uow.published if e["type"] == f"public_notice.{kind}"]


# -- the window ---------------------------------------------------------------------------------------------------
def test_window_skips_national_day_and_counts_the_make_up_saturday():
    # 2026: 国庆 10月1日–7日 off; 9月20日 (Sun) and 10月10日 (Sat) are 调休 working days
    w = rules.window(CAL, date(2026, 9, 30), 5)
    assert w["end"] == "2026-10-12"       # 9/30, 10/8, 10/9, 10/10 (调休 Saturday, worked), 10/12
    assert CAL.working_days_between(date(2026, 9, 29), date.fromisoformat(w["end"])) == 5
    skipped = {d["date"]: d["reason"] for d in w["skipped"]}
    assert skipped["2026-10-01"] == "国庆节假期" and skipped["2026-10-11"] == "周末休息"
    assert "2026-10-10" not in skipped and len(skipped) == 8
    assert all(not CAL.is_workday(date.fromisoformat(d["date"])) for d in w["skipped"])


def test_window_over_spring_festival():
    # 2026 春节: 2月15日–23日 off, 2月14日 (Sat) and 2月28日 (Sat) worked
    w = rules.window(CAL, date(2026, 2, 12), 5)
    span = (date.fromisoformat(w["end"]) - date(2026, 2, 12)).days + 1
    days = [date(2026, 2, 12) + timedelta(days=i) for i in range(span)]
    assert sum(CAL.is_workday(d) for d in days) == 5
    assert any(d["holiday"] == "春节" for d in w["skipped"])
    assert w["end"] == "2026-02-25"       # 2/12, 2/13, 2/14 (调休 Saturday), 2/24, 2/25


def test_a_start_on_a_holiday_is_refused_with_its_name():
    with pytest.raises(InvalidInput) as caught:
        rules.check_start(CAL, date(2026, 10, 2))
    assert caught.value.errors[0].field == "start_date" and "国庆节" in caught.value.errors[0].message
    with pytest.raises(InvalidInput):
        rules.check_start(CAL, date(2026, 12, 5))   # a Saturday
    rules.check_start(CAL, date(2026, 10, 10))      # a 调休 working Saturday is fine


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 20)), st.integers(1, 30))
def test_window_properties(day, n):
    start = rules.first_start(CAL, day)
    assert start > day and CAL.is_workday(start)
    end = rules.window_end(CAL, start, n)
    assert CAL.is_workday(end)
    held = sum(CAL.is_workday(start + timedelta(days=i)) for i in range((end - start).days + 1))
    assert held == n
    assert CAL.working_days_between(day, start) == 1


@pytest.mark.parametrize("value", [0, 31, -1, "5", True, 2.5])
def test_working_days_out_of_range_is_refused(value):
    with pytest.raises(InvalidInput) as caught:
        rules.check_working_days(value)
    assert caught.value.errors[0].field == "working_days"


# -- proposals ----------------------------------------------------------------------------------------------------
def test_proposals_kept_replays_ignored_newer_version_supersedes(bus, uow):
    propose(bus, uow, 1, 2)
    bus.handle_event(decided(3, decision="returned"), uow)
    propose(bus, uow, 1)   # replay
    assert [p["application_id"] for p in area.waiting_proposals(uow)] == ["app-0001", "app-0002"]
    propose(bus, uow, 1, version=2)
    waiting = area.waiting_proposals(uow)
    assert [(p["application_id"], p["version_no"]) for p in waiting] == [("app-0001", 2), ("app-0002", 1)]
    assert uow.proposals.get("app-0001.v1").status == "superseded"
    bus.handle_event(decided(2, version=0 + 1), uow)
    assert area.waiting_proposals(uow, league="包头市") == []


# -- composing and publishing ---------------------------------------------------------------------------------------
def test_compose_defaults_and_publish(bus, uow, clock):
    propose(bus, uow, 1, 2)
    propose(bus, uow, 3, league="包头市")
    draft = bus.handle(ComposeBatch(OFFICE, ("app-0001", "app-0003")))
    assert draft["status"] == "draft" and draft["working_days"] == 5
    assert draft["window_start"] == "2026-12-02" and draft["window_end"] == "2026-12-08"
    assert draft["title"] == "内蒙古自治区2026年第1批绿色矿山遴选结果公示"
    assert {p["application_id"] for p in area.waiting_proposals(uow)} == {"app-0002"}
    view = bus.handle(PublishBatch(draft["id"], OFFICE))
    assert view["status"] == "published" and all(e["state"] == "in_window" for e in view["entries"])
    [event] = published(uow, "publicity_published")
    assert event["payload"]["window_start"] == "2026-12-02" and len(event["payload"]["entries"]) == 2
    assert event["payload"]["mine_count"] == 2
    assert {e["league"] for e in event["payload"]["entries"]} == {"鄂尔多斯市", "包头市"}
    with pytest.raises(InvalidTransition):
        bus.handle(ChangeBatch(draft["id"], OFFICE, working_days=7))
    with pytest.raises(InvalidTransition):
        bus.handle(DeleteBatch(draft["id"], OFFICE))
    second = bus.handle(ComposeBatch(OFFICE, ("app-0002",)))
    assert second["title"].endswith("第2批绿色矿山遴选结果公示")
    history = [h["action"] for h in uow.batches.get(draft["id"]).history]
    assert history == ["composed", "published"]


def test_refusals_name_their_fields(bus, uow, clock):
    propose(bus, uow, 1)
    cases = [((), "application_ids"), (("app-9999",), "application_ids")]
    for ids, name in cases:
        with pytest.raises(InvalidInput) as caught:
            bus.handle(ComposeBatch(OFFICE, ids))
        assert caught.value.errors[0].field == name
    with pytest.raises(InvalidInput) as caught:
        bus.handle(ComposeBatch(OFFICE, ("app-0001",), start_date="2026-12-05"))
    assert caught.value.errors[0].field == "start_date" and "休息日" in caught.value.errors[0].message
    with pytest.raises(InvalidInput) as caught:
        bus.handle(ComposeBatch(OFFICE, ("app-0001",), start_date="2026-11-30"))
    assert caught.value.errors[0].field == "start_date"
    with pytest.raises(InvalidInput) as caught:
        bus.handle(ComposeBatch(OFFICE, ("app-0001",), working_days=31))
    assert caught.value.errors[0].field == "working_days"
    with pytest.raises(NotPermitted):
        bus.handle(ComposeBatch(Principal("x", "admin"), ("app-0001",)))
    with pytest.raises(NotFound):
        bus.handle(PublishBatch("nope", OFFICE))


def test_change_and_delete_a_draft(bus, uow, clock):
    propose(bus, uow, 1, 2, 3)
    draft = bus.handle(ComposeBatch(OFFICE, ("app-0001", "app-0002"), title="自定标题",
                                    start_date="2026-12-07", working_days=3))
    assert (draft["window_start"], draft["window_end"]) == ("2026-12-07", "2026-12-09")
    changed = bus.handle(ChangeBatch(draft["id"], OFFICE, add=("app-0003",), remove=("app-0001",),
                                     working_days=10))
    assert {e["application_id"] for e in changed["entries"]} == {"app-0002", "app-0003"}
    assert changed["window_end"] == "2026-12-18" and changed["title"] == "自定标题"
    assert uow.proposals.get("app-0001.v1").status == "waiting"
    with pytest.raises(InvalidInput) as caught:
        bus.handle(ChangeBatch(draft["id"], OFFICE, remove=("app-0009",)))
    assert caught.value.errors[0].field == "remove"
    bus.handle(DeleteBatch(draft["id"], OFFICE))
    assert {p["application_id"] for p in area.waiting_proposals(uow)} == {"app-0001", "app-0002", "app-0003"}
    with pytest.raises(NotFound):
        bus.handle(PublishBatch(draft["id"], OFFICE))


def test_publishing_a_draft_whose_chosen_start_has_passed_is_refused(bus, uow, clock):
    propose(bus, uow, 1)
    draft = bus.handle(ComposeBatch(OFFICE, ("app-0001",), start_date="2026-12-02"))
    clock.at = beijing_noon(date(2026, 12, 3))
    with pytest.raises(InvalidInput) as caught:
        bus.handle(PublishBatch(draft["id"], OFFICE))
    assert caught.value.errors[0].field == "start_date"


def test_sweep_opens_and_closes_and_reads_are_right_before_it(bus, uow, clock):
    propose(bus, uow, 1, 2)
    draft = bus.handle(ComposeBatch(OFFICE, ("app-0001", "app-0002")))
    bus.handle(PublishBatch(draft["id"], OFFICE))
    batch = uow.batches.get(draft["id"])
    assert not batch.accepts_objections(date(2026, 12, 1))
    assert batch.effective_status(date(2026, 12, 2)) == "open" and batch.accepts_objections(date(2026, 12, 8))
    assert batch.effective_status(date(2026, 12, 9)) == "closed" and not batch.accepts_objections(date(2026, 12, 9))
    clock.at = beijing_noon(date(2026, 12, 2))
    assert bus.handle(Sweep()) == 1 and bus.handle(Sweep()) == 0
    batch = uow.batches.get(draft["id"])
    assert batch.status == "open"
    batch.objection_filed("app-0002", "obj-1")
    uow.batches.save(batch)
    clock.at = beijing_noon(date(2026, 12, 9))
    assert bus.handle(Sweep()) == 1 and bus.handle(Sweep()) == 0
    batch = uow.batches.get(draft["id"])
    assert batch.status == "closed" and batch.closed_on == "2026-12-09"
    assert {e["application_id"]: e["state"] for e in batch.entries} == {"app-0001": "clear", "app-0002": "objection"}
    [closed] = published(uow, "publicity_closed")
    assert {e["state"] for e in closed["payload"]["entries"]} == {"clear", "objection"}
    assert [h["action"] for h in batch.history] == ["composed", "published", "opened", "closed"]
    public = batch.public_view(date(2026, 12, 9))
    assert "obj-1" not in str(public) and public["status"] == "closed"


# -- the entry methods ------------------------------------------------------------------------------------------
def closed_batch(*apps) -> PublicityBatch:
    cases = []
    for n in apps:
        cases.append(rules.ProposedCase.from_decision(decided(n)["payload"]))
    at = beijing_noon(date(2026, 12, 1))
    batch = PublicityBatch.compose("pb-1", cases, title=None, working_days=5, start=None, calendar=CAL,
                                   today=date(2026, 12, 1), n=1, at=at, by="region")
    batch.publish(calendar=CAL, today=date(2026, 12, 1), n=1, at=at, by="region")
    return batch


def test_entry_methods_through_objections_to_listing():
    batch = closed_batch(1, 2, 3, 4)
    assert batch.listable() == []                    # not closed yet
    assert batch.entry("app-0001")["mine_name"] == "示范矿山1号" and batch.entry("nope") is None
    batch.advance(date(2026, 12, 3), beijing_noon(date(2026, 12, 3)))
    batch.objection_filed("app-0002", "o1")
    batch.objection_filed("app-0002", "o1")           # a repeat
    batch.objection_filed("app-0003", "o2")
    batch.objection_filed("app-0004", "o3")
    batch.objection_filed("app-0004", "o4")
    assert batch.entry("app-0002")["open_objections"] == ["o1"]
    batch.objection_concluded("app-0002", "o1", False, None, beijing_noon(date(2026, 12, 4)))  # in the window
    batch.advance(date(2026, 12, 9), beijing_noon(date(2026, 12, 9)))
    states = {e["application_id"]: e["state"] for e in batch.entries}
    assert states == {"app-0001": "clear", "app-0002": "not_upheld", "app-0003": "objection",
                      "app-0004": "objection"}
    assert [e["application_id"] for e in batch.listable()] == ["app-0001", "app-0002"]
    batch.objection_concluded("app-0003", "o2", True, "refuse", beijing_noon(date(2026, 12, 10)))
    batch.objection_concluded("app-0004", "o3", False, None, beijing_noon(date(2026, 12, 10)))
    assert batch.entry("app-0004")["state"] == "objection"     # o4 still open
    batch.objection_concluded("app-0004", "o4", True, "return_to_region", beijing_noon(date(2026, 12, 11)))
    batch.objection_concluded("app-0004", "o4", True, "return_to_region", beijing_noon(date(2026, 12, 11)))
    assert batch.entry("app-0003")["state"] == "refused" and batch.entry("app-0004")["state"] == "returned"
    assert [e["application_id"] for e in batch.listable()] == ["app-0001", "app-0002"]
    batch.mark_listed(["app-0001", "app-0002"], beijing_noon(date(2026, 12, 12)), "ann-1")
    assert batch.listable() == [] and batch.entry("app-0001")["state"] == "listed"
    again = PublicityBatch.from_dict(batch.to_dict())
    assert again.to_dict() == batch.to_dict()
    with pytest.raises(InvalidInput):
        batch.objection_filed("nope", "o9")


def test_an_upheld_objection_in_the_window_keeps_the_mine_off_the_list():
    batch = closed_batch(1)
    batch.advance(date(2026, 12, 3), beijing_noon(date(2026, 12, 3)))
    batch.objection_filed("app-0001", "o1")
    batch.objection_concluded("app-0001", "o1", True, "return_to_region", beijing_noon(date(2026, 12, 4)))
    batch.advance(date(2026, 12, 9), beijing_noon(date(2026, 12, 9)))
    assert batch.entry("app-0001")["state"] == "returned" and batch.listable() == []
