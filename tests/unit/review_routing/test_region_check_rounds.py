"""资料核查与按比例实地抽查: a check round over evaluated cases, a part per department, the publicly verifiable draws
of the cases to visit and of the inspectors (after recusals), the spot check compared with the evaluator's, and
the round finishing each case (a contradiction flags it: its proposal for 公示 is refused)."""
from __future__ import annotations

import hashlib
import math
from decimal import Decimal

import pytest
from region_builders import REGION_OFFICE, Directory, Scoring, advance, forwarded, make_bus
from review_builders import reviewer

from review_routing.domain.access import Actor
from review_routing.domain.region.check_rounds import CheckRound, contradiction, parse_ratio, parse_threshold
from review_routing.service_layer.region import check_rounds as k
from review_routing.service_layer.region import draws as dr
from shared.errors import InvalidInput, InvalidTransition, NotFound, NotPermitted

REGION_REVIEWERS = [Actor(f"zz_{d}_{i}", "department_reviewer", f"{d}专家{i}", d, "自治区")
                    for d in ("ecology_environment", "natural_resources", "emergency_management", "forestry_grassland")
                    for i in range(1, 5)]


def sha256_rank_v1(population, ratio=None, seed="", count=None):
    """An independent sha256-rank-v1 (not shared.draws): rank by sha256(seed:id), take ceil(ratio × n) or count."""
    ranked = sorted(population, key=lambda i: (hashlib.sha256(f"{seed}:{i}".encode()).hexdigest(), i))
    k_ = count if count is not None else math.ceil(Decimal(ratio) * len(population))
    return ranked[:k_]




@pytest.fixture
def scoring():
    return Scoring({"verdict": "qualified", "verdict_label": "达标", "total": "90.00", "indicator_scores": {}})


@pytest.fixture
def bus(uow, clock, scoring):
    return make_bus(uow, clock, scoring=scoring, directory=Directory(REGION_REVIEWERS))


@pytest.fixture
def evaluated(bus, uow, catalog):
    """Three forwarded cases, each evaluated (88.50, 达标)."""
    ids = [forwarded(bus, uow, catalog, f"app-{n}") for n in (1, 2, 3)]
    for rid in ids:
        advance(uow, rid, "evaluated")
    return ids


def _departments(uow, rid):
    review = uow.region_reviews.get(rid)
    return [t.department for t in uow.cases.get(review.application_id).version_of(1).tasks]


# -- the domain -------------------------------------------------------------------------------------------------
def test_the_ratio_and_the_threshold_are_refused_outside_their_ranges():
    assert parse_ratio("0.3") == Decimal("0.3") and parse_ratio(1) == 1
    for bad in ("0", "-0.1", "1.01", "abc", None, True):
        with pytest.raises(InvalidInput) as e:
            parse_ratio(bad)
        assert e.value.errors[0].field == "ratio"
    assert parse_threshold(None) == Decimal("5") and parse_threshold("2.5") == Decimal("2.5")
    with pytest.raises(InvalidInput):
        parse_threshold("101")


def test_a_contradiction_is_a_changed_verdict_or_a_gap_above_the_threshold():
    ev = {"total": "88.50", "verdict": "qualified"}
    assert contradiction(ev, {"total": "84.00", "verdict": "qualified"}, Decimal(5)) is None   # 4.5 ≤ 5
    gap = contradiction(ev, {"total": "83.00", "verdict": "qualified"}, Decimal(5))
    assert gap and "总分相差 5.50 分" in gap
    verdict = contradiction(ev, {"total": "86.00", "verdict": "not_qualified"}, Decimal(5))
    assert verdict and "评估结论为达标，抽查结论为不达标" in verdict
    one = contradiction(ev, {"total": "88.00", "verdict": "qualified"}, Decimal(5), {"3": "10"}, {"3": "2"})
    assert one and "第3项相差 8 分" in one


def test_opening_refuses_cases_not_evaluated_and_names_the_fields(bus, uow, catalog):
    rid = forwarded(bus, uow, catalog)
    with pytest.raises(InvalidInput) as e:
        bus.handle(k.OpenCheckRound(REGION_OFFICE, "2", review_ids=(rid,)))
    fields = {x.field for x in e.value.errors}
    assert fields == {"ratio", "review_ids"}
    assert uow.check_rounds.find() == [] and uow.region_reviews.get(rid).status == "awaiting_commission"


def test_only_the_region_office_opens_a_round(bus, evaluated):
    with pytest.raises(NotPermitted):
        bus.handle(k.OpenCheckRound(reviewer("natural_resources"), "0.5"))


# -- the whole round --------------------------------------------------------------------------------------------
def test_a_round_runs_from_opening_through_public_draws_to_every_case_checked(bus, uow, evaluated, scoring):
    view = bus.handle(k.OpenCheckRound(REGION_OFFICE, "0.5", "5", title="2026年第1批"))
    rid_round = view["round_id"]
    assert [c["review_id"] for c in view["cases_detail"]] == sorted(evaluated)   # by forward time, then id
    assert all(uow.region_reviews.get(r).status == "in_check" for r in evaluated)
    assert uow.events("review_routing.check_round_opened")[0]["payload"]["round_id"] == rid_round

    # The cases to visit: ceil(0.5 × 3) = 2, recomputable from the published record alone.
    record = bus.handle(k.DrawSpotCheckCases(REGION_OFFICE, rid_round, "上证收盘 3210.55"))
    assert record["k"] == 2 and record["population"] == [c["review_id"] for c in view["cases_detail"]]
    assert record["selected"] == sha256_rank_v1(record["population"], record["ratio"], record["seed"])
    seed = hashlib.sha256(f"{record['seed_inputs']['population_digest']}:上证收盘 3210.55".encode()).hexdigest()
    assert seed == record["seed"]
    assert bus.handle(dr.ShowDraw(record["draw_id"])) == record

    # Replaying the draw answers the same record; another value is refused (never redrawn).
    assert bus.handle(k.DrawSpotCheckCases(REGION_OFFICE, rid_round, "上证收盘 3210.55")) == record
    with pytest.raises(InvalidTransition):
        bus.handle(k.DrawSpotCheckCases(REGION_OFFICE, rid_round, "another"))
    assert len(uow.events("review_routing.draw_published")) == 1

    # Inspectors per department, after a recusal.
    rnd = uow.check_rounds.get(rid_round)
    department = rnd.departments[0]
    pool = [p.username for p in REGION_REVIEWERS if p.department == department]
    inspectors = bus.handle(k.DrawInspectors(REGION_OFFICE, rid_round, department, 2, "7788",
                                             recusals=({"username": pool[0], "reason": "曾为该企业提供咨询"},)))
    assert inspectors["population"] == pool[1:] and inspectors["count"] == 2
    assert inspectors["excluded"] == [{"id": pool[0], "label": f"{department}专家1", "reason": "曾为该企业提供咨询"}]
    assert inspectors["selected"] == sha256_rank_v1(inspectors["population"], seed=inspectors["seed"], count=2)
    assert inspectors["labels"][pool[1]] == f"{department}专家2"

    # Each department records its own part; a reviewer of another department cannot.
    for review_id in evaluated:
        for code in _departments(uow, review_id):
            bus.handle(k.RecordCheckPart(reviewer(code), rid_round, review_id, code, True, None))
    with pytest.raises(NotPermitted):
        bus.handle(k.RecordCheckPart(reviewer("forestry_grassland"), rid_round, evaluated[0],
                                     _departments(uow, evaluated[0])[0], True))
    drawn = record["selected"]
    undrawn = [r for r in evaluated if r not in drawn]
    assert [uow.region_reviews.get(r).status for r in undrawn] == ["checked"]
    assert all(uow.region_reviews.get(r).status == "in_check" for r in drawn)

    # The spot checks: one agrees (90.00 vs 88.50), one contradicts (verdict changes).
    bus.handle(k.RecordSpotCheck(REGION_OFFICE, rid_round, drawn[0], {"1": {"score": 5, "record": "x"}}, {}))
    assert uow.region_reviews.get(drawn[0]).status == "checked"
    assert uow.region_reviews.get(drawn[0]).open_flags == []
    args, kwargs = scoring.recorded[0]
    assert kwargs["stage"] == "spot_check" and kwargs["subject_id"] == drawn[0].split(".v")[0]
    assert kwargs["assessment"]["indicators"] == {"1": {"score": 5, "record": "x"}}
    assert kwargs["assessment"]["mine"]["industry_group"] == 1

    scoring.report = {"verdict": "not_qualified", "verdict_label": "不达标", "total": "70.00",
                      "indicator_scores": {}}
    answer = bus.handle(k.RecordSpotCheck(REGION_OFFICE, rid_round, drawn[1], {}, {}, "抽查发现排土场未复绿"))
    assert "评估结论为达标，抽查结论为不达标" in answer["contradiction"]
    flagged = uow.region_reviews.get(drawn[1])
    assert flagged.status == "checked" and flagged.check["spot_checked"] and flagged.check["passed"]
    assert [f["code"] for f in flagged.open_flags] == ["spot_check_contradiction"]
    assert any("未解除的标记" in p.message for p in flagged.refusals_to_propose())
    under = uow.events("review_routing.evaluation_under_review")
    assert [e["payload"]["institution_id"] for e in under] == ["inst-1"]
    assert uow.events("review_routing.region_review_flagged")[0]["payload"]["review_id"] == drawn[1]
    assert uow.check_rounds.get(rid_round).status == "finished"

    # Replaying the spot check calls scoring no more and publishes nothing.
    published = len(uow.published)
    again = bus.handle(k.RecordSpotCheck(REGION_OFFICE, rid_round, drawn[1], {}, {}))
    assert again["assessment_id"] == answer["assessment_id"] and len(scoring.recorded) == 2
    assert len(uow.published) == published


def test_a_problem_part_fails_the_document_check_and_needs_its_note(bus, uow, evaluated):
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "0.1", review_ids=(evaluated[0],)))["round_id"]
    codes = _departments(uow, evaluated[0])
    with pytest.raises(InvalidInput) as e:
        bus.handle(k.RecordCheckPart(reviewer(codes[0]), round_id, evaluated[0], codes[0], False, " "))
    assert e.value.errors[0].field == "note"
    bus.handle(k.RecordCheckPart(reviewer(codes[0]), round_id, evaluated[0], codes[0], False, "土地复垦方案未备案"))
    published = len(uow.published)
    bus.handle(k.RecordCheckPart(reviewer(codes[0]), round_id, evaluated[0], codes[0], False, "土地复垦方案未备案"))
    assert len(uow.published) == published                      # a replay records nothing
    for code in codes[1:]:
        bus.handle(k.RecordCheckPart(REGION_OFFICE, round_id, evaluated[0], code, True))
    rnd = uow.check_rounds.get(round_id)
    assert rnd.drawn is None and uow.region_reviews.get(evaluated[0]).status == "in_check"   # not drawn yet
    record = bus.handle(k.DrawSpotCheckCases(REGION_OFFICE, round_id, "abc"))
    assert record["k"] == 1 == len(record["population"])         # ceil(0.1 × 1)
    assert uow.region_reviews.get(evaluated[0]).status == "in_check"   # drawn: waits for its spot check
    with pytest.raises(InvalidTransition):                      # the inspectors first
        bus.handle(k.RecordSpotCheck(REGION_OFFICE, round_id, evaluated[0], {}, {}))


def test_department_reviewers_see_only_their_parts_and_the_area_rule_holds(bus, uow, evaluated):
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "1"))["round_id"]
    code = _departments(uow, evaluated[0])[0]
    mine = bus.handle(k.ShowCheckRounds(reviewer(code)))
    assert {p["department"] for p in mine["parts"]} == {code} and len(mine["parts"]) == 3
    view = bus.handle(k.ShowCheckRound(reviewer(code), round_id))
    assert all(p["department"] == code for c in view["cases_detail"] for p in c["parts"])
    assert view["under_review"] == [] and view["cases_detail"][0]["evaluation"] is None
    with pytest.raises(NotPermitted):
        bus.handle(k.RecordCheckPart(reviewer(code, area="包头市"), round_id, evaluated[0], code, True))
    bus.handle(k.RecordCheckPart(reviewer(code, area="自治区"), round_id, evaluated[0], code, True))


def test_the_inspector_pool_is_refused_when_it_holds_someone_else(bus, uow, evaluated):
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "1"))["round_id"]
    code = uow.check_rounds.get(round_id).departments[0]
    other = next(p.username for p in REGION_REVIEWERS if p.department != code)
    with pytest.raises(InvalidInput) as e:
        bus.handle(k.DrawInspectors(REGION_OFFICE, round_id, code, 1, "v", pool=(other,)))
    assert e.value.errors[0].field == "pool"
    with pytest.raises(InvalidInput) as e:
        bus.handle(k.DrawInspectors(REGION_OFFICE, round_id, code, 9, "v"))
    assert e.value.errors[0].field == "count"
    assert uow.draws.find() == []


def test_the_public_draws_are_listed_newest_first_and_paginated(bus, uow, evaluated, clock):
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "1"))["round_id"]
    first = bus.handle(k.DrawSpotCheckCases(REGION_OFFICE, round_id, "v1"))
    clock.advance(minutes=5)
    code = uow.check_rounds.get(round_id).departments[0]
    second = bus.handle(k.DrawInspectors(REGION_OFFICE, round_id, code, 1, "v2"))
    page = bus.handle(dr.ListDraws(limit=1))
    assert page["total"] == 2 and [d["draw_id"] for d in page["items"]] == [second["draw_id"]]
    assert bus.handle(dr.ListDraws(limit=1, offset=1))["items"][0]["draw_id"] == first["draw_id"]
    assert page["items"][0]["population_size"] == 4 and "population" not in page["items"][0]
    with pytest.raises(InvalidInput):
        bus.handle(dr.ListDraws(limit=0))
    with pytest.raises(NotFound):
        bus.handle(dr.ShowDraw("nope"))


def test_the_round_round_trips_through_its_document(bus, uow, evaluated):
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "0.5"))["round_id"]
    rnd = uow.check_rounds.get(round_id)
    assert CheckRound.from_dict(rnd.to_dict()).to_dict() == rnd.to_dict()


# -- the web (fake unit of work, no server) ---------------------------------------------------------------------
def test_the_pages_and_the_public_draws_over_http(bus, uow, evaluated):
    from review_routing.entrypoints.http import create_app
    from shared import identity
    from shared.config import Settings

    settings = Settings.from_env({"GREENMINE_SECRET_KEY": "unit", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                                  "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    client = create_app(settings, bus).test_client()
    office = identity.Principal("region", "region_office", display_name="自治区自然资源厅", area="自治区")

    def call(method, path, who=office, **kwargs):
        headers = {"Authorization": f"Bearer {identity.issue_token(settings.secret_key, who)}"} if who else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    page = call("GET", "/evaluation/checks")
    assert page.status_code == 200 and "开启核查批次" in page.get_data(as_text=True)
    bad = call("POST", "/api/v1/evaluation/check-rounds", json={"ratio": "1.5", "review_ids": evaluated})
    assert bad.status_code == 422 and "ratio" in json_errors(bad)
    opened = call("POST", "/api/v1/evaluation/check-rounds", json={"ratio": "0.5", "review_ids": evaluated})
    assert opened.status_code == 201, opened.get_json()
    round_id = opened.get_json()["round_id"]
    drawn = call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/draw", json={"entered_value": "v"})
    assert drawn.status_code == 200
    draw_id = drawn.get_json()["draw_id"]

    # Public: no sign-in, the same record, and the page shows how to recompute it.
    public = call("GET", f"/api/v1/evaluation/draws/{draw_id}", who=None)
    assert public.status_code == 200 and public.get_json() == drawn.get_json()
    listing = call("GET", "/api/v1/evaluation/draws?limit=5", who=None).get_json()
    assert [d["draw_id"] for d in listing["items"]] == [draw_id]
    html = call("GET", f"/evaluation/draws/{draw_id}", who=None).get_data(as_text=True)
    assert "如何复算" in html and drawn.get_json()["seed"] in html and "hashlib" in html
    assert "公开抽取记录" in call("GET", "/evaluation/draws", who=None).get_data(as_text=True)
    assert call("GET", "/api/v1/evaluation/draws/nope", who=None).status_code == 404

    form = call("GET", f"/evaluation/checks/{round_id}/cases/{drawn.get_json()['selected'][0]}/spot-check")
    assert form.status_code == 200 and "逐项评分" in form.get_data(as_text=True)
    assert "第1项" in form.get_data(as_text=True)
    round_page = call("GET", f"/evaluation/checks/{round_id}").get_data(as_text=True)
    rnd = uow.check_rounds.get(round_id)
    code = rnd.departments[0]
    assert rnd.department_name(code) in round_page and f">{code}<" not in round_page
    who = identity.Principal(f"rv_{code}", "department_reviewer", display_name="审核员", department=code,
                             area="鄂尔多斯市")
    mine = call("GET", "/evaluation/checks", who=who).get_data(as_text=True)
    assert "本部门的资料核查（待录入 3 件）" in mine
    recorded = call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/cases/{evaluated[0]}/parts/{code}", who=who,
                    json={"passed": False, "note": ""})
    assert recorded.status_code == 422 and "note" in json_errors(recorded)
    assert call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/draw", who=who,
                json={"entered_value": "v"}).status_code == 403


def json_errors(response) -> str:
    return str(response.get_json().get("errors"))


def test_a_department_still_sees_its_parts_of_finished_cases_read_only(bus, uow, evaluated):
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "0.1", review_ids=(evaluated[0], evaluated[1])))["round_id"]
    record = bus.handle(k.DrawSpotCheckCases(REGION_OFFICE, round_id, "v"))
    undrawn = next(r for r in (evaluated[0], evaluated[1]) if r not in record["selected"])
    for code in _departments(uow, undrawn):
        bus.handle(k.RecordCheckPart(reviewer(code), round_id, undrawn, code, True))
    assert uow.region_reviews.get(undrawn).status == "checked"
    code = _departments(uow, undrawn)[0]
    view = bus.handle(k.ShowCheckRound(reviewer(code), round_id))
    finished = next(c for c in view["cases_detail"] if c["review_id"] == undrawn)
    assert [(p["department"], p["status"], p["mine"]) for p in finished["parts"]] == [(code, "passed", False)]
    assert len(view["cases_detail"]) == 2


def test_without_region_level_reviewers_the_pool_must_be_given(uow, clock, scoring, catalog):
    local = [Actor("eco_ordos", "department_reviewer", "鄂尔多斯生态审核员", "ecology_environment", "鄂尔多斯市")]
    bus = make_bus(uow, clock, scoring=scoring, directory=Directory(local))
    rid = forwarded(bus, uow, catalog)
    advance(uow, rid, "evaluated")
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "1"))["round_id"]
    with pytest.raises(InvalidInput) as e:
        bus.handle(k.DrawInspectors(REGION_OFFICE, round_id, "ecology_environment", 1, "v"))
    assert e.value.errors[0].field == "pool" and "请填写人员库" in e.value.errors[0].message
    drawn = bus.handle(k.DrawInspectors(REGION_OFFICE, round_id, "ecology_environment", 1, "v", pool=("eco_ordos",)))
    assert drawn["selected"] == ["eco_ordos"] and drawn["labels"] == {"eco_ordos": "鄂尔多斯生态审核员"}


def test_the_office_sees_each_undrawn_departments_candidates_region_reviewers_first(bus, uow, evaluated):
    round_id = bus.handle(k.OpenCheckRound(REGION_OFFICE, "1"))["round_id"]
    view = bus.handle(k.ShowCheckRound(REGION_OFFICE, round_id))
    eco = next(d for d in view["departments"] if d["code"] == "ecology_environment")
    assert [c["username"] for c in eco["candidates"]] == [f"zz_ecology_environment_{i}" for i in range(1, 5)]
    assert all(c["region"] for c in eco["candidates"])
    bus.handle(k.DrawInspectors(REGION_OFFICE, round_id, "ecology_environment", 1, "v"))
    view = bus.handle(k.ShowCheckRound(REGION_OFFICE, round_id))
    assert "candidates" not in next(d for d in view["departments"] if d["code"] == "ecology_environment")
    code = _departments(uow, evaluated[0])[0]
    assert all("candidates" not in d for d in bus.handle(k.ShowCheckRound(reviewer(code), round_id))["departments"])
