"""The register area's views: the workspace page, the situations of dynamic management (public,
`GET /api/v1/supervision/situations`) and the register of mines under supervision (`GET /api/v1/supervision/mines`)."""
from __future__ import annotations

from flask import render_template
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared import identity
from shared.errors import NotPermitted
from shared.regions import LEAGUE_NAMES
from shared.web import AreaWeb
from supervision.adapters import queries
from supervision.adapters.situations import department_names, load_situations
from supervision.domain.situations import DETECTIONS, Situations


class DepartmentSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class SituationSchema(Schema):
    no = fields.Integer(required=True, metadata={"description": "the number in the notice's list"})
    code = fields.String(required=True, metadata={"description": "how a measure cites it, e.g. rectify.5"})
    text = fields.String(required=True, metadata={"description": "the notice's words"})
    raised_by = fields.List(fields.Nested(DepartmentSchema), required=True,
                            metadata={"description": "the departments of 附件3 that may raise it"})
    detection = fields.String(required=True, metadata={"enum": list(DETECTIONS)})
    detection_label = fields.String(required=True)
    trigger = fields.String(allow_none=True, metadata={"description": "the daily sweep's rule, when it finds it"})
    follows = fields.String(allow_none=True, metadata={"description": "the measure it follows from"})
    evidence = fields.List(fields.String(), required=True)


class SituationsSchema(Schema):
    mark = fields.List(fields.Nested(SituationSchema), required=True, metadata={"description": "标注 (3)"})
    rectify = fields.List(fields.Nested(SituationSchema), required=True, metadata={"description": "限期整改 (9)"})
    remove = fields.List(fields.Nested(SituationSchema), required=True, metadata={"description": "移出名录 (14)"})


class RegisterQuerySchema(Schema):
    league = fields.String(validate=validate.OneOf(LEAGUE_NAMES, error="不是自治区的盟市"),
                           metadata={"description": "one 盟市 (a bureau sees only its own)"})


class RegisteredMineSchema(Schema):
    mine_id = fields.String(required=True)
    mine_name = fields.String(required=True)
    enterprise_name = fields.String(required=True)
    credit_code = fields.String(allow_none=True)
    league = fields.String(required=True)
    county = fields.String(allow_none=True)
    minerals = fields.List(fields.String(), required=True)
    scale = fields.String(allow_none=True)
    scale_label = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    listed_on = fields.String(required=True)
    announcement_no = fields.String(required=True)
    source = fields.String(required=True, metadata={"description": "publicity | import (listed before the platform)"})
    production_status = fields.String(allow_none=True, metadata={
        "description": "intake's register: in_production | suspended | construction | closed (null: not registered)"})
    production_status_label = fields.String(required=True)
    stopped_since = fields.String(allow_none=True, metadata={"description": "停产 since (when suspended or closed)"})
    remaining_reserve_years = fields.String(allow_none=True, metadata={"description": "剩余储量可采年限"})
    licences_valid_to = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), metadata={
        "description": "licence (mining / safety / business) → valid to (null: 长期)"})


def leagues_seen(principal, league: str | None) -> list[str] | None:
    """The 盟市 whose mines `principal` may read (None: every one), narrowed to `league` when given; a 盟市 outside
    its area is refused."""
    if principal.covers_area(None):          # a regional account
        return None if league is None else [league]
    if league is not None and league != principal.area:
        raise NotPermitted(f"只能查看本盟市（{principal.area}）的在库矿山")
    return [principal.area]


def situations_view(situations: Situations, names: dict[str, str]) -> dict:
    return {measure.code: [{"no": s.no, "code": s.code, "text": s.text,
                            "raised_by": [{"code": d, "name": names[d]} for d in s.raised_by],
                            "detection": s.detection, "detection_label": DETECTIONS[s.detection],
                            "trigger": s.trigger, "follows": s.follows, "evidence": list(s.evidence)}
                           for s in measure.situations]
            for measure in situations.measures}


def routes(web: AreaWeb, bus) -> None:
    api, pages, db = web.api, web.pages, web.db
    situations, names = load_situations(), department_names()
    view = situations_view(situations, names)

    @pages.get("/")
    @identity.requires('region_office', 'bureau', 'department_reviewer', 'admin')
    def workspace():
        principal = identity.current_principal()
        mines = queries.register(db(), leagues_seen(principal, None))
        return render_template("supervision/workspace.html", situations=situations, view=view, mines=mines,
                               regional=principal.covers_area(None))

    @api.route("/situations")
    class SituationList(MethodView):
        @identity.public
        @api.response(200, SituationsSchema)
        def get(self):
            """The situations of 标注 (3), 限期整改 (9) and 移出名录 (14) in the notice's words and order, each with
            the departments that may raise it, how it is found and the evidence it needs (no sign-in)."""
            return view

    @api.route("/mines")
    class Register(MethodView):
        @identity.requires('region_office', 'bureau', 'department_reviewer', 'admin')
        @api.arguments(RegisterQuerySchema, location="query")
        @api.response(200, RegisteredMineSchema(many=True))
        def get(self, args):
            """The register of listed mines (在库绿色矿山) under supervision, by 盟市 and name: the region office sees
            every 盟市, a bureau or department its own."""
            return queries.register(db(), leagues_seen(identity.current_principal(), args.get("league")))

