"""An objection upheld during 公示, over real Kafka and MongoDB: public_notice's `objection_concluded` (the contract's
example, published on the listing topic and received by review_routing's real consumer) takes a proposed case back
to the region — 核查完毕，待决定 with the flag "公示期异议成立：…" on its page and in the queue, blocking a new
proposal until cleared, `region_review_flagged` on the region topic — or ends it 不予通过 with `region_review_decided`
(rejected). The same event published again is a duplicate and changes nothing."""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
from review_harness import forward, wait_for

from review_routing.adapters.unit_of_work import MongoReviewUnitOfWork
from shared.messaging import read_topic
from shared.workdays import DeadlinePolicy, WorkingCalendar

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"
LISTING = "public_notice.listing.events"
REGION = "review_routing.region.events"
API = "/api/v1/evaluation"


def checked(review, rid: str) -> None:
    """The commission, the evaluation and the check round are other areas' work: move the RegionReview there."""
    calendar, policy = WorkingCalendar(), DeadlinePolicy()
    uow = MongoReviewUnitOfWork(review.store)

    def work():
        r = uow.region_reviews.get(rid)
        at = r.forwarded_at
        r.commissioned("com-" + rid, {"id": "inst-obj", "name": "异议评估咨询有限公司"}, "region", at, calendar, policy)
        r.evaluation_started("com-" + rid, "eval_obj", at, calendar, policy)
        r.evaluation_submitted({"evaluation_id": "com-" + rid + ".eval", "assessment_id": "tp-" + rid,
                                "total": "90.00", "verdict": "qualified", "not_applicable": []}, "eval_obj", at,
                               calendar, policy)
        r.check_started("round-obj", "region", at)
        r.check_finished({"round_id": "round-obj", "passed": True, "spot_checked": False, "contradiction": None},
                         "region", at, calendar, policy)
        uow.region_reviews.save(r)

    uow.run(work)


def loaded(review, rid: str):
    uow = MongoReviewUnitOfWork(review.store)
    return uow.run(lambda: uow.region_reviews.get(rid))


def proposed(review, catalog, app_id: str) -> str:
    rid = forward(review, catalog, app_id)
    assert loaded(review, rid).status == "awaiting_commission"   # opened in the forward's transaction
    checked(review, rid)
    answer = review.call("POST", f"{API}/reviews/{rid}/decision", "region", {"decision": "propose"})
    assert answer.status_code in (200, 201), answer.get_json()
    return rid


def concluded(rid: str, action: str) -> dict:
    envelope = copy.deepcopy(json.loads((EXAMPLES / "public_notice.objection_concluded.v1.json")
                                        .read_text(encoding="utf-8")))
    app_id = rid.rsplit(".v", 1)[0]
    objection = uuid.uuid4().hex
    envelope.update(event_id=str(uuid.uuid4()), aggregate_id=objection)
    envelope["payload"].update(objection_id=objection, application_id=app_id, review_id=rid, version_no=1,
                               outcome="upheld", action=action)
    return envelope


def region_events(review, event_type: str, rid: str) -> list[dict]:
    return [e for e in (json.loads(r.value) for r in read_topic(review.settings, review.settings.topic(REGION)))
            if e["type"] == event_type and e["payload"]["review_id"] == rid]


def status(review, rid: str) -> dict:
    answer = review.call("GET", f"{API}/reviews/{rid}", "region")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def handled(review, envelope: dict) -> list:
    return [o for o in review.consumer.outcomes if o.event_id == envelope["event_id"]]


def test_an_upheld_objection_returns_the_case_to_the_region_which_decides_again(review, catalog):
    rid = proposed(review, catalog, "app-obj-return")
    event = concluded(rid, "return_to_region")
    review.publish(event, LISTING)
    wait_for(lambda: status(review, rid)["status"] == "checked", what="the case back to the region")
    view = status(review, rid)
    text = f"公示期异议成立：{event['payload']['reasons']}"
    assert any(f["text"] == text and not f.get("cleared_at") for f in view["all_flags"])
    queue = review.call("GET", f"{API}/reviews", "region").get_json()
    assert text in next(r for r in queue if r["review_id"] == rid)["flags"]
    flagged = wait_for(lambda: region_events(review, "review_routing.region_review_flagged", rid),
                       what="region_review_flagged")
    assert flagged[0]["payload"]["code"] == "objection_upheld" and flagged[0]["payload"]["cleared"] is False
    # a new proposal waits for the flag to be cleared with a reason
    refused = review.call("POST", f"{API}/reviews/{rid}/decision", "region", {"decision": "propose"})
    assert refused.status_code == 409
    cleared = review.call("POST", f"{API}/reviews/{rid}/flags/objection_upheld/clear", "region",
                          {"reason": "企业已按异议核实结果完成排土场复绿，经现场核实"})
    assert cleared.status_code == 200, cleared.get_json()
    again = review.call("POST", f"{API}/reviews/{rid}/decision", "region", {"decision": "propose"})
    assert again.status_code in (200, 201), again.get_json()
    # the same event once more: a duplicate, nothing changes
    before = loaded(review, rid).to_dict()
    review.publish(event, LISTING)
    wait_for(lambda: any(o.status == "duplicate" for o in handled(review, event)), what="the duplicate")
    assert loaded(review, rid).to_dict() == before


def test_an_upheld_objection_refused_ends_the_case_rejected(review, catalog):
    rid = proposed(review, catalog, "app-obj-refuse")
    event = concluded(rid, "refuse")
    review.publish(event, LISTING)
    wait_for(lambda: status(review, rid)["status"] == "rejected", what="the case refused")
    decided = wait_for(lambda: [e for e in region_events(review, "review_routing.region_review_decided", rid)
                                if e["payload"]["decision"] == "rejected"], what="region_review_decided")
    assert event["payload"]["reasons"] in decided[0]["payload"]["reasons"][0]["text"]
    review.publish(event, LISTING)
    wait_for(lambda: any(o.status == "duplicate" for o in handled(review, event)), what="the duplicate")
    assert len([e for e in region_events(review, "review_routing.region_review_decided", rid)
                if e["payload"]["decision"] == "rejected"]) == 1
