"""The objections area (异议): filing a real-name objection against a mine in an open 公示 window, the region
office's triage to the departments responsible (by indicator, as routing does), each department's finding, the
office's conclusion (upheld: back to the region stage or refused; not upheld), and the sweep flagging overdue
findings once. The batch entry follows through PublicityBatch's methods in the same transaction.

Events carry no personal data of the objector (objection id, receipt number, mine, departments, outcomes only);
log lines mask the objector (张* 150102**********1X)."""
from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from public_notice.domain.announcements import NumberSeries
from public_notice.domain.objections import (
    FINDINGS,
    Objection,
    check_filing,
    iso,
    new_lookup_code,
    receipt_no,
)
from shared.catalog import load_catalog
from shared.contracts import new_event
from shared.errors import FieldError, InvalidInput, InvalidTransition, NotFound, NotPermitted
from shared.storage import ConcurrencyError
from shared.workdays import WorkingCalendar, beijing_date

log = logging.getLogger(__name__)
CATALOG_ID = "nm-2025"
DEFAULT_VERIFY_DAYS = 10
LEAD_DEPARTMENT = "natural_resources"
FILING_ATTEMPTS = 5


def verify_days(env: dict | None = None) -> int:
    """GREENMINE_OBJECTION_VERIFY_DAYS: the default deadline of a department's verification, in working days."""
    raw = (os.environ if env is None else env).get("GREENMINE_OBJECTION_VERIFY_DAYS") or str(DEFAULT_VERIFY_DAYS)
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"GREENMINE_OBJECTION_VERIFY_DAYS must be a whole number of working days, got {raw!r}") \
            from None
    if not 1 <= days <= 60:
        raise ValueError("GREENMINE_OBJECTION_VERIFY_DAYS must lie between 1 and 60")
    return days


def catalog():
    return load_catalog(CATALOG_ID)


def indicator_numbers() -> list[int]:
    return [i.no for i in catalog().indicators]


def proposed_departments(indicators) -> list[str]:
    """The 附件3 departments holding the named indicators (in the catalog's order); the lead department
    (自然资源部门) when none is named."""
    cat = catalog()
    wanted = set()
    for no in indicators or ():
        if cat.has_indicator(int(no)):
            wanted.update(cat.indicator(int(no)).departments)
    codes = [code for code in cat.department_codes if code in wanted]
    return codes or [LEAD_DEPARTMENT]


# --- commands -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileObjection:
    """A filing from the public form: `form` holds the fields (see domain check_filing), `evidence` the stored
    files ({file_id, filename, content_type, size, sha256})."""

    form: dict
    evidence: tuple = ()


@dataclass(frozen=True)
class TriageObjection:
    objection_id: str
    principal: Any
    departments: tuple | None = None   # None: the proposed ones
    working_days: int | None = None    # None: GREENMINE_OBJECTION_VERIFY_DAYS


@dataclass(frozen=True)
class RecordFinding:
    objection_id: str
    principal: Any
    finding: str
    text: str
    site_check: dict | None = None


@dataclass(frozen=True)
class ConcludeObjection:
    objection_id: str
    principal: Any
    outcome: str
    reasons: str
    reply: str
    action: str | None = None


@dataclass(frozen=True)
class ViewObjection:
    """The staff view of one objection; showing the personal data is recorded in its history."""

    objection_id: str
    principal: Any
    extra: dict = field(default_factory=dict)


# --- helpers ----------------------------------------------------------------------------------------------------

def _event(uow, objection: Objection, event_type: str, payload: dict) -> None:
    uow.publish(new_event(f"public_notice.{event_type}", producer="public_notice", aggregate_type="objection",
                          aggregate_id=objection.id, aggregate_version=objection.version, payload=payload))


def _base(objection: Objection) -> dict:
    return {"objection_id": objection.id, "receipt_no": objection.receipt_no, "batch_id": objection.batch_id,
            "application_id": objection.application_id, "review_id": objection.review_id,
            "version_no": objection.version_no, "mine_name": objection.mine_name, "league": objection.league}


def _get(uow, objection_id: str) -> Objection:
    objection = uow.objections.get(objection_id)
    if objection is None:
        raise NotFound("没有这件异议")
    return objection


def _entry(batch, application_id: str) -> dict | None:
    try:
        entry = batch.entry(application_id)
    except (KeyError, LookupError):
        return None
    return dict(entry) if entry else None


# --- handlers ---------------------------------------------------------------------------------------------------

def file_objection(cmd: FileObjection, uow, *, clock: Callable[[], datetime]) -> dict:
    """→ {objection_id, receipt_no, lookup_code (shown once), filed_at}."""
    now = clock()
    today = beijing_date(now)
    filing = check_filing(cmd.form, today=today, indicator_numbers=indicator_numbers())
    code = new_lookup_code()
    objection_id = uuid.uuid4().hex

    def work():
        batch = uow.batches.get(filing.batch_id)
        entry = _entry(batch, filing.application_id) if batch is not None else None
        if batch is None or entry is None:
            raise InvalidInput("异议信息有误", [FieldError("application_id", "所选矿山不在公示名单中")])
        if not batch.accepts_objections(today):
            raise InvalidTransition("该矿山所在批次不在公示期内，不受理异议（公示期内方可实名提出异议）",
                                    [FieldError("application_id", "该矿山不在公示期内")])
        series = uow.number_series.get(f"objection-{today.year}") or \
            NumberSeries(id=f"objection-{today.year}", series="异议受理", year=today.year)
        number = receipt_no(today.year, series.take(objection_id))
        uow.number_series.save(series)
        objection = Objection.file(objection_id, number, code, filing, entry, list(cmd.evidence), now)
        uow.objections.save(objection)
        batch.objection_filed(filing.application_id, objection_id)
        uow.batches.save(batch)
        _event(uow, objection, "objection_filed", {
            **_base(objection), "enterprise_name": objection.enterprise_name, "indicators": objection.indicators,
            "evidence_count": len(objection.evidence), "filed_at": iso(now)})
        log.info("objection %s filed on %s by %s", number, filing.application_id, objection.masked())
        return objection

    for attempt in range(FILING_ATTEMPTS):   # concurrent filings race for the receipt series and the batch
        try:
            objection = uow.run(work)
            break
        except ConcurrencyError:
            if attempt == FILING_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1) + random.random() * 0.03)
    return {"objection_id": objection.id, "receipt_no": objection.receipt_no, "lookup_code": code,
            "filed_at": iso(now)}


def triage_objection(cmd: TriageObjection, uow, *, clock: Callable[[], datetime],
                     calendar: WorkingCalendar) -> dict:
    now = clock()
    days = cmd.working_days if cmd.working_days is not None else verify_days()
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
        raise InvalidInput("分办信息有误", [FieldError("working_days", "核查期限应为1至60个工作日")])

    def work():
        objection = _get(uow, cmd.objection_id)
        departments = cmd.departments if cmd.departments is not None else proposed_departments(objection.indicators)
        due = calendar.add_working_days(beijing_date(now), days)
        objection.triage(cmd.principal, departments, due, days, catalog().department_codes, now)
        uow.objections.save(objection)
        _event(uow, objection, "objection_triaged", {
            **_base(objection), "departments": list(objection.departments), "due_date": due.isoformat(),
            "working_days": days, "triaged_at": iso(now)})
        return objection

    return uow.run(work).staff_view(cmd.principal)


def record_finding(cmd: RecordFinding, uow, *, clock: Callable[[], datetime]) -> dict:
    now = clock()

    def work():
        objection = _get(uow, cmd.objection_id)
        if not objection.may_read(cmd.principal):
            raise NotFound("没有这件异议")
        department = objection.record_finding(cmd.principal, cmd.finding, cmd.text, cmd.site_check,
                                              beijing_date(now), now)
        uow.objections.save(objection)
        _event(uow, objection, "objection_finding_recorded", {
            **_base(objection), "department": department, "finding": cmd.finding,
            "site_checked": bool(cmd.site_check), "all_in": objection.status == "verified",
            "recorded_at": iso(now)})
        return objection

    return uow.run(work).staff_view(cmd.principal)


def conclude_objection(cmd: ConcludeObjection, uow, *, clock: Callable[[], datetime]) -> dict:
    now = clock()

    def work():
        objection = _get(uow, cmd.objection_id)
        objection.conclude(cmd.principal, cmd.outcome, cmd.reasons, cmd.reply, cmd.action, now)
        uow.objections.save(objection)
        batch = uow.batches.get(objection.batch_id)
        if batch is not None:
            batch.objection_concluded(objection.application_id, objection.id, cmd.outcome == "upheld",
                                      objection.conclusion["action"], now)
            uow.batches.save(batch)
        else:
            log.warning("objection %s: batch %s not found", objection.receipt_no, objection.batch_id)
        _event(uow, objection, "objection_concluded", {
            **_base(objection), "outcome": cmd.outcome, "action": objection.conclusion["action"],
            "reasons": objection.conclusion["reasons"], "concluded_at": iso(now)})
        return objection

    return uow.run(work).staff_view(cmd.principal)


def view_objection(cmd: ViewObjection, uow, *, clock: Callable[[], datetime]) -> dict:
    now = clock()

    def work():
        objection = _get(uow, cmd.objection_id)
        if not objection.may_read(cmd.principal):
            raise NotFound("没有这件异议")
        if objection.may_see_personal(cmd.principal):
            objection.viewed(cmd.principal, now)
            uow.objections.save(objection)
        return objection

    return uow.run(work).staff_view(cmd.principal)


def queue(uow, principal, *, status: str | None = None, batch_id: str | None = None,
          overdue: bool | None = None) -> list[dict]:
    """The staff queue: the region office sees all, a department reviewer what was triaged to its department in
    its area (or everywhere, for a regional reviewer); overdue first, then by due date and filing time."""
    role = getattr(principal, "role", None)
    if role not in ("region_office", "admin", "department_reviewer"):
        raise NotPermitted("无权查看异议")
    equals: dict[str, Any] = {}
    if status:
        equals["status"] = status
    if batch_id:
        equals["batch_id"] = batch_id
    found = uow.read(lambda: uow.objections.find(**equals))
    rows = [o for o in found if o.may_read(principal)]
    if overdue is not None:
        rows = [o for o in rows if o.overdue == overdue]
    rows.sort(key=lambda o: (not o.overdue, o.status == "concluded", o.due_date.isoformat() if o.due_date else "9",
                             o.filed_at))
    return [summary(o, principal) for o in rows]


def summary(objection: Objection, principal) -> dict:
    """A queue row: no personal data (the detail shows it to those allowed)."""
    return {"id": objection.id, "receipt_no": objection.receipt_no, "batch_id": objection.batch_id,
            "application_id": objection.application_id, "mine_name": objection.mine_name,
            "enterprise_name": objection.enterprise_name, "league": objection.league, "status": objection.status,
            "departments": list(objection.departments),
            "due_date": objection.due_date.isoformat() if objection.due_date else None,
            "overdue": objection.overdue, "filed_at": iso(objection.filed_at),
            "findings_in": sorted(objection.findings), "indicators": list(objection.indicators),
            "outcome": (objection.conclusion or {}).get("outcome"),
            "mine": objection.handles(principal) or getattr(principal, "role", None) == "region_office"}


def lookup(uow, receipt: str, code: str) -> dict:
    """The public lookup: NotFound alike for an unknown receipt and a wrong code."""
    receipt = (receipt or "").strip().upper()
    found = uow.read(lambda: uow.objections.find(receipt_no=receipt, limit=1)) if receipt else []
    if not found or not found[0].code_matches(code):
        raise NotFound("没有找到该异议，请核对受理编号和查询码")
    return found[0].public_view()


def sweep(uow, *, clock: Callable[[], datetime], calendar: WorkingCalendar) -> int:
    """Findings still missing after the due date: flag once (listed first in the queue)."""
    now = clock()
    today = beijing_date(now)
    pending = uow.read(lambda: [o.id for o in uow.objections.find(status="triaged", overdue=False)])
    changed = 0
    for objection_id in pending:
        def work(objection_id=objection_id):
            objection = uow.objections.get(objection_id)
            if objection is not None and objection.flag_overdue(today, now):
                uow.objections.save(objection)
                return 1
            return 0
        changed += uow.run(work)
    return changed


COMMAND_HANDLERS = {
    FileObjection: file_objection,
    TriageObjection: triage_objection,
    RecordFinding: record_finding,
    ConcludeObjection: conclude_objection,
    ViewObjection: view_objection,
}
EVENT_HANDLERS: dict = {}
__all__ = ["FINDINGS", "COMMAND_HANDLERS", "EVENT_HANDLERS", "sweep", "queue", "lookup"]
