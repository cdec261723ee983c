"""Commissioning over real Kafka and MongoDB: a forwarded case is drawn for (the banned institution excluded with its
reason, the draw recomputable from its published record), a banned institution cannot be commissioned, the
proposal is commissioned, the institution accepts with both pledges (hashes of the exact texts on the event), a
replayed accept changes nothing; a recusal for a conflict and an expired commission send the case back."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from review_builders import COAL_ENTERPRISE
from review_harness import PASSWORD, forward, wait_for

from review_routing.domain.access import Actor
from review_routing.service_layer.region.commissions import expire_commissions
from review_routing.service_layer.region.institutions import RecordMisconduct, RegisterInstitution
from shared import identity
from shared.clock import utcnow
from shared.messaging import read_topic
from shared.workdays import beijing_date

pytestmark = pytest.mark.integration

OFFICE = Actor("region", "region_office", "自治区自然资源厅", area="自治区")
CONTACT = {"person": "王工", "phone": "0471-1234567"}
BOTH = [{"code": "truthfulness", "accepted": True}, {"code": "no_fee", "accepted": True}]
TOPIC = "review_routing.region.events"




def register(review, name: str, code: str, conflicts=()) -> str:
    return review.bus.handle(RegisterInstitution(OFFICE, name, code, CONTACT, (), tuple(conflicts)))["institution_id"]


def add_evaluator(review, username: str, institution_id: str) -> None:
    identity.UserDirectory(review.identity_db).add(username, PASSWORD, "evaluator", display_name=f"{username}评估员",
                                                   replace=True, institution=institution_id)


def region_events(review, event_type: str) -> list[tuple[str, dict]]:
    out = []
    for record in read_topic(review.settings, review.settings.topic(TOPIC)):
        envelope = json.loads(record.value)
        if envelope["type"] == event_type:
            out.append((record.key.decode() if record.key else None, envelope))
    return out


def state(review) -> dict:
    return {name: sorted(review.db[name].find(), key=lambda d: str(d["_id"]))
            for name in ("commissions", "region_reviews", "audit", "institutions", "draws")} | {
        "outbox": review.db["outbox"].count_documents({})}


@pytest.fixture
def institutions(review):
    first = register(review, "甲评估咨询有限公司", "91150100MA0P00011N")
    second = register(review, "乙评估咨询有限公司", "91150200MA0P000220")
    banned = register(review, "丙评估咨询有限公司", "91150300MA0P000339")
    today = beijing_date(utcnow())
    review.bus.handle(RecordMisconduct(OFFICE, banned, "seriously_false_conclusion", "评估结论严重失实",
                                       (today - timedelta(days=30)).isoformat()))
    for username, inst in (("eval_first", first), ("eval_second", second), ("eval_banned", banned)):
        add_evaluator(review, username, inst)
    return {"first": first, "second": second, "banned": banned}


def test_draw_commission_accept_with_both_pledges_and_replay(review, catalog, institutions):
    rid = forward(review, catalog, "app-commission")

    # The draw: every eligible institution ranked and published; the banned one excluded with the reason.
    drawn = review.call("POST", "/api/v1/evaluation/commissions/draw", "region",
                        {"review_ids": [rid], "entered_value": "上证指数3050.12"})
    assert drawn.status_code == 201, drawn.get_json()
    draw = drawn.get_json()
    record = draw["draw"]
    assert record["population"] == sorted([institutions["first"], institutions["second"]])
    assert record["count"] == 2 and len(record["selected"]) == 2
    seed = hashlib.sha256(f"{hashlib.sha256(chr(10).join(record['population']).encode()).hexdigest()}:"
                          f"上证指数3050.12".encode()).hexdigest()
    assert record["seed"] == seed
    assert sorted(record["population"], key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()) == \
        record["selected"]
    [excluded] = draw["excluded"]
    assert excluded["id"] == institutions["banned"] and "3年内不再采信" in excluded["reason"]
    assert review.db["draws"].find_one({"_id": draw["draw_id"]})["purpose"] == "institutions"

    # A banned institution cannot be commissioned (409, with the reason); nothing is written.
    before = review.db["commissions"].count_documents({})
    refused = review.call("POST", "/api/v1/evaluation/commissions", "region",
                          {"review_ids": [rid], "institution_id": institutions["banned"], "draw_id": draw["draw_id"],
                           "reason": "指定"})
    assert refused.status_code == 409 and "丙评估咨询有限公司" in refused.get_json()["message"]
    assert "3年内不再采信" in refused.get_json()["message"]
    assert review.db["commissions"].count_documents({}) == before
    # Another than the first without a reason: 422 naming the field.
    second_choice = draw["ranking"][1]["id"]
    unexplained = review.call("POST", "/api/v1/evaluation/commissions", "region",
                              {"review_ids": [rid], "institution_id": second_choice, "draw_id": draw["draw_id"]})
    assert unexplained.status_code == 422 and "reason" in unexplained.get_json()["errors"]
    # Only the region office commissions.
    assert review.call("POST", "/api/v1/evaluation/commissions", "bureau",
                       {"review_ids": [rid], "institution_id": draw["proposal"]["id"],
                        "draw_id": draw["draw_id"]}).status_code == 403

    made = review.call("POST", "/api/v1/evaluation/commissions", "region",
                       {"review_ids": [rid], "institution_id": draw["proposal"]["id"], "draw_id": draw["draw_id"],
                        "note": "请按期开展现场评估"})
    assert made.status_code == 201, made.get_json()
    commission = made.get_json()["commissions"][0]
    cid = commission["commission_id"]
    assert commission["status"] == "awaiting_acceptance"
    assert review.call("GET", f"/api/v1/evaluation/reviews/{rid}", "region").get_json()["status"] == "commissioned"
    [(key, event)] = wait_for(lambda: region_events(review, "review_routing.evaluation_commissioned"),
                              what="evaluation_commissioned")
    assert key == cid and event["payload"]["draw_id"] == draw["draw_id"]

    # The institutions see only their own commissions.
    evaluator = "eval_first" if draw["proposal"]["id"] == institutions["first"] else "eval_second"
    other = "eval_second" if evaluator == "eval_first" else "eval_first"
    assert review.call("GET", "/api/v1/evaluation/commissions", other).get_json() == []
    assert review.call("GET", f"/api/v1/evaluation/commissions/{cid}", other).status_code == 403
    assert [c["commission_id"] for c in review.call("GET", "/api/v1/evaluation/commissions", evaluator).get_json()] \
        == [cid]
    view = review.call("GET", f"/api/v1/evaluation/commissions/{cid}", evaluator).get_json()
    texts = {p["code"]: p for p in view["pledge_texts"]}
    assert "严禁向矿山企业收取评估费用" in texts["no_fee"]["text"]
    page = review.call("GET", "/evaluation/commissions", evaluator).get_data(as_text=True)
    assert texts["truthfulness"]["text"] in page and texts["no_fee"]["text"] in page and "签署人姓名" in page

    # Acceptance: one pledge is not enough; another institution may not accept.
    one = review.call("POST", f"/api/v1/evaluation/commissions/{cid}/accept", evaluator,
                      {"pledges": BOTH[:1], "signer_name": "李评", "signer_title": "项目负责人"})
    assert one.status_code == 422 and "pledges.no_fee" in one.get_json()["errors"]
    assert review.call("POST", f"/api/v1/evaluation/commissions/{cid}/accept", other,
                       {"pledges": BOTH, "signer_name": "王", "signer_title": "经理"}).status_code == 403
    accepted = review.call("POST", f"/api/v1/evaluation/commissions/{cid}/accept", evaluator,
                           {"pledges": BOTH, "signer_name": "李评", "signer_title": "项目负责人"})
    assert accepted.status_code == 200, accepted.get_json()
    acceptance = accepted.get_json()["acceptance"]
    stored = review.db["commissions"].find_one({"_id": cid})
    for pledge in stored["acceptance"]["pledges"]:
        assert pledge["sha256"] == hashlib.sha256(pledge["text"].encode("utf-8")).hexdigest()
        assert pledge["text"] == texts[pledge["code"]]["text"]
    assert stored["acceptance"]["signer_name"] == "李评" and stored["acceptance"]["signed_by"] == evaluator
    assert review.call("GET", f"/api/v1/evaluation/reviews/{rid}", "region").get_json()["status"] == \
        "under_evaluation"
    [(key, event)] = wait_for(lambda: region_events(review, "review_routing.commission_accepted"),
                              what="commission_accepted")
    assert key == cid
    assert {p["code"]: p["sha256"] for p in event["payload"]["pledges"]} == \
        {p["code"]: p["sha256"] for p in acceptance["pledges"]}
    assert event["payload"]["signer"] == {"name": "李评", "title": "项目负责人", "username": evaluator}
    detail = review.call("GET", f"/evaluation/commissions/{cid}", "region").get_data(as_text=True)
    assert all(p["sha256"] in detail for p in acceptance["pledges"]) and "/evaluation/draws/" in detail

    # A replayed acceptance changes nothing: no write, no event, the same answer.
    before = state(review)
    again = review.call("POST", f"/api/v1/evaluation/commissions/{cid}/accept", evaluator,
                        {"pledges": BOTH, "signer_name": "别人", "signer_title": "别的职务"})
    assert again.status_code == 200 and again.get_json()["acceptance"] == acceptance
    assert state(review) == before


def test_recusal_for_a_conflict_and_expiry_send_the_case_back(review, catalog, institutions):
    rid = forward(review, catalog, "app-recusal")
    draw = review.call("POST", "/api/v1/evaluation/commissions/draw", "region",
                       {"review_ids": [rid], "entered_value": "42"}).get_json()
    first = draw["proposal"]["id"]
    cid = review.call("POST", "/api/v1/evaluation/commissions", "region",
                      {"review_ids": [rid], "institution_id": first, "draw_id": draw["draw_id"]}
                      ).get_json()["commissions"][0]["commission_id"]
    evaluator = "eval_first" if first == institutions["first"] else "eval_second"
    empty = review.call("POST", f"/api/v1/evaluation/commissions/{cid}/decline", evaluator, {"reason": " "})
    assert empty.status_code == 422
    declined = review.call("POST", f"/api/v1/evaluation/commissions/{cid}/decline", evaluator,
                           {"reason": "发现本机构曾为该企业提供储量核实咨询", "conflict": True})
    assert declined.status_code == 200, declined.get_json()
    assert declined.get_json()["status"] == "declined"
    assert review.call("GET", f"/api/v1/evaluation/reviews/{rid}", "region").get_json()["status"] == \
        "awaiting_commission"
    conflicts = review.db["institutions"].find_one({"_id": first})["conflicts"]
    assert [c["credit_code"] for c in conflicts] == [COAL_ENTERPRISE["credit_code"]]
    [(key, event)] = wait_for(lambda: region_events(review, "review_routing.commission_declined"),
                              what="commission_declined")
    assert key == cid and event["payload"]["outcome"] == "declined" and event["payload"]["conflict"] is True

    # The next draw excludes the institution that recused itself; its commission is not accepted in time.
    again = review.call("POST", "/api/v1/evaluation/commissions/draw", "region",
                        {"review_ids": [rid], "entered_value": "43"}).get_json()
    assert [r["id"] for r in again["ranking"]] == [i for i in (institutions["first"], institutions["second"])
                                                    if i != first]
    assert "利益冲突" in {e["id"]: e["reason"] for e in again["excluded"]}[first]
    cid2 = review.call("POST", "/api/v1/evaluation/commissions", "region",
                       {"review_ids": [rid], "institution_id": again["proposal"]["id"], "draw_id": again["draw_id"]}
                       ).get_json()["commissions"][0]["commission_id"]
    due = review.db["commissions"].find_one({"_id": cid2})["due_date"]
    later = utcnow() + timedelta(days=14)
    bus = review.bus
    args = (bus.dependencies["calendar"], bus.dependencies["policy"])
    assert expire_commissions(bus.uow_factory(), utcnow(), *args) == 0
    assert expire_commissions(bus.uow_factory(), later, *args) == 1
    assert expire_commissions(bus.uow_factory(), later, *args) == 0
    assert review.db["commissions"].find_one({"_id": cid2})["status"] == "expired"
    assert review.db["region_reviews"].find_one({"_id": rid})["status"] == "awaiting_commission"
    expired = wait_for(lambda: [e for k, e in region_events(review, "review_routing.commission_declined")
                                if k == cid2], what="expiry event")
    assert expired[0]["payload"]["outcome"] == "expired" and due in expired[0]["payload"]["reason"]
    page = review.call("GET", "/evaluation/commissions", "region").get_data(as_text=True)
    assert "逾期未接受" in page and "评估机构已拒绝或回避" in page
