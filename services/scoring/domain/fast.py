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
# Every key set the fast path reads: one input kind, or 不涉及 with its reason; record and evidence optional.
_SHAPES: dict[frozenset, str] = {}
for _kind in (*INPUT_KINDS, NOT_APPLICABLE):
    for _extra in ((), ("record",), ("evidence",), ("record", "evidence")):
        _SHAPES[frozenset((_kind, "reason", *_extra) if _kind == NOT_APPLICABLE else (_kind, *_extra))] = _kind

_FINDINGS_TABLE = 64        # scores for 0..63 findings precomputed; more findings are computed as they come
_SCORE_TEXTS = 64           # direct-score inputs ("3", "2.5", 3) remembered per indicator, at most
_new = tuple.__new__


class Prepared(NamedTuple):
    """One indicator of a mine kind (catalog, branch, mining method, industry variant), ready to score."""
    indicator: Indicator
    key: str                                  # "12": its key in `indicators`
    applicable: bool                          # has a rule for the mining method
    head: tuple                               # (no, name, category_no, points, binding): IndicatorScore's start
    auto: IndicatorScore | None               # the score when not applicable by the index and left out
    fast: bool                                # a rule to score by (else only 不涉及 entries go fast)
    variant: str | None
    possible: frozenset[Decimal]              # the direct scores the full path accepts
    score_of: dict[Any, Decimal]              # direct-score input seen before ("3", 3) → its Decimal
    findings: tuple[Decimal, ...] | None      # DeductPerFinding: the score for 0, 1, 2 … findings
    amount: Decimal | None
    conditions: Mapping[str, Decimal] | None  # ConditionalDeductions: condition id → amount (first of an id)
    items: Mapping[str, AdditiveItem] | None  # AdditiveItems: item id → item (first of an id)


_PREPARED: dict[tuple[int, int, str, str | None], tuple[Catalog, tuple[Prepared, ...]]] = {}


def prepared(catalog: Catalog, in_group: tuple[Indicator, ...], applicable_nos: frozenset[int], group: int,
             method: str, variant: str | None, auto_reason: str) -> tuple[Prepared, ...]:
    """Every indicator of the branch in catalog order, prepared for this mine kind (memoised)."""
    key = (id(catalog), group, method, variant)
    cached = _PREPARED.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    result = tuple(_prepare(i, i.no in applicable_nos, method, variant, auto_reason) for i in in_group)
    _PREPARED[key] = (catalog, result)
    return result


def _prepare(indicator: Indicator, applicable: bool, method: str, variant: str | None,
             auto_reason: str) -> Prepared:
    head = (indicator.no, indicator.name, indicator.category_no, indicator.points, indicator.binding)
    auto = None if applicable else _new(IndicatorScore, (
        *head, None, True, auto_reason, None, None, None, None, None, None, None, False))
    points = indicator.points
    rule = None
    if applicable and not (isinstance(indicator.rule, ByIndustry) and variant is None):
        rule = indicator.scoring_rule(method, variant)
    if rule is None:     # no rule to score by: the full path says why (or fails as it always did)
        return Prepared(indicator, str(indicator.no), applicable, head, auto, False, None, frozenset(), {},
                        None, None, None, None)
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
    return Prepared(indicator, str(indicator.no), applicable, head, auto, True, chosen, accepted, {},
                    findings, amount, conditions, items)


def _evidence(value) -> tuple[str, ...] | None:
    """The evidence list as a tuple when the full path accepts it, else None."""
    if type(value) is not list or len(value) > MAX_EVIDENCE:
        return None
    for v in value:
        if type(v) is not str or len(v) > 200 or not v.strip():
            return None
    return tuple(value)


def fast_entry(p: Prepared, entry: dict) -> IndicatorScore | None:
    """The entry's score when it has a common shape and nothing wrong with it; None: take the full path."""
    kind = _SHAPES.get(frozenset(entry))
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
    if kind == NOT_APPLICABLE:
        reason = entry["reason"]
        if entry[NOT_APPLICABLE] is not True or type(reason) is not str:
            return None
        reason = reason.strip()
        if not reason:
            return None
        return _new(IndicatorScore, (*p.head, None, True, reason, record, None, None, None, None, evidence,
                                     None, False))
    if not p.fast:
        return None
    value = entry[kind]
    findings = deductions = items = None
    if kind == "score":
        kind_of = type(value)
        if kind_of is Decimal:
            if not value.is_finite() or value not in p.possible:
                return None
            score = value
        elif kind_of is str or kind_of is int:
            score = p.score_of.get(value)
            if score is None:
                score = _direct_score(p, value)
                if score is None:
                    return None
        else:
            return None
    elif kind == "findings":
        table = p.findings
        if table is None or type(value) is not int or value < 0 or value > MAX_COUNT:
            return None
        score = table[value] if value < _FINDINGS_TABLE else max(ZERO, p.head[3] - p.amount * value)
        findings = value
    elif kind == "deductions":
        amounts = p.conditions
        if amounts is None or type(value) is not list:
            return None
        total = ZERO
        for condition_id in value:
            if type(condition_id) is not str:
                return None
            amount = amounts.get(condition_id)
            if amount is None:
                return None
            total += amount
        if len(set(value)) != len(value):
            return None
        score = max(ZERO, p.head[3] - total)
        deductions = tuple(value)
    else:   # items
        known = p.items
        if known is None or type(value) is not dict:
            return None
        total = ZERO
        for item_id, achieved in value.items():
            item = known.get(item_id)
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
        score = min(p.head[3], total)
        items = dict(value)
    if evidence is not None and not evidence and score > 0:     # 缺少支撑材料不得分
        return _new(IndicatorScore, (*p.head, ZERO, False, None, record, p.variant, findings, deductions, items,
                                     evidence, score, True))
    return _new(IndicatorScore, (*p.head, score, False, None, record, p.variant, findings, deductions, items,
                                 evidence, None, False))


def _direct_score(p: Prepared, value: str | int) -> Decimal | None:
    """A direct score given as text or an integer, as the full path reads it, when it accepts it."""
    try:
        score = Decimal(value.strip()) if type(value) is str else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if not score.is_finite() or score not in p.possible:
        return None
    if len(p.score_of) < _SCORE_TEXTS:
        p.score_of[value] = score
    return score
