"""The green-mine scoring engine: an assessment (per-indicator inputs) in, a report (scores and verdict) out.

Pure: no I/O. The catalog comes in as a `shared.catalog.Catalog` or as a resolver `catalog_id -> Catalog`.
Exact decimal arithmetic throughout; rules (stated in docs/scoring.md):

* Each applicable indicator scores within [0, points]. Per-finding and conditional deductions stop at 0
  (最多扣完该项分值); additive sub-items stop at the indicator's points (最多增至该项总分).
* 不涉及项 (not applicable, with a reason) leave the category's applicable points, and the category is
  prorated (折合法): category score = category points × earned ÷ applicable points, rounded half-up to 2
  decimals; the total is the sum of the category scores. A category in which nothing applies scores its full
  points (N/A is neutral; nothing has been found wanting).
* 缺少支撑材料或证明材料不得分: an entry with `evidence: []` and a score above 0 counts 0 (`unsupported`).
* At the stages that inspect on site (third-party evaluation, spot check) a score above 0 needs its 核查记录.
* An assessment in which every indicator is 不涉及 is refused: there is nothing to score (约束性指标必须得满分).
* Verdict: `ineligible` if a prerequisite is not met; else `not_qualified` if an applicable binding indicator is
  below full marks or the total is below the pass mark (60); else `qualified`.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from scoring.domain.entries import (
    CatalogSource,
    _branch,
    _Errors,
    _label,
    _read_mine,
    _read_prerequisites,
    _resolve_catalog,
    _score_entry,
)
from scoring.domain.fast import fast_entry, prepared
from scoring.domain.report import (
    CENT,
    INELIGIBLE,
    NOT_QUALIFIED,
    QUALIFIED,
    VERDICT_LABELS,
    VERDICT_RANK,
    ZERO,
    AssessmentInvalid,
    CategoryScore,
    IndicatorScore,
    Report,
    _plain,
)
from scoring.domain.rules import possible_scores
from scoring.domain.stages import requires_records
from shared.catalog import (
    ByIndustry,
    Catalog,
    Indicator,
)

# The engine's public face (the report model and the rules live beside it: report.py, rules.py, entries.py).
__all__ = [
    "AssessmentInvalid", "CatalogSource", "CategoryScore", "IndicatorScore", "Report", "VERDICT_LABELS",
    "VERDICT_RANK", "possible_scores", "score_assessment",
]

TOP_KEYS = frozenset({"catalog", "mine", "prerequisites", "indicators"})
AUTO_NOT_APPLICABLE_REASON = "评价指标未给出适用于{method}的评分说明,按不涉及项处理"
ALL_NOT_APPLICABLE = ("全部指标均判定为不涉及项，无法评分：所有约束性指标必须得满分，不涉及项仅限确不涉及的个别指标"
                      "（须写明判定依据，约束性指标还须经初审责任部门和评估机构确认），请逐项评分")
RECORD_REQUIRED = "{label}得分 {score}（高于0分），须填写核查记录：核查人员、时间、地点及现场查看的内容"


class _Plan(NamedTuple):
    """What one kind of mine (catalog, branch, mining method) is assessed on, prepared once."""
    in_group: tuple[Indicator, ...]
    by_key: dict[str, Indicator]           # "12" -> indicator, for every indicator of the branch
    applicable_nos: frozenset[int]
    by_industry: tuple[Indicator, ...]
    keys: frozenset[str]                   # by_key's keys
    ordered: bool                          # in_group ascending by number (so are the scores, built in its order)


_MISSING = object()
_PLANS: dict[tuple[int, int, str], tuple[Catalog, _Plan]] = {}


def _plan(catalog: Catalog, group: int, method: str) -> _Plan:
    key = (id(catalog), group, method)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    in_group = catalog.indicators_in_group(group)
    applicable = catalog.indicators_for(group, method)
    plan = _Plan(in_group, {str(i.no): i for i in in_group}, frozenset(i.no for i in applicable),
                 tuple(i for i in applicable if isinstance(i.rule, ByIndustry)), frozenset(str(i.no) for i in in_group),
                 all(a.no < b.no for a, b in zip(in_group, in_group[1:], strict=False)))
    _PLANS[key] = (catalog, plan)
    return plan


def score_assessment(assessment: Mapping, catalog: CatalogSource, stage: str | None = None) -> Report:
    """Score one assessment; raise AssessmentInvalid listing every problem if it cannot be scored.

    `stage` (scoring.domain.stages) adds that stage's rules: at a third-party evaluation or a spot check every
    score above 0 needs its 核查记录 (`record`)."""
    return _score(assessment, catalog, stage, fast=True)


def _score(assessment: Mapping, catalog: CatalogSource, stage: str | None, fast: bool) -> Report:
    """`fast=False` reads every entry on the full path (entries.py); the fast path (fast.py) gives the same
    reports and errors, which tests/unit/scoring/test_fast_path.py checks."""
    errors = _Errors()
    if type(assessment) is not dict and not isinstance(assessment, Mapping):
        raise AssessmentInvalid([{"field": "(root)", "message": "评估数据须为 JSON 对象"}])
    if not assessment.keys() <= TOP_KEYS:
        for key in sorted(set(assessment) - TOP_KEYS):
            errors.add(key, "未知字段(允许 catalog、mine、prerequisites、indicators)")
    resolved = _resolve_catalog(assessment, catalog, errors)
    group, method, variant = _read_mine(assessment.get("mine"), resolved, errors)
    if resolved is None:
        raise AssessmentInvalid(errors.items)
    catalog = resolved
    failed_prerequisites = _read_prerequisites(assessment.get("prerequisites"), catalog, errors)

    raw_indicators = assessment.get("indicators")
    if type(raw_indicators) is not dict and not isinstance(raw_indicators, Mapping):
        errors.add("indicators", "须为对象:指标编号 → 评分")
        raise AssessmentInvalid(errors.items)
    if group is None or method is None:
        # Without the branch and method the applicable set is unknown; report what is wrong so far.
        raise AssessmentInvalid(errors.items)

    plan = _plan(catalog, group, method)
    method_name = catalog.mining_methods.get(method, method)
    # The fast path when every key names an indicator of the branch (else the full path words the key errors).
    fast = fast and type(raw_indicators) is dict and raw_indicators.keys() <= plan.keys
    entries = raw_indicators if fast else _read_keys(catalog, plan, group, raw_indicators, errors)

    needs_variant = [i for i in plan.by_industry
                     if isinstance(entry := entries.get(str(i.no) if fast else i.no), Mapping)
                     and not entry.get("not_applicable")]
    if needs_variant and variant is None and "industry_variant" not in (assessment.get("mine") or {}):
        names = "、".join(f"{c}({n})" for c, n in catalog.industry_variants.items()
                         if catalog.industry_variant_groups[c] == group)
        errors.add("mine.industry_variant",
                   f"第{'、'.join(str(i.no) for i in needs_variant)}项按子行业评分,须注明 industry_variant:{names}")

    scores: dict[int, IndicatorScore] = {}
    if fast:
        get = entries.get
        for p in prepared(catalog, plan.in_group, plan.applicable_nos, group, method, variant,
                          AUTO_NOT_APPLICABLE_REASON, method_name):
            key, no, auto, indicator, applicable, ready = p
            entry = get(key, _MISSING)
            if type(entry) is dict:
                scored = fast_entry(ready, entry)
                if scored is not None:
                    scores[no] = scored
                    continue
            elif auto is not None and (entry is _MISSING or entry is None):
                scores[no] = auto
                continue
            _score_one(indicator, applicable, entry, method, method_name, variant, errors, scores)
    else:
        for indicator in plan.in_group:
            _score_one(indicator, indicator.no in plan.applicable_nos, entries.get(indicator.no, _MISSING),
                       method, method_name, variant, errors, scores)

    if stage is not None and requires_records(stage):
        for s in scores.values():
            given = s.claimed if s.unsupported else s.score
            if not s.not_applicable and given > 0 and not (s.record or "").strip():
                errors.add(f"indicators.{s.no}.record",
                           RECORD_REQUIRED.format(label=f"第{s.no}项「{s.name}」", score=_plain(given)))
    if not errors and scores and all(s.not_applicable for s in scores.values()):
        errors.add("indicators", ALL_NOT_APPLICABLE)
    if errors:
        raise AssessmentInvalid(errors.items)
    return _report(catalog, group, method, variant, failed_prerequisites, scores, plan.ordered)


def _read_keys(catalog: Catalog, plan: _Plan, group: int, raw_indicators: Mapping, errors: _Errors
               ) -> dict[int, Any]:
    """The entries by indicator number; a key that names no indicator of the branch gets its error."""
    entries: dict[int, Any] = {}
    for key, entry in raw_indicators.items():
        known = plan.by_key.get(key) if type(key) is str else None
        if known is not None:
            entries[known.no] = entry
            continue
        number = int(key) if isinstance(key, str) and key.isdigit() and key == str(int(key)) else None
        if number is None:
            errors.add(f"indicators.{key}", "指标编号须为不带前导零的整数字符串,如 \"3\"")
        elif not catalog.has_indicator(number):
            errors.add(f"indicators.{key}", f"评价指标 {catalog.id} 中没有第{key}项")
        elif not catalog.indicator(number).applies_to_group(group):
            other = catalog.indicator(number)
            errors.add(f"indicators.{key}",
                       f"{_label(other)}属于行业分支{_branch(other.industry_group)},本矿山为行业分支{_branch(group)},不应填写")
        else:
            entries[number] = entry
    return entries


def _score_one(indicator: Indicator, applicable: bool, entry: Any, method: str, method_name: str,
               variant: str | None, errors: _Errors, scores: dict[int, IndicatorScore]) -> None:
    """One indicator on the full path (`entry` is _MISSING when the assessment leaves it out)."""
    if not applicable:
        # No rule for this mining method (8 and 9 for oil/gas): not applicable by the index itself.
        if entry is _MISSING or entry is None:
            scores[indicator.no] = IndicatorScore(
                no=indicator.no, name=indicator.name, category_no=indicator.category_no,
                points=indicator.points, binding=indicator.binding, score=None, not_applicable=True,
                reason=AUTO_NOT_APPLICABLE_REASON.format(method=method_name))
            return
        scored = _score_entry(indicator, entry, method, variant, True, errors)
        if scored is not None:
            scores[indicator.no] = scored
        return
    if entry is _MISSING:
        errors.add(f"indicators.{indicator.no}", f"缺少{_label(indicator)}的评分")
        return
    scored = _score_entry(indicator, entry, method, variant, False, errors)
    if scored is not None:
        scores[indicator.no] = scored


def _report(catalog: Catalog, group: int, method: str, variant: str | None,
            failed_prerequisites: tuple[str, ...], scores: dict[int, IndicatorScore], ordered: bool) -> Report:
    """The report; `ordered`: `scores` is already ascending by number (and ours: the report keeps it)."""
    earned = {c.no: ZERO for c in catalog.categories}
    failed_binding, not_applicable_binding, not_applicable = [], [], []
    for s in scores.values():      # one pass
        no = s.no
        if s.not_applicable:
            not_applicable.append(no)
            if s.binding:
                not_applicable_binding.append(no)
            continue
        score = s.score
        earned[s.category_no] += score
        if s.binding and score != s.points:
            failed_binding.append(no)
    applicable_points = _applicable_points(catalog, scores, not_applicable)
    categories = []
    for category in catalog.categories:
        applicable, got = applicable_points[category.no], earned[category.no]
        categories.append(_category_score(category.no, category.name, category.points, applicable, got,
                                          _prorated(category.points, applicable, got)))
    total = sum((c.score for c in categories), ZERO).quantize(CENT)
    if failed_prerequisites:
        verdict = INELIGIBLE
    elif failed_binding or total < catalog.pass_total:
        verdict = NOT_QUALIFIED
    else:
        verdict = QUALIFIED
    return Report(
        catalog_id=catalog.id, catalog_version=catalog.version, industry_group=group, mining_method=method,
        industry_variant=variant, verdict=verdict, total=total, pass_total=catalog.pass_total,
        categories=tuple(categories), failed_binding=tuple(sorted(failed_binding)),
        failed_prerequisites=failed_prerequisites, not_applicable_binding=tuple(sorted(not_applicable_binding)),
        indicator_scores=scores if ordered else dict(sorted(scores.items())))


_PRORATED: dict[tuple[Decimal, Decimal, Decimal], Decimal] = {}


def _prorated(points: Decimal, applicable: Decimal, earned: Decimal) -> Decimal:
    """A category's score (折合法), rounded half-up to 2 decimals: a function of the three values alone (the
    result's exponent is always -2), so memoised on them."""
    key = (points, applicable, earned)
    score = _PRORATED.get(key)
    if score is None:
        if applicable == 0:
            score = points      # nothing applies: N/A is neutral (documented decision)
        else:
            score = points * earned / applicable
        score = score.quantize(CENT, rounding=ROUND_HALF_UP)
        if len(_PRORATED) < 4096:
            _PRORATED[key] = score
    return score


_APPLICABLE: dict[tuple, tuple[Catalog, dict[int, Decimal]]] = {}


def _applicable_points(catalog: Catalog, scores: dict[int, IndicatorScore], not_applicable: list[int]
                       ) -> dict[int, Decimal]:
    """Per category, the points of the indicators that apply: the same sums for every assessment of a mine kind
    with the same 不涉及 items, so memoised on them (exact sums: the order of adding changes no digit)."""
    key = (id(catalog), tuple(scores), tuple(not_applicable))
    cached = _APPLICABLE.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    applicable_points = {c.no: ZERO for c in catalog.categories}
    for s in scores.values():
        if not s.not_applicable:
            applicable_points[s.category_no] += s.points
    if len(_APPLICABLE) < 4096:
        _APPLICABLE[key] = (catalog, applicable_points)
    return applicable_points


def _category_score(no: int, name: str, points: Decimal, applicable_points: Decimal, earned: Decimal,
                    score: Decimal) -> CategoryScore:
    """CategoryScore(...) at half the cost: the very instance its frozen-dataclass __init__ makes (the same
    __dict__, no __post_init__), without one object.__setattr__ call per field."""
    made = _new_object(CategoryScore)
    _set_attribute(made, "__dict__", {"no": no, "name": name, "points": points, "applicable_points": applicable_points,
                                      "earned": earned, "score": score})
    return made


_new_object, _set_attribute = object.__new__, object.__setattr__
