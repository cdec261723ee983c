"""Commissioning (委托) on the web: the institution draw and the commission (the region office), acceptance with
both pledges and decline / recusal (the institution's evaluators). API under `/api/v1/evaluation/commissions`,
pages under `/evaluation/commissions`; the case page's and the workspace's forms are the partials
`region/_commission_form.html` and `region/_commission_batch.html`."""
from __future__ import annotations

from flask import render_template, request
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields, validate

from review_routing.domain.region.commissions import STATUSES, load_pledges
from review_routing.entrypoints.schemas import Body
from review_routing.service_layer.region import commissions as cm
from shared import identity
from shared.schemas import document_errors

READERS = ("region_office", "admin", "evaluator", "bureau")
IDS = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                  validate=validate.Length(min=1, max=cm.MAX_BATCH, error=f"请选择 1 至 {cm.MAX_BATCH} 件案件"),
                  metadata={"description": "案件编号（RegionReview id，<application_id>.v<n>）；多件即批量委托"})


def actor():
    from review_routing.entrypoints.http import actor as current

    return current()


# -- bodies ---------------------------------------------------------------------------------------------------
class DrawBody(Body):
    review_ids = IDS
    entered_value = fields.String(required=True, validate=validate.Length(max=cm.MAX_ENTERED), metadata={
        "description": "抽取时录入的随机值（如当日公开的某项数据）；种子 = sha256(符合条件机构列表摘要:录入值)"})


class CommissionBody(Body):
    review_ids = IDS
    institution_id = fields.String(required=True, validate=validate.Length(min=1, max=100),
                                   metadata={"description": "委托的评估机构（须为该次抽取的符合条件机构）"})
    draw_id = fields.String(required=True, validate=validate.Length(min=1, max=64),
                            metadata={"description": "评估机构抽取记录"})
    note = fields.String(load_default="", validate=validate.Length(max=1000), metadata={"description": "委托说明"})
    reason = fields.String(load_default="", validate=validate.Length(max=1000),
                           metadata={"description": "未选抽取结果第一位时必填：选择理由"})


class PledgeBody(Body):
    code = fields.String(required=True, validate=validate.Length(max=32),
                         metadata={"description": "承诺：" + "、".join(f"{p.code}（{p.title}）"
                                                                   for p in load_pledges().pledges)})
    accepted = fields.Boolean(required=True, metadata={"description": "已阅读并签署"})


class AcceptBody(Body):
    pledges = fields.List(fields.Nested(PledgeBody), required=True,
                          metadata={"description": "两项承诺均须签署（accepted: true）"})
    signer_name = fields.String(required=True, validate=validate.Length(max=50),
                                metadata={"description": "签署人姓名"})
    signer_title = fields.String(required=True, validate=validate.Length(max=50),
                                 metadata={"description": "签署人职务"})


class DeclineBody(Body):
    reason = fields.String(required=True, validate=validate.Length(max=1000),
                           metadata={"description": "拒绝或回避的理由"})
    conflict = fields.Boolean(load_default=False,
                              metadata={"description": "因与企业存在利益冲突而回避（记入机构的利益冲突申报）"})


class ListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(metadata={"description": "状态，多个以逗号分隔：" + "、".join(
        f"{k}（{v}）" for k, v in STATUSES.items())})
    review_id = fields.String(metadata={"description": "只看某件案件的委托"})


# -- answers --------------------------------------------------------------------------------------------------
class RankedInstitution(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    rank = fields.Integer(required=True)


class ExcludedInstitution(Schema):
    id = fields.String(required=True)
    label = fields.String()
    reason = fields.String(required=True)


class DrawAnswer(Schema):
    draw_id = fields.String(required=True)
    draw = fields.Dict(required=True, metadata={"description": "公开的抽取记录（可据此复算）"})
    proposal = fields.Nested(RankedInstitution, required=True, metadata={"description": "建议委托：排序第一位"})
    ranking = fields.List(fields.Nested(RankedInstitution), required=True)
    excluded = fields.List(fields.Nested(ExcludedInstitution), required=True,
                           metadata={"description": "不符合条件的机构及原因（禁入、利益冲突、回避）"})
    review_ids = fields.List(fields.String(), required=True)


class Institution(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class CommissionSummary(Schema):
    commission_id = fields.String(required=True)
    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    version_no = fields.Integer(required=True)
    case_no = fields.String(allow_none=True)
    league = fields.String()
    enterprise_name = fields.String(allow_none=True)
    mine_name = fields.String(allow_none=True)
    institution = fields.Nested(Institution, required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    status_label = fields.String(required=True)
    due_date = fields.String(required=True, metadata={"description": "接受委托的期限（含当日）"})
    overdue = fields.Boolean()
    commissioned_at = fields.String()
    commissioned_by = fields.String()
    commissioned_by_name = fields.String()
    draw_id = fields.String()
    signed_at = fields.String(allow_none=True)
    ended = fields.Dict(allow_none=True,
                        metadata={"description": "拒绝、回避或逾期：{outcome, reason, conflict, at, by}"})


class PledgeText(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    version = fields.String(required=True)
    text = fields.String(required=True)
    sha256 = fields.String(required=True)


class Acceptance(Schema):
    signer_name = fields.String(required=True)
    signer_title = fields.String(required=True)
    signed_by = fields.String(required=True)
    signed_at = fields.String(required=True)
    pledges = fields.List(fields.Nested(PledgeText), required=True,
                          metadata={"description": "签署的承诺：文本版本、所签全文及其 SHA-256"})


class CommissionView(CommissionSummary):
    enterprise = fields.Dict()
    mine = fields.Dict()
    proposed_institution = fields.Dict()
    choice_reason = fields.String(allow_none=True)
    note = fields.String()
    acceptance = fields.Nested(Acceptance, allow_none=True)
    pledge_texts = fields.List(fields.Nested(PledgeText),
                               metadata={"description": "待接受时：须签署的两项承诺全文"})
    history = fields.List(fields.Dict())
    permissions = fields.Dict()


class CommissionsAnswer(Schema):
    commissions = fields.List(fields.Nested(CommissionView), required=True)


def routes(api, pages, bus) -> None:
    @api.route("/commissions/draw")
    class Draw(MethodView):
        @identity.requires("region_office")
        @api.arguments(DrawBody)
        @api.response(201, DrawAnswer)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body):
            """Draw the eligible institutions for one case or a batch (sha256-rank-v1, the whole ranking
            published); the proposal is the first."""
            return bus.handle(cm.DrawInstitutions(actor(), tuple(body["review_ids"]), body["entered_value"]))

    @api.route("/commissions")
    class Commissions(MethodView):
        @identity.requires(*READERS)
        @api.arguments(ListArgs, location="query")
        @api.response(200, CommissionSummary(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """Commissions (the region office: all; an evaluator: its institution's), those awaiting acceptance
            first."""
            statuses = tuple(s.strip() for s in (args.get("status") or "").split(",") if s.strip())
            return bus.handle(cm.ListCommissions(actor(), statuses, args.get("review_id")))

        @identity.requires("region_office")
        @api.arguments(CommissionBody)
        @api.response(201, CommissionsAnswer)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body):
            """Commission an eligible institution of the draw for each case (another than the draw's first needs
            a reason); a banned or conflicted institution is refused (409)."""
            return bus.handle(cm.CommissionInstitution(actor(), tuple(body["review_ids"]), body["institution_id"],
                                                       body["draw_id"], body.get("note") or "",
                                                       body.get("reason") or ""))

    @api.route("/commissions/<commission_id>")
    class One(MethodView):
        @identity.requires(*READERS)
        @api.response(200, CommissionView)
        @document_errors(api, 401, 403, 404)
        def get(self, commission_id):
            """One commission: case, institution, draw, the pledges to sign or signed (with their hashes)."""
            return bus.handle(cm.ShowCommission(actor(), commission_id))

    @api.route("/commissions/<commission_id>/accept")
    class Accept(MethodView):
        @identity.requires("evaluator")
        @api.arguments(AcceptBody)
        @api.response(200, CommissionView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, commission_id):
            """Accept the commission by the due date, signing both pledges (a replay changes nothing)."""
            return bus.handle(cm.AcceptCommission(actor(), commission_id, tuple(body["pledges"]),
                                                  body["signer_name"], body["signer_title"]))

    @api.route("/commissions/<commission_id>/decline")
    class Decline(MethodView):
        @identity.requires("evaluator")
        @api.arguments(DeclineBody)
        @api.response(200, CommissionView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, commission_id):
            """Decline, or recuse for a conflict of interest (learnt by the register); the case goes back to the
            region office's queue."""
            return bus.handle(cm.DeclineCommission(actor(), commission_id, body["reason"],
                                                   bool(body.get("conflict"))))

    @pages.get("/commissions")
    @identity.requires("region_office", "evaluator")
    def commissions_page():
        me = actor()
        statuses = tuple(s for s in request.args.getlist("status") if s in STATUSES)
        items = bus.handle(cm.ListCommissions(me, statuses))
        # An evaluator accepts (or declines) right here: the full view of each commission awaiting it.
        pending = [bus.handle(cm.ShowCommission(me, c["commission_id"])) for c in items
                   if me.role == "evaluator" and c["status"] == "awaiting_acceptance"]
        return render_template("review_routing/region/commissions.html", items=items, me=me, statuses=STATUSES,
                               args=request.args, pending=pending)

    @pages.get("/commissions/<commission_id>")
    @identity.requires(*READERS)
    def commission_page(commission_id):
        return render_template("review_routing/region/commission.html",
                               c=bus.handle(cm.ShowCommission(actor(), commission_id)), me=actor())
