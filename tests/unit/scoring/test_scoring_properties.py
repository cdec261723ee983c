"""Properties of the engine over random valid assessments (hypothesis)."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from scoring.domain.engine import VERDICT_RANK, possible_scores, score_assessment
from shared.catalog import load_catalog

CATALOG = load_catalog("nm-2025")
REPORT_VALIDATOR = Draft202012Validator(json.loads(
    (Path(__file__).resolve().parents[3] / "contracts" / "scoring" / "report.v1.schema.json").read_text()))
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mines(draw):
    group = draw(st.sampled_from(CATALOG.industry_group_ids))
    method = draw(st.sampled_from(sorted(CATALOG.mining_methods)))
    variant = None
    if group == 2:
        variant = draw(st.sampled_from([c for c, g in CATALOG.industry_variant_groups.items() if g == group]))
    return group, method, variant


@st.composite
def assessments(draw, na_probability=0.15):
    """A valid assessment: each applicable indicator N/A (sometimes) or one of the scores its rule can give."""
    group, method, variant = draw(mines())
    indicators = {}
    for indicator in CATALOG.indicators_for(group, method):
        rule = indicator.scoring_rule(method, variant)
        if draw(st.floats(0, 1)) < na_probability:
            indicators[str(indicator.no)] = {"not_applicable": True, "reason": "随机判定为不涉及项"}
        else:
            score = draw(st.sampled_from(sorted(possible_scores(rule, indicator.points))))
            indicators[str(indicator.no)] = {"score": str(score)}
    # An assessment with nothing scored is refused (every indicator 不涉及); keep one binding item scored, so that
    # turning an improvement item N/A below never empties it.
    if all(e.get("not_applicable") for no, e in indicators.items() if CATALOG.indicator(int(no)).binding):
        first = next(i for i in CATALOG.indicators_for(group, method) if i.binding)
        indicators[str(first.no)] = {"score": str(first.points)}
    mine = {"industry_group": group, "mining_method": method}
    if variant:
        mine["industry_variant"] = variant
    prerequisites = {code: draw(st.booleans()) if draw(st.floats(0, 1)) < 0.1 else True
                     for code in CATALOG.prerequisite_codes}
    return {"catalog": CATALOG.id, "mine": mine, "prerequisites": prerequisites, "indicators": indicators}


def _variant(assessment):
    mine = assessment["mine"]
    return mine["mining_method"], mine.get("industry_variant")


@PROFILE
@given(assessments())
def test_total_and_category_scores_stay_in_range(assessment):
    report = score_assessment(assessment, CATALOG)
    assert Decimal(0) <= report.total <= Decimal(100)
    for category in report.categories:
        assert Decimal(0) <= category.score <= category.points
        assert category.score == category.score.quantize(Decimal("0.01"))
    assert report.total == sum(c.score for c in report.categories)
    for score in report.indicator_scores.values():
        assert score.not_applicable or Decimal(0) <= score.score <= score.points


@PROFILE
@given(assessments())
def test_verdict_follows_the_three_rules(assessment):
    report = score_assessment(assessment, CATALOG)
    prerequisites_met = all(assessment["prerequisites"].values())
    binding_full = all(s.full_marks for s in report.indicator_scores.values() if s.binding and not s.not_applicable)
    if not prerequisites_met:
        assert report.verdict == "ineligible"
    elif not binding_full or report.total < 60:
        assert report.verdict == "not_qualified"
    else:
        assert report.verdict == "qualified"
    assert list(report.failed_binding) == sorted(report.failed_binding)


@PROFILE
@given(assessments(), st.data())
def test_raising_one_score_never_lowers_the_total(assessment, data):
    method, variant = _variant(assessment)
    scored = [k for k, e in assessment["indicators"].items() if "score" in e]
    if not scored:
        return
    key = data.draw(st.sampled_from(scored))
    indicator = CATALOG.indicator(int(key))
    current = Decimal(assessment["indicators"][key]["score"])
    higher = [s for s in possible_scores(indicator.scoring_rule(method, variant), indicator.points) if s > current]
    if not higher:
        return
    raised = copy.deepcopy(assessment)
    raised["indicators"][key] = {"score": str(data.draw(st.sampled_from(sorted(higher))))}
    before, after = score_assessment(assessment, CATALOG), score_assessment(raised, CATALOG)
    assert after.total >= before.total
    assert VERDICT_RANK[after.verdict] >= VERDICT_RANK[before.verdict]


@PROFILE
@given(assessments(), st.data())
def test_na_on_an_improvement_item_never_lowers_the_verdict(assessment, data):
    """Declaring an improvement (提升性) item not applicable is never worse than scoring it 0, and never better
    than full marks: 折合法 puts it at the category's own average."""
    method, variant = _variant(assessment)
    candidates = [k for k in assessment["indicators"] if not CATALOG.indicator(int(k)).binding]
    key = data.draw(st.sampled_from(candidates))
    indicator = CATALOG.indicator(int(key))
    variants = {}
    for name, entry in (("zero", {"score": "0"}), ("full", {"score": str(indicator.points)}),
                        ("na", {"not_applicable": True, "reason": "经判定不涉及"})):
        changed = copy.deepcopy(assessment)
        changed["indicators"][key] = entry
        variants[name] = score_assessment(changed, CATALOG)
    rank = {name: VERDICT_RANK[r.verdict] for name, r in variants.items()}
    assert rank["zero"] <= rank["na"] <= rank["full"]
    assert variants["zero"].total <= variants["na"].total <= variants["full"].total


@PROFILE
@given(assessments(na_probability=0.0))
def test_without_na_the_total_is_the_plain_sum(assessment):
    report = score_assessment(assessment, CATALOG)
    if assessment["mine"]["mining_method"] == "oil_gas":
        return   # 8 and 9 are not applicable by the index itself
    assert report.total == sum(s.score for s in report.indicator_scores.values())


@PROFILE
@given(assessments())
def test_report_matches_its_schema(assessment):
    REPORT_VALIDATOR.validate(score_assessment(assessment, CATALOG).to_dict())
