"""The targets area's views (目标进度): `GET /api/v1/supervision/targets?year=` (a row per 盟市 and scale), its xlsx
export, the 盟市's yearly targets (region office), the construction contracts, and the dashboard page
`/supervision/targets` with its charts (Apache ECharts from our own static files, fetched by `make setup`)."""
from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared import identity
from shared.clock import beijing_date, utcnow
from shared.errors import DomainError, NotPermitted
from shared.regions import LEAGUE_NAMES
from shared.schemas import Body, document_errors
from shared.web import AreaWeb
from supervision.adapters import target_queries
from supervision.domain import targets
from supervision.service_layer.targets import RecordContractProgress, SetYearlyTarget, SignConstructionContract

STATIC = Path(__file__).resolve().parent.parent / "static"
ECHARTS = STATIC / "vendor" / "echarts" / "echarts.min.js"
READERS = ("region_office", "bureau")
WRITERS = ("region_office", "bureau")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEAGUE = validate.OneOf(LEAGUE_NAMES, error="不是自治区的盟市")
YEAR = validate.Range(min=targets.FIRST_YEAR, max=targets.LAST_YEAR,
                      error=f"年度应为 {targets.FIRST_YEAR}–{targets.LAST_YEAR}")
COLUMNS = ["盟市", "规模", "管理要求", "持证在产矿山", "其中剩余可采年限不足3年", "考核基数", "在库绿色矿山（基数内）",
           "占比（%）", "2028年目标（%）", "尚需", "年度目标", "在库绿色矿山（该规模全部）", "在库但无登记信息"]


class TargetsQuery(Schema):
    year = fields.Integer(validate=YEAR, metadata={"description": "the year (default: this year, Beijing time)"})
    league = fields.String(validate=LEAGUE, metadata={"description": "one 盟市 (a bureau sees only its own)"})


class TargetRow(Schema):
    league = fields.String(required=True)
    scale = fields.String(required=True, metadata={"enum": list(targets.SCALES)})
    scale_label = fields.String(required=True)
    managed = fields.String(required=True, metadata={"description": "target (90/80 % by 2028) | reference (参照)"})
    managed_label = fields.String(required=True)
    licensed_producing = fields.Integer(required=True, metadata={"description": "持证在产 (every licence valid)"})
    short_reserve = fields.Integer(required=True, metadata={"description": "of those, 剩余储量可采年限 < 3 (参照)"})
    base = fields.Integer(required=True, metadata={"description": "licensed producing less short reserve"})
    listed = fields.Integer(required=True, metadata={"description": "green mines (在库) of the base"})
    listed_total = fields.Integer(required=True, metadata={"description": "every green mine of this scale"})
    unregistered = fields.Integer(required=True, metadata={"description": "green mines without intake's facts"})
    share = fields.String(allow_none=True, metadata={"description": "listed / base in %, one decimal (null: no base)"})
    target = fields.String(allow_none=True, metadata={"description": "the 2028 share in % (null: 参照管理)"})
    needed = fields.Integer(allow_none=True, metadata={"description": "green mines still needed for the 2028 target"})
    met = fields.Boolean(allow_none=True)
    yearly_target = fields.Integer(allow_none=True, metadata={"description": "the 盟市's target for the year"})
    yearly_met = fields.Boolean(allow_none=True)


class ContractSummary(Schema):
    signed = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    in_progress = fields.Integer(required=True)
    breached = fields.Integer(required=True)


class LeagueSummary(Schema):
    league = fields.String(required=True)
    yearly_set = fields.Boolean(required=True)
    yearly_basis = fields.String(allow_none=True)
    contracts = fields.Nested(ContractSummary, required=True)


class TargetsSchema(Schema):
    year = fields.Integer(required=True)
    as_of = fields.String(required=True, metadata={"description": "the day counted: today, or 31 December"})
    target_year = fields.Integer(required=True)
    rows = fields.List(fields.Nested(TargetRow), required=True, metadata={"description": "a row per 盟市 and scale"})
    totals = fields.List(fields.Nested(TargetRow), required=True, metadata={"description": "the rows' sums per scale"})
    leagues = fields.List(fields.Nested(LeagueSummary), required=True)


class YearlyTargetIn(Body):
    large = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=100000))
    medium = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=100000))
    small = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=0, max=100000))
    basis = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200),
                          metadata={"description": "依据（文件名称或文号）"})


class YearlyTargetOut(Schema):
    league = fields.String(required=True)
    year = fields.Integer(required=True)
    targets = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True), required=True)
    basis = fields.String(allow_none=True)
    changed = fields.Boolean(required=True)


class TaskIn(Body):
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    due_on = fields.String(required=True)


class ContractIn(Body):
    mine_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    contract_no = fields.String(required=True, validate=validate.Length(min=1, max=100))
    signed_on = fields.String(required=True, metadata={"description": "YYYY-MM-DD"})
    deadline = fields.String(required=True, metadata={"description": "完成时限 YYYY-MM-DD"})
    liability = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "违约责任"})
    tasks = fields.List(fields.Nested(TaskIn), required=True)


class ProgressIn(Body):
    task_no = fields.Integer(required=True)
    progress = fields.Integer(required=True, metadata={"description": "0–100 (%)"})
    on = fields.String(allow_none=True, load_default=None, metadata={"description": "YYYY-MM-DD (default today)"})
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))


class TaskOut(Schema):
    no = fields.Integer(required=True)
    text = fields.String(required=True)
    due_on = fields.String(required=True)
    progress = fields.Integer(required=True)
    updated_on = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class ContractOut(Schema):
    contract_id = fields.String(required=True)
    league = fields.String(required=True)
    mine_id = fields.String(required=True)
    mine_name = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    scale = fields.String(allow_none=True)
    contract_no = fields.String(required=True)
    signed_on = fields.String(required=True)
    deadline = fields.String(required=True)
    liability = fields.String(required=True)
    tasks = fields.List(fields.Nested(TaskOut), required=True)
    progress = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["in_progress", "completed", "breached"]})
    status_label = fields.String(required=True)
    overdue_tasks = fields.List(fields.Integer(), required=True)


class ContractsQuery(Schema):
    league = fields.String(validate=LEAGUE)


def leagues_seen(principal, league: str | None) -> list[str] | None:
    """The 盟市 `principal` may read (None: every one), narrowed to `league`; another 盟市 is refused."""
    if principal.covers_area(None):
        return None if league is None else [league]
    if league is not None and league != principal.area:
        raise NotPermitted(f"只能查看本盟市（{principal.area}）的目标进度")
    return [principal.area]


def acting_area(principal) -> str | None:
    return None if principal.covers_area(None) else principal.area


def today():
    return beijing_date(utcnow())


def export_rows(view: dict) -> list[list]:
    return [[r["league"], r["scale_label"], r["managed_label"], r["licensed_producing"], r["short_reserve"], r["base"],
             r["listed"], None if r["share"] is None else float(r["share"]),
             None if r["target"] is None else float(r["target"]), r["needed"], r["yearly_target"], r["listed_total"],
             r["unregistered"]] for r in [*view["rows"], *view["totals"]]]


def xlsx(view: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = f"{view['year']}年目标进度"
    sheet.append([f"绿色矿山建设目标进度（{view['year']}年，统计日 {view['as_of']}）"])
    sheet.append(COLUMNS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in export_rows(view):
        sheet.append(row)
    for i in range(1, len(COLUMNS) + 1):
        sheet.column_dimensions[get_column_letter(i)].width = 14
    sheet.freeze_panes = "A3"
    contracts = book.create_sheet("建设合同")
    contracts.append(["盟市", "已签订", "已完成", "履行中", "违约"])
    for league in view["leagues"]:
        c = league["contracts"]
        contracts.append([league["league"], c["signed"], c["completed"], c["in_progress"], c["breached"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def routes(web: AreaWeb, bus) -> None:
    api, pages, db = web.api, web.pages, web.db
    # our own static files (the vendored ECharts with its licence, the dashboard's script) under /supervision/static/
    pages.register_blueprint(Blueprint("assets", __name__, static_folder=str(STATIC), static_url_path="/static"))

    def progress(args) -> dict:
        principal = identity.current_principal()
        year = args.get("year") or today().year
        return target_queries.progress(db(), year, today(), leagues_seen(principal, args.get("league")))

    @api.route("/targets")
    class Targets(MethodView):
        @identity.requires(*READERS)
        @api.arguments(TargetsQuery, location="query")
        @api.response(200, TargetsSchema)
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """Progress toward the 2028 targets (正文 一) for a year: a row per 盟市 and scale (licensed producing
            mines, green mines, share, target, the 盟市's yearly target) with the region's totals and each 盟市's
            construction contracts; the region office sees every 盟市, a bureau its own."""
            return progress(args)

    @api.route("/targets.xlsx")
    class TargetsExport(MethodView):
        @identity.requires(*READERS)
        @api.arguments(TargetsQuery, location="query")
        @api.response(200, description="目标进度 (.xlsx)", content_type=XLSX)
        @api.doc(responses={"200": {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """The same figures as `GET /targets` as an Excel workbook (the rows, the totals, the contracts)."""
            view = progress(args)
            response = Response(xlsx(view), mimetype=XLSX)
            filename = quote(f"绿色矿山建设目标进度-{view['year']}.xlsx")
            response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
            return response

    @api.route("/targets/yearly/<int:year>/<league>")
    class YearlyTargets(MethodView):
        @identity.requires("region_office")
        @api.arguments(YearlyTargetIn)
        @api.response(200, YearlyTargetOut)
        @document_errors(api, 401, 403, 422)
        def put(self, body, year, league):
            """The region office enters a 盟市's yearly target (正文 二（二）): green mines of the licensed producing
            base by the end of the year, per scale; a change is kept with its trail."""
            return bus.handle(SetYearlyTarget(league, year, {s: body.get(s) for s in targets.SCALES},
                                              body.get("basis"), identity.current_principal().username))

    @api.route("/contracts")
    class Contracts(MethodView):
        @identity.requires(*READERS)
        @api.arguments(ContractsQuery, location="query")
        @api.response(200, ContractOut(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """The green-mine construction contracts (正文 二（二）) with their tasks, progress and status."""
            leagues = leagues_seen(identity.current_principal(), args.get("league"))
            return target_queries.contracts(db(), leagues, today())

        @identity.requires(*WRITERS)
        @api.arguments(ContractIn)
        @api.response(201, ContractOut)
        @document_errors(api, 401, 403, 404, 422)
        def post(self, body):
            """A 盟市 records a contract signed with a mine's 采矿权人: tasks, deadlines, 违约责任 (a bureau only
            for its own 盟市)."""
            principal = identity.current_principal()
            cid = bus.handle(SignConstructionContract(body.pop("mine_id"), body, acting_area(principal),
                                                      principal.username))
            return next(c for c in target_queries.contracts(db(), None, today()) if c["contract_id"] == cid), 201

    @api.route("/contracts/<contract_id>/progress")
    class ContractProgress(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(ProgressIn)
        @api.response(200, ContractOut)
        @document_errors(api, 401, 403, 404, 422)
        def post(self, body, contract_id):
            """A task's progress (0–100 %) as of a day; the contract is breached when a task is past its due date,
            or the contract past its deadline, unfinished."""
            principal = identity.current_principal()
            bus.handle(RecordContractProgress(contract_id, body["task_no"], body["progress"], body.get("on"),
                                              body.get("note"), acting_area(principal), principal.username))
            return next(c for c in target_queries.contracts(db(), None, today()) if c["contract_id"] == contract_id)

    @pages.get("/targets")
    @identity.requires(*READERS)
    def dashboard():
        principal = identity.current_principal()
        try:
            year = int(request.args.get("year") or today().year)
        except ValueError:
            year = today().year
        year = min(max(year, targets.FIRST_YEAR), targets.LAST_YEAR)
        view = target_queries.progress(db(), year, today(), leagues_seen(principal, None))
        return render_template("supervision/targets.html", view=view, year=year, charts=ECHARTS.is_file(),
                               regional=principal.covers_area(None), leagues=LEAGUE_NAMES,
                               contracts=target_queries.contracts(db(), leagues_seen(principal, None), today()))

    @pages.post("/targets/yearly")
    @identity.requires("region_office")
    def set_yearly():
        form = request.form
        try:
            year = int(form.get("year", ""))
            values = {s: (int(form[s]) if form.get(s, "").strip() else None) for s in targets.SCALES}
            bus.handle(SetYearlyTarget(form.get("league", ""), year, values, form.get("basis") or None,
                                       identity.current_principal().username))
            flash(f"已保存{form.get('league')} {year} 年度目标")
        except ValueError:
            flash("年度目标应为整数")
            year = None
        except DomainError as error:
            flash(error.message + "：" + "；".join(f"{k} {'、'.join(v)}" for k, v in error.error_map().items()))
            year = None
        return redirect(url_for("supervision_pages.dashboard", year=year or None))
