"""The review_routing service's web app, served by gunicorn: `gunicorn 'review_routing.entrypoints.http:create_app()'`.

API (`/api/v1/review`): department queues, tasks (claim, release, transfer 转办, remind 催办, opinion, site-check
photos, evidence views), the lead bureau's cases (countersign view with the re-score, decision) and the audit
log. Pages (`/review/`): the workspace (queue / cases), the task page and the countersign page, in Chinese.

Views only turn the request into a command and the result into an answer (`bus.handle`); refusals
(`shared.errors`) propagate to the one error handler of `shared.web`.
"""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from flask import Blueprint, redirect, render_template, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint

from review_routing.domain import commands as c
from review_routing.domain.access import Actor
from review_routing.domain.task import STATUSES
from review_routing.domain.workdays import beijing_date
from review_routing.entrypoints import answers
from review_routing.entrypoints.documents import documents_blueprint
from review_routing.entrypoints.region import blueprints as region_blueprints
from review_routing.entrypoints.schemas import (
    CaseArgs,
    DecisionBody,
    EvidenceArgs,
    OpinionBody,
    PhotoUpload,
    QueueArgs,
    RemindBody,
    ReviewParser,
    TransferBody,
)
from review_routing.service_layer.common import department_name
from shared import identity
from shared import text as texts
from shared.bus import MessageBus
from shared.config import Settings
from shared.contracts import DEPARTMENT_CODES
from shared.errors import DomainError
from shared.regions import LEAGUE_NAMES
from shared.runtime import service_readiness
from shared.schemas import document_errors
from shared.web import create_service_app, finalize, http_status

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
READERS = ("department_reviewer", "bureau", "region_office")
WORKERS = ("department_reviewer", "bureau")
PHOTO_TYPES = ("image/jpeg", "image/png")


class ReviewApi(ApiBlueprint):
    ARGUMENTS_PARSER = ReviewParser()


def actor() -> Actor:
    p = identity.current_principal()
    return Actor(username=p.username, role=p.role, display_name=p.display_name, department=p.department,
                 area=p.area, county=p.county, institution=getattr(p, "institution", None))


def task_summary(task) -> dict:
    return {"task_id": task.task_id, "status": task.status, "status_label": task.status_label,
            "claimed_by": task.claimed_by, "version": task.version}


def create_app(settings: Settings | None = None, bus: MessageBus | None = None):
    settings = settings or Settings.from_env()
    if bus is None:
        from review_routing.bootstrap import bootstrap

        bus = bootstrap(settings)
    deps = bus.dependencies
    api = ReviewApi("review", __name__, url_prefix="/api/v1/review", description="部门审核与初审会签 (附件2 二、附件3)")

    @api.route("/queues/<department>")
    class Queue(MethodView):
        @identity.requires(*READERS)
        @api.arguments(QueueArgs, location="query")
        @api.response(200, answers.Queue, description="本部门、本辖区的审核任务(逾期的排在前面)")
        @document_errors(api, 401, 403, 404, 422)
        def get(self, args, department):
            """A department's review queue (the caller's department and area only)."""
            statuses = tuple(s.strip() for s in (args.get("status") or "").split(",") if s.strip())
            return bus.handle(c.ShowQueue(
                actor(), department, status=statuses, due_before=args.get("due_before"),
                due_after=args.get("due_after"), league=args.get("league"), mine=args.get("mine"),
                overdue=args.get("overdue"), limit=args["limit"], offset=args["offset"]))

    @api.route("/tasks/<task_id>")
    class Task(MethodView):
        @identity.requires(*READERS)
        @api.response(200, answers.TaskView, description="审核任务:指标及评分说明、材料、意见、催办、转办、历史")
        @document_errors(api, 401, 403, 404)
        def get(self, task_id):
            """One review task."""
            return bus.handle(c.ShowTask(actor(), task_id))

    @api.route("/tasks/<task_id>/claim")
    class Claim(MethodView):
        @identity.requires(*WORKERS)
        @api.response(200, answers.TaskSummary, description="已认领")
        @document_errors(api, 401, 403, 404, 409)
        def post(self, task_id):
            """Claim a task (认领)."""
            return task_summary(bus.handle(c.ClaimTask(actor(), task_id)))

    @api.route("/tasks/<task_id>/unclaim")
    class Unclaim(MethodView):
        @identity.requires(*WORKERS)
        @api.response(200, answers.TaskSummary, description="已退回待认领")
        @document_errors(api, 401, 403, 404, 409)
        def post(self, task_id):
            """Release a claimed task back to the queue."""
            return task_summary(bus.handle(c.UnclaimTask(actor(), task_id)))

    @api.route("/tasks/<task_id>/transfer")
    class Transfer(MethodView):
        @identity.requires(*WORKERS)
        @api.arguments(TransferBody)
        @api.response(200, answers.TaskSummary, description="已转办")
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, task_id):
            """Transfer a task to a colleague of the same department and area (转办)."""
            return task_summary(bus.handle(c.TransferTask(actor(), task_id, body["to_user"], body["reason"])))

    @api.route("/tasks/<task_id>/colleagues")
    class Colleagues(MethodView):
        @identity.requires(*WORKERS)
        @api.response(200, answers.Colleague(many=True), description="可以接收转办的同事")
        @document_errors(api, 401, 403, 404)
        def get(self, task_id):
            """Who this task can be transferred to."""
            return bus.handle(c.ListColleagues(actor(), task_id))

    @api.route("/tasks/<task_id>/remind")
    class Remind(MethodView):
        @identity.requires("bureau")
        @api.arguments(RemindBody)
        @api.response(200, answers.Reminded, description="已催办")
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, task_id):
            """Remind the department handling a task (催办), by the lead bureau."""
            task = bus.handle(c.RemindTask(actor(), task_id, body.get("message", "")))
            return {**task_summary(task), "reminders": len(task.reminders)}

    @api.route("/tasks/<task_id>/opinion")
    class OpinionView(MethodView):
        @identity.requires(*WORKERS)
        @api.arguments(OpinionBody)
        @api.response(201, answers.OpinionRecorded, description="审核意见已记录(不可修改,只能由新的意见替代)")
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, task_id):
            """Record the department's opinion (同意 / 退回补正 / 不同意). It judges every item of the task: a verdict
            per indicator (agree 认可自评 / score 给分 / not_applicable 确认不涉及 / problem 有问题) and a finding per
            prerequisite (422 names each one missing), the lead's seven checks, and site-check records."""
            task = bus.handle(c.GiveOpinion(actor(), task_id, body))
            opinion = task.current_opinion
            return {**task_summary(task), "opinion_id": opinion.opinion_id, "sequence": opinion.sequence,
                    "supersedes": opinion.supersedes}, 201

    @api.route("/tasks/<task_id>/photos")
    class Photos(MethodView):
        @identity.requires(*WORKERS)
        @api.arguments(PhotoUpload, location="files")
        @api.response(201, answers.Photo, description="照片已保存;在现场检查记录中按 photo_id 引用")
        @document_errors(api, 401, 403, 404, 409, 413, 422)
        def post(self, files, task_id):
            """Upload a site-check photo for this task."""
            upload = files["photo"]
            data = upload.read(deps["photo_policy"].max_bytes + 1)
            name = texts.safe_filename(upload.filename, default="现场照片")  # no path, bidi or zero-width characters
            return bus.handle(c.UploadPhoto(actor(), task_id, name, upload.mimetype, data)), 201

    @api.route("/tasks/<task_id>/evidence/<attachment_id>")
    class Evidence(MethodView):
        @identity.requires(*READERS)
        @api.arguments(EvidenceArgs, location="query")
        @api.response(302, description="转到申报材料（intake）：下载，或 inline=true 时在浏览器中查看 PDF、图片；"
                                       "每次查看记入审计日志")
        @document_errors(api, 401, 403, 404, 422)
        def get(self, args, task_id, attachment_id):
            """Open a material of the task: the view is audited, then redirected to intake's download (or, with
            `inline=true`, to its in-browser view of a PDF or an image)."""
            return redirect(bus.handle(c.ViewEvidence(actor(), task_id, attachment_id, inline=args["inline"])),
                            code=302)

    @api.route("/tasks/<task_id>/audit")
    class TaskAudit(MethodView):
        @identity.requires(*READERS)
        @api.response(200, answers.AuditEntry(many=True), description="该任务的审计日志(谁、何时、做了或看了什么)")
        @document_errors(api, 401, 403, 404)
        def get(self, task_id):
            """The audit log of one task."""
            return bus.handle(c.ShowAuditLog(actor(), task_id=task_id))

    @api.route("/photos/<photo_id>")
    class Photo(MethodView):
        @identity.requires(*READERS)
        @api.doc(responses={"200": {"description": "照片文件(以附件下载)", "content": {
            t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES}}})
        @document_errors(api, 401, 403, 404)
        def get(self, photo_id):
            """Download a site-check photo (always as an attachment)."""
            doc, stream = bus.handle(c.OpenPhoto(actor(), photo_id))
            response = send_file(io.BytesIO(stream.read()), mimetype=doc["content_type"], as_attachment=True,
                                 download_name=doc["filename"], etag=doc["sha256"], max_age=0)
            response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
            response.headers["Cache-Control"] = "private, no-store"
            return response

    @api.route("/cases")
    class Cases(MethodView):
        @identity.requires("bureau", "region_office")
        @api.arguments(CaseArgs, location="query")
        @api.response(200, answers.CaseSummary(many=True), description="本盟市(自治区:全部)的申报初审")
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """The cases under initial review (bureau: its 盟市; region office: all)."""
            return bus.handle(c.ListCases(actor(), args.get("league"), args.get("status")))

    @api.route("/cases/<application_id>")
    class Case(MethodView):
        @identity.requires("bureau", "region_office")
        @api.response(200, answers.CaseView, description="会签视图:各部门意见并列、逾期情况、自评与重新评分")
        @document_errors(api, 401, 403, 404)
        def get(self, application_id):
            """The countersign view of a case: every department's opinion side by side, who is late, and the
            scores the opinions imply (scoring's evaluate on the re-scored assessment)."""
            return bus.handle(c.ShowCase(actor(), application_id))

    @api.route("/cases/<application_id>/decision")
    class DecisionView(MethodView):
        @identity.requires("bureau")
        @api.arguments(DecisionBody)
        @api.response(201, answers.DecisionRecorded, description="初审决定已记录并通知企业")
        @document_errors(api, 401, 403, 404, 409, 422, 503)
        def post(self, body, application_id):
            """Decide the initial review: forward (only when every department agreed and the re-score
            qualifies), return for correction (reasons per indicator) or reject (with reasons)."""
            reasons = body.get("reasons")
            return bus.handle(c.DecideCase(actor(), application_id, body.get("decision"), body.get("version_no"),
                                           tuple(reasons) if reasons is not None else None)), 201

    @api.route("/cases/<application_id>/evidence/<int:version_no>/<attachment_id>")
    class CaseEvidence(MethodView):
        @identity.requires("bureau", "region_office")
        @api.arguments(EvidenceArgs, location="query")
        @api.response(302, description="转到申报材料（intake）：下载，或 inline=true 时在浏览器中查看；记入审计日志")
        @document_errors(api, 401, 403, 404, 422)
        def get(self, args, application_id, version_no, attachment_id):
            """Open any material of a case version (lead bureau, region office); audited."""
            return redirect(bus.handle(c.ViewCaseEvidence(actor(), application_id, version_no, attachment_id,
                                                          inline=args["inline"])), code=302)

    @api.route("/cases/<application_id>/audit")
    class CaseAudit(MethodView):
        @identity.requires("bureau", "region_office")
        @api.response(200, answers.AuditEntry(many=True), description="该申报的审计日志")
        @document_errors(api, 401, 403, 404)
        def get(self, application_id):
            """The audit log of a case (every evidence view, opinion and decision)."""
            return bus.handle(c.ShowAuditLog(actor(), application_id=application_id))

    pages = Blueprint("review_routing_pages", __name__, url_prefix="/review")

    @pages.errorhandler(DomainError)
    def page_error(exc: DomainError):
        status = http_status(exc)
        return render_template("greenmine/error.html", status=status, message=exc.message), status

    def name_of(code: str) -> str:
        return department_name(deps["catalogs"], code)

    @pages.get("/")
    @identity.requires(*READERS)
    def workspace():
        me = actor()
        args = request.args
        department = me.department if me.role == "department_reviewer" else "natural_resources"
        if me.role == "region_office":
            department = args.get("department") if args.get("department") in DEPARTMENT_CODES else department
        queue = bus.handle(c.ShowQueue(
            me, department, status=tuple(s for s in args.getlist("status") if s), league=args.get("league") or None,
            mine=args.get("mine") or None, overdue=True if args.get("overdue") == "1" else None,
            due_before=_date_arg(args.get("due_before")), due_after=_date_arg(args.get("due_after"))))
        cases = bus.handle(c.ListCases(me)) if me.role in ("bureau", "region_office") else []
        return render_template("review_routing/workspace.html", queue=queue, cases=cases, me=me, args=args,
                               statuses=STATUSES, leagues=LEAGUE_NAMES, departments=DEPARTMENT_CODES,
                               department_name=name_of)

    @pages.get("/tasks/<task_id>")
    @identity.requires(*READERS)
    def task_page(task_id):
        me = actor()
        view = bus.handle(c.ShowTask(me, task_id))
        colleagues = bus.handle(c.ListColleagues(me, task_id)) if view["permissions"]["work"] else []
        return render_template("review_routing/task.html", task=view, me=me, colleagues=colleagues,
                               today=beijing_date(deps["clock"]()).isoformat())

    @pages.get("/cases/<application_id>")
    @identity.requires("bureau", "region_office")
    def case_page(application_id):
        view = bus.handle(c.ShowCase(actor(), application_id))
        return render_template("review_routing/case.html", case=view, me=actor())

    evaluation_api, evaluation_pages = region_blueprints(bus)
    app = create_service_app("review_routing", settings=settings, title="greenmine review_routing",
                             url_prefix="review", blueprints=[api, evaluation_api], template_dirs=[TEMPLATES],
                             readiness=service_readiness(settings, "review_routing"))
    app.register_blueprint(pages)
    app.register_blueprint(evaluation_pages)
    app.register_blueprint(documents_blueprint(bus))
    app.extensions["greenmine"]["review_bus"] = bus
    return finalize(app)


def _date_arg(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
