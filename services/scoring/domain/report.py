"""The report of a scored assessment: indicator and category scores, the verdict, and its contract shape
(contracts/scoring/report.v1.schema.json, decimals as strings)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from shared.decimals import plain

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

# Notes the report attaches to an indicator (说明二(二): 缺少支撑材料或证明材料不得分; 约束性指标必须得满分).
UNSUPPORTED_NOTE = "缺少支撑材料，按0分计"
BINDING_NOT_APPLICABLE_NOTE = "约束性指标判定为不涉及：须经初审责任部门确认不涉及，并经第三方评估机构现场确认"


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
    evidence: tuple[str, ...] | None = None   # supporting attachments (None: the entry did not say)
    claimed: Decimal | None = None          # the score the input gives, before the evidence rule
    unsupported: bool = False               # a claimed score above 0 without supporting material: counts 0

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

    @property
    def unsupported(self) -> tuple[int, ...]:
        """Indicators whose claimed score counts 0 for want of supporting material, ascending."""
        return tuple(no for no, s in self.indicator_scores.items() if s.unsupported)

    @property
    def notes(self) -> list[str]:
        """The report's remarks for people, in Chinese (what the evidence and binding rules did)."""
        out = []
        if self.unsupported:
            out.append("、".join(f"第{no}项" for no in self.unsupported) + "缺少支撑材料，按0分计")
        if self.not_applicable_binding:
            out.append("约束性指标" + "、".join(f"第{no}项" for no in self.not_applicable_binding)
                       + "判定为不涉及：须经初审责任部门确认不涉及，并经第三方评估机构现场确认")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The report contract (contracts/scoring/report.v1.schema.json): decimals as strings."""
        mine: dict[str, Any] = {"industry_group": self.industry_group, "mining_method": self.mining_method}
        if self.industry_variant is not None:
            mine["industry_variant"] = self.industry_variant
        plain = _plain
        indicators = {}
        unsupported = []
        known = _PLAIN.get
        for s in self.indicator_scores.values():
            (no, name, category, points, binding, score, not_applicable, reason, record, variant, findings,
             deductions, items, evidence, claimed, is_unsupported) = s[:]   # a plain tuple unpacks faster
            # one indicator in the contract shape, inline: a report has ~46 of them
            out = {"name": name, "category": category, "points": known(points) or plain(points), "binding": binding,
                   "score": None if score is None else known(score) or plain(score),
                   "not_applicable": not_applicable}
            if reason is not None:
                out["reason"] = reason
            if record is not None:
                out["record"] = record
            if variant is not None:
                out["variant"] = variant
            if findings is not None:
                out["findings"] = findings
            if deductions is not None:
                out["deductions"] = list(deductions)
            if items is not None:
                out["items"] = dict(items)
            if evidence is not None:
                out["evidence"] = list(evidence)
            if is_unsupported:
                out["unsupported"] = True
                out["claimed_score"] = plain(claimed)
                out["note"] = UNSUPPORTED_NOTE
                unsupported.append(no)
            elif not_applicable and binding:
                out["note"] = BINDING_NOT_APPLICABLE_NOTE
            indicators[_KEYS[no] if no < 256 else str(no)] = out
        return {
            "catalog": self.catalog_id,
            "catalog_version": self.catalog_version,
            "mine": mine,
            "verdict": self.verdict,
            "verdict_label": VERDICT_LABELS[self.verdict],
            "total": _money(self.total),
            "pass_total": plain(self.pass_total),
            "categories": [
                {"no": c.no, "name": c.name, "points": plain(c.points),
                 "applicable_points": plain(c.applicable_points), "earned": plain(c.earned),
                 "score": _money(c.score), "all_not_applicable": c.applicable_points == 0}
                for c in self.categories],
            "failed_binding": list(self.failed_binding),
            "failed_prerequisites": list(self.failed_prerequisites),
            "not_applicable_binding": list(self.not_applicable_binding),
            "unsupported": unsupported,
            "notes": self.notes if unsupported or self.not_applicable_binding else [],
            "indicator_scores": indicators,
        }


_KEYS = tuple(str(no) for no in range(256))


_PLAIN: dict[Decimal, str] = {}


def _plain(value: Decimal) -> str:
    """`shared.decimals.plain` (2, 0.5, 11.75), memoised: reports repeat a few values."""
    text = _PLAIN.get(value)
    if text is None:
        text = plain(value)
        if len(_PLAIN) < 4096:
            _PLAIN[value] = text
    return text


_MONEY: dict[Decimal, str] = {}


def _money(value: Decimal) -> str:
    """Two decimals, half-up (a function of the value alone, so memoised like _plain)."""
    text = _MONEY.get(value)
    if text is None:
        text = format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")
        if len(_MONEY) < 4096:
            _MONEY[value] = text
    return text
