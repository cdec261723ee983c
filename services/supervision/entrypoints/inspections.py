"""The inspections area's views (双随机、一公开): the region office keeps the pool, sets and publishes the plan and
draws; departments see their tasks and record results; anyone reads the published plans, the draw's inputs and the
results (`GET /api/v1/supervision/inspections/plans[/{year}]`, `/supervision/inspections/public`)."""
from __future__ import annotations

from flask import render_template
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared import identity
from shared.clock import beijing_date, utcnow
from shared.errors import FieldError, InvalidInput, NotFound
from shared.regions import LEAGUE_NAMES
from shared.schemas import Body, document_errors
from shared.web import AreaWeb
from supervision.adapters import inspections as queries
from supervision.adapters.situations import department_names, load_situations
from supervision.domain.inspections import OUTCOMES, PLAN_STATUS, YEARS
from supervision.service_layer.inspections import (
    AddInspector,
    DrawInspections,
    PublishPlan,
    RecordResult,
    SetInspectorActive,
    SetPlan,
)

STAFF = ("region_office", "bureau", "department_reviewer", "admin")
RECOMPUTE = '''import hashlib, math
from decimal import Decimal
h = lambda s: hashlib.sha256(s.encode()).hexdigest()
seed_for = lambda ids, value: h(h("\\n".join(ids)) + ":" + value)
rank = lambda ids, seed: sorted(ids, key=lambda i: h(seed + ":" + i))
d = plan["draw"]
for lg in d["leagues"]:
    if not lg["population"]:
        continue
    ranked = rank(lg["population"], seed_for(lg["population"], d["entered_value"]))
    assert ranked[:math.ceil(Decimal(lg["ratio"]) * len(lg["population"]))] == lg["selected"]
    ids = [p["id"] for p in lg["pool"]]
    dept = {p["id"]: p["department"] for p in lg["pool"]}
    for a in lg["assignments"]:
        order = rank(ids, seed_for(ids, d["entered_value"] + ":" + a["mine_id"]))
        second = next(i for i in order if dept[i] != dept[order[0]])
        assert [order[0], second] == a["inspectors"]'''


class InspectorBody(Body):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    department = fields.String(required=True, metadata={"description": "a department code of 附件3"})
    league = fields.String(required=True, metadata={"description": "盟市 (name)"})


class ActiveBody(Body):
    active = fields.Boolean(required=True)


class InspectorView(Schema):
    inspector_id = fields.String(required=True)
    name = fields.String(required=True)
    department = fields.String(required=True)
    department_name = fields.String(required=True)
    league = fields.String(required=True)
    active = fields.Boolean(required=True)


class PlanBody(Body):
    ratios = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True, metadata={
        "description": "盟市 → ratio of its listed mines to check (0 < ratio ≤ 1), every 盟市"})


class DrawBody(Body):
    entered_value = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "a value typed at draw time (e.g. a publicly known number of that day); a seed input"})


class ResultBody(Body):
    outcome = fields.String(required=True, validate=validate.OneOf(list(OUTCOMES), error="应为 conforms 或 problems"))
    problems = fields.String(allow_none=True, validate=validate.Length(max=5000))
    suggest_measure = fields.Boolean(load_default=False)
    situation = fields.String(allow_none=True, metadata={"description": "a situation code, e.g. rectify.5"})
    inspected_on = fields.Date(required=True)


class RatioView(Schema):
    league = fields.String(required=True)
    ratio = fields.String(required=True)


class PlanSummary(Schema):
    plan_id = fields.String(required=True)
    year = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["draft", "published", "drawn"]})
    status_label = fields.String(required=True)
    ratios = fields.List(fields.Nested(RatioView), required=True)
    published_at = fields.DateTime(allow_none=True)
    drawn_at = fields.DateTime(allow_none=True)


class ResultView(Schema):
    outcome = fields.String(required=True)
    outcome_label = fields.String(required=True)
    problems = fields.String(allow_none=True)
    suggest_measure = fields.Boolean(required=True)
    situation = fields.String(allow_none=True)
    inspected_on = fields.String(required=True)


class PartView(Schema):
    department = fields.String(required=True)
    department_name = fields.String(required=True)
    inspector_id = fields.String(required=True)
    inspector_name = fields.String(required=True)
    result = fields.Nested(ResultView, allow_none=True)


class InspectionView(Schema):
    inspection_id = fields.String(required=True)
    year = fields.Integer(required=True)
    mine_id = fields.String(required=True)
    mine_name = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    league = fields.String(required=True)
    county = fields.String(allow_none=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    outcome = fields.String(allow_none=True)
    outcome_label = fields.String(required=True)
    parts = fields.List(fields.Nested(PartView), required=True)


class PlanView(PlanSummary):
    draw = fields.Dict(allow_none=True, metadata={
        "description": "the draw record: algorithm, entered_value, pair_rule, leagues (population, ratio, seed, k, "
                       "selected, pool, assignments) — every input to recompute it (docs/supervision.md)"})
    inspections = fields.List(fields.Nested(InspectionView), required=True)


class TaskArgs(Schema):
    year = fields.Integer(validate=validate.Range(min=YEARS.start, max=YEARS.stop - 1))


def routes(web: AreaWeb, bus) -> None:
    api, pages, db = web.api, web.pages, web.db
    names = department_names()
    situations = {s.code: f"{measure.title}第{s.no}项：{s.text}" for measure in load_situations().measures
                  for s in measure.situations}

    def me():
        return identity.current_principal()

    def task_scope(principal) -> dict:
        """A department reviewer sees its department's tasks in its area; the office and admin every task; a
        bureau its 盟市's."""
        regional = principal.covers_area(None)
        if principal.role == "department_reviewer":
            return {"department": principal.department, "leagues": None if regional else [principal.area]}
        return {"department": None, "leagues": None if regional else [principal.area]}

    def year_plan(year: int) -> dict:
        found = queries.plan(db(), year, names)
        if found is None:
            raise NotFound(f"{year}年度抽查计划尚未公布")
        return found

    # -- API --------------------------------------------------------------------------------------------------
    @api.route("/inspections/inspectors")
    class Pool(MethodView):
        @identity.requires("region_office")
        @api.response(200, InspectorView(many=True))
        @document_errors(api, 401, 403)
        def get(self):
            """The inspector pool (检查人员库), by 盟市 and department."""
            return queries.pool(db(), names)

        @identity.requires("region_office")
        @api.arguments(InspectorBody)
        @api.response(201, InspectorView)
        @document_errors(api, 401, 403, 422)
        def post(self, body):
            """Add an inspector (name, department of 附件3, 盟市) to the pool."""
            doc = bus.handle(AddInspector(me(), body["name"], body["department"], body["league"]))
            return _inspector(doc, names), 201

    @api.route("/inspections/inspectors/<inspector_id>")
    class PoolMember(MethodView):
        @identity.requires("region_office")
        @api.arguments(ActiveBody)
        @api.response(200, InspectorView)
        @document_errors(api, 401, 403, 404, 422)
        def patch(self, body, inspector_id):
            """Take an inspector off the draws (active false) or back on."""
            return _inspector(bus.handle(SetInspectorActive(me(), inspector_id, body["active"])), names)

    @api.route("/inspections/plans")
    class Plans(MethodView):
        @identity.public
        @api.response(200, PlanSummary(many=True))
        def get(self):
            """The published yearly plans of 双随机、一公开, newest first (no sign-in)."""
            return queries.plans(db())

    @api.route("/inspections/plans/<int:year>")
    class Plan(MethodView):
        @identity.public
        @api.response(200, PlanView)
        @document_errors(api, 404)
        def get(self, year):
            """One year's published plan, its draw with every input (populations, seeds, inspector pools) to
            recompute it, and the inspections with their results (no sign-in)."""
            return year_plan(year)

        @identity.requires("region_office")
        @api.arguments(PlanBody)
        @api.response(200, PlanSummary)
        @document_errors(api, 401, 403, 409, 422)
        def put(self, body, year):
            """Set the year's ratios per 盟市 (a draft; refused once published)."""
            return _summary(bus.handle(SetPlan(me(), year, body["ratios"])))

    @api.route("/inspections/plans/<int:year>/publish")
    class Publish(MethodView):
        @identity.requires("region_office")
        @api.response(200, PlanSummary)
        @document_errors(api, 401, 403, 404, 422)
        def post(self, year):
            """Publish the year's plan (its ratios are then fixed); again: nothing changes."""
            return _summary(bus.handle(PublishPlan(me(), year)))

    @api.route("/inspections/plans/<int:year>/draw")
    class Draw(MethodView):
        @identity.requires("region_office")
        @api.arguments(DrawBody)
        @api.response(200, PlanView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, year):
            """Draw the mines of each 盟市 and two inspectors of two departments for each (sha256-rank-v1), once;
            the same value again answers the same draw, another is refused (409)."""
            bus.handle(DrawInspections(me(), year, body["entered_value"]))
            return year_plan(year)

    @api.route("/inspections/tasks")
    class Tasks(MethodView):
        @identity.requires(*STAFF)
        @api.arguments(TaskArgs, location="query")
        @api.response(200, InspectionView(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """The inspections to do: a department its own parts (in its 盟市), a bureau its 盟市's, the office all."""
            return queries.tasks(db(), names, year=args.get("year"), **task_scope(me()))

    @api.route("/inspections/tasks/<inspection_id>/results/<department>")
    class Result(MethodView):
        @identity.requires("department_reviewer", "region_office")
        @api.arguments(ResultBody)
        @api.response(200, InspectionView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, inspection_id, department):
            """The department's result: conforms, or problems found (their text), optionally suggesting a measure
            citing a situation. Recorded once; the same again changes nothing."""
            situation = body.get("situation") or None
            if situation and situation not in situations:
                raise InvalidInput("检查结果有误", [FieldError("situation", "不是附件2 四所列的情形")])
            bus.handle(RecordResult(me(), inspection_id, department, body["outcome"], body["inspected_on"],
                                    body.get("problems"), body.get("suggest_measure", False), situation))
            return queries.inspection(db(), inspection_id, names)

    # -- pages ------------------------------------------------------------------------------------------------
    @pages.context_processor
    def inspections_section():
        def section() -> dict:
            principal = me()
            year = beijing_date(utcnow()).year
            found = queries.plan(db(), year, names, published_only=False)
            mine = queries.tasks(db(), names, **task_scope(principal)) if principal else []
            open_tasks = [t for t in mine if t["status"] != "completed"]
            return {"year": year, "plan": found, "tasks": mine, "open": open_tasks}

        return {"inspections_section": section}

    @pages.get("/inspections")
    @pages.get("/inspections/<int:year>")
    @identity.requires("region_office", "bureau", "department_reviewer")
    def staff_page(year: int | None = None):
        """The year's plan (the office: pool, plan, draw) and the tasks (a department records its results)."""
        principal = me()
        year = year or beijing_date(utcnow()).year
        office = principal.role == "region_office"
        plans = {p["year"]: p for p in queries.plans(db(), published_only=False)}
        current = queries.plan(db(), year, names, published_only=False)
        return render_template("supervision/inspections.html", office=office, me=principal, year=year,
                               plan=current, plans=plans, leagues=LEAGUE_NAMES, departments=names,
                               pool=queries.pool(db(), names) if office else [],
                               tasks=queries.tasks(db(), names, year=year, **task_scope(principal)),
                               outcomes=OUTCOMES,
                               situations=situations, today=beijing_date(utcnow()).isoformat())

    @pages.get("/inspections/public")
    @pages.get("/inspections/public/<int:year>")
    @identity.public
    def public_page(year: int | None = None):
        """一公开: the published plans (or one year's), the draws' inputs and the results, and how to recompute."""
        published = [p for p in queries.plans(db()) if year is None or p["year"] == year]
        if year is not None and not published:
            raise NotFound(f"{year}年度抽查计划尚未公布")
        shown = [queries.plan(db(), p["year"], names) for p in published]
        return render_template("supervision/inspections_public.html", plans=shown, recompute=RECOMPUTE)


def _inspector(doc: dict, names: dict[str, str]) -> dict:
    return {"inspector_id": doc["_id"], "name": doc["name"], "department": doc["department"],
            "department_name": names.get(doc["department"], doc["department"]), "league": doc["league"],
            "active": doc["active"]}


def _summary(doc: dict) -> dict:
    return {"plan_id": doc["_id"], "year": doc["year"], "status": doc["status"],
            "status_label": PLAN_STATUS[doc["status"]],
            "ratios": [{"league": league, "ratio": ratio} for league, ratio in doc["ratios"].items()],
            "published_at": doc.get("published_at"), "drawn_at": doc.get("drawn_at")}
