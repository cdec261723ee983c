"""The case through the region stage on the web: the region office's queue, the case page with the decision,
reminders (催办) and flags. API under `/api/v1/evaluation/reviews`, pages under `/evaluation/`."""
from __future__ import annotations

from flask import redirect, render_template, request
from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields, validate

from review_routing.domain.region.review import OUTCOMES, STATUSES, STEP_LABELS
from review_routing.entrypoints.schemas import Body
from review_routing.service_layer.region import reviews as r
from review_routing.service_layer.region.re_evaluations import ListReEvaluations
from shared import identity
from shared.regions import LEAGUE_NAMES
from shared.schemas import document_errors

READERS = ("region_office", "bureau", "evaluator")


def actor():
    from review_routing.entrypoints.http import actor as current

    return current()


class RegionQueueArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(metadata={"description": "状态，多个以逗号分隔：" + "、".join(
        f"{k}（{v}）" for k, v in STATUSES.items())})
    league = fields.String(metadata={"description": "盟市"})
    overdue = fields.Boolean(metadata={"description": "只看逾期 (true) / 未逾期 (false)"})


class RegionReviewSummary(Schema):
    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    version_no = fields.Integer(required=True)
    case_no = fields.String(allow_none=True)
    league = fields.String()
    enterprise_name = fields.String(allow_none=True)
    mine_name = fields.String(allow_none=True)
    minerals = fields.List(fields.String())
    scale = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    status_label = fields.String()
    step = fields.String(allow_none=True)
    step_label = fields.String()
    due_date = fields.String(allow_none=True)
    overdue = fields.Boolean()
    institution = fields.Dict(allow_none=True)
    evaluation_total = fields.Raw(allow_none=True)
    evaluation_verdict = fields.String(allow_none=True)
    flags = fields.List(fields.String())
    reminders = fields.Integer()
    forwarded_at = fields.String()
    check_round_id = fields.String(allow_none=True)
    decision = fields.String(allow_none=True)


class RegionReviewView(RegionReviewSummary):
    enterprise = fields.Dict()
    mine = fields.Dict()
    initial_report = fields.Dict(allow_none=True)
    confirmed_not_applicable = fields.List(fields.Integer())
    binding_confirmed_not_applicable = fields.List(fields.Integer())
    evaluation = fields.Dict(allow_none=True)
    check = fields.Dict(allow_none=True)
    all_flags = fields.List(fields.Dict())
    reminder_list = fields.List(fields.Dict())
    history = fields.List(fields.Dict())
    decision_detail = fields.Dict(allow_none=True)
    decision_label = fields.String(allow_none=True)
    refusals_to_propose = fields.List(fields.String(), metadata={"description": "当前不能拟公示的原因"})
    commission_id = fields.String(allow_none=True)
    indicator_names = fields.Dict()
    permissions = fields.Dict()


class RegionReasonBody(Body):
    indicator = fields.Integer(strict=True, allow_none=True, metadata={"description": "所涉指标序号（总体理由留空）"})
    text = fields.String(required=True, metadata={"description": "理由"})


class RegionDecisionBody(Body):
    decision = fields.String(required=True, validate=validate.OneOf(list(OUTCOMES), error="应为 propose（拟公示）、"
                                                                    "return（退回整改）或 reject（不予通过）"),
                             metadata={"enum": list(OUTCOMES)})
    reasons = fields.List(fields.Nested(RegionReasonBody), load_default=list,
                          metadata={"description": "退回整改、不予通过须逐条写明理由（可注明指标）"})


class RegionDecisionAnswer(Schema):
    review_id = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    decision = fields.Dict(required=True)


class RegionRemindBody(Body):
    message = fields.String(required=True, metadata={"description": "催办内容"})


class RegionReminderAnswer(Schema):
    at = fields.String()
    by = fields.String()
    by_name = fields.String()
    message = fields.String()
    step = fields.String(allow_none=True)


class RegionClearFlagBody(Body):
    reason = fields.String(required=True, metadata={"description": "解除标记的理由"})


def routes(api, pages, bus) -> None:
    @api.route("/reviews")
    class Reviews(MethodView):
        @identity.requires(*READERS)
        @api.arguments(RegionQueueArgs, location="query")
        @api.response(200, RegionReviewSummary(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """Forwarded cases in the region stage (the region office: all; a bureau: its 盟市; an evaluator: its
            institution's), overdue first."""
            statuses = tuple(s.strip() for s in (args.get("status") or "").split(",") if s.strip())
            return bus.handle(r.ShowRegionQueue(actor(), statuses, args.get("league"), args.get("overdue")))

    @api.route("/reviews/<review_id>")
    class Review(MethodView):
        @identity.requires(*READERS)
        @api.response(200, RegionReviewView)
        @document_errors(api, 401, 403, 404)
        def get(self, review_id):
            """One case in the region stage: steps, deadlines, evaluation, checks, flags, decision."""
            return bus.handle(r.ShowRegionReview(actor(), review_id))

    @api.route("/reviews/<review_id>/decision")
    class Decision(MethodView):
        @identity.requires("region_office")
        @api.arguments(RegionDecisionBody)
        @api.response(200, RegionDecisionAnswer)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, review_id):
            """The region decision: propose for 公示, return for rectification, or not pass."""
            return bus.handle(r.DecideRegionReview(actor(), review_id, body["decision"],
                                                   tuple(body.get("reasons") or ())))

    @api.route("/reviews/<review_id>/remind")
    class Remind(MethodView):
        @identity.requires("region_office")
        @api.arguments(RegionRemindBody)
        @api.response(200, RegionReminderAnswer)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, review_id):
            """Remind (催办) whoever must act on the current step."""
            return bus.handle(r.RemindRegionStep(actor(), review_id, body["message"]))

    @api.route("/reviews/<review_id>/flags/<code>/clear")
    class ClearFlag(MethodView):
        @identity.requires("region_office")
        @api.arguments(RegionClearFlagBody)
        @api.response(200, RegionReviewSummary)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, review_id, code):
            """Clear a flag (e.g. after the institution's evaluation was reviewed), with the reason."""
            return bus.handle(r.ClearRegionFlag(actor(), review_id, code, body["reason"]))

    @pages.get("/")
    @identity.requires("region_office", "bureau", "evaluator", "department_reviewer")
    def workspace():
        me = actor()
        if me.role == "evaluator":
            return redirect("/evaluation/commissions")
        if me.role == "department_reviewer":
            return redirect("/evaluation/checks")
        args = request.args
        statuses = tuple(s for s in args.getlist("status") if s in STATUSES)
        queue = bus.handle(r.ShowRegionQueue(me, statuses, args.get("league") or None,
                                             True if args.get("overdue") == "1" else None))
        return render_template("review_routing/region/workspace.html", queue=queue, me=me, args=args,
                               statuses=STATUSES, leagues=LEAGUE_NAMES,
                               re_evaluations=bus.handle(ListReEvaluations(me)))

    @pages.get("/reviews/<review_id>")
    @identity.requires(*READERS)
    def review_page(review_id):
        view = bus.handle(r.ShowRegionReview(actor(), review_id))
        return render_template("review_routing/region/review.html", v=view, me=actor(), steps=STEP_LABELS)
