"""The green-mine scoring engine: an assessment (per-indicator inputs) in, a report (scores and verdict) out.

Pure: no I/O. The catalog comes in as a `shared.catalog.Catalog` or as a resolver `catalog_id -> Catalog`.
Exact decimal arithmetic throughout; rules (stated in docs/scoring.md):

* Each applicable indicator scores within [0, points]. Per-finding and conditional deductions stop at 0
  (最多扣完该项分值); additive sub-items stop at the indicator's points (最多增至该项总分).
* 不涉及项 (not applicable, with a reason) leave the category's applicable points, and the category is
  prorated (折合法): category score = category points × earned ÷ applicable points, rounded half-up to 2
  decimals; the total is the sum of the category scores. A category in which nothing applies scores its full
  points (N/A is neutral; nothing has been found wanting).
* Verdict: `ineligible` if a prerequisite is not met; else `not_qualified` if an applicable binding indicator is
  below full marks or the total is below the pass mark (60); else `qualified`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable, NamedTuple, Union

from shared.catalog import (
    AdditiveItems, AllOrNothing, ByIndustry, ByMiningMethod, Catalog, CatalogError, ConditionalDeductions,
    DeductPerFinding, Indicator, ScoringRule,
)
from shared.decimals import plain

__all__ = [
    "AssessmentInvalid", "CategoryScore", "IndicatorScore", "Report", "VERDICT_LABELS", "possible_scores",
    "score_assessment",
]

INELIGIBLE, NOT_QUALIFIED, QUALIFIED = "ineligible", "not_qualified", "qualified"
VERDICT_LABELS = {
    INELIGIBLE: "不具备遴选资格(先决条件未满足)",
    NOT_QUALIFIED: "不达标",
    QUALIFIED: "达标",
}
# Ordering of verdicts from worst to best, for comparisons ("never lowers the verdict").
VERDICT_RANK = {INELIGIBLE: 0, NOT_QUALIFIED: 1, QUALIFIED: 2}

CENT = Decimal("0.01")
ZERO = Decimal(0)
INPUT_KINDS = ("score", "findings", "deductions", "items")
ENTRY_KEYS = frozenset({*INPUT_KINDS, "not_applicable", "reason", "record"})
MINE_KEYS = frozenset({"industry_group", "mining_method", "industry_variant"})
TOP_KEYS = frozenset({"catalog", "mine", "prerequisites", "indicators"})
AUTO_NOT_APPLICABLE_REASON = "评价指标未给出适用于{method}的评分说明,按不涉及项处理"

CatalogSource = Union[Catalog, Callable[[str], Catalog]]


class AssessmentInvalid(ValueError):
    """The assessment cannot be scored. `errors` lists every problem as {"field": ..., "message": ...}."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = list(errors)
        super().__init__("评估数据有误:\n" + "\n".join(f"  {e['field']}: {e['message']}" for e in self.errors))


class IndicatorScore(NamedTuple):
    """One indicator's outcome. A NamedTuple rather than a frozen dataclass: a report builds ~46 of them and
    tuple construction is several times cheaper, which keeps the engine well below JSON parsing cost."""
    no: int
    name: str
    category_no: int
    points: Decimal
    binding: bool
    score: Decimal | None                   # None when not applicable
    not_applicable: bool = False
    reason: str | None = None               # 不涉及项的判定依据和理由
    record: str | None = None               # 检查记录
    variant: str | None = None              # chosen mining-method / industry variant
    findings: int | None = None
    deductions: tuple[str, ...] | None = None
    items: Mapping[str, Any] | None = None

    @property
    def full_marks(self) -> bool:
        return self.score is not None and self.score == self.points


@dataclass(frozen=True)
class CategoryScore:
    no: int
    name: str
    points: Decimal
    applicable_points: Decimal
    earned: Decimal
    score: Decimal                          # rounded to 2 decimals

    @property
    def all_not_applicable(self) -> bool:
        return self.applicable_points == 0


@dataclass(frozen=True)
class Report:
    catalog_id: str
    catalog_version: str
    industry_group: int
    mining_method: str
    industry_variant: str | None
    verdict: str
    total: Decimal
    pass_total: Decimal
    categories: tuple[CategoryScore, ...]
    failed_binding: tuple[int, ...]
    failed_prerequisites: tuple[str, ...]
    not_applicable_binding: tuple[int, ...]
    indicator_scores: Mapping[int, IndicatorScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report contract (contracts/scoring/report.v1.schema.json): decimals as strings."""
        mine: dict[str, Any] = {"industry_group": self.industry_group, "mining_method": self.mining_method}
        if self.industry_variant is not None:
            mine["industry_variant"] = self.industry_variant
        return {
            "catalog": self.catalog_id,
            "catalog_version": self.catalog_version,
            "mine": mine,
            "verdict": self.verdict,
            "verdict_label": VERDICT_LABELS[self.verdict],
            "total": _money(self.total),
            "pass_total": _plain(self.pass_total),
            "categories": [
                {"no": c.no, "name": c.name, "points": _plain(c.points),
                 "applicable_points": _plain(c.applicable_points), "earned": _plain(c.earned),
                 "score": _money(c.score), "all_not_applicable": c.all_not_applicable}
                for c in self.categories],
            "failed_binding": list(self.failed_binding),
            "failed_prerequisites": list(self.failed_prerequisites),
            "not_applicable_binding": list(self.not_applicable_binding),
            "indicator_scores": {str(no): _indicator_dict(s) for no, s in self.indicator_scores.items()},
        }


def _indicator_dict(s: IndicatorScore) -> dict[str, Any]:
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
    return out


_PLAIN: dict[Decimal, str] = {}


def _plain(value: Decimal) -> str:
    """`shared.decimals.plain` (2, 0.5, 11.75), memoised: reports repeat a few values."""
    text = _PLAIN.get(value)
    if text is None:
        text = plain(value)
        if len(_PLAIN) < 4096:
            _PLAIN[value] = text
    return text


def _money(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


# ---------------------------------------------------------------------------------------------------------------
# Scores a rule can give.


_POSSIBLE: dict[tuple[int, Decimal], tuple[ScoringRule, frozenset[Decimal]]] = {}


def possible_scores(rule: ScoringRule, points: Decimal) -> frozenset[Decimal]:
    """Every score the rule can produce for an indicator worth `points` (a direct score must be one of them)."""
    # Keyed by identity: hashing a rule dataclass field by field costs more than the look-up saves.
    cached = _POSSIBLE.get((id(rule), points))
    if cached is not None and cached[0] is rule:
        return cached[1]
    result = _possible_scores(rule, points)
    _POSSIBLE[(id(rule), points)] = (rule, result)
    return result


def _possible_scores(rule: ScoringRule, points: Decimal) -> frozenset[Decimal]:
    if isinstance(rule, AllOrNothing):
        return frozenset({ZERO, points})
    if isinstance(rule, DeductPerFinding):
        scores, current = {ZERO}, points
        while current > 0:
            scores.add(current)
            current -= rule.amount
        return frozenset(scores)
    if isinstance(rule, ConditionalDeductions):
        scores = {points}
        for condition in rule.conditions:
            scores |= {max(ZERO, s - condition.amount) for s in scores}
        return frozenset(scores)
    if isinstance(rule, AdditiveItems):
        sums = {ZERO}
        for item in rule.items:
            if item.per_unit:
                ceiling = min(item.cap, points) if item.cap is not None else points
                steps, gains = 0, []
                while steps * item.points <= ceiling:
                    gains.append(steps * item.points)
                    steps += 1
                if gains[-1] < ceiling:
                    gains.append(ceiling)     # the item's own cap may cut the last unit short
            else:
                gains = [ZERO, item.points]
            sums = {min(points, s + g) for s in sums for g in gains}
        return frozenset(sums)
    raise TypeError(f"not a scoring rule: {rule!r}")


def _rule_description(rule: ScoringRule, points: Decimal) -> str:
    p = _plain(points)
    if isinstance(rule, AllOrNothing):
        return f"全有或全无(符合得{p}分,不符合得0分),得分只能为0或{p}"
    if isinstance(rule, DeductPerFinding):
        return f"每发现一{rule.unit}不符合扣{_plain(rule.amount)}分,得分应为{p}减去若干个{_plain(rule.amount)}(最低0分)"
    if isinstance(rule, ConditionalDeductions):
        parts = "、".join(f"{c.text}扣{_plain(c.amount)}分" for c in rule.conditions)
        return f"按条件扣分({parts}),得分应为{p}减去所列条件扣分之和(最低0分)"
    allowed = "、".join(_plain(s) for s in sorted(possible_scores(rule, points)))
    return f"按子项累加(最多{p}分),可能的得分为 {allowed}"


# ---------------------------------------------------------------------------------------------------------------
# Reading the assessment.


class _Errors:
    def __init__(self):
        self.items: list[dict[str, str]] = []

    def add(self, field_path: str, message: str) -> None:
        self.items.append({"field": field_path, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_decimal(value) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string, else None."""
    kind = type(value)
    if kind is Decimal:
        return value if value.is_finite() else None
    if kind is int:
        return Decimal(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None
    try:
        number = Decimal(str(value).strip()) if isinstance(value, (str, float)) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _branch(group) -> str:
    return {1: "(一)", 2: "(二)"}.get(group, f"({group})")


def _label(indicator: Indicator) -> str:
    return f"第{indicator.no}项「{indicator.name}」"


def _resolve_catalog(assessment: Mapping, source: CatalogSource, errors: _Errors) -> Catalog | None:
    catalog_id = assessment.get("catalog")
    if not isinstance(catalog_id, str) or not catalog_id.strip():
        errors.add("catalog", "须注明评价指标版本(如 nm-2025)")
        return None
    if isinstance(source, Catalog):
        if catalog_id != source.id:
            errors.add("catalog", f"未知的评价指标版本 {catalog_id}(本服务按 {source.id} 评分)")
            return None
        return source
    try:
        return source(catalog_id)
    except (CatalogError, KeyError, LookupError) as exc:
        errors.add("catalog", f"未知的评价指标版本 {catalog_id}:{getattr(exc, 'problems', [exc])[0]}")
        return None


def _read_mine(raw, catalog: Catalog | None, errors: _Errors) -> tuple[int | None, str | None, str | None]:
    if not isinstance(raw, Mapping):
        errors.add("mine", "须为对象,含 industry_group 与 mining_method")
        return None, None, None
    for key in sorted(set(raw) - MINE_KEYS):
        errors.add(f"mine.{key}", "未知字段(允许 industry_group、mining_method、industry_variant)")
    group, method, variant = raw.get("industry_group"), raw.get("mining_method"), raw.get("industry_variant")
    groups = catalog.industry_group_ids if catalog else (1, 2)
    if "industry_group" not in raw:
        errors.add("mine.industry_group", "缺少行业分支(1 或 2)")
        group = None
    elif not _is_int(group) or group not in groups:
        names = ";".join(f"{g.id}={g.name}" for g in catalog.industry_groups) if catalog else "1 或 2"
        errors.add("mine.industry_group", f"行业分支须为 {names},收到 {group!r}")
        group = None
    methods = catalog.mining_methods if catalog else {}
    if "mining_method" not in raw:
        errors.add("mine.mining_method", "缺少开采方式(open_pit 露天、underground 地下、oil_gas 油气)")
        method = None
    elif catalog and method not in methods:
        names = "、".join(f"{code}({name})" for code, name in methods.items())
        errors.add("mine.mining_method", f"开采方式须为 {names} 之一,收到 {method!r}")
        method = None
    if variant is not None and catalog:
        if variant not in catalog.industry_variants:
            names = "、".join(f"{c}({n})" for c, n in catalog.industry_variants.items())
            errors.add("mine.industry_variant", f"子行业须为 {names} 之一,收到 {variant!r}")
            variant = None
        elif group is not None and catalog.industry_variant_groups[variant] != group:
            errors.add("mine.industry_variant",
                       f"子行业 {variant}({catalog.industry_variants[variant]})属于行业分支"
                       f"{_branch(catalog.industry_variant_groups[variant])},与 industry_group={group} 不符")
            variant = None
    return group, method, variant


def _read_prerequisites(raw, catalog: Catalog, errors: _Errors) -> tuple[str, ...]:
    if not isinstance(raw, Mapping):
        errors.add("prerequisites", f"须为对象,逐项给出 {'、'.join(catalog.prerequisite_codes)} 是否满足(true/false)")
        return ()
    failed = []
    for prerequisite in catalog.prerequisites:
        value = raw.get(prerequisite.code)
        if prerequisite.code not in raw:
            errors.add(f"prerequisites.{prerequisite.code}",
                       f"缺少先决条件 {prerequisite.code}「{prerequisite.name}」的判定(true/false)")
        elif not isinstance(value, bool):
            errors.add(f"prerequisites.{prerequisite.code}", f"须为 true 或 false,收到 {value!r}")
        elif not value:
            failed.append(prerequisite.code)
    for code in sorted(set(raw) - set(catalog.prerequisite_codes)):
        errors.add(f"prerequisites.{code}", f"评价指标 {catalog.id} 中没有先决条件 {code}")
    return tuple(failed)


_RESOLVED: dict[tuple[int, str, str | None], tuple[Indicator, tuple]] = {}


def _resolved(indicator: Indicator, mining_method: str, industry_variant: str | None
              ) -> tuple[ScoringRule, str | None, frozenset[Decimal]]:
    """(rule that scores it, variant chosen, scores that rule can give) — memoised per indicator and mine kind,
    since the catalog is immutable and this is the inner loop of every assessment."""
    key = (id(indicator), mining_method, industry_variant)
    cached = _RESOLVED.get(key)
    if cached is not None and cached[0] is indicator:
        return cached[1]
    rule = indicator.scoring_rule(mining_method, industry_variant)
    variant = (mining_method if isinstance(indicator.rule, ByMiningMethod)
               else industry_variant if isinstance(indicator.rule, ByIndustry) else None)
    answer = (rule, variant, possible_scores(rule, indicator.points))
    _RESOLVED[key] = (indicator, answer)
    return answer


def _score_entry(indicator: Indicator, entry, mining_method: str, industry_variant: str | None,
                 variant_missing: bool, errors: _Errors) -> IndicatorScore | None:
    """One indicator's input → its score; None (with errors added) when the input is unusable."""
    where = f"indicators.{indicator.no}"
    if type(entry) is not dict and not isinstance(entry, Mapping):
        errors.add(where, f"{_label(indicator)}须为对象:score、findings 或 not_applicable+reason 之一")
        return None
    ok = True
    unknown = entry.keys() - ENTRY_KEYS
    if unknown:
        for key in sorted(unknown, key=str):
            errors.add(f"{where}.{key}", f"未知字段(允许 {'、'.join(sorted(ENTRY_KEYS))})")
        ok = False
    record = entry.get("record")
    if record is not None and not isinstance(record, str):
        errors.add(f"{where}.record", "检查记录须为文字")
        ok = False
    not_applicable = entry.get("not_applicable", False)
    if not isinstance(not_applicable, bool):
        errors.add(f"{where}.not_applicable", f"须为 true 或 false,收到 {not_applicable!r}")
        return None
    given = [k for k in INPUT_KINDS if k in entry]

    def outcome(score, variant=None, not_applicable=False, reason=None, findings=None, deductions=None,
                items=None) -> IndicatorScore:
        return IndicatorScore(indicator.no, indicator.name, indicator.category_no, indicator.points,
                              indicator.binding, score, not_applicable, reason, record, variant, findings,
                              deductions, items)

    if not_applicable:
        reason = entry.get("reason")
        if given:
            errors.add(where, f"{_label(indicator)}已判定为不涉及项,不能同时填写 {'、'.join(given)}")
            ok = False
        if not isinstance(reason, str) or not reason.strip():
            errors.add(f"{where}.reason", f"{_label(indicator)}判定为不涉及项,须写明判定依据和理由")
            ok = False
        return outcome(None, not_applicable=True, reason=reason.strip()) if ok else None

    if "reason" in entry:
        errors.add(f"{where}.reason", "判定理由仅用于不涉及项(not_applicable: true)")
        ok = False
    if variant_missing:
        method = mining_method
        errors.add(where, f"{_label(indicator)}无适用于该开采方式({method})的评分说明,只能判定为不涉及项"
                          "(not_applicable: true 并写明理由)或不填写")
        return None
    if len(given) != 1:
        what = "同时填写了 " + "、".join(given) if given else "未填写得分"
        errors.add(where, f"{_label(indicator)}{what};须且只能填写 score、findings、deductions、items 之一,"
                          "或判定为不涉及项(not_applicable: true + reason)")
        return None
    if isinstance(indicator.rule, ByIndustry) and industry_variant is None:
        # The mine-level error is reported once by the caller; nothing more to say here.
        return None

    rule, variant, possible = _resolved(indicator, mining_method, industry_variant)
    points = indicator.points
    kind, value = given[0], entry[given[0]]

    if kind == "score":
        score = _as_decimal(value)
        if score is None:
            errors.add(f"{where}.score", f"得分须为数字,收到 {value!r}")
            return None
        problems = []
        if score < 0:
            problems.append(f"得分 {_plain(score)} 不能为负数")
        if score > points:
            problems.append(f"得分 {_plain(score)} 超过{_label(indicator)}的标准分 {_plain(points)}")
        if score != score.quantize(CENT, rounding=ROUND_HALF_UP):
            problems.append(f"得分 {value} 至多保留2位小数")
        if not problems and score not in possible:
            problems.append(f"得分 {_plain(score)} 不符合评分说明:{_label(indicator)}{_rule_description(rule, points)}")
        for message in problems:
            errors.add(f"{where}.score", message)
        if problems or not ok:
            return None
        return outcome(score, variant)

    if kind == "findings":
        if not isinstance(rule, DeductPerFinding):
            errors.add(f"{where}.findings",
                       f"{_label(indicator)}不按“每发现一处(项)不符合扣分”评分,不能填写 findings;"
                       "请填写 score" + ("、deductions" if isinstance(rule, ConditionalDeductions) else "")
                       + ("、items" if isinstance(rule, AdditiveItems) else ""))
            return None
        if not _is_int(value) or value < 0:
            errors.add(f"{where}.findings", f"不符合处数须为非负整数,收到 {value!r}")
            return None
        score = max(ZERO, points - rule.amount * value)
        return outcome(score, variant, findings=value) if ok else None

    if kind == "deductions":
        if not isinstance(rule, ConditionalDeductions):
            errors.add(f"{where}.deductions", f"{_label(indicator)}不按条件扣分,不能填写 deductions")
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.add(f"{where}.deductions", "须为扣分条件编号的列表")
            return None
        known = {c.id for c in rule.conditions}
        for condition_id in value:
            if condition_id not in known:
                errors.add(f"{where}.deductions",
                           f"未知扣分条件 {condition_id!r}(可选:"
                           + "、".join(f"{c.id}={c.text}" for c in rule.conditions) + ")")
                ok = False
        if len(set(value)) != len(value):
            errors.add(f"{where}.deductions", "同一扣分条件不能重复计扣")
            ok = False
        if not ok:
            return None
        score = max(ZERO, points - sum((rule.condition(c).amount for c in value), ZERO))
        return outcome(score, variant, deductions=tuple(value))

    # kind == "items"
    if not isinstance(rule, AdditiveItems):
        errors.add(f"{where}.items", f"{_label(indicator)}不按子项累加评分,不能填写 items")
        return None
    if not isinstance(value, Mapping):
        errors.add(f"{where}.items", "须为对象:子项编号 → true/false(按件计分的子项为件数)")
        return None
    total = ZERO
    for item_id, achieved in value.items():
        item = rule.item(item_id)
        if item is None:
            errors.add(f"{where}.items.{item_id}",
                       "未知子项(可选:" + "、".join(f"{i.id}={i.text}" for i in rule.items) + ")")
            ok = False
        elif item.per_unit:
            if not _is_int(achieved) or achieved < 0:
                errors.add(f"{where}.items.{item_id}", f"按件计分的子项须填写非负整数件数,收到 {achieved!r}")
                ok = False
            else:
                gain = item.points * achieved
                total += min(gain, item.cap) if item.cap is not None else gain
        elif not isinstance(achieved, bool):
            errors.add(f"{where}.items.{item_id}", f"须为 true 或 false,收到 {achieved!r}")
            ok = False
        elif achieved:
            total += item.points
    if not ok:
        return None
    return outcome(min(points, total), variant, items=dict(value))


class _Plan(NamedTuple):
    """What one kind of mine (catalog, branch, mining method) is assessed on, prepared once."""
    in_group: tuple[Indicator, ...]
    by_key: dict[str, Indicator]           # "12" -> indicator, for every indicator of the branch
    applicable_nos: frozenset[int]
    by_industry: tuple[Indicator, ...]


_PLANS: dict[tuple[int, int, str], tuple[Catalog, _Plan]] = {}


def _plan(catalog: Catalog, group: int, method: str) -> _Plan:
    key = (id(catalog), group, method)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    in_group = catalog.indicators_in_group(group)
    applicable = catalog.indicators_for(group, method)
    plan = _Plan(in_group, {str(i.no): i for i in in_group}, frozenset(i.no for i in applicable),
                 tuple(i for i in applicable if isinstance(i.rule, ByIndustry)))
    _PLANS[key] = (catalog, plan)
    return plan


def score_assessment(assessment: Mapping, catalog: CatalogSource) -> Report:
    """Score one assessment; raise AssessmentInvalid listing every problem if it cannot be scored."""
    errors = _Errors()
    if not isinstance(assessment, Mapping):
        raise AssessmentInvalid([{"field": "(root)", "message": "评估数据须为 JSON 对象"}])
    for key in sorted(set(assessment) - TOP_KEYS):
        errors.add(key, "未知字段(允许 catalog、mine、prerequisites、indicators)")
    resolved = _resolve_catalog(assessment, catalog, errors)
    group, method, variant = _read_mine(assessment.get("mine"), resolved, errors)
    if resolved is None:
        raise AssessmentInvalid(errors.items)
    catalog = resolved
    failed_prerequisites = _read_prerequisites(assessment.get("prerequisites"), catalog, errors)

    raw_indicators = assessment.get("indicators")
    if not isinstance(raw_indicators, Mapping):
        errors.add("indicators", "须为对象:指标编号 → 评分")
        raise AssessmentInvalid(errors.items)
    if group is None or method is None:
        # Without the branch and method the applicable set is unknown; report what is wrong so far.
        raise AssessmentInvalid(errors.items)

    plan = _plan(catalog, group, method)
    applicable_nos = plan.applicable_nos

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

    needs_variant = [i for i in plan.by_industry
                     if isinstance(entries.get(i.no), Mapping) and not entries[i.no].get("not_applicable")]
    if needs_variant and variant is None and "industry_variant" not in (assessment.get("mine") or {}):
        names = "、".join(f"{c}({n})" for c, n in catalog.industry_variants.items()
                         if catalog.industry_variant_groups[c] == group)
        errors.add("mine.industry_variant",
                   f"第{'、'.join(str(i.no) for i in needs_variant)}项按子行业评分,须注明 industry_variant:{names}")

    scores: dict[int, IndicatorScore] = {}
    method_name = catalog.mining_methods.get(method, method)
    for indicator in plan.in_group:
        if indicator.no not in applicable_nos:
            # No rule for this mining method (8 and 9 for oil/gas): not applicable by the index itself.
            entry = entries.get(indicator.no)
            if entry is None:
                scores[indicator.no] = IndicatorScore(
                    no=indicator.no, name=indicator.name, category_no=indicator.category_no,
                    points=indicator.points, binding=indicator.binding, score=None, not_applicable=True,
                    reason=AUTO_NOT_APPLICABLE_REASON.format(method=method_name))
                continue
            scored = _score_entry(indicator, entry, method, variant, True, errors)
            if scored is not None:
                scores[indicator.no] = scored
            continue
        if indicator.no not in entries:
            errors.add(f"indicators.{indicator.no}", f"缺少{_label(indicator)}的评分")
            continue
        scored = _score_entry(indicator, entries[indicator.no], method, variant, False, errors)
        if scored is not None:
            scores[indicator.no] = scored

    if errors:
        raise AssessmentInvalid(errors.items)
    return _report(catalog, group, method, variant, failed_prerequisites, scores)


def _report(catalog: Catalog, group: int, method: str, variant: str | None,
            failed_prerequisites: tuple[str, ...], scores: dict[int, IndicatorScore]) -> Report:
    applicable_points = {c.no: ZERO for c in catalog.categories}
    earned = dict(applicable_points)
    failed_binding, not_applicable_binding = [], []
    for s in scores.values():      # one pass; `scores` is in indicator order, so the lists come out ascending
        if s.not_applicable:
            if s.binding:
                not_applicable_binding.append(s.no)
            continue
        applicable_points[s.category_no] += s.points
        earned[s.category_no] += s.score
        if s.binding and s.score != s.points:
            failed_binding.append(s.no)
    categories = []
    for category in catalog.categories:
        applicable, got = applicable_points[category.no], earned[category.no]
        if applicable == 0:
            score = category.points      # nothing applies: N/A is neutral (documented decision)
        else:
            score = category.points * got / applicable
        categories.append(CategoryScore(category.no, category.name, category.points, applicable, got,
                                        score.quantize(CENT, rounding=ROUND_HALF_UP)))
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
        indicator_scores=dict(sorted(scores.items())))
