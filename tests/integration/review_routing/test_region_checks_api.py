"""资料核查与实地抽查 over real Kafka, MongoDB and the scoring service: two evaluated cases enter a check round; the
cases to visit and the inspectors (after a recusal) are drawn publicly, and the draw fetched without signing in
and recomputed by an independent implementation of `sha256-rank-v1` gives the same selection; the departments
record their parts; the spot checks are recorded by scoring (stage spot_check): one agrees with the evaluator,
one contradicts it, which flags the case (its proposal for 公示 refused) and puts the institution's evaluation under
review; every step replayed changes nothing."""
from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal

import pytest
import requests
from review_harness import PASSWORD, forward, wait_for

from review_routing.adapters.unit_of_work import MongoReviewUnitOfWork
from shared import identity
from shared.messaging import read_topic
from shared.scoring_client import ScoringClient
from shared.workdays import DeadlinePolicy, WorkingCalendar

pytestmark = pytest.mark.integration

TOPIC = "review_routing.region.events"
API = "/api/v1/evaluation"


def independent_draw(record: dict) -> list[str]:
    """sha256-rank-v1 from the published record alone (hashlib only; not shared.draws)."""
    population = record["population"]
    digest = hashlib.sha256("\n".join(population).encode("utf-8")).hexdigest()
    seed = hashlib.sha256(f"{digest}:{record['seed_inputs']['entered_value']}".encode()).hexdigest()
    assert seed == record["seed"]
    ranked = sorted(population, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    k = record["count"] if record["count"] is not None else math.ceil(Decimal(record["ratio"]) * len(population))
    return ranked[:k]




def evaluated(review, rid: str, total: str, verdict: str) -> None:
    """The commission and the evaluation are other areas' work: move the RegionReview there directly."""
    calendar, policy = WorkingCalendar(), DeadlinePolicy()
    uow = MongoReviewUnitOfWork(review.store)

    def work():
        r = uow.region_reviews.get(rid)
        at = r.forwarded_at
        r.commissioned("com-" + rid, {"id": "inst-chk", "name": "检核评估咨询有限公司"}, "region", at, calendar, policy)
        r.evaluation_started("com-" + rid, "eval_chk", at, calendar, policy)
        r.evaluation_submitted({"evaluation_id": "com-" + rid + ".eval", "assessment_id": "tp-" + rid,
                                "total": total, "verdict": verdict, "not_applicable": []}, "eval_chk", at,
                               calendar, policy)
        uow.region_reviews.save(r)

    uow.run(work)


def spot_entries(review, app_id: str) -> tuple[dict, dict]:
    """The inspectors' entries: the self-assessment's inputs, each with its 核查记录."""
    assessment = review.db["cases"].find_one({"_id": app_id})["versions"][0]["assessment"]
    indicators = {no: {**entry, "record": "自治区抽查组（张工、李工）2026-03-10 现场查看采场、排土场与台账"}
                  for no, entry in assessment["indicators"].items()}
    return indicators, dict(assessment.get("prerequisites") or {})


def region_events(review, event_type: str) -> list[dict]:
    return [e for e in (json.loads(r.value) for r in read_topic(review.settings, review.settings.topic(TOPIC)))
            if e["type"] == event_type]


def state(review) -> dict:
    return {name: sorted(review.db[name].find(), key=lambda d: str(d["_id"]))
            for name in ("check_rounds", "draws", "region_reviews", "audit")} | {
        "outbox": review.db["outbox"].count_documents({})}


def test_a_check_round_with_public_draws_spot_checks_and_a_contradiction(review, catalog):
    for n in (1, 2, 3):
        identity.UserDirectory(review.identity_db).add(
            f"zz_eco_{n}", PASSWORD, "department_reviewer", display_name=f"自治区生态专家{n}",
            department="ecology_environment", area="自治区", replace=True)
    agree, differ = forward(review, catalog, "app-chk-1"), forward(review, catalog, "app-chk-2")
    indicators, prerequisites = spot_entries(review, "app-chk-1")
    base = review.db["cases"].find_one({"_id": "app-chk-1"})["versions"][0]["assessment"]
    scoring = ScoringClient(review.settings)
    spot_total = scoring.evaluate({**base, "indicators": indicators, "prerequisites": prerequisites},
                                  review.principal("region"))["total"]
    evaluated(review, agree, spot_total, "qualified")
    evaluated(review, differ, "60.00", "not_qualified")

    # Opening: bad ratio refused by field; then both cases, in the order listed.
    bad = review.call("POST", f"{API}/check-rounds", "region", {"ratio": "0", "review_ids": [agree, differ]})
    assert bad.status_code == 422 and "ratio" in bad.get_json()["errors"]
    opened = review.call("POST", f"{API}/check-rounds", "region",
                         {"ratio": "1", "threshold": "5", "review_ids": [agree, differ], "title": "2026年第1批"})
    assert opened.status_code == 201, opened.get_json()
    round_id = opened.get_json()["round_id"]
    for rid in (agree, differ):
        assert review.call("GET", f"{API}/reviews/{rid}", "region").get_json()["status"] == "in_check"

    # The cases to visit: drawn, published, recomputed independently from the public record (no sign-in).
    drawn = review.call("POST", f"{API}/check-rounds/{round_id}/draw", "region",
                        {"entered_value": "20260310-上证3210.55"})
    assert drawn.status_code == 200, drawn.get_json()
    client = review.app.test_client()
    public = client.get(f"{API}/draws/{drawn.get_json()['draw_id']}")
    assert public.status_code == 200
    record = public.get_json()
    assert record["population"] == [agree, differ] and record["algorithm"] == "sha256-rank-v1"
    assert independent_draw(record) == record["selected"] and sorted(record["selected"]) == sorted([agree, differ])
    listed = client.get(f"{API}/draws?limit=10").get_json()
    assert drawn.get_json()["draw_id"] in [d["draw_id"] for d in listed["items"]]

    # The inspectors of 生态环境: the 自治区 pool after a recusal, drawn and recomputed the same way.
    inspectors = review.call("POST", f"{API}/check-rounds/{round_id}/inspectors", "region", {
        "department": "ecology_environment", "count": 1, "entered_value": "7788",
        "recusals": [{"username": "zz_eco_1", "reason": "曾为该企业编制环评报告"}]})
    assert inspectors.status_code == 200, inspectors.get_json()
    people = client.get(f"{API}/draws/{inspectors.get_json()['draw_id']}").get_json()
    assert people["population"] == ["zz_eco_2", "zz_eco_3"]
    assert people["excluded"] == [{"id": "zz_eco_1", "label": "自治区生态专家1", "reason": "曾为该企业编制环评报告"}]
    assert independent_draw(people) == people["selected"]
    assert "phone" not in json.dumps(people) and people["labels"]["zz_eco_2"] == "自治区生态专家2"

    # Each department records its part (a reviewer of another 盟市 cannot).
    view = review.call("GET", f"{API}/check-rounds/{round_id}", "region").get_json()
    parts = [(c["review_id"], p["department"]) for c in view["cases_detail"] for p in c["parts"]]
    assert review.call("POST", f"{API}/check-rounds/{round_id}/cases/{agree}/parts/ecology_environment",
                       "reviewer_eco_baotou", {"passed": True}).status_code == 403
    for rid, department in parts:
        answer = review.call("POST", f"{API}/check-rounds/{round_id}/cases/{rid}/parts/{department}",
                             f"rv_{department}", {"passed": True, "note": "资料齐全"})
        assert answer.status_code == 200, answer.get_json()

    # The spot checks, scored by scoring (stage spot_check): a score without its 核查记录 is refused, nothing kept.
    bare = {no: {k: v for k, v in entry.items() if k != "record"} for no, entry in indicators.items()}
    refused = review.call("POST", f"{API}/check-rounds/{round_id}/cases/{agree}/spot-check", "region",
                          {"indicators": bare, "prerequisites": prerequisites})
    assert refused.status_code == 422, refused.get_json()
    assert any(".record" in field for field in refused.get_json()["errors"]), refused.get_json()
    assert review.db["check_rounds"].find_one({"_id": round_id})["cases"][0]["spot"] is None
    first = review.call("POST", f"{API}/check-rounds/{round_id}/cases/{agree}/spot-check", "region",
                        {"indicators": indicators, "prerequisites": prerequisites})
    assert first.status_code == 200, first.get_json()
    second = review.call("POST", f"{API}/check-rounds/{round_id}/cases/{differ}/spot-check", "region",
                         {"indicators": indicators, "prerequisites": prerequisites, "note": "抽查结论与评估不一致"})
    assert second.status_code == 200, second.get_json()
    assert second.get_json()["verdict"] == "qualified" and "评估结论为不达标，抽查结论为达标" in \
        second.get_json()["contradiction"]
    stored = requests.get(f"{review.settings.service_urls['scoring']}/api/v1/scoring/assessments",
                          params={"subject": "app-chk-2"}, headers=review.headers("region"), timeout=30)
    assert stored.status_code == 200, stored.text
    assert [a["id"] for a in stored.json() if a["stage"] == "spot_check"] == [second.get_json()["assessment_id"]]
    flagged = review.call("GET", f"{API}/reviews/{differ}", "region").get_json()
    assert flagged["status"] == "checked" and flagged["check"]["spot_checked"] is True
    assert flagged["flags"] and any("未解除的标记" in m for m in flagged["refusals_to_propose"])
    refused = review.call("POST", f"{API}/reviews/{differ}/decision", "region", {"decision": "propose"})
    assert refused.status_code == 409, refused.get_json()
    fine = review.call("GET", f"{API}/reviews/{agree}", "region").get_json()
    assert fine["status"] == "checked" and fine["flags"] == [] and fine["check"]["passed"] is True

    under = wait_for(lambda: region_events(review, "review_routing.evaluation_under_review"), what="under review")
    assert [(e["payload"]["review_id"], e["payload"]["institution_id"]) for e in under] == [(differ, "inst-chk")]
    published = wait_for(lambda: len(region_events(review, "review_routing.draw_published")) == 2 and
                         region_events(review, "review_routing.draw_published"), what="draws published")
    assert {e["payload"]["purpose"] for e in published} == {"spot_check_cases", "inspectors"}
    assert wait_for(lambda: region_events(review, "review_routing.spot_check_recorded"), what="spot checks")

    # Replayed, every step changes nothing (and answers the same).
    before = state(review)
    assert review.call("POST", f"{API}/check-rounds/{round_id}/draw", "region",
                       {"entered_value": "20260310-上证3210.55"}).get_json() == drawn.get_json()
    assert review.call("POST", f"{API}/check-rounds/{round_id}/inspectors", "region", {
        "department": "ecology_environment", "count": 1, "entered_value": "7788",
        "recusals": [{"username": "zz_eco_1", "reason": "曾为该企业编制环评报告"}]}).get_json() == inspectors.get_json()
    rid, department = parts[0]
    assert review.call("POST", f"{API}/check-rounds/{round_id}/cases/{rid}/parts/{department}", f"rv_{department}",
                       {"passed": True, "note": "资料齐全"}).status_code == 200
    again = review.call("POST", f"{API}/check-rounds/{round_id}/cases/{differ}/spot-check", "region",
                        {"indicators": indicators, "prerequisites": prerequisites})
    assert again.get_json()["assessment_id"] == second.get_json()["assessment_id"]
    assert state(review) == before
    assert review.call("POST", f"{API}/check-rounds/{round_id}/draw", "region",
                       {"entered_value": "another"}).status_code == 409
