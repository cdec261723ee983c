"""Objections (异议) on the web.

Public (no sign-in): the form `/public/objections/new` (posted as a plain HTML form with the CSRF token; the
receipt page shows the receipt number and the lookup code once), `POST /api/v1/notice/objections`
(multipart/form-data with files, or JSON without), the lookup `GET /api/v1/notice/objections/lookup` and its page
`/public/objections/lookup` — rate-limited per client address and per identity number (hashed), 429 with
Retry-After.

Staff: `GET /api/v1/notice/objections` (queue), `GET …/{id}` (audited; personal data for the region office and
the departments it was triaged to), `GET …/{id}/evidence/{file_id}`, `POST …/{id}/triage`, `…/findings`,
`…/conclusion`; pages `/notice/objections` and `/notice/objections/{id}`."""
from __future__ import annotations

import logging
import os

from flask import Response, abort, render_template, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from public_notice.adapters.evidence import EvidenceFiles, check_uploads, max_file_bytes
from public_notice.domain import objections as rules
from public_notice.domain.objections import ACTIONS, FINDINGS, OUTCOMES, STATUS_LABELS, identity_hash
from public_notice.service_layer import objections as area
from public_notice.service_layer.objections import (
    ConcludeObjection,
    FileObjection,
    RecordFinding,
    TriageObjection,
    ViewObjection,
)
from shared import identity
from shared.catalog import load_catalog
from shared.clock import utcnow
from shared.errors import DomainError, FieldError, InvalidInput, NotFound, TooManyAttempts
from shared.ratelimits import Windows, parse_limits, wait_text
from shared.schemas import Body, document_errors
from shared.web import client_address, http_status
from shared.workdays import beijing_date

log = logging.getLogger(__name__)
STAFF = ("region_office", "admin", "department_reviewer")
CLIENT_LIMITS = "5 per hour; 20 per day"
IDENTITY_LIMITS = "3 per day"
LOOKUP_LIMITS = "10 per minute; 100 per day"
FORM_FIELDS = ("batch_id", "application_id", "name", "id_number", "phone", "organisation", "email", "grounds",
               "indicators", "consent")


class Limits(Windows):
    """The objection form's and the lookup's moving windows (MongoDB, the service's database)."""

    def __init__(self, settings, env=None):
        super().__init__(settings, settings.database_name("public_notice"))
        env = os.environ if env is None else env
        self.client = parse_limits("GREENMINE_OBJECTION_CLIENT_LIMITS", CLIENT_LIMITS, env)
        self.identity = parse_limits("GREENMINE_OBJECTION_IDENTITY_LIMITS", IDENTITY_LIMITS, env)
        self.lookup = parse_limits("GREENMINE_OBJECTION_LOOKUP_LIMITS", LOOKUP_LIMITS, env)

    def check(self, items, *key) -> None:
        """Count one hit against each limit; 429 (Retry-After) when one is reached (a refused hit is not counted)."""
        wait = self.admit([(item, key) for item in items])
        if wait is not None:
            raise TooManyAttempts(f"提交过于频繁，请{wait_text(wait)}后再试", wait)


# -- bodies and answers ---------------------------------------------------------------------------------------
class FilingBody(Body):
    batch_id = fields.String(required=True, metadata={"description": "公示批次 id"})
    application_id = fields.String(required=True, metadata={"description": "被异议矿山（申请 id）"})
    name = fields.String(required=True, metadata={"description": "异议人姓名（实名）"})
    id_number = fields.String(required=True, metadata={"description": "居民身份证号码（18位，GB 11643 校验）"})
    phone = fields.String(required=True, metadata={"description": "手机号码"})
    organisation = fields.String(load_default="", metadata={"description": "工作单位（可选）"})
    email = fields.String(load_default="", metadata={"description": "电子邮箱（可选）"})
    grounds = fields.String(required=True, metadata={"description": "事实和理由（10–5000字）"})
    indicators = fields.List(fields.Raw(), load_default=list, metadata={"description": "涉及的附件1指标序号（可选）"})
    consent = fields.Raw(required=True, metadata={"description": "承诺所填信息真实（true）"})


class ReceiptView(Schema):
    objection_id = fields.String(required=True)
    receipt_no = fields.String(required=True, metadata={"description": "受理编号，如 YY2026-000123"})
    lookup_code = fields.String(required=True, metadata={"description": "查询码（仅此一次显示，请妥善保存）"})
    filed_at = fields.String(required=True)


class LookupArgs(Schema):
    receipt_no = fields.String(required=True, validate=validate.Length(max=20))
    code = fields.String(required=True, validate=validate.Length(max=40))


class LookupView(Schema):
    receipt_no = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUS_LABELS)})
    status_label = fields.String(required=True)
    filed_at = fields.String(required=True)
    mine_name = fields.String()
    due_date = fields.String(allow_none=True)
    concluded_at = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={"enum": list(OUTCOMES)})
    outcome_label = fields.String(allow_none=True)
    reply = fields.String(allow_none=True, metadata={"description": "对异议人的答复"})


class QueueArgs(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(list(STATUS_LABELS)))
    batch_id = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=None)


class QueueRow(Schema):
    id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    batch_id = fields.String()
    application_id = fields.String()
    mine_name = fields.String()
    enterprise_name = fields.String()
    league = fields.String()
    status = fields.String()
    departments = fields.List(fields.String())
    due_date = fields.String(allow_none=True)
    overdue = fields.Boolean()
    filed_at = fields.String()
    findings_in = fields.List(fields.String())
    indicators = fields.List(fields.Integer())
    outcome = fields.String(allow_none=True)
    mine = fields.Boolean(metadata={"description": "当前用户可以办理"})


class ObjectionView(Schema):
    id = fields.String(required=True)
    receipt_no = fields.String(required=True)
    batch_id = fields.String(required=True)
    application_id = fields.String(required=True)
    review_id = fields.String(allow_none=True)
    version_no = fields.Integer(allow_none=True)
    mine_name = fields.String()
    enterprise_name = fields.String()
    league = fields.String(metadata={"description": "矿山所在盟市"})
    filed_at = fields.DateTime()
    status = fields.String(required=True, metadata={"enum": list(STATUS_LABELS)})
    status_label = fields.String()
    working_days = fields.Integer(allow_none=True)
    overdue = fields.Boolean(metadata={"description": "核查已超期（各部门意见未齐）"})
    objector = fields.Dict(allow_none=True,
                           metadata={"description": "异议人信息（仅自治区自然资源厅和被分办部门可见）"})
    grounds = fields.String()
    evidence = fields.List(fields.Dict())
    indicators = fields.List(fields.Integer())
    departments = fields.List(fields.String())
    due_date = fields.String(allow_none=True)
    findings = fields.Dict()
    conclusion = fields.Dict(allow_none=True)
    history = fields.List(fields.Dict())
    proposed_departments = fields.List(fields.String())


class TriageBody(Body):
    departments = fields.List(fields.String(), load_default=None, allow_none=True,
                              metadata={"description": "负责核查的部门代码（附件3）；不填则按涉及指标推荐"})
    working_days = fields.Integer(load_default=None, allow_none=True,
                                  metadata={"description": "核查期限（工作日，默认10）"})


class SiteCheckBody(Body):
    date = fields.String(required=True, metadata={"description": "现场核查日期 YYYY-MM-DD（不晚于今天）"})
    place = fields.String(required=True)
    observed = fields.String(required=True, metadata={"description": "现场所见情况"})


class FindingBody(Body):
    finding = fields.String(required=True, metadata={"enum": list(FINDINGS)})
    text = fields.String(required=True, metadata={"description": "核查情况"})
    site_check = fields.Nested(SiteCheckBody, load_default=None, allow_none=True)


class ConclusionBody(Body):
    outcome = fields.String(required=True, metadata={"enum": list(OUTCOMES)})
    reasons = fields.String(required=True)
    reply = fields.String(required=True, metadata={"description": "答复异议人的内容（公开查询可见）"})
    action = fields.String(load_default=None, allow_none=True, metadata={"enum": list(ACTIONS)})


def _departments() -> dict:
    return {d.code: d.name for d in load_catalog(area.CATALOG_ID).departments}


def open_mines(uow, today) -> list[dict]:
    """The mines of the batches open to objections today: [{batch_id, batch_title, application_id, mine_name, …}]."""
    def read():
        out = []
        for batch in uow.batches.find():
            try:
                if not batch.accepts_objections(today):
                    continue
            except Exception:  # noqa: BLE001 - a batch this page cannot read is left out
                continue
            entries = getattr(batch, "entries", None) or []
            for raw in entries.values() if isinstance(entries, dict) else entries:
                app_id = raw.get("application_id") if isinstance(raw, dict) else getattr(raw, "application_id", None)
                entry = batch.entry(app_id) if app_id else None
                if not entry:
                    continue
                out.append({**dict(entry), "application_id": app_id, "batch_id": batch.id,
                            "batch_title": getattr(batch, "title", "") or ""})
        return out
    return uow.read(read)


def routes(web, bus) -> None:
    api, pages, public = web.api, web.pages, web.public
    limits = Limits(web.settings)
    holder: dict = {}

    def evidence() -> EvidenceFiles:
        if "files" not in holder:
            holder["files"] = bus.dependencies.get("evidence") if hasattr(bus, "dependencies") else None
            holder["files"] = holder["files"] or EvidenceFiles(web.db(), max_file_bytes())
        return holder["files"]

    def uow():
        return bus.uow_factory()

    def today():
        clock = bus.dependencies.get("clock", utcnow) if hasattr(bus, "dependencies") else utcnow
        return beijing_date(clock())

    def read_filing() -> tuple[dict, list]:
        if request.mimetype == "multipart/form-data" or request.mimetype == "application/x-www-form-urlencoded":
            form = {name: request.form.get(name, "") for name in FORM_FIELDS if name != "indicators"}
            form["indicators"] = [v for v in request.form.getlist("indicators") if v != ""]
            form["consent"] = request.form.get("consent", "")
            unknown = [k for k in request.form if k not in (*FORM_FIELDS, "csrf_token")]
            files = [f for f in request.files.getlist("files") if f and f.filename]
            unknown += [k for k in request.files if k != "files"]
        else:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise InvalidInput("请求体应为 JSON 对象或 multipart/form-data 表单",
                                   [FieldError("(body)", "应为对象")])
            form, files = body, []
            unknown = [k for k in body if k not in FORM_FIELDS]
        if unknown:
            raise InvalidInput("提交的数据有误", [FieldError(k, "不认识的字段") for k in unknown])
        return form, files

    def file_objection(form: dict, files: list) -> dict:
        limits.check(limits.client, "objection-client", client_address())
        rules.check_filing(form, today=today(), indicator_numbers=area.indicator_numbers())  # 422 before storing
        check_uploads(files, evidence().limit)
        limits.check(limits.identity, "objection-identity", identity_hash(form.get("id_number") or ""))
        stored: list[dict] = []
        try:
            for i, upload in enumerate(files):
                stored.append(evidence().store(upload.stream, upload.filename, field=f"files[{i}]"))
            return bus.handle(FileObjection(form, tuple(stored)))
        except BaseException:
            evidence().delete_all(stored)
            raise

    @api.route("/objections")
    class Objections(MethodView):
        @identity.public
        @api.doc(requestBody={"content": {
            "application/json": {"schema": FilingBody},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                **{n: {"type": "string"} for n in FORM_FIELDS if n != "indicators"},
                "indicators": {"type": "array", "items": {"type": "integer"}},
                "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                          "description": "证据材料：JPEG、PNG、PDF，最多5个"}}}}}})
        @api.response(201, ReceiptView)
        @document_errors(api, 409, 422, 429)
        def post(self):
            """File a real-name objection (no sign-in; the form's CSRF token): 201 with the receipt number and the
            lookup code (shown once). 422 names each invalid field; 409 when the mine is not in an open window;
            429 when the client or the identity number filed too often."""
            form, files = read_filing()
            return file_objection(form, files), 201

        @identity.requires(*STAFF)
        @api.arguments(QueueArgs, location="query")
        @api.response(200, QueueRow(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """The objections queue, overdue first (region office: all; a department reviewer: those triaged to
            its department in its 盟市, or everywhere for a regional account). No personal data."""
            return area.queue(uow(), identity.current_principal(), **args)

    @api.route("/objections/lookup")
    class Lookup(MethodView):
        @identity.public
        @api.arguments(LookupArgs, location="query")
        @api.response(200, LookupView)
        @document_errors(api, 404, 422, 429)
        def get(self, args):
            """The objector's lookup with the receipt number and the lookup code: the status, the dates and, once
            concluded, the outcome and the reply. Unknown receipt and wrong code answer the same 404."""
            limits.check(limits.lookup, "objection-lookup", client_address())
            return area.lookup(uow(), args["receipt_no"], args["code"])

    def show(objection_id):
        principal = identity.current_principal()
        view = bus.handle(ViewObjection(objection_id, principal))
        view["proposed_departments"] = area.proposed_departments(view["indicators"])
        return view

    @api.route("/objections/<objection_id>")
    class Objection(MethodView):
        @identity.requires(*STAFF)
        @api.response(200, ObjectionView)
        @document_errors(api, 401, 403, 404)
        def get(self, objection_id):
            """One objection (each view of the personal data is recorded in its history)."""
            return show(objection_id)

    @api.route("/objections/<objection_id>/triage")
    class Triage(MethodView):
        @identity.requires("region_office")
        @api.arguments(TriageBody)
        @api.response(200, ObjectionView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, objection_id):
            """Triage to the departments responsible (proposed from the indicators named) with a deadline in
            working days (default 10)."""
            departments = tuple(body["departments"]) if body.get("departments") is not None else None
            return bus.handle(TriageObjection(objection_id, identity.current_principal(), departments,
                                              body.get("working_days")))

    @api.route("/objections/<objection_id>/findings")
    class Findings(MethodView):
        @identity.requires("department_reviewer")
        @api.arguments(FindingBody)
        @api.response(200, ObjectionView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, objection_id):
            """The reviewer's department's finding (supported / not_supported), with an optional site check."""
            return bus.handle(RecordFinding(objection_id, identity.current_principal(), body["finding"],
                                            body["text"], body.get("site_check")))

    @api.route("/objections/<objection_id>/conclusion")
    class Conclusion(MethodView):
        @identity.requires("region_office")
        @api.arguments(ConclusionBody)
        @api.response(200, ObjectionView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, objection_id):
            """Conclude: upheld (with return_to_region or refuse) or not_upheld, with reasons and the reply."""
            return bus.handle(ConcludeObjection(objection_id, identity.current_principal(), body["outcome"],
                                                body["reasons"], body["reply"], body.get("action")))

    @api.route("/objections/<objection_id>/evidence/<file_id>")
    class Evidence(MethodView):
        @identity.requires(*STAFF)
        @api.response(200, description="证据文件（JPEG、PNG 或 PDF）")
        @document_errors(api, 401, 403, 404)
        def get(self, objection_id, file_id):
            """One evidence file of an objection the caller may read."""
            view = bus.handle(ViewObjection(objection_id, identity.current_principal()))
            item = next((e for e in view["evidence"] if e["file_id"] == file_id), None)
            grid_out = evidence().open(file_id) if item else None
            if grid_out is None:
                raise NotFound("没有这份证据材料")
            return Response(evidence().iterate(grid_out), mimetype=item["content_type"], headers={
                "Content-Length": str(item["size"]), "Cache-Control": "no-store",
                "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(item['filename'])}"})

    # -- public pages ---------------------------------------------------------------------------------------
    def indicators():
        return [(i.no, i.name) for i in load_catalog(area.CATALOG_ID).indicators]

    @public.route("/objections/new", methods=["GET", "POST"])
    @identity.public
    def objection_form():
        mines = open_mines(uow(), today())
        chosen = {"batch_id": request.args.get("batch", ""), "application_id": request.args.get("application", "")}
        errors, message, form, status, headers = {}, None, {}, 200, {}
        if request.method == "POST":
            try:
                form, files = read_filing()
                if "|" in (form.get("application_id") or "") and not form.get("batch_id"):
                    form["batch_id"], form["application_id"] = form["application_id"].split("|", 1)
                receipt = file_objection(form, files)
                mine = next((m for m in mines if m["application_id"] == form["application_id"]), {})
                return render_template("public_notice/objections/receipt.html", receipt=receipt, mine=mine), 201
            except TooManyAttempts as exc:
                message, status = exc.message, http_status(exc)
                headers = {"Retry-After": str(exc.retry_after)}
            except DomainError as exc:   # 422 on the fields, or the window closed (409), shown on the form
                errors, message, status = exc.error_map(), exc.message, http_status(exc)
            chosen = {"batch_id": form.get("batch_id", ""), "application_id": form.get("application_id", "")}
        safe = {k: v for k, v in form.items() if k != "id_number"}   # never echoed back
        return render_template("public_notice/objections/form.html", mines=mines, chosen=chosen, errors=errors,
                               message=message, form=safe, indicators=indicators(), consent=rules.CONSENT_TEXT,
                               max_bytes=evidence().limit), status, headers

    @public.route("/objections/lookup", methods=["GET", "POST"])
    @identity.public
    def lookup_page():
        result, message, status, headers = None, None, 200, {}
        if request.method == "POST":
            try:
                limits.check(limits.lookup, "objection-lookup", client_address())
                result = area.lookup(uow(), request.form.get("receipt_no", ""), request.form.get("code", ""))
            except NotFound as exc:
                message, status = exc.message, 404
            except TooManyAttempts as exc:
                message, status, headers = exc.message, http_status(exc), {"Retry-After": str(exc.retry_after)}
        return render_template("public_notice/objections/lookup.html", result=result, message=message,
                               receipt_no=request.form.get("receipt_no", "")), status, headers

    # -- staff pages ----------------------------------------------------------------------------------------
    @pages.get("/objections")
    @identity.requires(*STAFF)
    def queue_page():
        args = QueueArgs().load({k: v for k, v in request.args.items() if k in ("status", "batch_id", "overdue")
                                 and v != ""})
        rows = area.queue(uow(), identity.current_principal(), **args)
        return render_template("public_notice/objections/queue.html", rows=rows, args=args,
                               statuses=STATUS_LABELS, departments=_departments())

    @pages.get("/objections/<objection_id>")
    @identity.requires(*STAFF)
    def objection_page(objection_id):
        principal = identity.current_principal()
        try:
            v = show(objection_id)
        except NotFound:
            abort(404)
        handles = principal.role == "department_reviewer" and principal.department in v["departments"] and \
            principal.department not in v["findings"] and v["status"] == "triaged"
        return render_template("public_notice/objections/detail.html", v=v, me=principal, handles=handles,
                               departments=_departments(), statuses=STATUS_LABELS, findings=FINDINGS,
                               outcomes=OUTCOMES, actions=ACTIONS, indicators=dict(indicators()),
                               today=today().isoformat())


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
