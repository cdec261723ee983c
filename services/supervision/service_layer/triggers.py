"""The triggers area: the daily sweep (issue 13 item 4) and the records it reads besides the register.

* `sweep(uow, *, clock, calendar)`: on the official calendar's working days, for each listed mine the findings of
  `domain/triggers.py` due today (the register's facts completed with the natural-resources department's records),
  and for each new mine not yet listed its reminders (`domain/findings.py`); each recorded once as a
  `SweepFinding` (`open`). A `warn` finding publishes `supervision.warning_issued` (the enterprise is told), a
  `request_re_evaluation` finding `supervision.re_evaluation_requested` (the region stage re-evaluates); `mark`
  and `propose_removal` findings wait for a measure. A repeated sweep changes nothing.
* `RecordAbnormalListing`, `RecordUtilisationGrade`, `ImportMineRecords`: the 异常名录 entries and the 开发利用水平
  grades, entered by the region office, a 盟市 bureau or a natural-resources reviewer (their 盟市), or imported from
  a table (all or nothing).
(see `areas.py` for an area's shape)"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain

from shared.contracts import new_event
from shared.errors import FieldError, InvalidInput, NotFound, NotPermitted
from shared.regions import LEAGUE_NAMES
from shared.workdays import beijing_date
from supervision.domain import findings as fd
from supervision.domain import records as rd
from supervision.domain import triggers
from supervision.domain.register import COUNTED, SupervisedMine
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
PRODUCER = "supervision"
WARNING_ISSUED = "supervision.warning_issued"
RE_EVALUATION_REQUESTED = "supervision.re_evaluation_requested"
RECORDERS = "natural_resources"       # the department whose reviewers keep the records (附件3: 自然资源)
LEAGUE_ORDER = {name: n for n, name in enumerate(LEAGUE_NAMES)}


# -- commands ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordAbnormalListing:
    """The mine's rights holder was put on the 矿业权人勘查开采信息公示异常名录 on `listed_on` (and taken off on
    `removed_on`)."""
    actor: object
    mine_id: str
    listed_on: date | None
    removed_on: date | None = None


@dataclass(frozen=True)
class RecordUtilisationGrade:
    """The mine's 矿产资源开发利用水平 grade of `year`."""
    actor: object
    mine_id: str
    year: int | None
    grade: str | None


@dataclass(frozen=True)
class ImportMineRecords:
    """Records of `kind` (abnormal | grades) from a table read from the file `source`."""
    actor: object
    kind: str
    headers: tuple
    rows: tuple
    source: str
    dry_run: bool = False


def may_record(actor, league: str) -> None:
    """The region office and the administrator anywhere; a 盟市 bureau and a natural-resources reviewer for their
    盟市 (a regional reviewer anywhere)."""
    role = getattr(actor, "role", None)
    if role in ("region_office", "admin"):
        return
    if role == "bureau" or (role == "department_reviewer" and getattr(actor, "department", None) == RECORDERS):
        if actor.covers_area(league):
            return
        raise NotPermitted(f"只能记录本盟市（{actor.area}）矿山的异常名录和开发利用水平")
    raise NotPermitted("只有自然资源部门可以记录异常名录和开发利用水平")


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or "system"


def _mine(uow: SupervisionUnitOfWork, mine_id: str) -> SupervisedMine:
    mine = uow.mines.get(mine_id)
    if mine is not None and mine.status == "merged":      # the same mine, listed under the list's id
        mine = uow.mines.get(mine.merged_into)
    if mine is None:
        raise NotFound("监管台账中没有这座矿山")
    return mine


def _records(uow: SupervisionUnitOfWork, mine: SupervisedMine) -> rd.MineRecords:
    return uow.mine_records.get(mine.id) or rd.MineRecords(id=mine.id, league=mine.league)


def records_view(records: rd.MineRecords, changed: bool) -> dict:
    return {"mine_id": records.id, "changed": changed, "abnormal": [dict(e) for e in records.abnormal],
            "grades": [{"year": int(y), "grade": g} for y, g in sorted(records.grades.items())]}


def record_abnormal_listing(cmd: RecordAbnormalListing, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    return _keep_record(cmd, uow, clock, lambda today: rd.abnormal_problems(cmd.listed_on, cmd.removed_on, today),
                        lambda records, by, at: records.record_abnormal(cmd.listed_on, cmd.removed_on, by=by, at=at))


def record_utilisation_grade(cmd: RecordUtilisationGrade, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    return _keep_record(cmd, uow, clock, lambda today: rd.grade_problems(cmd.year, cmd.grade, today),
                        lambda records, by, at: records.record_grade(cmd.year, cmd.grade, by=by, at=at))


def _keep_record(cmd, uow: SupervisionUnitOfWork, clock: Clock, problems, record) -> dict:
    """One department record of a mine: refused when `problems(today)` finds any; saved when it changes."""
    at = clock()
    rd.refuse(problems(beijing_date(at)))

    def work():
        mine = _mine(uow, cmd.mine_id)
        may_record(cmd.actor, mine.league)
        records = _records(uow, mine)
        changed = record(records, _actor_name(cmd.actor), at)
        if changed:
            uow.mine_records.save(records)
        return records_view(records, changed)

    return uow.run(work)


def problems_as_error(problems: Sequence[rd.Problem]) -> InvalidInput:
    return InvalidInput(f"导入文件有{len(problems)}处问题，未导入任何数据",
                        [FieldError(p.where, p.message) for p in problems])


def resolver(mines: Sequence[SupervisedMine], actor) -> rd.Resolve:
    """How a row names its mine: by 采矿许可证号, else by 统一社会信用代码 and 矿山名称; a mine outside what the
    actor may record is a problem of the row."""
    by_licence: dict[str, list[SupervisedMine]] = {}
    by_name: dict[tuple[str, str], list[SupervisedMine]] = {}
    for mine in mines:
        number = (((mine.register or {}).get("licences") or {}).get("mining") or {}).get("number")
        if number:
            by_licence.setdefault(rd.fold(number), []).append(mine)
        by_name.setdefault((rd.fold(mine.credit_code).upper(), rd.fold(mine.mine_name)), []).append(mine)

    def resolve(licence: str, credit_code: str, name: str) -> tuple[str | None, str | None]:
        if licence:
            found, what = by_licence.get(licence, []), f"采矿许可证号 {licence}"
        elif credit_code and name:
            found, what = by_name.get((credit_code.upper(), name), []), f"{name}（{credit_code}）"
        else:
            return None, "请填写采矿许可证号，或统一社会信用代码和矿山名称"
        if not found:
            return None, f"监管台账中没有{what}的矿山"
        if len(found) > 1:
            return None, f"{what}对应多座矿山，请改用采矿许可证号"
        try:
            may_record(actor, found[0].league)
        except NotPermitted as refused:
            return None, refused.message
        return found[0].id, None

    return resolve


def import_mine_records(cmd: ImportMineRecords, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    """{"kind", "rows", "changed", "unchanged", "mines", "dry_run"}; InvalidInput with every problem and nothing
    stored when any row is wrong."""
    if getattr(cmd.actor, "role", None) not in ("region_office", "admin", "bureau", "department_reviewer"):
        raise NotPermitted("只有自然资源部门可以导入异常名录和开发利用水平")
    at = clock()
    mines = uow.read(lambda: uow.mines.find(status=list(COUNTED)))
    records, problems = rd.validate_rows(cmd.kind, list(cmd.headers), [list(r) for r in cmd.rows],
                                         today=beijing_date(at), resolve=resolver(mines, cmd.actor))
    if problems:
        raise problems_as_error(problems)
    by, leagues = _actor_name(cmd.actor), {m.id: m.league for m in mines}

    def work():
        kept: dict[str, rd.MineRecords] = {}
        changed = set()
        count = 0
        for r in records:
            entry = kept.get(r["mine_id"]) or uow.mine_records.get(r["mine_id"]) or rd.MineRecords(
                id=r["mine_id"], league=leagues[r["mine_id"]])
            kept[r["mine_id"]] = entry
            if cmd.kind == rd.ABNORMAL:
                did = entry.record_abnormal(r["listed_on"], r["removed_on"], by=by, at=at, source=cmd.source)
            else:
                did = entry.record_grade(r["year"], r["grade"], by=by, at=at, source=cmd.source)
            if did:
                count += 1
                changed.add(r["mine_id"])
        if not cmd.dry_run:
            for mine_id in sorted(changed):
                uow.mine_records.save(kept[mine_id])
        return {"kind": cmd.kind, "rows": len(records), "changed": count, "unchanged": len(records) - count,
                "mines": sorted(changed), "dry_run": cmd.dry_run}

    return uow.run(work)


# -- the sweep -----------------------------------------------------------------------------------------------------
def due(mine: SupervisedMine, records: rd.MineRecords | None, today: date) -> list[tuple[triggers.Finding, str]]:
    """(finding, kind) due on `today` for one mine of the register: the triggers for a listed mine, the reminders
    for a new mine not on the list."""
    if mine.on_list:
        facts = rd.facts_with(mine.facts(), records)
        return [(f, "trigger") for f in fd.unique(chain.from_iterable(triggers.sweep(v, today) for v in facts))]
    started = (mine.register or {}).get("production_start_date")
    if mine.status == "registered" and started and (mine.register or {}).get("production_status") != "closed":
        return [(f, "new_mine") for f in fd.new_mine_findings(mine.id, date.fromisoformat(started), today)]
    return []


def sweep(uow: SupervisionUnitOfWork, *, clock: Clock, calendar) -> int:
    """Record what fell due (see the module); on a day off nothing (it is raised the next working day). Returns
    how many findings were recorded."""
    at = clock()
    today = beijing_date(at)
    if not calendar.is_workday(today):
        return 0

    def pending() -> list[str]:
        mines = uow.mines.find(status=["listed", "registered"])
        kept = uow.mine_records.get_many([m.id for m in mines])
        wanted = {m.id: [fd.finding_id(f.key) for f, _ in due(m, kept.get(m.id), today)] for m in mines}
        known = set(uow.findings.get_many(list(chain.from_iterable(wanted.values()))))
        return [mine_id for mine_id, ids in wanted.items() if set(ids) - known]

    recorded = 0
    for mine_id in uow.read(pending):
        recorded += uow.run(lambda mine_id=mine_id: _record(uow, mine_id, today, at))
    return recorded


def _record(uow: SupervisionUnitOfWork, mine_id: str, today: date, at: datetime) -> int:
    mine = uow.mines.get(mine_id)
    if mine is None:
        return 0
    found = due(mine, uow.mine_records.get(mine_id), today)
    known = uow.findings.get_many([fd.finding_id(f.key) for f, _ in found])
    recorded = 0
    for finding, kind in found:
        if fd.finding_id(finding.key) in known:
            continue
        deadline = None
        if finding.action == triggers.WARN:
            deadline = fd.warning_deadline(finding) if kind == "trigger" else fd.new_mine_window(
                date.fromisoformat(mine.register["production_start_date"]))[1]
        record = fd.SweepFinding.found(finding, mine, kind=kind, today=today, at=at, deadline=deadline)
        if finding.action == triggers.WARN:
            envelope = warning_event(record, mine, at)
        elif finding.action == triggers.RE_EVALUATE:
            envelope = re_evaluation_event(record, mine, change_of(mine, finding.key), at)
        else:
            envelope = None
        if envelope is not None:
            record.event_id = envelope["event_id"]
            uow.publish(envelope)
        uow.findings.save(record)
        recorded += 1
        log.info("sweep: %s %s (%s)", mine_id, finding.action, finding.key)
    return recorded


def change_of(mine: SupervisedMine, key: str) -> triggers.MajorChange:
    """The 重大变化 a re-evaluation finding is about (the rules read one change at a time)."""
    for change in mine.facts().changes:
        single = triggers.MineFacts(mine.id, changes=(change,))
        if any(f.key == key for f in triggers.sweep(single, change.changed_on)):
            return change
    raise LookupError(key)


def _enterprise(mine: SupervisedMine) -> dict:
    return {"name": mine.enterprise_name, "credit_code": mine.credit_code}


def warning_event(finding: fd.SweepFinding, mine: SupervisedMine, at: datetime) -> dict:
    return new_event(WARNING_ISSUED, producer=PRODUCER, aggregate_type="supervised_mine", aggregate_id=mine.id,
                     aggregate_version=mine.version or 1, occurred_at=at, payload={
                         "warning_id": fd.warning_id(finding.key), "mine_id": mine.id, "mine_name": mine.mine_name,
                         "enterprise": _enterprise(mine), "league": mine.league, "county": mine.county,
                         "kind": "licence_expiring" if finding.kind == "trigger" else "new_mine_assessment",
                         "deadline": finding.deadline, "issued_on": finding.found_on, "reason": finding.reason})


def re_evaluation_event(finding: fd.SweepFinding, mine: SupervisedMine, change: triggers.MajorChange,
                        at: datetime) -> dict:
    return new_event(RE_EVALUATION_REQUESTED, producer=PRODUCER, aggregate_type="supervised_mine",
                     aggregate_id=mine.id, aggregate_version=mine.version or 1, occurred_at=at, payload={
                         "request_id": fd.request_id(finding.key), "mine_id": mine.id, "mine_name": mine.mine_name,
                         "enterprise": _enterprise(mine), "league": mine.league, "county": mine.county,
                         "changes": [{"field": change.field, "changed_on": change.changed_on.isoformat(),
                                      "before": change.before, "after": change.after}],
                         "requested_on": finding.found_on, "reason": finding.reason,
                         "listed_announcement_no": mine.announcement_no})


# -- reads ---------------------------------------------------------------------------------------------------------
def _order(league: str | None) -> int:
    return LEAGUE_ORDER.get(league, len(LEAGUE_ORDER))


def finding_rows(uow: SupervisionUnitOfWork, leagues: list[str] | None, status: str | None = None) -> list[dict]:
    """The findings (newest found first within a 盟市, 盟市 in the official order); `leagues` None: every 盟市."""
    def read():
        query = {} if leagues is None else {"league": leagues}
        if status:
            query["status"] = status
        return uow.findings.find(**query)

    rows = sorted(uow.read(read), key=lambda f: (f.mine_name, f.key))
    rows.sort(key=lambda f: f.found_on, reverse=True)
    rows.sort(key=lambda f: _order(f.league))
    return [{"finding_id": f.id, "key": f.key, "kind": f.kind, "kind_label": fd.KINDS.get(f.kind, f.kind),
             "mine_id": f.mine_id, "mine_name": f.mine_name, "enterprise_name": f.enterprise_name,
             "league": f.league, "county": f.county, "action": f.action, "action_label": f.action_label,
             "situation": f.situation, "situation_label": fd.situation_label(f.situation), "reason": f.reason,
             "due_on": f.due_on, "found_on": f.found_on,
             "deadline": f.deadline, "status": f.status, "status_label": fd.STATUSES.get(f.status, f.status),
             "measure_id": f.measure_id} for f in rows]


def new_mine_rows(uow: SupervisionUnitOfWork, leagues: list[str] | None, today: date) -> list[dict]:
    """The new mines not yet on the list (正文 二(二)), soonest due first."""
    def read():
        return uow.mines.find(status="registered", **({} if leagues is None else {"league": leagues}))

    rows = []
    for mine in uow.read(read):
        snap = mine.register or {}
        started = snap.get("production_start_date")
        if not started or snap.get("production_status") == "closed" or not fd.is_new_mine(date.fromisoformat(started)):
            continue
        opens, due_on = fd.new_mine_window(date.fromisoformat(started))
        rows.append({"mine_id": mine.id, "mine_name": mine.mine_name, "enterprise_name": mine.enterprise_name,
                     "league": mine.league, "county": mine.county, "production_start_date": started,
                     "may_apply_from": opens.isoformat(), "due_on": due_on.isoformat(),
                     "days_left": (due_on - today).days, "overdue": due_on < today})
    return sorted(rows, key=lambda r: (r["due_on"], _order(r["league"]), r["mine_name"]))


def record_rows(uow: SupervisionUnitOfWork, leagues: list[str] | None) -> list[dict]:
    """Each mine's records (异常名录 entries, grades), for the workspace."""
    def read():
        kept = uow.mine_records.find(**({} if leagues is None else {"league": leagues}))
        names = {m.id: m.mine_name for m in uow.mines.get_many([r.id for r in kept]).values()}
        return kept, names

    kept, names = uow.read(read)
    return [{**records_view(r, False), "mine_name": names.get(r.id, r.id), "league": r.league}
            for r in sorted(kept, key=lambda r: (_order(r.league), names.get(r.id, r.id)))]


COMMAND_HANDLERS = {RecordAbnormalListing: record_abnormal_listing, RecordUtilisationGrade: record_utilisation_grade,
                    ImportMineRecords: import_mine_records}
