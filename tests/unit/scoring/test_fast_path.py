"""The engine's fast path (scoring/domain/fast.py) changes no result: generated assessments, valid and invalid,
scored on the fast path and on the full path give identical reports (every field, every Decimal's digits) or
identical errors (fields, messages, order); and the report's contract shape is byte for byte what the
`to_dict` before the fast path wrote (kept below as the reference)."""
from __future__ import annotations

import copy
import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scoring.domain.engine import _score, score_assessment
from scoring.domain.report import (
    BINDING_NOT_APPLICABLE_NOTE,
    UNSUPPORTED_NOTE,
    VERDICT_LABELS,
    AssessmentInvalid,
    IndicatorScore,
    Report,
    _money,
    _plain,
)
from scoring.domain.rules import possible_scores
from scoring.domain.stages import STAGES
from shared.catalog import AdditiveItems, ConditionalDeductions, DeductPerFinding, load_catalog

CATALOG = load_catalog("nm-2025")
ROOT = Path(__file__).resolve().parents[3]
# No shrinking: an assessment has ~46 entries and shrinking one outlasts the suite's timeout; a failure shows the
# generated assessment as drawn, with both outcomes in the assertion message.
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                   phases=[Phase.explicit, Phase.reuse, Phase.generate])
RECORD = "2025年7月2日评估组现场查看采场"


def reference_to_dict(report: Report) -> dict[str, Any]:
    """`Report.to_dict` as it was before the fast path (commit 3444b11), verbatim."""
    mine: dict[str, Any] = {"industry_group": report.industry_group, "mining_method": report.mining_method}
    if report.industry_variant is not None:
        mine["industry_variant"] = report.industry_variant
    return {
        "catalog": report.catalog_id,
        "catalog_version": report.catalog_version,
        "mine": mine,
        "verdict": report.verdict,
        "verdict_label": VERDICT_LABELS[report.verdict],
        "total": _money(report.total),
        "pass_total": _plain(report.pass_total),
        "categories": [
            {"no": c.no, "name": c.name, "points": _plain(c.points),
             "applicable_points": _plain(c.applicable_points), "earned": _plain(c.earned),
             "score": _money(c.score), "all_not_applicable": c.all_not_applicable}
            for c in report.categories],
        "failed_binding": list(report.failed_binding),
        "failed_prerequisites": list(report.failed_prerequisites),
        "not_applicable_binding": list(report.not_applicable_binding),
        "unsupported": list(report.unsupported),
        "notes": report.notes,
        "indicator_scores": {str(no): _reference_indicator_dict(s) for no, s in report.indicator_scores.items()},
    }


def _reference_indicator_dict(s: IndicatorScore) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": s.name, "category": s.category_no, "points": _plain(s.points), "binding": s.binding,
        "score": None if s.score is None else _plain(s.score), "not_applicable": s.not_applicable,
    }
    for key in ("reason", "record", "variant", "findings"):
        if getattr(s, key) is not None:
            out[key] = getattr(s, key)
    if s.deductions is not None:
        out["deductions"] = list(s.deductions)
    if s.items is not None:
        out["items"] = dict(s.items)
    if s.evidence is not None:
        out["evidence"] = list(s.evidence)
    if s.unsupported:
        out["unsupported"] = True
        out["claimed_score"] = _plain(s.claimed)
        out["note"] = UNSUPPORTED_NOTE
    elif s.not_applicable and s.binding:
        out["note"] = BINDING_NOT_APPLICABLE_NOTE
    return out


def _outcome(assessment, stage, fast):
    try:
        return "report", _score(assessment, CATALOG, stage, fast=fast)
    except AssessmentInvalid as exc:
        return "invalid", exc.errors
    except Exception as exc:   # noqa: BLE001 — whatever the full path raises, the fast path must raise alike
        return "raised", (type(exc).__name__, str(exc))


def assert_same(assessment, stage=None):
    before = copy.deepcopy(assessment)
    full = _outcome(assessment, stage, fast=False)
    fast = _outcome(assessment, stage, fast=True)
    assert assessment == before, "scoring must not change its input"
    assert fast[0] == full[0], (fast, full)
    if full[0] != "report":
        assert fast[1] == full[1]
        return full[0]
    assert fast[1] == full[1]
    assert repr(fast[1]) == repr(full[1])     # Decimal digits and exponents too, not only values
    dumped = json.dumps(reference_to_dict(full[1]), ensure_ascii=False)
    assert json.dumps(fast[1].to_dict(), ensure_ascii=False) == dumped
    assert json.dumps(full[1].to_dict(), ensure_ascii=False) == dumped
    return "report"


# ---------------------------------------------------------------------------------------------------------------
# Generated entries: the shapes real assessments use, and every kind of mistake.

ODD_VALUES = st.sampled_from([None, True, False, 1.5, 2.0, -1, "", " ", "abc", "NaN", "sNaN", "-Infinity",
                              "1e999999999", Decimal("NaN"), Decimal("Infinity"), Decimal("1E+999999999"), [], {},
                              ["x"], 10**30, "３", "0x1", "1_0", "2.005", "-0", "0.000"])


def _number_forms(score: Decimal):
    """The ways a JSON document (or a caller) can write a score: text, padded text, Decimal, integer."""
    text = format(score, "f")
    forms = [text, f" {text} ", score, text + "0", score + Decimal("0.00")]
    if score == score.to_integral_value():
        forms += [int(score), str(int(score)) + ".00"]
    return st.sampled_from(forms)


@st.composite
def scores(draw, indicator, rule):
    points = indicator.points
    choice = draw(st.integers(0, 9))
    if choice < 6 and rule is not None:
        return draw(_number_forms(draw(st.sampled_from(sorted(possible_scores(rule, points))))))
    if choice < 8:
        value = draw(st.decimals(min_value=-3, max_value=points + 3, places=draw(st.integers(0, 3))))
        return draw(_number_forms(value))
    return draw(ODD_VALUES)


@st.composite
def entries(draw, indicator, method, variant):
    rule = indicator.scoring_rule(method, variant)
    kinds = ["score", "na", "odd", "none", "extra"]
    if isinstance(rule, DeductPerFinding):
        kinds += ["findings"] * 3
    if isinstance(rule, ConditionalDeductions):
        kinds += ["deductions"] * 3
    if isinstance(rule, AdditiveItems):
        kinds += ["items"] * 3
    kinds += ["findings", "deductions", "items"]     # the wrong kind for the rule, sometimes
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return draw(st.sampled_from([None, [], "3", 3]))
    if kind == "na":
        entry = {"not_applicable": draw(st.sampled_from([True, True, True, False, "yes", 1])),
                 "reason": draw(st.sampled_from(["本矿不涉及", "  本矿不涉及 ", "", "   ", None, 5]))}
        if draw(st.integers(0, 5)) == 0:
            entry["score"] = str(indicator.points)
        if draw(st.integers(0, 5)) == 0:
            del entry["reason"]
    elif kind == "findings":
        entry = {"findings": draw(st.one_of(st.integers(0, 8), st.integers(0, 80), st.sampled_from(
            [-1, 1_000_000, 1_000_001, True, "2", 2.0, None])))}
    elif kind == "deductions":
        ids = [c.id for c in rule.conditions] if isinstance(rule, ConditionalDeductions) else ["x"]
        entry = {"deductions": draw(st.one_of(
            st.lists(st.sampled_from(ids), max_size=len(ids) + 1),
            st.lists(st.sampled_from([*ids, "unknown", 3]), max_size=3), st.sampled_from(["a", None, {}])))}
    elif kind == "items":
        rule_items = rule.items if isinstance(rule, AdditiveItems) else ()
        values = {}
        for item in rule_items:
            if draw(st.booleans()):
                values[item.id] = draw(st.one_of(st.integers(0, 12), st.sampled_from([-1, 2_000_000, "1", 1.0]))
                                       if item.per_unit else st.one_of(st.booleans(), st.sampled_from([1, 0, "true"])))
        if draw(st.integers(0, 6)) == 0:
            values["unknown_item"] = True
        entry = {"items": values if draw(st.integers(0, 8)) else draw(st.sampled_from([[], "x", None]))}
    else:
        entry = {"score": draw(scores(indicator, rule))}
        if kind == "extra":
            entry[draw(st.sampled_from(["findings", "foo", "reason", "not_applicable", 7]))] = draw(
                st.sampled_from([1, False, "x", None]))
    if draw(st.integers(0, 2)):
        entry["record"] = draw(st.sampled_from([RECORD, RECORD, "", "  ", None, 12, ["x"]]))
    if draw(st.integers(0, 2)) == 0:
        entry["evidence"] = draw(st.sampled_from([[], [], ["att-1"], ["att-1", "att-2"], [" "], ["a" * 201], "att",
                                                  [1], ["x"] * 201, None]))
    if kind == "odd":
        entry = {draw(st.sampled_from(["score", "findings", "items", "deductions"])): draw(ODD_VALUES)}
    return entry


@st.composite
def valid_entries(draw, indicator, method, variant):
    """An entry the engine accepts, in any of the forms: a direct score (text, integer or Decimal), findings,
    deductions, items or 不涉及; a record or not; evidence or not (an empty list: the score counts 0)."""
    rule = indicator.scoring_rule(method, variant)
    kinds = ["score", "score", "na"]
    if isinstance(rule, DeductPerFinding):
        kinds += ["findings"] * 2
    if isinstance(rule, ConditionalDeductions):
        kinds += ["deductions"] * 2
    if isinstance(rule, AdditiveItems):
        kinds += ["items"] * 2
    kind = draw(st.sampled_from(kinds))
    if kind == "na":
        entry = {"not_applicable": True, "reason": draw(st.sampled_from(["本矿不涉及", " 本矿不涉及  "]))}
    elif kind == "score":
        entry = {"score": draw(_number_forms(draw(st.sampled_from(sorted(possible_scores(rule, indicator.points))))))}
    elif kind == "findings":
        entry = {"findings": draw(st.one_of(st.integers(0, 8), st.integers(0, 100), st.just(1_000_000)))}
    elif kind == "deductions":
        entry = {"deductions": draw(st.lists(st.sampled_from([c.id for c in rule.conditions]), unique=True))}
    else:
        entry = {"items": {item.id: draw(st.integers(0, 12) if item.per_unit else st.booleans())
                           for item in rule.items if draw(st.booleans())}}
    if draw(st.integers(0, 3)):
        entry["record"] = draw(st.sampled_from([RECORD, RECORD, "", " "]))
    if draw(st.integers(0, 2)) == 0:
        entry["evidence"] = draw(st.sampled_from([[], ["att-1"], ["att-1", "att-2"]]))
    return dict(draw(st.permutations(list(entry.items()))))   # the order of the keys does not matter


@st.composite
def assessments(draw, mistakes=True):
    """An assessment of any mine kind; with `mistakes`, an entry now and then is anything at all (or missing),
    a key may name no indicator of the branch and the industry variant may be left out."""
    group = draw(st.sampled_from(CATALOG.industry_group_ids))
    method = draw(st.sampled_from(sorted(CATALOG.mining_methods)))
    variant = None
    if group == 2:
        variant = draw(st.sampled_from([c for c, g in CATALOG.industry_variant_groups.items() if g == group]))
    mistake_rate = draw(st.sampled_from([0, 20, 60])) if mistakes else 0
    indicators = {}
    for indicator in CATALOG.indicators_in_group(group):
        applicable = indicator in CATALOG.indicators_for(group, method)
        roll = draw(st.integers(0, 119))
        if roll < mistake_rate // 10:
            continue                        # left out: missing (or, if not applicable by the index, fine)
        if roll < mistake_rate:
            indicators[str(indicator.no)] = draw(entries(indicator, method, variant))
        elif applicable:
            indicators[str(indicator.no)] = draw(valid_entries(indicator, method, variant))
        elif roll % 4 == 0:
            indicators[str(indicator.no)] = draw(st.sampled_from(
                [None, {"not_applicable": True, "reason": "本矿不涉及"}]))
    if mistake_rate and draw(st.integers(0, 5)) == 0:
        indicators[draw(st.sampled_from(["99", "03", "x", "0", "47", "13", "2"]))] = {"score": "1"}
    mine: dict[str, Any] = {"industry_group": group, "mining_method": method}
    if variant and (not mistake_rate or draw(st.integers(0, 7))):
        mine["industry_variant"] = variant
    prerequisites = {code: draw(st.booleans()) if draw(st.integers(0, 9)) == 0 else True
                     for code in CATALOG.prerequisite_codes}
    stage = draw(st.sampled_from([None, None, *STAGES]))
    return {"catalog": CATALOG.id, "mine": mine, "prerequisites": prerequisites, "indicators": indicators}, stage


@PROFILE
@given(assessments(mistakes=False))
def test_valid_assessments_score_identically_on_both_paths(case):
    assessment, stage = case
    assert_same(assessment, stage)


@PROFILE
@given(assessments())
def test_assessments_with_mistakes_score_or_fail_identically_on_both_paths(case):
    assessment, stage = case
    assert_same(assessment, stage)


def test_the_generated_cases_reach_reports_and_errors_alike():
    """The strategy is not degenerate: it yields both reports and refusals (checked on a fixed sample)."""
    seen = set()

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow],
              phases=[Phase.generate])
    @given(assessments())
    def sample(case):
        seen.add(assert_same(*case))

    sample()
    assert {"report", "invalid"} <= seen


def test_the_bench_assessment_and_its_variants_score_identically():
    spec = importlib.util.spec_from_file_location("bench_scoring", ROOT / "bench" / "bench_scoring.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assessment = bench.realistic_assessment(CATALOG)
    assert assert_same(assessment) == "report"
    assert assert_same(assessment, "spot_check") == "report"
    unsupported = copy.deepcopy(assessment)
    unsupported["indicators"]["3"]["evidence"] = []
    unsupported["indicators"]["4"]["evidence"] = ["att-1"]
    unsupported["indicators"]["14"]["evidence"] = []
    assert assert_same(unsupported) == "report"
    assert score_assessment(unsupported, CATALOG).unsupported == (3,)
    parsed = json.loads(json.dumps(assessment), parse_float=Decimal)
    assert assert_same(parsed) == "report"
