"""The measures area's views (监管事项): `GET/POST /api/v1/supervision/measures`, one measure and its steps
(`…/measures/{id}/rectification | acceptance | rejection | lift | review | resubmission | withdrawal | decision`),
and the pages: the list with the raising form (`/supervision/measures`), one measure with its history and the form of
whoever must act (`/supervision/measures/{id}`), and a panel on the workspace (`_measures.html`). An enterprise sees
its own mines' measures (a link from its intake workspace) and answers its 限期整改 there."""
from __future__ import annotations

from flask import abort, render_template, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared import identity
from shared.errors import NotFound, NotPermitted
from shared.regions import LEAGUE_NAMES
from shared.schemas import document_errors
from shared.web import AreaWeb
from supervision.adapters import measure_queries, queries
from supervision.adapters.situations import department_names, load_situations
from supervision.domain import measures as dm
from supervision.service_layer import measures as sm

STAFF = ("region_office", "bureau", "department_reviewer", "admin")
RAISERS = ("region_office", "bureau", "department_reviewer")
READERS = (*STAFF, "enterprise")


# -- schemas ---------------------------------------------------------------------------------------------------
class EvidenceSchema(Schema):
    ref = fields.String(metadata={"description": "a stored document's id or address"})
    text = fields.String(metadata={"description": "a written record (inspection, finding)"})


def _evidence(**kw):
    return fields.List(fields.Nested(EvidenceSchema), load_default=list, validate=validate.Length(max=dm.MAX_EVIDENCE),
                       **kw)


class MeasureQuerySchema(Schema):
    league = fields.String(validate=validate.OneOf(LEAGUE_NAMES, error="不是自治区的盟市"))
    kind = fields.String(validate=validate.OneOf(list(dm.KINDS)))
    state = fields.String(validate=validate.OneOf(list(dm.STATES)))
    mine_id = fields.String(validate=validate.Length(max=100))
    open = fields.Boolean(load_default=False, metadata={"description": "only measures still in progress"})


class RaiseBody(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(list(dm.KINDS), error="须为 mark、rectify 或 remove"),
                         metadata={"description": "mark 标注 / rectify 限期整改 / remove 移出名录"})
    mine_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    situation = fields.String(required=True, validate=validate.Length(max=20),
                              metadata={"description": "the situation cited, e.g. rectify.5"})
    reason = fields.String(required=True, metadata={"description": "the problem (for a mark: its public reason)"})
    evidence = _evidence()
    deadline = fields.Date(load_default=None, metadata={"description": "限期整改: the deadline"})


class ReportBody(Schema):
    report = fields.String(required=True)
    evidence = _evidence()


class OpinionBody(Schema):
    opinion = fields.String(required=True)


class RejectBody(Schema):
    opinion = fields.String(required=True)
    deadline = fields.Date(load_default=None, metadata={"description": "a new deadline (default: the same)"})


class LiftBody(Schema):
    reason = fields.String(required=True)


class ReviewBody(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["return", "prepare"]),
                           metadata={"description": "return 退回上报单位 / prepare 提请协调机制审定"})
    opinion = fields.String(required=True)


class ResubmitBody(Schema):
    note = fields.String(required=True)
    evidence = _evidence()


class WithdrawBody(Schema):
    note = fields.String(required=True)


class DecisionBody(Schema):
    meeting_on = fields.Date(required=True, metadata={"description": "the 协调机制's meeting date"})
    document_no = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(list(dm.OUTCOMES)))
    reason = fields.String(required=True, metadata={"description": "public reason"})
    follow_up_department = fields.String(load_default=None, allow_none=True)
    follow_up_note = fields.String(load_default="")


class MeasureSchema(Schema):
    measure_id = fields.String(required=True)
    kind = fields.String(required=True)
    kind_label = fields.String(required=True)
    mine_id = fields.String(required=True)
    mine_name = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    credit_code = fields.String(allow_none=True)
    league = fields.String(required=True)
    county = fields.String(allow_none=True)
    situation = fields.String(required=True)
    situation_text = fields.String(required=True)
    department = fields.String(allow_none=True)
    raised_by = fields.String(required=True)
    raised_by_name = fields.String(required=True)
    raised_area = fields.String(required=True)
    raised_on = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    step = fields.String(allow_none=True)
    step_label = fields.String(allow_none=True)
    due_on = fields.String(allow_none=True)
    deadline = fields.String(allow_none=True)
    is_open = fields.Boolean(required=True)
    is_overdue = fields.Boolean(required=True)
    reason = fields.String(required=True)
    evidence = fields.List(fields.Dict(), required=True)
    overdue = fields.List(fields.String(), required=True)
    rounds = fields.Integer(required=True)
    finding_key = fields.String(allow_none=True)
    follows = fields.String(allow_none=True)
    follow_mark = fields.String(allow_none=True)
    proposed_removal = fields.String(allow_none=True)
    report = fields.Dict(allow_none=True)
    decision = fields.Dict(allow_none=True)
    follow_up = fields.Dict(allow_none=True)
    lift_reason = fields.String(allow_none=True)
    history = fields.List(fields.Dict(), required=True, metadata={"description": "who did what, when (append-only)"})
    version = fields.Integer(allow_none=True)


# -- who reads what ---------------------------------------------------------------------------------------------
def scope(principal, league: str | None = None) -> dict:
    """The filter of what `principal` may read: every 盟市 (regional), its own 盟市, or its enterprise's mines."""
    if principal.role == "enterprise":
        return {"credit_code": principal.enterprise or "-"}
    if principal.covers_area(None):
        return {"leagues": None if league is None else [league]}
    if league is not None and league != principal.area:
        raise NotPermitted(f"只能查看本盟市（{principal.area}）的监管事项")
    return {"leagues": [principal.area]}


def may_read(principal, view: dict) -> bool:
    if principal.role == "enterprise":
        return bool(principal.enterprise) and view["credit_code"] == principal.enterprise
    return principal.covers_area(view["league"])


def actions_for(principal, v: dict) -> list[str]:
    """The forms the page shows `principal` (the domain decides again when it is used)."""
    state, role = v["state"], principal.role
    mine = principal.role == "enterprise" and principal.enterprise == v["credit_code"]
    responsible = role == "region_office" or (
        dm.department_of(principal) == v["department"] and principal.covers_area(v["league"]))
    return [name for name, ok in (
        ("rectification", v["kind"] == "rectify" and state == "rectifying" and mine),
        ("acceptance", v["kind"] == "rectify" and state == "submitted" and responsible and role != "region_office"),
        ("lift", v["kind"] == "mark" and state == "placed" and responsible and not v["follows"]),
        ("review", state == "reported" and role == "region_office"),
        ("resubmission", state == "returned" and responsible and role != "region_office"),
        ("decision", state == "prepared" and role == "region_office")) if ok]


def routes(web: AreaWeb, bus) -> None:
    api, pages, db = web.api, web.pages, web.db
    situations = load_situations()

    def actor():
        return identity.current_principal()

    def readable(measure_id: str) -> dict:
        v = measure_queries.measure(db(), measure_id)
        if v is None or not may_read(actor(), v):
            raise NotFound(f"没有监管事项 {measure_id}")
        return v

    @api.route("/measures")
    class Measures(MethodView):
        @identity.requires(*READERS)
        @api.arguments(MeasureQuerySchema, location="query")
        @api.response(200, MeasureSchema(many=True))
        @document_errors(api, 403, 422)
        def get(self, args):
            """Measures (监管事项), newest first: the region office every 盟市, a bureau or department its own, an
            enterprise its own mines'."""
            return measure_queries.measures(db(), **scope(actor(), args.get("league")), mine_id=args.get("mine_id"),
                                            kind=args.get("kind"), state=args.get("state"), open_only=args["open"])

        @identity.requires(*RAISERS)
        @api.arguments(RaiseBody)
        @api.response(201, MeasureSchema)
        @document_errors(api, 403, 404, 409, 422)
        def post(self, body):
            """Raise a 标注, 限期整改 (with its deadline) or 移出 report on a listed mine, citing a situation its
            department may raise, within its 盟市 (a regional department anywhere), with evidence."""
            return bus.handle(sm.RaiseMeasure(actor(), body["kind"], body["mine_id"], body["situation"],
                                              body["reason"], tuple(body["evidence"]), body["deadline"]))

    @api.route("/measures/<measure_id>")
    class OneMeasure(MethodView):
        @identity.requires(*READERS)
        @api.response(200, MeasureSchema)
        @document_errors(api, 404)
        def get(self, measure_id):
            """One measure with its evidence, its current step and due date, and its history."""
            return readable(measure_id)

    def step(path: str, schema, make, doc: str):
        """POST /measures/{id}/<path>: one step, read by `schema`, made into a command by `make`."""
        def post(self, body, measure_id):
            readable(measure_id)
            return bus.handle(make(actor(), measure_id, body))

        post.__doc__ = doc
        post = identity.requires(*READERS)(api.arguments(schema)(api.response(200, MeasureSchema)(
            document_errors(api, 403, 404, 409, 422)(post))))
        view = type(f"Measure{path.title()}", (MethodView,), {"post": post})
        api.route(f"/measures/<measure_id>/{path}", endpoint=f"measure_{path}")(view)

    step("rectification", ReportBody, lambda a, i, b: sm.SubmitRectification(a, i, b["report"], tuple(b["evidence"])),
         "The enterprise submits its rectification report and evidence (限期整改).")
    step("acceptance", OpinionBody, lambda a, i, b: sm.AcceptRectification(a, i, b["opinion"]),
         "The raising department accepts the rectification (its 标注 is lifted).")
    step("rejection", RejectBody, lambda a, i, b: sm.RejectRectification(a, i, b["opinion"], b["deadline"]),
         "The raising department rejects it: back to the enterprise with the same or a new deadline.")
    step("lift", LiftBody, lambda a, i, b: sm.LiftMark(a, i, b["reason"]),
         "The raising department lifts a 标注 whose situation is resolved.")
    step("review", ReviewBody, lambda a, i, b: sm.ReviewRemoval(a, i, b["action"], b["opinion"]),
         "The region office (协调机制办公室) returns a removal report or prepares the 协调机制's decision.")
    step("resubmission", ResubmitBody, lambda a, i, b: sm.ResubmitRemoval(a, i, b["note"], tuple(b["evidence"])),
         "The reporting department reports a returned removal again.")
    step("withdrawal", WithdrawBody, lambda a, i, b: sm.WithdrawRemoval(a, i, b["note"]),
         "The reporting department withdraws a returned removal report.")
    step("decision", DecisionBody, lambda a, i, b: sm.RecordDecision(
        a, i, b["meeting_on"], b["document_no"], b["outcome"], b["reason"], b["follow_up_department"],
        b["follow_up_note"]),
        "The region office records the 协调机制's decision (meeting date, document number, outcome removed / kept).")

    # -- pages ------------------------------------------------------------------------------------------------------
    names = department_names()

    @pages.context_processor
    def _measures_panel():
        def workspace_measures():
            principal = actor()
            if principal is None or principal.role not in STAFF:
                return []
            return measure_queries.measures(db(), **scope(principal), open_only=True, limit=50)

        return {"workspace_measures": workspace_measures}

    @pages.get("/measures")
    @identity.requires(*READERS)
    def measures_page():
        principal = actor()
        only_open = request.args.get("open") == "1"
        rows = measure_queries.measures(db(), **scope(principal), open_only=only_open)
        mines = queries.register(db(), scope(principal)["leagues"]) \
            if principal.role in RAISERS else []
        dept = dm.department_of(principal)
        raisable = {m.code: [s for s in m.situations if dept in s.raised_by and s.detection != "follows"]
                    for m in situations.measures} if dept else {}
        return render_template("supervision/measures.html", rows=rows, mines=mines, raisable=raisable,
                               kinds=dm.KINDS, only_open=only_open, me=principal,
                               preselect=request.args.get("mine_id", ""))

    @pages.get("/measures/<measure_id>")
    @identity.requires(*READERS)
    def measure_page(measure_id):
        try:
            v = readable(measure_id)
        except NotFound:
            abort(404)
        principal = actor()
        return render_template("supervision/measure.html", v=v, me=principal, actions=actions_for(principal, v),
                               departments=names, outcomes=dm.OUTCOMES, step_labels=dm.STEP_LABELS)
