"""An objection upheld during 公示 takes the region's proposal back: returned to the region, the RegionReview goes
from 拟公示 to 核查完毕，待决定 with an open flag "公示期异议成立：…" that blocks a new proposal until cleared (then
the office decides again); refused, it ends 不予通过 and the decision is published.  Not upheld changes nothing;
every objection applies once, whatever the replays."""
from __future__ import annotations

import pytest
from region_builders import REGION_OFFICE, advance, forwarded, make_bus

from review_routing.bootstrap import EVENT_HANDLERS
from review_routing.service_layer.region import reviews as r
from shared.contracts import new_event
from shared.errors import InvalidTransition
from shared.workdays import beijing_date

REASONS = "经核实，该矿排土场复绿面积与申报材料不符"


@pytest.fixture
def bus(uow, clock):
    return make_bus(uow, clock)


def concluded(rid: str, outcome: str, action: str | None, objection: str = "obj-1", reasons=REASONS) -> dict:
    app_id, version = rid.rsplit(".v", 1)
    return new_event("public_notice.objection_concluded", producer="public_notice", aggregate_type="objection",
                     aggregate_id=objection, aggregate_version=3,
                     payload={"objection_id": objection, "batch_id": "pb-2026-1", "application_id": app_id,
                              "review_id": rid, "version_no": int(version), "outcome": outcome, "action": action,
                              "reasons": reasons, "concluded_at": "2026-12-07T03:00:00Z"})


def proposed(bus, uow, catalog, app_id="app-1") -> str:
    rid = forwarded(bus, uow, catalog, app_id)
    advance(uow, rid, "checked")
    assert bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))["status"] == "proposed"
    return rid


def test_the_handler_is_registered():
    assert "public_notice.objection_concluded" in EVENT_HANDLERS


def test_returned_to_the_region_it_waits_for_a_new_decision_with_a_blocking_flag(bus, uow, catalog, clock):
    rid = proposed(bus, uow, catalog)
    clock.advance(days=3)
    bus.handle_event(concluded(rid, "upheld", "return_to_region"), uow)
    review = uow.region_reviews.get(rid)
    assert review.status == "checked" and review.decision is None
    assert [f["text"] for f in review.open_flags] == [f"公示期异议成立：{REASONS}"]
    assert review.due_date is not None and review.due_date > beijing_date(clock())
    flagged = uow.events("review_routing.region_review_flagged")
    assert [(e["payload"]["code"], e["payload"]["cleared"]) for e in flagged] == [("objection_upheld", False)]
    # shown in the queue
    row = next(x for x in bus.handle(r.ShowRegionQueue(REGION_OFFICE)) if x["review_id"] == rid)
    assert f"公示期异议成立：{REASONS}" in row["flags"]
    # the office must clear the flag before proposing again; return and reject stay open to it
    with pytest.raises(InvalidTransition):
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))
    bus.handle(r.ClearRegionFlag(REGION_OFFICE, rid, "objection_upheld", "企业已完成排土场复绿，经现场核实"))
    assert bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))["status"] == "proposed"
    decided = uow.events("review_routing.region_review_decided")
    assert [e["payload"]["decision"] for e in decided] == ["proposed", "proposed"]


def test_returned_then_returned_to_the_enterprise(bus, uow, catalog):
    rid = proposed(bus, uow, catalog)
    bus.handle_event(concluded(rid, "upheld", "return_to_region"), uow)
    out = bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "return",
                                          [{"indicator": 3, "text": "按异议核实结果整改排土场复绿"}]))
    assert out["status"] == "returned"


def test_refused_it_ends_rejected_and_the_decision_is_published(bus, uow, catalog):
    rid = proposed(bus, uow, catalog)
    bus.handle_event(concluded(rid, "upheld", "refuse"), uow)
    review = uow.region_reviews.get(rid)
    assert review.status == "rejected" and review.decided
    assert REASONS in review.decision["reasons"][0]["text"]
    decided = uow.events("review_routing.region_review_decided")
    assert [e["payload"]["decision"] for e in decided] == ["proposed", "rejected"]
    assert decided[-1]["payload"]["decided_by"] == "public_notice"
    with pytest.raises(InvalidTransition):
        bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))


@pytest.mark.parametrize("action", ["return_to_region", "refuse"])
def test_every_replay_changes_nothing(bus, uow, catalog, action):
    rid = proposed(bus, uow, catalog)
    event = concluded(rid, "upheld", action)
    bus.handle_event(event, uow)
    before, published = uow.region_reviews.get(rid).to_dict(), len(uow.published)
    for _ in range(3):
        bus.handle_event(event, uow)
    assert uow.region_reviews.get(rid).to_dict() == before and len(uow.published) == published


def test_the_same_objection_after_a_new_proposal_is_not_applied_twice_but_a_new_one_is(bus, uow, catalog, clock):
    rid = proposed(bus, uow, catalog)
    bus.handle_event(concluded(rid, "upheld", "return_to_region"), uow)
    bus.handle(r.ClearRegionFlag(REGION_OFFICE, rid, "objection_upheld", "已整改并核实"))
    bus.handle(r.DecideRegionReview(REGION_OFFICE, rid, "propose"))
    bus.handle_event(concluded(rid, "upheld", "return_to_region"), uow)       # a late replay
    assert uow.region_reviews.get(rid).status == "proposed"
    clock.advance(days=10)
    bus.handle_event(concluded(rid, "upheld", "refuse", objection="obj-2"), uow)
    assert uow.region_reviews.get(rid).status == "rejected"


def test_not_upheld_an_unknown_review_or_a_case_not_proposed_change_nothing(bus, uow, catalog):
    rid = proposed(bus, uow, catalog)
    published = len(uow.published)
    bus.handle_event(concluded(rid, "not_upheld", None), uow)
    bus.handle_event(concluded("app-x.v1", "upheld", "refuse"), uow)
    assert uow.region_reviews.get(rid).status == "proposed" and len(uow.published) == published
    other = forwarded(bus, uow, catalog, "app-2")
    advance(uow, other, "checked")
    bus.handle_event(concluded(other, "upheld", "refuse"), uow)
    assert uow.region_reviews.get(other).status == "checked"


def test_the_review_keeps_its_history_through_its_document(bus, uow, catalog, clock):
    from review_routing.domain.region.review import RegionReview

    rid = proposed(bus, uow, catalog)
    clock.advance(hours=1)
    bus.handle_event(concluded(rid, "upheld", "return_to_region"), uow)
    review = uow.region_reviews.get(rid)
    again = RegionReview.from_dict(review.to_dict())
    assert again.objection_applied("obj-1") and not again.objection_applied("obj-2")
    assert [h["action"] for h in again.history][-2:] == ["objection_reopened", "flagged"]
