"""资料核查与按比例实地抽查 on the web, and the public draws.

API under `/api/v1/evaluation`: `check-rounds` (the region office opens a round, draws the cases to visit and the
inspectors, records spot checks; the departments record their parts) and `draws` (public, no sign-in: every
draw record, recomputable by anyone). Pages: `/evaluation/checks`, `/evaluation/checks/{round_id}`, the spot-check
form, and the public `/evaluation/draws`, `/evaluation/draws/{draw_id}` (with how to recompute a draw)."""
from __future__ import annotations

from flask import render_template
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields, validate

from review_routing.domain.region.draws import PURPOSES
from review_routing.entrypoints.schemas import Body
from review_routing.service_layer.region import check_rounds as k
from review_routing.service_layer.region import draws as dr
from shared import identity
from shared.schemas import document_errors

CHECKERS = ("region_office", "department_reviewer")


def actor():
    from review_routing.entrypoints.http import actor as current

    return current()


# -- bodies -----------------------------------------------------------------------------------------------------
class OpenRoundBody(Body):
    ratio = fields.Raw(required=True, metadata={"description": "实地抽查比例，大于 0 且不超过 1（如 0.3）",
                                                "type": "string", "example": "0.3"})
    threshold = fields.Raw(load_default=None, allow_none=True, metadata={
        "description": "与评估结论的分差阈值（分），超过即为矛盾；默认 5", "type": "string", "example": "5"})
    review_ids = fields.List(fields.String(), load_default=list, metadata={
        "description": "纳入的案件（自治区评估环节案件编号，按此顺序作为抽取范围）；"
                       "留空则纳入全部评估报告已提交的案件"})
    title = fields.String(load_default=None, allow_none=True, metadata={"description": "批次名称"})


class DrawCasesBody(Body):
    entered_value = fields.String(required=True, metadata={
        "description": "抽取时由办公室输入的值（如当日某公开数据），与抽取范围共同决定随机种子"})


class RecusalBody(Body):
    username = fields.String(required=True, metadata={"description": "回避人员账号"})
    reason = fields.String(required=True, metadata={"description": "回避理由（如曾在该企业或评估机构任职）"})


class DrawInspectorsBody(Body):
    department = fields.String(required=True, metadata={"description": "部门代码"})
    count = fields.Integer(required=True, strict=True, metadata={"description": "抽取人数"})
    entered_value = fields.String(required=True, metadata={"description": "抽取时输入的值"})
    pool = fields.List(fields.String(), load_default=list, metadata={
        "description": "人员库（审核人员账号，按此顺序）；留空则为该部门全部自治区级审核人员"})
    recusals = fields.List(fields.Nested(RecusalBody), load_default=list, metadata={"description": "回避人员及理由"})


class PartBody(Body):
    passed = fields.Boolean(required=True, truthy={True}, falsy={False},
                            metadata={"description": "true：通过；false：有问题"})
    note = fields.String(load_default=None, allow_none=True, metadata={"description": "核查意见（有问题时必填）"})


class SpotCheckBody(Body):
    indicators = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "指标编号 → 评分输入（与 assessment.v1 相同：score / findings / deductions / items / "
                       "not_applicable + reason，及 record 核查记录：得分高于 0 的指标必填）"})
    prerequisites = fields.Dict(keys=fields.String(), load_default=dict, metadata={
        "description": "先决条件 P1–P5 → 是否满足"})
    note = fields.String(load_default=None, allow_none=True, metadata={"description": "抽查说明"})


class DrawListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=20, metadata={"description": "每页条数（1–200）"})
    offset = fields.Integer(load_default=0, metadata={"description": "偏移量"})
    purpose = fields.String(load_default=None, validate=validate.OneOf(list(PURPOSES)), metadata={
        "description": "用途：" + "、".join(f"{k_}（{v}）" for k_, v in PURPOSES.items())})


# -- answers ----------------------------------------------------------------------------------------------------
class DrawSchema(Schema):
    """A published draw record (sha256-rank-v1): everything needed to recompute it, no personal data."""
    draw_id = fields.String(required=True)
    purpose = fields.String(required=True, metadata={"enum": list(PURPOSES)})
    purpose_label = fields.String(required=True)
    title = fields.String(required=True)
    algorithm = fields.String(required=True, metadata={"description": "sha256-rank-v1：按 sha256(seed + \":\" + "
                                                                       "编号) 的十六进制值升序排列，取前 k 个"})
    population = fields.List(fields.String(), required=True, metadata={"description": "抽取范围（按列出的顺序）"})
    ratio = fields.String(required=True, metadata={"description": "比例；k = ceil(ratio × n)"})
    count = fields.Integer(allow_none=True, metadata={"description": "按固定数量抽取时的数量（此时 k = count）"})
    k = fields.Integer(required=True)
    seed = fields.String(required=True)
    seed_inputs = fields.Dict(required=True, metadata={"description": "种子的来源：抽取范围摘要与抽取时输入的值"})
    selected = fields.List(fields.String(), required=True, metadata={"description": "抽中的编号（按排序）"})
    drawn_at = fields.String(required=True)
    drawn_by = fields.String(required=True)
    context = fields.Dict()
    labels = fields.Dict(metadata={"description": "编号 → 公开名称（矿山、机构或人员姓名）"})
    excluded = fields.List(fields.Dict(), metadata={"description": "回避或不符合条件而排除的（编号、名称、理由）"})


class DrawSummarySchema(Schema):
    draw_id = fields.String(required=True)
    purpose = fields.String(required=True)
    purpose_label = fields.String(required=True)
    title = fields.String(required=True)
    algorithm = fields.String(required=True)
    ratio = fields.String(required=True)
    count = fields.Integer(allow_none=True)
    k = fields.Integer(required=True)
    population_size = fields.Integer(required=True)
    seed = fields.String(required=True)
    seed_inputs = fields.Dict()
    selected = fields.List(fields.String())
    drawn_at = fields.String(required=True)
    drawn_by = fields.String()
    context = fields.Dict()


class DrawPageSchema(Schema):
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    items = fields.List(fields.Nested(DrawSummarySchema), required=True)


class RoundSummarySchema(Schema):
    round_id = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "finished"]})
    status_label = fields.String(required=True)
    ratio = fields.String(required=True)
    threshold = fields.String(required=True)
    opened_at = fields.String(required=True)
    opened_by_name = fields.String()
    cases = fields.Integer(required=True)
    finished_cases = fields.Integer(required=True)
    parts_pending = fields.Integer(required=True)
    drawn = fields.Integer(allow_none=True, metadata={"description": "抽中实地抽查的案件数（未抽取为 null）"})
    case_draw_id = fields.String(allow_none=True)
    contradictions = fields.Integer()


class RoundViewSchema(RoundSummarySchema):
    cases_detail = fields.List(fields.Dict(), required=True, metadata={
        "description": "案件：各部门的资料核查（部门审核人员只看到本部门的部分）、是否抽中、实地抽查结果"})
    departments = fields.List(fields.Dict(), metadata={"description": "部门及其抽中的抽查人员"})
    case_draw = fields.Nested(DrawSchema, allow_none=True)
    under_review = fields.List(fields.Dict(), metadata={"description": "因抽查矛盾而复核的评估机构评估"})
    history = fields.List(fields.Dict())
    permissions = fields.Dict()


class CheckListSchema(Schema):
    rounds = fields.List(fields.Nested(RoundSummarySchema), required=True)
    parts = fields.List(fields.Dict(), required=True,
                        metadata={"description": "部门审核人员：本部门待录入和已录入的核查"})


class PartAnswerSchema(Schema):
    round_id = fields.String(required=True)
    review_id = fields.String(required=True)
    department = fields.String(required=True)
    department_name = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["pending", "passed", "problem"]})
    status_label = fields.String(required=True)
    note = fields.String(allow_none=True)
    by = fields.String(allow_none=True)
    by_name = fields.String(allow_none=True)
    at = fields.String(allow_none=True)
    case_finished = fields.Boolean(required=True)


class SpotAnswerSchema(Schema):
    round_id = fields.String(required=True)
    review_id = fields.String(required=True)
    assessment_id = fields.String(required=True, metadata={"description": "评分服务中抽查评分记录的编号"})
    total = fields.String(allow_none=True)
    verdict = fields.String(allow_none=True)
    verdict_label = fields.String()
    note = fields.String(allow_none=True)
    contradiction = fields.String(allow_none=True, metadata={"description": "与评估结论矛盾的说明（无矛盾为 null）"})
    inspectors = fields.List(fields.Dict())
    by = fields.String()
    by_name = fields.String()
    at = fields.String()
    case_finished = fields.Boolean(required=True)


def routes(api, pages, bus) -> None:
    @api.route("/check-rounds")
    class Rounds(MethodView):
        @identity.requires(*CHECKERS)
        @api.response(200, CheckListSchema)
        @document_errors(api, 401, 403)
        def get(self):
            """The region office: every check round. A department reviewer: its parts to record."""
            return bus.handle(k.ShowCheckRounds(actor()))

        @identity.requires("region_office")
        @api.arguments(OpenRoundBody)
        @api.response(201, RoundViewSchema)
        @document_errors(api, 401, 403, 409, 422)
        def post(self, body):
            """Open a round of 资料核查 and 按比例实地抽查 over evaluated cases (each moves to in_check)."""
            return bus.handle(k.OpenCheckRound(actor(), body["ratio"], body.get("threshold"),
                                               tuple(body.get("review_ids") or ()), body.get("title"))), 201

    @api.route("/check-rounds/<round_id>")
    class Round(MethodView):
        @identity.requires(*CHECKERS)
        @api.response(200, RoundViewSchema)
        @document_errors(api, 401, 403, 404)
        def get(self, round_id):
            """One round: cases, parts (a department sees its own), draws, spot checks."""
            return bus.handle(k.ShowCheckRound(actor(), round_id))

    @api.route("/check-rounds/<round_id>/draw")
    class DrawCases(MethodView):
        @identity.requires("region_office")
        @api.arguments(DrawCasesBody)
        @api.response(200, DrawSchema)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, round_id):
            """Draw the cases to visit on site (ratio of the round), publicly; a replay answers the same record."""
            return bus.handle(k.DrawSpotCheckCases(actor(), round_id, body["entered_value"]))

    @api.route("/check-rounds/<round_id>/inspectors")
    class DrawInspectors(MethodView):
        @identity.requires("region_office")
        @api.arguments(DrawInspectorsBody)
        @api.response(200, DrawSchema)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, round_id):
            """Draw a department's inspectors from its pool after recusals, publicly."""
            return bus.handle(k.DrawInspectors(actor(), round_id, body["department"], body["count"],
                                               body["entered_value"], tuple(body.get("pool") or ()),
                                               tuple(body.get("recusals") or ())))

    @api.route("/check-rounds/<round_id>/cases/<review_id>/parts/<department>")
    class Part(MethodView):
        @identity.requires(*CHECKERS)
        @api.arguments(PartBody)
        @api.response(200, PartAnswerSchema)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, round_id, review_id, department):
            """A department's part of a case's document check: passed, or a problem with its note."""
            return bus.handle(k.RecordCheckPart(actor(), round_id, review_id, department, body["passed"],
                                                body.get("note")))

    @api.route("/check-rounds/<round_id>/cases/<review_id>/spot-check")
    class SpotCheck(MethodView):
        @identity.requires("region_office")
        @api.arguments(SpotCheckBody)
        @api.response(200, SpotAnswerSchema)
        @document_errors(api, 401, 403, 404, 409, 422, 503)
        def post(self, body, round_id, review_id):
            """The spot-check assessment of a drawn case (scored by scoring, stage spot_check), compared with the
            evaluator's; a contradiction flags the case and puts the institution's evaluation under review."""
            return bus.handle(k.RecordSpotCheck(actor(), round_id, review_id, body["indicators"],
                                                body.get("prerequisites") or {}, body.get("note")))

    @api.route("/draws")
    class Draws(MethodView):
        @identity.public
        @api.arguments(DrawListArgs, location="query")
        @api.response(200, DrawPageSchema)
        @document_errors(api, 422)
        def get(self, args):
            """Every published draw, newest first (public: no sign-in)."""
            return bus.handle(dr.ListDraws(args["limit"], args["offset"], args.get("purpose")))

    @api.route("/draws/<draw_id>")
    class Draw(MethodView):
        @identity.public
        @api.response(200, DrawSchema)
        @document_errors(api, 404)
        def get(self, draw_id):
            """One draw record: population, ratio or count, seed and its inputs, algorithm, selection, labels,
            exclusions (public: anyone can recompute it)."""
            return bus.handle(dr.ShowDraw(draw_id))

    # -- pages --------------------------------------------------------------------------------------------------
    @pages.get("/checks")
    @identity.requires(*CHECKERS)
    def checks_page():
        me = actor()
        listing = bus.handle(k.ShowCheckRounds(me))
        evaluated = []
        if me.role == "region_office":
            from review_routing.service_layer.region import reviews as r

            evaluated = bus.handle(r.ShowRegionQueue(me, ("evaluated",)))
        return render_template("review_routing/region/checks.html", me=me, listing=listing, evaluated=evaluated)

    @pages.get("/checks/<round_id>")
    @identity.requires(*CHECKERS)
    def check_page(round_id):
        return render_template("review_routing/region/check.html", me=actor(),
                               v=bus.handle(k.ShowCheckRound(actor(), round_id)))

    @pages.get("/checks/<round_id>/cases/<review_id>/spot-check")
    @identity.requires("region_office")
    def spot_check_page(round_id, review_id):
        return render_template("review_routing/region/check_spot.html", me=actor(),
                               f=bus.handle(k.ShowSpotCheckForm(actor(), round_id, review_id)))

    @pages.get("/draws")
    @identity.public
    def draws_page():
        from flask import request

        try:
            offset = max(0, int(request.args.get("offset", 0)))
        except ValueError:
            offset = 0
        page = bus.handle(dr.ListDraws(50, offset))
        return render_template("review_routing/region/draws.html", page=page)

    @pages.get("/draws/<draw_id>")
    @identity.public
    def draw_page(draw_id):
        return render_template("review_routing/region/draw.html", d=bus.handle(dr.ShowDraw(draw_id)))
