"""The triggers area's views: what the daily sweep found (`GET /api/v1/supervision/findings`), the new mines and
their deadline (`GET /api/v1/supervision/new-mines`), the natural-resources department's records
(`POST /api/v1/supervision/mines/<id>/abnormal-listings`, `…/utilisation-grades`, `POST …/records/import`), and the
workspace's section (`supervision/_triggers.html`, its small forms posting to `/supervision/records/…`)."""
from __future__ import annotations

from flask import flash, redirect, request
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate

from shared import identity
from shared.clock import utcnow
from shared.errors import DomainError, FieldError, InvalidInput, NotPermitted
from shared.regions import LEAGUE_NAMES
from shared.schemas import document_errors
from shared.web import AreaWeb
from shared.workdays import beijing_date
from supervision.adapters.tables import Unreadable, read_table
from supervision.domain import findings as fd
from supervision.domain import records as rd
from supervision.service_layer import triggers as area

READERS = ("region_office", "bureau", "department_reviewer", "admin")
WRITERS = ("region_office", "bureau", "department_reviewer", "admin")
SECTION = "/supervision/#triggers"
LABELS = {"listed_on": "列入日期", "removed_on": "移出日期", "year": "年度", "grade": "开发利用水平", "kind": "类别",
          "file": "文件", "dry_run": "只检查"}


class ScopeQuerySchema(Schema):
    league = fields.String(validate=validate.OneOf(LEAGUE_NAMES, error="不是自治区的盟市"),
                           metadata={"description": "one 盟市 (a bureau or department reviewer sees only its own)"})


class FindingsQuerySchema(ScopeQuerySchema):
    status = fields.String(validate=validate.OneOf(list(fd.STATUSES), error="状态应为 open、measure 或 closed"),
                           metadata={"description": "open | measure | closed"})


class FindingSchema(Schema):
    finding_id = fields.String(required=True)
    key = fields.String(required=True, metadata={"description": "the sweep's idempotency key (raised once)"})
    kind = fields.String(required=True, metadata={"description": "trigger | new_mine"})
    kind_label = fields.String(required=True)
    mine_id = fields.String(required=True)
    mine_name = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    league = fields.String(required=True)
    county = fields.String(allow_none=True)
    action = fields.String(required=True, metadata={"enum": list(fd.ACTIONS)})
    action_label = fields.String(required=True)
    situation = fields.String(allow_none=True,
                              metadata={"description": "the situation cited (remove.1); null: a warning"})
    situation_label = fields.String(required=True, metadata={"description": "e.g. 移出名录第1种情形"})
    reason = fields.String(required=True)
    due_on = fields.String(required=True, metadata={"description": "the first day it was due"})
    found_on = fields.String(required=True, metadata={"description": "the working day the sweep found it"})
    deadline = fields.String(allow_none=True,
                             metadata={"description": "a warning's date: expiry, or a new mine's due date"})
    status = fields.String(required=True, metadata={"enum": list(fd.STATUSES)})
    status_label = fields.String(required=True)
    measure_id = fields.String(allow_none=True, metadata={"description": "the measure opened from it"})


class NewMineSchema(Schema):
    mine_id = fields.String(required=True)
    mine_name = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    league = fields.String(required=True)
    county = fields.String(allow_none=True)
    production_start_date = fields.String(required=True, metadata={"description": "正式投产日期"})
    may_apply_from = fields.String(required=True, metadata={"description": "投产满1年"})
    due_on = fields.String(required=True, metadata={"description": "应通过评估核查的期限（投产后2年）"})
    days_left = fields.Integer(required=True)
    overdue = fields.Boolean(required=True)


class AbnormalListingSchema(Schema):
    listed_on = fields.Date(required=True, metadata={"description": "列入异常名录的日期"})
    removed_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "移出日期（未移出为空）"})


class UtilisationGradeSchema(Schema):
    year = fields.Integer(required=True, strict=False, metadata={"description": "年度"})
    grade = fields.String(required=True, validate=validate.OneOf(rd.GRADES, error=f"应为{'、'.join(rd.GRADES)}之一"),
                          metadata={"description": "矿产资源开发利用水平"})


class AbnormalEntrySchema(Schema):
    listed_on = fields.String(required=True)
    removed_on = fields.String(allow_none=True)


class GradeEntrySchema(Schema):
    year = fields.Integer(required=True)
    grade = fields.String(required=True)


class MineRecordsSchema(Schema):
    mine_id = fields.String(required=True)
    changed = fields.Boolean(required=True, metadata={"description": "false: it was recorded already"})
    abnormal = fields.List(fields.Nested(AbnormalEntrySchema), required=True)
    grades = fields.List(fields.Nested(GradeEntrySchema), required=True)


class ImportFormSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(rd.KINDS), error="应为 abnormal 或 grades"),
                         metadata={"description": "abnormal（异常名录：采矿许可证号 或 统一社会信用代码+矿山名称，"
                                                  "列入日期，移出日期）| grades（年度，开发利用水平）"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "只检查，不保存"})
    file = Upload(required=True, metadata={"description": ".xlsx 或 .csv（第一行为列名）"})


class ImportOutcomeSchema(Schema):
    kind = fields.String(required=True)
    rows = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    mines = fields.List(fields.String(), required=True)
    dry_run = fields.Boolean(required=True)


def leagues_of(principal, league: str | None) -> list[str] | None:
    """The 盟市 whose findings `principal` may read (None: every one), narrowed to `league`."""
    if principal.covers_area(None):
        return None if league is None else [league]
    if league is not None and league != principal.area:
        raise NotPermitted(f"只能查看本盟市（{principal.area}）的监管发现")
    return [principal.area]


def can_record(principal) -> bool:
    return principal.role in ("region_office", "admin", "bureau") or (
        principal.role == "department_reviewer" and principal.department == area.RECORDERS)


def import_file(bus, actor, form: dict) -> dict:
    upload = form["file"]
    try:
        headers, rows = read_table(upload.filename or "", upload.read())
    except Unreadable as bad:
        raise area.problems_as_error([bad.problem]) from None
    return bus.handle(area.ImportMineRecords(actor, form["kind"], tuple(headers), tuple(tuple(r) for r in rows),
                                             upload.filename or "", form.get("dry_run", False)))


def routes(web: AreaWeb, bus) -> None:
    api, pages = web.api, web.pages

    def uow():
        return bus.uow_factory()

    def today():
        return beijing_date(bus.dependencies.get("clock", utcnow)())

    @pages.context_processor
    def _section():
        def triggers_section() -> dict:
            """What the workspace's section shows to the signed-in reader."""
            principal = identity.current_principal()
            leagues = leagues_of(principal, None)
            return {"findings": area.finding_rows(uow(), leagues),
                    "new_mines": area.new_mine_rows(uow(), leagues, today()),
                    "records": area.record_rows(uow(), leagues), "mines": uow_mines(leagues), "grades": rd.GRADES,
                    "can_record": can_record(principal), "kinds": rd.KINDS, "columns": rd.COLUMNS}
        return {"triggers_section": triggers_section}

    def uow_mines(leagues):
        work = uow()
        return work.read(lambda: sorted(((m.id, f"{m.league} {m.mine_name}") for m in work.mines.find(
            status="listed", **({} if leagues is None else {"league": leagues}))), key=lambda p: p[1]))

    @api.route("/findings")
    class Findings(MethodView):
        @identity.requires(*READERS)
        @api.arguments(FindingsQuerySchema, location="query")
        @api.response(200, FindingSchema(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """What the daily sweep found, each once: warnings, marks, removal proposals and re-evaluation requests,
            with the situation cited and the reason (the region office sees every 盟市, a bureau or department its
            own)."""
            leagues = leagues_of(identity.current_principal(), args.get("league"))
            return area.finding_rows(uow(), leagues, args.get("status"))

    @api.route("/new-mines")
    class NewMines(MethodView):
        @identity.requires(*READERS)
        @api.arguments(ScopeQuerySchema, location="query")
        @api.response(200, NewMineSchema(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """New mines in production not yet on the list, with the date they must pass the evaluation by
            (正文 二(二): within two years of starting production), soonest first."""
            leagues = leagues_of(identity.current_principal(), args.get("league"))
            return area.new_mine_rows(uow(), leagues, today())

    @api.route("/mines/<mine_id>/abnormal-listings")
    class AbnormalListings(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(AbnormalListingSchema)
        @api.response(200, MineRecordsSchema)
        @document_errors(api, 401, 403, 404, 422)
        def post(self, body, mine_id):
            """Record that the mine's rights holder was put on the 矿业权人勘查开采信息公示异常名录 (and when it was
            taken off). The natural-resources side only, within its 盟市; the same record again changes nothing."""
            return bus.handle(area.RecordAbnormalListing(identity.current_principal(), mine_id, body["listed_on"],
                                                         body.get("removed_on")))

    @api.route("/mines/<mine_id>/utilisation-grades")
    class UtilisationGrades(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(UtilisationGradeSchema)
        @api.response(200, MineRecordsSchema)
        @document_errors(api, 401, 403, 404, 422)
        def post(self, body, mine_id):
            """Record the mine's 矿产资源开发利用水平 grade of a year (a later grade of the year replaces it)."""
            return bus.handle(area.RecordUtilisationGrade(identity.current_principal(), mine_id, body["year"],
                                                          body["grade"]))

    @api.route("/records/import")
    class ImportRecords(MethodView):
        @identity.requires(*WRITERS)
        @api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": ImportFormSchema}}})
        @api.response(200, ImportOutcomeSchema)
        @document_errors(api, 401, 403, 413, 422)
        def post(self):
            """Import 异常名录 entries or 开发利用水平 grades from an .xlsx or .csv file: every problem named by row and
            column and nothing stored when any row is wrong; importing the same file again changes nothing."""
            return import_file(bus, identity.current_principal(), load_import_form())

    def load_import_form() -> dict:
        try:
            return ImportFormSchema().load({**request.form.to_dict(), **request.files.to_dict()})
        except ValidationError as exc:
            raise InvalidInput("提交的数据有误，请按提示修改",
                               [FieldError(f, m) for f, ms in exc.normalized_messages().items()
                                for m in (ms if isinstance(ms, list) else [str(ms)])]) from None

    # -- the workspace's forms ---------------------------------------------------------------------------------
    def done(action) -> object:
        try:
            flash(action())
        except DomainError as exc:
            flash("未保存：" + exc.message)
            for error in exc.errors[:20]:
                if error.message != exc.message:
                    flash(f"{LABELS.get(error.field, error.field)}：{error.message}")
        return redirect(SECTION)

    def form_date(name: str):
        value = (request.form.get(name) or "").strip()
        if not value:
            return None
        day, why = rd.parse_date(value)
        if why:
            raise InvalidInput(why, [FieldError(name, why)])
        return day

    @pages.post("/records/abnormal")
    @identity.requires(*WRITERS)
    def record_abnormal_form():
        def action():
            outcome = bus.handle(area.RecordAbnormalListing(
                identity.current_principal(), request.form.get("mine_id", ""), form_date("listed_on"),
                form_date("removed_on")))
            return "已记录异常名录信息" if outcome["changed"] else "该记录已存在，未作改动"
        return done(action)

    @pages.post("/records/grades")
    @identity.requires(*WRITERS)
    def record_grade_form():
        def action():
            year = (request.form.get("year") or "").strip()
            outcome = bus.handle(area.RecordUtilisationGrade(
                identity.current_principal(), request.form.get("mine_id", ""), int(year) if year.isdigit() else None,
                request.form.get("grade")))
            return "已记录开发利用水平" if outcome["changed"] else "该记录已存在，未作改动"
        return done(action)

    @pages.post("/records/import")
    @identity.requires(*WRITERS)
    def import_form():
        def action():
            outcome = import_file(bus, identity.current_principal(), load_import_form())
            return (f"已导入{rd.KINDS[outcome['kind']]} {outcome['rows']} 行：新记录或更新 {outcome['changed']} 条，"
                    f"已存在 {outcome['unchanged']} 条")
        return done(action)
