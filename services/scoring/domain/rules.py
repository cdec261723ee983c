"""What a scoring rule of the index can give: every possible score of an indicator, and the rule in words
(the message an impossible score gets)."""
from __future__ import annotations

from decimal import Decimal

from scoring.domain.report import ZERO, _plain
from shared.catalog import (
    AdditiveItems,
    AllOrNothing,
    ConditionalDeductions,
    DeductPerFinding,
    ScoringRule,
)

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

