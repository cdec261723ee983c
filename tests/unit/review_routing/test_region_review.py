"""The region stage's spine: a forwarded case opens a RegionReview in the forward's transaction; its steps, their
deadlines on the official calendar, the overdue sweep and reminders, flags, and the region decision's rules
(propose only when evaluated, checked, unflagged and every binding 不涉及 confirmed by the initial review and the
evaluator)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from region_builders import (
    CALENDAR,
    POLICY,
    REGION_OFFICE,
    advance,
    forwarded,
    make_bus,
)
from review_builders import BUREAU

from review_routing.domain.access import Actor
from review_routing.domain.region.review import RegionReview, parse_reasons
from review_routing.service_layer.region import reviews as r
from shared.errors import InvalidInput, InvalidTransition, NotPermitted
from shared.workdays import beijing_date

EVALUATOR = Actor("eval_a", "evaluator", "评估员", institution="inst-1")
OTHER_EVALUATOR = Actor("eval_b", "evaluator", "评估员乙", institution="inst-2")




@pytest.fixture
def bus(uow, clock):
    return make_bus(uow, clock)


def test_the_forward_opens_the_region_review_with_its_commission_deadline_and_one_event(bus, uow, catalog, clock):
    rid = forwarded(bus, uow, catalog)
    review = uow.region_reviews.get(rid)
    assert review.status == "awaiting_commission" and review.version_no == 1 and review.league == "鄂尔多斯市"
    assert review.due_date == CALENDAR.add_working_days(beijing_date(clock()), POLICY.commission_days)
    assert review.binding and set(review.binding) <= {i.no for i in catalog.indicators if i.binding}
    opened = uow.events("review_routing.region_review_opened")
    assert [e["payload"]["review_id"] for e in opened] == [rid]
    assert opened[0]["payload"]["due_date"] == review.due_date.isoformat()


def test_the_queue_and_the_case_are_the_region_offices_and_the_bureaus_and_the_institutions(bus, uow, catalog):
    rid = forwarded(bus, uow, catalog)
    assert [q["review_id"] for q in bus.handle(r.ShowRegionQueue(REGION_OFFICE))] == [rid]
    assert [q["review_id"] for q in bus.handle(r.ShowRegionQueue(BUREAU))] == [rid]
    baotou = Actor("bureau_bt", "bureau", area="包头市")
    assert bus.handle(r.ShowRegionQueue(baotou)) == []
    assert bus.handle(r.ShowRegionQueue(EVALUATOR)) == []          # not commissioned to it yet
    advance(uow, rid, "commissioned")
    assert [q["review_id"] for q in bus.handle(r.ShowRegionQueue(EVALUATOR))] == [rid]
    assert bus.handle(r.ShowRegionQueue(OTHER_EVALUATOR)) == []
    with pytest.raises(NotPermitted):
        bus.handle(r.ShowRegionReview(OTHER_EVALUATOR, rid))
    view = bus.handle(r.ShowRegionReview(REGION_OFFICE, rid))
    assert view["status_label"] == "已委托，待评估机构接受" and view["permissions"] == {"decide": False, "remind": True}
    advance(uow, rid, "evaluated")
    assert bus.handle(r.ShowRegionReview(REGION_OFFICE, rid))["permissions"] == {"decide": True, "remind": True}
    assert bus.handle(r.ShowRegionReview(BUREAU, rid))["permissions"] == {"decide": False, "remind": False}
    with pytest.raises(InvalidInput, match="筛选条件"):
        bus.handle(r.ShowRegionQueue(REGION_OFFICE, status=("nonsense",)))


def test_a_case_is_proposed_only_after_evaluation_and_checks_and_the_event_carries_the_decision(bus, uow, catalog):
    rid = forwarded(bus, uow, catalog)
    with pytest.raises(InvalidTransition, match="须在评估报告提交后"):
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))
    advance(uow, rid, "evaluated")
    with pytest.raises(InvalidTransition, match="须完成评估和资料核查与抽查后方可拟公示"):
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))
    advance(uow, rid, "checked")
    with pytest.raises(NotPermitted):
        bus.handle(r.DecideRegionReview(BUREAU, rid, "propose"))
    result = bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))
    assert result["status"] == "proposed"
    decided = uow.events("review_routing.region_review_decided")
    assert len(decided) == 1 and decided[0]["payload"]["decision"] == "proposed"
    assert decided[0]["payload"]["evaluation"]["total"] == "88.50"
    assert uow.audit.actions()[-1] == "region_decision"
    with pytest.raises(InvalidTransition, match="已作出决定"):
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "reject", ({"text": "x"},)))


def test_return_and_reject_need_reasons_naming_applicable_indicators(bus, uow, catalog):
    rid = forwarded(bus, uow, catalog)
    advance(uow, rid, "evaluated", total="55.00", verdict="not_qualified")
    with pytest.raises(InvalidInput) as e:
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "return"))
    assert e.value.errors[0].field == "reasons"
    with pytest.raises(InvalidInput) as e:
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "return", ({"indicator": 99, "text": "x"},)))
    assert e.value.errors[0].field == "reasons[0].indicator"
    result = bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "return",
                                             ({"indicator": 3, "text": "标识标牌缺失，请整改后重新申报"},)))
    assert result["decision"]["reasons"] == [{"indicator": 3, "text": "标识标牌缺失，请整改后重新申报"}]
    assert uow.events("review_routing.region_review_decided")[0]["payload"]["decision"] == "returned"


def test_not_qualified_unconfirmed_binding_na_open_flags_and_failed_checks_each_block_the_proposal(uow, bus, catalog):
    rid = forwarded(bus, uow, catalog)
    review = uow.region_reviews.get(rid)
    binding = review.binding[0]
    advance(uow, rid, "checked", total="58.00", verdict="not_qualified", not_applicable=[binding], passed=False,
            contradiction="实地抽查总分与评估相差 6.5 分")
    messages = [p.message for p in uow.region_reviews.get(rid).refusals_to_propose()]
    assert any("不达标" in m for m in messages)
    assert any("资料核查未通过" in m for m in messages)
    assert any("实地抽查总分与评估相差" in m for m in messages)
    assert any(f"约束性指标第{binding}项" in m and "初审时责任部门未确认不涉及" in m for m in messages)
    with pytest.raises(InvalidTransition, match="尚不能拟公示"):
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))


def test_a_binding_na_confirmed_at_the_initial_review_and_by_the_evaluator_may_be_proposed(uow, bus, catalog):
    rid = forwarded(bus, uow, catalog)
    review = uow.region_reviews.get(rid)
    binding = review.binding[0]
    review.confirmed_not_applicable = (binding,)
    uow.run(lambda: uow.region_reviews.save(review))
    advance(uow, rid, "checked", not_applicable=[binding])
    assert uow.region_reviews.get(rid).refusals_to_propose() == []


def test_a_flag_blocks_until_cleared_with_a_reason_and_both_are_published(uow, bus, catalog):
    rid = forwarded(bus, uow, catalog)
    advance(uow, rid, "checked", contradiction="实地抽查结论为不达标，评估结论为达标")
    assert uow.region_reviews.get(rid).open_flags
    with pytest.raises(InvalidInput):
        bus.handle(r.ClearRegionFlag(REGION_OFFICE, rid, "spot_check_contradiction", " "))
    bus.handle(r.ClearRegionFlag(REGION_OFFICE, rid, "spot_check_contradiction", "复核后确认评估结论成立"))
    flagged = uow.events("review_routing.region_review_flagged")
    assert [e["payload"]["cleared"] for e in flagged] == [True]
    assert bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))["status"] == "proposed"


def test_steps_run_on_working_days_and_the_sweep_flags_once_and_reminds_the_one_who_must_act(uow, bus, catalog,
                                                                                              clock):
    rid = forwarded(bus, uow, catalog)
    advance(uow, rid, "commissioned", at=clock())
    review = uow.region_reviews.get(rid)
    assert review.step == "accept"
    clock.now = clock.now + timedelta(days=30)
    while not CALENDAR.is_workday(beijing_date(clock())):
        clock.advance(days=1)
    from review_routing.domain import commands as c

    bus.handle(c.SweepOverdue())
    bus.handle(c.SweepOverdue())          # the same day again: nothing new
    overdue = uow.events("review_routing.region_step_overdue")
    reminded = uow.events("review_routing.region_step_reminded")
    assert [e["payload"]["step"] for e in overdue] == ["accept"]
    assert len(reminded) == 1 and reminded[0]["payload"]["automatic"]
    assert reminded[0]["payload"]["recipient"] == {"role": "evaluator", "institution_id": "inst-1"}
    assert [q["overdue"] for q in bus.handle(r.ShowRegionQueue(REGION_OFFICE))] == [True]


def test_the_office_reminds_with_a_message_and_not_after_the_decision(uow, bus, catalog):
    rid = forwarded(bus, uow, catalog)
    with pytest.raises(InvalidInput):
        bus.handle(r.RemindRegionStep(REGION_OFFICE, rid, ""))
    bus.handle(r.RemindRegionStep(REGION_OFFICE, rid, "请尽快委托评估机构"))
    event = uow.events("review_routing.region_step_reminded")[0]["payload"]
    assert event["recipient"]["role"] == "region_office" and not event["automatic"]
    advance(uow, rid, "evaluated")
    bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "reject", ({"text": "评估发现重大问题"},)))
    with pytest.raises(InvalidTransition):
        bus.handle(r.RemindRegionStep(REGION_OFFICE, rid, "再催"))


def test_a_declined_commission_sends_the_case_back_to_awaiting_commission_with_a_fresh_deadline(uow, bus, catalog):
    rid = forwarded(bus, uow, catalog)
    review = advance(uow, rid, "commissioned")
    later = review.forwarded_at + timedelta(days=7)
    review.commission_ended("com-1", "机构声明与企业存在利益冲突", "eval_a", later, CALENDAR, POLICY)
    assert review.status == "awaiting_commission" and review.institution is None
    assert review.due_date == CALENDAR.add_working_days(beijing_date(later), POLICY.commission_days)
    with pytest.raises(InvalidTransition):
        review.commission_ended("com-1", "again", "eval_a", later, CALENDAR, POLICY)


def test_the_review_round_trips_through_its_document(uow, bus, catalog):
    rid = forwarded(bus, uow, catalog)
    review = advance(uow, rid, "checked", contradiction="x")
    copy = RegionReview.from_dict(review.to_dict())
    assert copy.to_dict() == review.to_dict()
    assert isinstance(copy.due_date, date)


def test_reasons_are_parsed_with_field_names():
    assert parse_reasons(None, [1], required=False) == []
    with pytest.raises(InvalidInput) as e:
        parse_reasons([{"text": ""}, {"indicator": 2, "text": "ok"}], [1], required=True)
    assert [x.field for x in e.value.errors] == ["reasons[0].text", "reasons[1].indicator"]
