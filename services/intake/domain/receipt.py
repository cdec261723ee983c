"""The receipt (回执) of a submitted version: what the enterprise handed in, when, under which 办件编号, and the date
by which the initial review (初审) promises its decision.

The deadline is counted the way the review service counts its tasks' deadlines (``shared.workdays``): working
days on the official calendar from the Beijing date of the submission, the longest task (the lead bureau's, or the
recheck of a resubmitted version) and then the countersign decision.  Pure: the calendar and the step lengths
are parameters."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from shared import regions
from shared.clock import beijing_date
from shared.workdays import DeadlinePolicy, WorkingCalendar

from . import materials as mat
from .plain import thaw
from .values import ApplicationVersion

__all__ = ["ReceiptLine", "Receipt", "receipt_of"]


@dataclass(frozen=True)
class ReceiptLine:
    """One material handed in: the item of 附件2 一 (or 证明材料), what it is, the file name."""

    item: str
    label: str
    filename: str


@dataclass(frozen=True)
class Receipt:
    case_no: str | None
    application_id: str
    version: int
    resubmission: bool
    submitted_at: datetime
    submitted_by: str
    enterprise_name: str
    credit_code: str
    mine_name: str
    league_name: str
    county_name: str
    lines: tuple[ReceiptLine, ...]
    review_days: int
    review_due: date
    review_due_estimated: bool

    @property
    def submitted_on(self) -> date:
        return beijing_date(self.submitted_at)


def _evidence_label(indicator: str | None, indicator_names: Mapping[str, str]) -> tuple[str, str]:
    if indicator and indicator.startswith("P"):
        name = indicator_names.get(indicator)
        return "证明材料", f"先决条件{indicator}" + (f"「{name}」" if name else "")
    if indicator:
        name = indicator_names.get(indicator)
        return "证明材料", f"第{indicator}项指标" + (f"「{name}」" if name else "")
    return "证明材料", "证明材料"


def receipt_of(application_id: str, case_no: str | None, version: ApplicationVersion, *,
               calendar: WorkingCalendar, policy: DeadlinePolicy,
               indicator_names: Mapping[str, str] | None = None) -> Receipt:
    """The receipt of ``version``; ``indicator_names`` ("9" → 开采方式, "P1" → …) names the evidence lines."""
    names = indicator_names or {}
    snapshot = thaw(version.mine) or {}
    enterprise = snapshot.get("enterprise") or {}
    league = regions.find_league(snapshot.get("league") or "")
    county = regions.county_by_code(snapshot.get("county") or "") if snapshot.get("county") else None
    lines = []
    order = {k.code: i for i, k in enumerate(mat.KINDS)}
    attachments = sorted(version.attachments,
                         key=lambda a: (a.kind == mat.EVIDENCE, order.get(a.kind, len(order)),
                                        _indicator_order(a.indicator), a.filename))
    for a in attachments:
        if a.kind == mat.EVIDENCE:
            item, label = _evidence_label(a.indicator, names)
        else:
            kind = mat.kind_by_code(a.kind)
            item = mat.ITEMS[kind.item][:3] if kind is not None and kind.item else "其他"
            label = kind.label if kind is not None else "其他材料"
        lines.append(ReceiptLine(item, label, a.filename))
    resubmission = version.number > 1
    submitted_on = beijing_date(version.submitted_at)
    due = policy.initial_review_due(calendar, submitted_on, resubmission)
    return Receipt(
        case_no=case_no, application_id=application_id, version=version.number, resubmission=resubmission,
        submitted_at=version.submitted_at, submitted_by=version.submitted_by,
        enterprise_name=enterprise.get("name") or "", credit_code=enterprise.get("credit_code") or "",
        mine_name=snapshot.get("name") or "", league_name=league.name if league else "",
        county_name=county.name if county else (snapshot.get("county") or ""),
        lines=tuple(lines), review_days=policy.initial_review_days(resubmission), review_due=due,
        review_due_estimated=calendar.estimated_between(submitted_on, due))


def _indicator_order(indicator: str | None) -> tuple[int, int]:
    if not indicator:
        return (2, 0)
    if indicator.startswith("P"):
        return (0, int(indicator[1:]) if indicator[1:].isdigit() else 0)
    return (1, int(indicator) if indicator.isdigit() else 0)
