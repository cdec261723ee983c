"""Reading an assessment: the catalog it names, the mine, the prerequisites and each indicator's input,
every problem collected with the field it concerns (nothing stops at the first)."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Union

from scoring.domain.report import CENT, ZERO, IndicatorScore, _plain
from scoring.domain.rules import _rule_description, possible_scores
from shared.catalog import (
    AdditiveItems,
    ByIndustry,
    ByMiningMethod,
    Catalog,
    CatalogError,
    ConditionalDeductions,
    DeductPerFinding,
    Indicator,
    ScoringRule,
)

INPUT_KINDS = ("score", "findings", "deductions", "items")
ENTRY_KEYS = frozenset({*INPUT_KINDS, "not_applicable", "reason", "record", "evidence"})
MAX_EVIDENCE = 200   # attachment ids per indicator
MINE_KEYS = frozenset({"industry_group", "mining_method", "industry_variant"})
CATALOG_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

CatalogSource = Union[Catalog, Callable[[str], Catalog]]


class _Errors:
    def __init__(self):
        self.items: list[dict[str, str]] = []

    def add(self, field_path: str, message: str) -> None:
        self.items.append({"field": field_path, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Counts (findings, units of an item) beyond any real inspection: refused before they reach arithmetic or storage
# (MongoDB holds 8-byte integers at most).
MAX_COUNT = 1_000_000


def _shown(value) -> str:
    """A received value in a message, cut short (a number may have thousands of digits)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _shown_number(value: Decimal) -> str:
    """A number out of range in a message: plain when short, else as Decimal writes it (1E+999999999). Written
    plain, a score of 1e999999999 is a billion digits: one request held a worker for a minute building it."""
    return _plain(value) if abs(value.adjusted()) <= 30 else str(value)


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
    if not CATALOG_ID.fullmatch(catalog_id):  # it names a file: no path, no length beyond a name
        errors.add("catalog", f"未知的评价指标版本 {_shown(catalog_id)}(应形如 nm-2025)")
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
    if not raw.keys() <= MINE_KEYS:
        for key in sorted(set(raw) - MINE_KEYS):
            errors.add(f"mine.{key}", "未知字段(允许 industry_group、mining_method、industry_variant)")
    group, method, variant = raw.get("industry_group"), raw.get("mining_method"), raw.get("industry_variant")
    groups = _facts(catalog)[0] if catalog else (1, 2)
    if "industry_group" not in raw:
        errors.add("mine.industry_group", "缺少行业分支(1 或 2)")
        group = None
    elif not _is_int(group) or group not in groups:
        names = ";".join(f"{g.id}={g.name}" for g in catalog.industry_groups) if catalog else "1 或 2"
        errors.add("mine.industry_group", f"行业分支须为 {names},收到 {_shown(group)}")
        group = None
    methods = catalog.mining_methods if catalog else {}
    if "mining_method" not in raw:
        errors.add("mine.mining_method", "缺少开采方式(open_pit 露天、underground 地下、oil_gas 油气)")
        method = None
    elif catalog and (not isinstance(method, str) or method not in methods):
        names = "、".join(f"{code}({name})" for code, name in methods.items())
        errors.add("mine.mining_method", f"开采方式须为 {names} 之一,收到 {_shown(method)}")
        method = None
    if variant is not None and catalog:
        if not isinstance(variant, str) or variant not in catalog.industry_variants:
            names = "、".join(f"{c}({n})" for c, n in catalog.industry_variants.items())
            errors.add("mine.industry_variant", f"子行业须为 {names} 之一,收到 {_shown(variant)}")
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
    codes = _facts(catalog)[1]
    if not raw.keys() <= codes:
        for code in sorted(set(raw) - codes):
            errors.add(f"prerequisites.{code}", f"评价指标 {catalog.id} 中没有先决条件 {code}")
    return tuple(failed)


_FACTS: dict[int, tuple[Catalog, tuple[tuple[int, ...], frozenset[str]]]] = {}


def _facts(catalog: Catalog) -> tuple[tuple[int, ...], frozenset[str]]:
    """(industry_group_ids, prerequisite codes as a set) of a catalog, memoised: the catalog computes them anew
    on each access, and every assessment asks."""
    cached = _FACTS.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    facts = (catalog.industry_group_ids, frozenset(catalog.prerequisite_codes))
    _FACTS[id(catalog)] = (catalog, facts)
    return facts


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


def _read_evidence(entry, where: str, errors: _Errors) -> tuple[str, ...] | None | bool:
    """The entry's `evidence` (attachment ids): None when the key is absent, False (error added) when malformed."""
    if not isinstance(entry, Mapping) or "evidence" not in entry:
        return None
    value = entry["evidence"]
    if not isinstance(value, list) or len(value) > MAX_EVIDENCE or not all(
            isinstance(v, str) and v.strip() and len(v) <= 200 for v in value):
        errors.add(f"{where}.evidence", f"支撑材料须为附件编号的列表（至多 {MAX_EVIDENCE} 个），收到 {_shown(value)}")
        return False
    return tuple(value)


def _score_entry(indicator: Indicator, entry, mining_method: str, industry_variant: str | None,
                 variant_missing: bool, errors: _Errors) -> IndicatorScore | None:
    """One indicator's input → its score; None (with errors added) when the input is unusable.

    缺少支撑材料或证明材料不得分 (说明二(二)): an entry that carries `evidence` and lists none has its claimed
    score counted as 0 (`unsupported`); an entry without the key is scored on its input alone (assessments
    made before the key existed score as they did). Not-applicable entries need no evidence."""
    where = f"indicators.{indicator.no}"
    evidence = _read_evidence(entry, where, errors)
    scored = _score_input(indicator, entry, mining_method, industry_variant, variant_missing, errors)
    if scored is None or evidence is False:
        return None
    if evidence is None:
        return scored
    if not scored.not_applicable and not evidence and scored.score > 0:
        return scored._replace(evidence=evidence, claimed=scored.score, score=ZERO, unsupported=True)
    return scored._replace(evidence=evidence)


def _score_input(indicator: Indicator, entry, mining_method: str, industry_variant: str | None,
                 variant_missing: bool, errors: _Errors) -> IndicatorScore | None:
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
            errors.add(f"{where}.score", f"得分须为数字,收到 {_shown(value)}")
            return None
        problems = []
        if score < 0:
            problems.append(f"得分 {_shown_number(score)} 不能为负数")
        if score > points:
            problems.append(f"得分 {_shown_number(score)} 超过{_label(indicator)}的标准分 {_plain(points)}")
        if not problems and score != score.quantize(CENT, rounding=ROUND_HALF_UP):  # in range: quantize is safe
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
        if not _is_int(value) or value < 0 or value > MAX_COUNT:
            errors.add(f"{where}.findings", f"不符合处数须为 0 至 {MAX_COUNT} 的整数,收到 {_shown(value)}")
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
            if not _is_int(achieved) or achieved < 0 or achieved > MAX_COUNT:
                errors.add(f"{where}.items.{item_id}",
                           f"按件计分的子项须填写 0 至 {MAX_COUNT} 的整数件数,收到 {_shown(achieved)}")
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

