"""The engine's fast path: each indicator of a mine kind prepared once, and the common entry shapes scored
without building a message or a field path.

`fast_entry` answers only where the full path (`entries._score_entry`) would give the very same IndicatorScore
and add no error; for anything else (a problem, an unusual shape or type) it returns None and the engine reads
the entry again on the full path, which words every message. tests/unit/scoring/test_fast_path.py scores
generated assessments, valid and invalid, both ways and asserts identical reports and errors.

Pure, like the rest of the domain. The prepared data is memoised per catalog object (catalogs are immutable)
and uses the same Decimal arithmetic as the full path, in the same order, so every number comes out with the
same digits and exponent.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import permutations
from typing import Any, NamedTuple

from scoring.domain.entries import INPUT_KINDS, MAX_COUNT, MAX_EVIDENCE, _resolved
from scoring.domain.report import CENT, ZERO, IndicatorScore
from shared.catalog import (
    AdditiveItem,
    AdditiveItems,
    ByIndustry,
    Catalog,
    ConditionalDeductions,
    DeductPerFinding,
    Indicator,
)

NOT_APPLICABLE = "not_applicable"
# Every key set the fast path reads, its keys in any order: one input kind, or 不涉及 with its reason; record and
# evidence optional. Keyed by the tuple of the entry's keys (cheaper to build than a set).
_SHAPES: dict[tuple, str] = {}
for _kind in (*INPUT_KINDS, NOT_APPLICABLE):
    for _extra in ((), ("record",), ("evidence",), ("record", "evidence")):
        for _keys in permutations((_kind, "reason", *_extra) if _kind == NOT_APPLICABLE else (_kind, *_extra)):
            _SHAPES[_keys] = _kind

_FINDINGS_TABLE = 64        # scores for 0..63 findings precomputed; more findings are computed as they come
_SCORE_TEXTS = 64           # direct-score inputs ("3", "2.5", 3) remembered per indicator, at most
_new = tuple.__new__


class Prepared(NamedTuple):
    """One indicator of a mine kind (catalog, branch, mining method, industry variant), ready to score; the hot
    path holds it as a plain tuple (unpacking a tuple subclass goes through an iterator, ten times slower)."""
    no: int                                   # no … binding: as in IndicatorScore
    name: str
    category_no: int
    points: Decimal
    binding: bool
    fast: bool                                # a rule to score by (else only 不涉及 entries go fast)
    variant: str | None
    possible: frozenset[Decimal]              # the direct scores the full path accepts
    score_of: dict[Any, Decimal]              # direct-score input seen before ("3", 3) → its Decimal
    findings: tuple[Decimal, ...] | None      # DeductPerFinding: the score for 0, 1, 2 … findings
    amount: Decimal | None
    conditions: Mapping[str, Decimal] | None  # ConditionalDeductions: condition id → amount (first of an id)
    items: Mapping[str, AdditiveItem] | None  # AdditiveItems: item id → item (first of an id)


class Row(NamedTuple):
    """One indicator of the branch as the engine walks them (held as a plain tuple, like Prepared)."""
    key: str                                  # "12": its key in `indicators`
    no: int
    auto: IndicatorScore | None               # the score when not applicable by the index and left out
    indicator: Indicator
    applicable: bool                          # has a rule for the mining method
    prepared: tuple                           # Prepared, as a plain tuple: fast_entry's first argument


_PREPARED: dict[tuple[int, int, str, str | None], tuple[Catalog, tuple[tuple, ...]]] = {}


def prepared(catalog: Catalog, in_group: tuple[Indicator, ...], applicable_nos: frozenset[int], group: int,
             method: str, variant: str | None, auto_reason: str, method_name: str) -> tuple[tuple, ...]:
    """Every indicator of the branch in catalog order as a Row (plain tuple), prepared for this mine kind
    (memoised; `auto_reason` is formatted with the method's name)."""
    key = (id(catalog), group, method, variant)
    cached = _PREPARED.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    auto_reason = auto_reason.format(method=method_name)
    result = tuple(_row(i, i.no in applicable_nos, method, variant, auto_reason) for i in in_group)
    _PREPARED[key] = (catalog, result)
    return result


def _row(indicator: Indicator, applicable: bool, method: str, variant: str | None, auto_reason: str) -> tuple:
    auto = None if applicable else IndicatorScore(
        indicator.no, indicator.name, indicator.category_no, indicator.points, indicator.binding, None, True,
        auto_reason)
    return tuple(Row(str(indicator.no), indicator.no, auto, indicator, applicable,
                     tuple(_prepare(indicator, applicable, method, variant))))


def _prepare(indicator: Indicator, applicable: bool, method: str, variant: str | None) -> Prepared:
    head = (indicator.no, indicator.name, indicator.category_no, indicator.points, indicator.binding)
    points = indicator.points
    rule = None
    if applicable and not (isinstance(indicator.rule, ByIndustry) and variant is None):
        rule = indicator.scoring_rule(method, variant)
    if rule is None:     # no rule to score by: the full path says why (or fails as it always did)
        return Prepared(*head, False, None, frozenset(), {}, None, None, None, None)
    rule, chosen, possible = _resolved(indicator, method, variant)
    accepted = frozenset(s for s in possible
                         if 0 <= s <= points and s == s.quantize(CENT, rounding=ROUND_HALF_UP))
    findings = amount = conditions = items = None
    if isinstance(rule, DeductPerFinding):
        amount = rule.amount
        findings = tuple(max(ZERO, points - amount * n) for n in range(_FINDINGS_TABLE))
    elif isinstance(rule, ConditionalDeductions):
        conditions = {}
        for condition in rule.conditions:
            conditions.setdefault(condition.id, condition.amount)
    elif isinstance(rule, AdditiveItems):
        items = {}
        for item in rule.items:
            items.setdefault(item.id, item)
    return Prepared(*head, True, chosen, accepted, {}, findings, amount, conditions, items)


def _evidence(value) -> tuple[str, ...] | None:
    """The evidence list as a tuple when the full path accepts it, else None."""
    if type(value) is not list or len(value) > MAX_EVIDENCE:
        return None
    for v in value:
        if type(v) is not str or len(v) > 200 or not v.strip():
            return None
    return tuple(value)


def fast_entry(p: tuple, entry: dict) -> IndicatorScore | None:
    """The entry's score when it has a common shape and nothing wrong with it; None: take the full path."""
    kind = _SHAPES.get(tuple(entry))
    if kind is None:
        return None
    record = entry.get("record")
    if record is not None and type(record) is not str:
        return None
    evidence = None
    if "evidence" in entry:
        evidence = _evidence(entry["evidence"])
        if evidence is None:
            return None
    (no, name, category_no, points, binding, fast, variant, possible, score_of, table, amount, conditions,
     known_items) = p
    if kind == "not_applicable":
        reason = entry["reason"]
        if entry["not_applicable"] is not True or type(reason) is not str:
            return None
        reason = reason.strip()
        if not reason:
            return None
        return _new(IndicatorScore, (no, name, category_no, points, binding, None, True, reason, record, None, None,
                                     None, None, evidence, None, False))
    if not fast:
        return None
    value = entry[kind]
    findings = deductions = items = None
    if kind == "score":
        kind_of = type(value)
        if kind_of is str or kind_of is int:
            score = score_of.get(value)
            if score is None:
                score = _direct_score(possible, score_of, value)
                if score is None:
                    return None
        elif kind_of is Decimal:
            if not value.is_finite() or value not in possible:
                return None
            score = value
        else:
            return None
    elif kind == "findings":
        if table is None or type(value) is not int or value < 0 or value > MAX_COUNT:
            return None
        score = table[value] if value < _FINDINGS_TABLE else max(ZERO, points - amount * value)
        findings = value
    elif kind == "deductions":
        if conditions is None or type(value) is not list:
            return None
        total = ZERO
        for condition_id in value:
            if type(condition_id) is not str:
                return None
            deducted = conditions.get(condition_id)
            if deducted is None:
                return None
            total += deducted
        if len(set(value)) != len(value):
            return None
        score = max(ZERO, points - total)
        deductions = tuple(value)
    else:   # items
        if known_items is None or type(value) is not dict:
            return None
        total = ZERO
        for item_id, achieved in value.items():
            item = known_items.get(item_id)
            if item is None:
                return None
            if item.per_unit:
                if type(achieved) is not int or achieved < 0 or achieved > MAX_COUNT:
                    return None
                gain = item.points * achieved
                total += min(gain, item.cap) if item.cap is not None else gain
            elif type(achieved) is not bool:
                return None
            elif achieved:
                total += item.points
        score = min(points, total)
        items = dict(value)
    if evidence is not None and not evidence and score > 0:     # 缺少支撑材料不得分
        return _new(IndicatorScore, (no, name, category_no, points, binding, ZERO, False, None, record, variant,
                                     findings, deductions, items, evidence, score, True))
    return _new(IndicatorScore, (no, name, category_no, points, binding, score, False, None, record, variant,
                                 findings, deductions, items, evidence, None, False))


def _direct_score(possible: frozenset[Decimal], score_of: dict[Any, Decimal], value: str | int) -> Decimal | None:
    """A direct score given as text or an integer, as the full path reads it, when it accepts it."""
    try:
        score = Decimal(value.strip()) if type(value) is str else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if not score.is_finite() or score not in possible:
        return None
    if len(score_of) < _SCORE_TEXTS:
        score_of[value] = score
    return score
