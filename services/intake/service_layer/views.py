"""Queries: what a principal may see of mines and applications (read without a transaction, under the access
rules), the audit trail of an application, and its printable score sheet (made by the scoring service)."""
from __future__ import annotations

from intake.domain.commands import (
    GetApplication,
    GetAuditTrail,
    GetMine,
    GetReceipt,
    GetScoreSheet,
    GetVersion,
    ListApplications,
    ListMines,
)
from intake.domain.errors import FieldError
from intake.domain.receipt import Receipt, receipt_of
from intake.domain.values import ApplicationVersion
from shared.errors import InvalidInput, NotFound, Unavailable
from shared.scoring_client import ScoringRejected, ScoringUnavailable

from . import access
from .common import Catalogs, Clock, Loaded, MineRecord, for_view, jsonable, load, today, with_review_due
from .unit_of_work import IntakeUnitOfWork


def list_mines(cmd: ListMines, uow: IntakeUnitOfWork, *, clock: Clock) -> list[MineRecord]:
    scope = access.scope(cmd.principal)
    if scope is None:
        return []
    on = today(clock)
    return [MineRecord(mine, doc, on) for mine, doc in uow.read(lambda: uow.mines.list(scope))]


def get_mine(cmd: GetMine, uow: IntakeUnitOfWork, *, clock: Clock) -> MineRecord:
    found = uow.read(lambda: uow.mines.get(cmd.mine_id))
    if found is None:
        raise NotFound("找不到该矿山")
    mine, doc = found
    access.check_read(cmd.principal, mine.credit_code, mine.league, "矿山")
    return MineRecord(mine, doc, today(clock))


def list_applications(cmd: ListApplications, uow: IntakeUnitOfWork) -> list[dict]:
    scope = access.scope(cmd.principal)
    if scope is None:
        return []
    return uow.read(lambda: uow.applications.list(scope, status=cmd.status or None, mine_id=cmd.mine_id or None))


def get_application(cmd: GetApplication, uow: IntakeUnitOfWork, *, clock: Clock, catalogs: Catalogs, calendar,
                    deadlines) -> Loaded:
    loaded = for_view(uow.read(lambda: load(uow, cmd.principal, cmd.application_id)), catalogs, clock)
    return with_review_due(loaded, calendar, deadlines)


def get_version(cmd: GetVersion, uow: IntakeUnitOfWork) -> ApplicationVersion:
    def read():
        load(uow, cmd.principal, cmd.application_id)
        return uow.applications.version(cmd.application_id, cmd.number)

    version = uow.read(read)
    if version is None:
        raise NotFound(f"申报没有第{cmd.number}版")
    return version


def audit_trail(cmd: GetAuditTrail, uow: IntakeUnitOfWork) -> list[dict]:
    def read():
        load(uow, cmd.principal, cmd.application_id)
        return uow.audit.for_subject(cmd.application_id)

    return [{"at": e["at"].isoformat(), "actor": e["actor"], "action": e["action"],
             "detail": jsonable(e.get("detail"))} for e in uow.read(read)]


def receipt(cmd: GetReceipt, uow: IntakeUnitOfWork, *, catalogs: Catalogs, calendar, deadlines) -> Receipt:
    """The 回执 of the latest submitted version (or of ``cmd.version``)."""
    loaded = uow.read(lambda: load(uow, cmd.principal, cmd.application_id))
    app = loaded.app
    if not app.versions:
        raise NotFound("申报尚未提交，还没有回执")
    try:
        version = app.latest_version if cmd.version is None else app.version(cmd.version)
    except KeyError:
        raise NotFound(f"申报没有第{cmd.version}版") from None
    catalog = catalogs(app.catalog)
    names = {str(i.no): i.name for i in catalog.indicators}
    names.update({p.code: p.name for p in catalog.prerequisites})
    return receipt_of(app.id, app.case_no, version, calendar=calendar, policy=deadlines, indicator_names=names)


def score_sheet(cmd: GetScoreSheet, uow: IntakeUnitOfWork, *, scoring):
    """The 评分表 of the draft (or of the latest version once submitted, or of version ``cmd.version``)."""
    loaded = uow.read(lambda: load(uow, cmd.principal, cmd.application_id))
    app = loaded.app
    if cmd.version is None:
        if app.latest_version is not None and not app.is_editable:
            assessment = app.latest_version.assessment_with_records()
        else:
            assessment = app.assessment_with_records()
    else:
        try:
            assessment = app.version(cmd.version).assessment_with_records()
        except KeyError:
            raise NotFound(f"申报没有第{cmd.version}版") from None
    if not assessment or not assessment.get("indicators"):
        raise InvalidInput("自评估尚未填写，无法生成评分表", [FieldError("assessment", "自评估：尚未填写")])
    try:
        return scoring.sheet(assessment, cmd.format, cmd.principal)
    except ScoringUnavailable:
        raise Unavailable("评分服务暂时不可用，请稍后再试") from None
    except ScoringRejected as exc:
        detail = "；".join(f"{e.field}：{e.message}" for e in exc.errors) or "评估数据有误"
        raise InvalidInput("自评估尚未填写完整，无法生成评分表", [FieldError("assessment", detail)]) from None
