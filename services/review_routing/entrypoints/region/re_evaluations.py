"""Re-evaluations after a 重大变化 (附件2 三) on the web: `GET /api/v1/evaluation/re-evaluations[/{id}]` (the region
office: all; a bureau: its 盟市's) and `POST …/{id}/outcome` (the region office records the on-site check's
outcome). On the pages they are a section of the region office's workspace (`/evaluation/`,
`review_routing/region/_re_evaluations.html`)."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import EXCLUDE, Schema, fields, validate

from review_routing.domain.region.re_evaluations import FIELDS, RESULTS, STATUSES
from review_routing.entrypoints.schemas import Body
from review_routing.service_layer.region import re_evaluations as r
from shared import identity
from shared.schemas import document_errors

READERS = r.READERS


def actor():
    from review_routing.entrypoints.http import actor as current

    return current()


class ReEvaluationArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(metadata={"description": "状态：" + "、".join(f"{k}（{v}）" for k, v in STATUSES.items())})
    league = fields.String(metadata={"description": "盟市（须在本人辖区内）"})


class ReEvaluationChange(Schema):
    field = fields.String(metadata={"enum": list(FIELDS), "description": "、".join(
        f"{k}（{v}）" for k, v in FIELDS.items())})
    label = fields.String()
    changed_on = fields.String()
    before = fields.String()
    after = fields.String()


class ReEvaluationOutcome(Schema):
    result = fields.String(metadata={"enum": list(RESULTS)})
    result_label = fields.String()
    reason = fields.String(allow_none=True)
    checked_on = fields.String(metadata={"description": "实地核查日期"})
    recorded_by = fields.String()
    recorded_by_name = fields.String()
    recorded_at = fields.String()


class ReEvaluationView(Schema):
    request_id = fields.String(required=True)
    mine_id = fields.String(required=True)
    mine_name = fields.String(required=True)
    enterprise = fields.Dict()
    league = fields.String()
    county = fields.String(allow_none=True)
    changes = fields.List(fields.Nested(ReEvaluationChange))
    changes_text = fields.String()
    requested_on = fields.String()
    reason = fields.String()
    listed_announcement_no = fields.String(allow_none=True)
    opened_at = fields.String()
    due_date = fields.String(metadata={"description": "实地核查期限（自收到请求之日起20个工作日，法定节假日顺延）"})
    overdue = fields.Boolean()
    status = fields.String(metadata={"enum": list(STATUSES)})
    status_label = fields.String()
    outcome = fields.Nested(ReEvaluationOutcome, allow_none=True)
    history = fields.List(fields.Dict())


class ReEvaluationOutcomeBody(Body):
    result = fields.String(required=True, validate=validate.OneOf(
        list(RESULTS), error="应为 meets（仍符合绿色矿山标准）或 fails（不符合绿色矿山标准）"),
        metadata={"enum": list(RESULTS)})
    reason = fields.String(allow_none=True, load_default=None,
                           metadata={"description": "不符合的理由（结论为 fails 时必填）；符合时可填写核查说明"})
    checked_on = fields.String(required=True, metadata={"description": "实地核查日期（YYYY-MM-DD）"})


def routes(api, pages, bus) -> None:
    @api.route("/re-evaluations")
    class ReEvaluations(MethodView):
        @identity.requires(*READERS)
        @api.arguments(ReEvaluationArgs, location="query")
        @api.response(200, ReEvaluationView(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """Re-evaluations of listed mines after a 重大变化 (open first, the earliest due first)."""
            return bus.handle(r.ListReEvaluations(actor(), args.get("status") or None, args.get("league") or None))

    @api.route("/re-evaluations/<request_id>")
    class ReEvaluation(MethodView):
        @identity.requires(*READERS)
        @api.response(200, ReEvaluationView)
        @document_errors(api, 401, 403, 404)
        def get(self, request_id):
            """One re-evaluation: the changes, the due date, the outcome and its history."""
            return bus.handle(r.ShowReEvaluation(actor(), request_id))

    @api.route("/re-evaluations/<request_id>/outcome")
    class Outcome(MethodView):
        @identity.requires("region_office")
        @api.arguments(ReEvaluationOutcomeBody)
        @api.response(200, ReEvaluationView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, request_id):
            """Record the on-site check's outcome: still meets the standard, or not (with the reason). Once; the
            same outcome again answers the stored one."""
            return bus.handle(r.RecordReEvaluationOutcome(actor(), request_id, body["result"], body.get("reason"),
                                                          body["checked_on"]))
