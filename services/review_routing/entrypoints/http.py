"""The review_routing service's web app, served by gunicorn: `gunicorn 'review_routing.entrypoints.http:create_app()'`.

API (`/api/v1/review`): department queues, tasks (claim, release, transfer 转办, remind 催办, opinion, site-check
photos, evidence views), the lead bureau's cases (countersign view with the re-score, decision) and the audit
log. Pages (`/review/`): the workspace (queue / cases), the task page and the countersign page, in Chinese.
"""
from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask import Blueprint, redirect, render_template, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest import abort
from flask_wtf.csrf import generate_csrf
from marshmallow import EXCLUDE, Schema, fields, validate

from shared import identity
from shared.config import Settings
from shared.contracts import DEPARTMENT_CODES
from shared.runtime import service_readiness
from shared.web import create_service_app, finalize

from review_routing.domain.access import Actor
from review_routing.domain.errors import ReviewError
from shared.regions import LEAGUE_NAMES
from review_routing.domain.task import STATUSES
from review_routing.service_layer.handlers import QueueFilters, ReviewService

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
READERS = ("department_reviewer", "bureau", "region_office")
WORKERS = ("department_reviewer", "bureau")

OPINION_BODY = {
    "type": "object", "required": ["decision"], "additionalProperties": False,
    "properties": {
        "decision": {"enum": ["agree", "return", "disagree"], "description": "同意 / 退回补正 / 不同意"},
        "comments": {"type": "string", "description": "总体意见"},
        "indicators": {"type": "array", "description": "逐项意见(仅限本任务的指标);得分与不涉及二选一",
                       "items": {"type": "object", "required": ["indicator"], "properties": {
                           "indicator": {"type": "integer"}, "opinion": {"type": "string"},
                           "score": {"type": "string", "example": "1.5"}, "not_applicable": {"type": "boolean"},
                           "reason": {"type": "string"}, "record": {"type": "string", "description": "检查记录"}}}},
        "prerequisites": {"type": "array", "items": {"type": "object", "required": ["prerequisite", "met"],
                                                      "properties": {"prerequisite": {"type": "string"},
                                                                     "met": {"type": "boolean"},
                                                                     "note": {"type": "string"}}}},
        "checks": {"type": "array", "description": "牵头任务:附件2 二 (一)–(七) 即 C1–C7",
                   "items": {"type": "object", "required": ["check", "passed"],
                             "properties": {"check": {"type": "string"}, "passed": {"type": "boolean"},
                                            "note": {"type": "string"}}}},
        "site_checks": {"type": "array", "description": "现场检查记录:谁、到哪里、哪天、看了什么、照片",
                        "items": {"type": "object",
                                  "required": ["inspectors", "location", "checked_on", "observations"],
                                  "properties": {"inspectors": {"type": "array", "items": {"type": "string"}},
                                                 "location": {"type": "string"},
                                                 "checked_on": {"type": "string", "format": "date"},
                                                 "observations": {"type": "string"},
                                                 "photos": {"type": "array", "items": {"type": "string"},
                                                            "description": "本任务已上传的照片编号"}}}},
    },
}
DECISION_BODY = {
    "type": "object", "required": ["decision"], "additionalProperties": False,
    "properties": {
        "version_no": {"type": "integer", "description": "默认最新版本"},
        "decision": {"enum": ["forward", "return", "reject"], "description": "通过(报自治区)/ 退回补正 / 不予通过"},
        "reasons": {"type": "array", "items": {"type": "object", "required": ["text"], "properties": {
            "indicator": {"type": ["integer", "null"]}, "prerequisite": {"type": ["string", "null"]},
            "check": {"type": ["string", "null"]}, "text": {"type": "string"}}}},
    },
}


class QueueArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(metadata={"description": "状态,可用逗号分隔多个:" + "、".join(
        f"{k}({v})" for k, v in STATUSES.items())})
    due_before = fields.Date(metadata={"description": "到期日不晚于(YYYY-MM-DD)"})
    due_after = fields.Date(metadata={"description": "到期日不早于(YYYY-MM-DD)"})
    league = fields.String(metadata={"description": "盟市(须在本人辖区内)"})
    mine = fields.String(metadata={"description": "矿山名称(包含)、矿山编号或申报编号"})
    overdue = fields.Boolean(metadata={"description": "true 只看逾期,false 只看未逾期"})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class CaseArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    league = fields.String(metadata={"description": "盟市"})
    status = fields.String(metadata={"description": "under_review / forwarded / returned / rejected / superseded"})


class TransferBody(Schema):
    to_user = fields.String(required=True, metadata={"description": "同部门、同辖区审核人员的用户名"})
    reason = fields.String(required=True, metadata={"description": "转办原因"})


class RemindBody(Schema):
    message = fields.String(load_default="", metadata={"description": "催办内容(可空)"})


def actor() -> Actor:
    p = identity.current_principal()
    return Actor(username=p.username, role=p.role, display_name=p.display_name, department=p.department,
                 area=p.area, county=p.county)


def forward_headers() -> dict[str, str]:
    """The caller's credentials for the scoring service: its bearer token, or its cookie with a CSRF token."""
    headers = {}
    if request.headers.get("X-Correlation-ID"):
        headers["X-Correlation-ID"] = request.headers["X-Correlation-ID"]
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        headers["Authorization"] = auth
    elif request.headers.get("Cookie"):
        headers["Cookie"] = request.headers["Cookie"]
        headers["X-CSRFToken"] = generate_csrf()
    return headers


def _fail(exc: ReviewError):
    abort(exc.status, message=exc.message, errors=exc.error_map() or None)


def _json_body() -> dict:
    try:
        body = json.loads(request.get_data() or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        abort(422, message="请求体不是合法的 JSON", errors={"(body)": [str(exc)]})
    if not isinstance(body, dict):
        abort(422, message="请求体须为 JSON 对象", errors={"(body)": ["须为 JSON 对象"]})
    return body


def create_app(settings: Settings | None = None, service: ReviewService | None = None):
    settings = settings or Settings.from_env()
    if service is None:
        from review_routing.bootstrap import build_service

        service = build_service(settings)
    api = ApiBlueprint("review", __name__, url_prefix="/api/v1/review",
                       description="部门审核与初审会签 (附件2 二、附件3)")

    def task_summary(task):
        return {"task_id": task.task_id, "status": task.status, "status_label": task.status_label,
                "claimed_by": task.claimed_by, "version": task.version}

    @api.route("/queues/<department>")
    class Queue(MethodView):
        @identity.requires(*READERS)
        @api.arguments(QueueArgs, location="query")
        @api.response(200, description="本部门、本辖区的审核任务(逾期的排在前面)")
        def get(self, args, department):
            """A department's review queue (the caller's department and area only)."""
            statuses = tuple(s.strip() for s in (args.get("status") or "").split(",") if s.strip())
            filters = QueueFilters(status=statuses, due_before=args.get("due_before"),
                                   due_after=args.get("due_after"), league=args.get("league"),
                                   mine=args.get("mine"), overdue=args.get("overdue"), limit=args["limit"],
                                   offset=args["offset"])
            try:
                return service.queue(actor(), department, filters)
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>")
    class Task(MethodView):
        @identity.requires(*READERS)
        @api.response(200, description="审核任务:指标及评分说明、材料、意见、催办、转办、历史")
        def get(self, task_id):
            """One review task."""
            try:
                return service.task_view(actor(), task_id)
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/claim")
    class Claim(MethodView):
        @identity.requires(*WORKERS)
        @api.response(200, description="已认领")
        def post(self, task_id):
            """Claim a task (认领)."""
            try:
                return task_summary(service.claim(actor(), task_id))
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/unclaim")
    class Unclaim(MethodView):
        @identity.requires(*WORKERS)
        @api.response(200, description="已退回待认领")
        def post(self, task_id):
            """Release a claimed task back to the queue."""
            try:
                return task_summary(service.unclaim(actor(), task_id))
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/transfer")
    class Transfer(MethodView):
        @identity.requires(*WORKERS)
        @api.arguments(TransferBody)
        @api.response(200, description="已转办")
        def post(self, body, task_id):
            """Transfer a task to a colleague of the same department and area (转办)."""
            try:
                return task_summary(service.transfer(actor(), task_id, body["to_user"], body["reason"]))
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/colleagues")
    class Colleagues(MethodView):
        @identity.requires(*WORKERS)
        @api.response(200, description="可以接收转办的同事")
        def get(self, task_id):
            """Who this task can be transferred to."""
            try:
                return service.colleagues(actor(), task_id)
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/remind")
    class Remind(MethodView):
        @identity.requires("bureau")
        @api.arguments(RemindBody)
        @api.response(200, description="已催办")
        def post(self, body, task_id):
            """Remind the department handling a task (催办), by the lead bureau."""
            try:
                task = service.remind(actor(), task_id, body.get("message", ""))
                return {**task_summary(task), "reminders": len(task.reminders)}
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/opinion")
    class OpinionView(MethodView):
        @identity.requires(*WORKERS)
        @api.doc(requestBody={"required": True, "content": {"application/json": {"schema": OPINION_BODY}}})
        @api.response(201, description="审核意见已记录(不可修改,只能由新的意见替代)")
        @api.alt_response(422, description="意见有误:errors 按字段列出原因")
        def post(self, task_id):
            """Record the department's opinion (同意 / 退回补正 / 不同意) with per-indicator opinions and scores,
            prerequisite findings, the lead's seven checks and site-check records."""
            try:
                task = service.give_opinion(actor(), task_id, _json_body())
            except ReviewError as exc:
                _fail(exc)
            opinion = task.current_opinion
            return {**task_summary(task), "opinion_id": opinion.opinion_id, "sequence": opinion.sequence,
                    "supersedes": opinion.supersedes}, 201

    @api.route("/tasks/<task_id>/photos")
    class Photos(MethodView):
        @identity.requires(*WORKERS)
        @api.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["photo"],
            "properties": {"photo": {"type": "string", "format": "binary",
                                     "description": "JPEG 或 PNG,不超过 GREENMINE_REVIEW_PHOTO_MAX_BYTES"}}}}}})
        @api.response(201, description="照片已保存;在现场检查记录中按 photo_id 引用")
        def post(self, task_id):
            """Upload a site-check photo for this task."""
            upload = request.files.get("photo")
            if upload is None:
                abort(422, message="请选择照片", errors={"photo": ["必填项缺失"]})
            data = upload.read(service.photo_policy.max_bytes + 1)
            try:
                return service.upload_photo(actor(), task_id, upload.filename or "", upload.mimetype, data), 201
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/evidence/<attachment_id>")
    class Evidence(MethodView):
        @identity.requires(*READERS)
        @api.response(302, description="转到申报材料下载(intake);查看记入审计日志")
        def get(self, task_id, attachment_id):
            """Open an evidence file of the task: the view is audited, then redirected to intake's download."""
            try:
                return redirect(service.view_evidence(actor(), task_id, attachment_id), code=302)
            except ReviewError as exc:
                _fail(exc)

    @api.route("/tasks/<task_id>/audit")
    class TaskAudit(MethodView):
        @identity.requires(*READERS)
        @api.response(200, description="该任务的审计日志(谁、何时、做了或看了什么)")
        def get(self, task_id):
            """The audit log of one task."""
            try:
                return service.audit_log(actor(), task_id=task_id)
            except ReviewError as exc:
                _fail(exc)

    @api.route("/photos/<photo_id>")
    class Photo(MethodView):
        @identity.requires(*READERS)
        @api.response(200, description="照片文件(以附件下载)")
        def get(self, photo_id):
            """Download a site-check photo (always as an attachment)."""
            try:
                doc, stream = service.open_photo(actor(), photo_id)
            except ReviewError as exc:
                _fail(exc)
            response = send_file(io.BytesIO(stream.read()), mimetype=doc["content_type"], as_attachment=True,
                                 download_name=doc["filename"], etag=doc["sha256"], max_age=0)
            response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
            response.headers["Cache-Control"] = "private, no-store"
            return response

    @api.route("/cases")
    class Cases(MethodView):
        @identity.requires("bureau", "region_office")
        @api.arguments(CaseArgs, location="query")
        @api.response(200, description="本盟市(自治区:全部)的申报初审")
        def get(self, args):
            """The cases under initial review (bureau: its 盟市; region office: all)."""
            try:
                return service.cases(actor(), args.get("league"), args.get("status"))
            except ReviewError as exc:
                _fail(exc)

    @api.route("/cases/<application_id>")
    class Case(MethodView):
        @identity.requires("bureau", "region_office")
        @api.response(200, description="会签视图:各部门意见并列、逾期情况、自评与重新评分")
        def get(self, application_id):
            """The countersign view of a case: every department's opinion side by side, who is late, and the
            scores the opinions imply (scoring's evaluate on the re-scored assessment)."""
            try:
                return service.case_view(actor(), application_id, forward_headers())
            except ReviewError as exc:
                _fail(exc)

    @api.route("/cases/<application_id>/decision")
    class DecisionView(MethodView):
        @identity.requires("bureau")
        @api.doc(requestBody={"required": True, "content": {"application/json": {"schema": DECISION_BODY}}})
        @api.response(201, description="初审决定已记录并通知企业")
        @api.alt_response(409, description="尚不能作出该决定(如仍有部门未同意)")
        def post(self, application_id):
            """Decide the initial review: forward (only when every department agreed and the re-score
            qualifies), return for correction (reasons per indicator) or reject (with reasons)."""
            try:
                return service.decide(actor(), application_id, _json_body(), forward_headers()), 201
            except ReviewError as exc:
                _fail(exc)

    @api.route("/cases/<application_id>/evidence/<int:version_no>/<attachment_id>")
    class CaseEvidence(MethodView):
        @identity.requires("bureau", "region_office")
        @api.response(302, description="转到申报材料下载(intake);查看记入审计日志")
        def get(self, application_id, version_no, attachment_id):
            """Open any material of a case version (lead bureau, region office); audited."""
            try:
                return redirect(service.view_case_evidence(actor(), application_id, version_no, attachment_id),
                                code=302)
            except ReviewError as exc:
                _fail(exc)

    @api.route("/cases/<application_id>/audit")
    class CaseAudit(MethodView):
        @identity.requires("bureau", "region_office")
        @api.response(200, description="该申报的审计日志")
        def get(self, application_id):
            """The audit log of a case (every evidence view, opinion and decision)."""
            try:
                return service.audit_log(actor(), application_id=application_id)
            except ReviewError as exc:
                _fail(exc)

    pages = Blueprint("review_routing_pages", __name__, url_prefix="/review")

    def page_error(exc: ReviewError):
        return render_template("greenmine/error.html", status=exc.status, message=exc.message), exc.status

    @pages.get("/")
    @identity.requires(*READERS)
    def workspace():
        me = actor()
        args = request.args
        department = me.department if me.role == "department_reviewer" else "natural_resources"
        if me.role == "region_office":
            department = args.get("department") if args.get("department") in DEPARTMENT_CODES else department
        filters = QueueFilters(
            status=tuple(s for s in args.getlist("status") if s), league=args.get("league") or None,
            mine=args.get("mine") or None, overdue=True if args.get("overdue") == "1" else None,
            due_before=_date_arg(args.get("due_before")), due_after=_date_arg(args.get("due_after")))
        try:
            queue = service.queue(me, department, filters)
            cases = service.cases(me) if me.role in ("bureau", "region_office") else []
        except ReviewError as exc:
            return page_error(exc)
        return render_template("review_routing/workspace.html", queue=queue, cases=cases, me=me, args=args,
                               statuses=STATUSES, leagues=LEAGUE_NAMES, departments=DEPARTMENT_CODES,
                               department_name=service.department_name)

    @pages.get("/tasks/<task_id>")
    @identity.requires(*READERS)
    def task_page(task_id):
        me = actor()
        try:
            view = service.task_view(me, task_id)
            colleagues = service.colleagues(me, task_id) if view["permissions"]["work"] else []
        except ReviewError as exc:
            return page_error(exc)
        return render_template("review_routing/task.html", task=view, me=me, colleagues=colleagues,
                               today=service.today().isoformat())

    @pages.get("/cases/<application_id>")
    @identity.requires("bureau", "region_office")
    def case_page(application_id):
        me = actor()
        try:
            view = service.case_view(me, application_id, forward_headers())
        except ReviewError as exc:
            return page_error(exc)
        return render_template("review_routing/case.html", case=view, me=me)

    app = create_service_app("review_routing", settings=settings, title="greenmine review_routing",
                             url_prefix="review", blueprints=[api], template_dirs=[TEMPLATES],
                             readiness=service_readiness(settings, "review_routing"))
    app.register_blueprint(pages)
    app.extensions["greenmine"]["review_service"] = service
    return finalize(app)


def _date_arg(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
