"""The intake service's web app, served by gunicorn: `gunicorn 'intake.entrypoints.http:create_app()'`.

JSON API (bearer token or the sign-in session; documented in contracts/http/intake.openapi.json):

- ``GET|POST /api/v1/mines``, ``GET|PUT /api/v1/mines/{id}``, ``GET /api/v1/mines/vocabulary``
- ``GET|POST /api/v1/applications``, ``GET|PUT /api/v1/applications/{id}``
- ``POST /api/v1/applications/{id}/attachments`` (multipart: ``kind``, optional ``indicator``, ``file``),
  ``GET|DELETE /api/v1/applications/{id}/attachments/{attachment_id}``
- ``POST /api/v1/applications/{id}/submit``, ``GET /api/v1/applications/{id}/versions/{n}``,
  ``GET /api/v1/applications/{id}/audit``

Pages under ``/intake/`` (entrypoints/pages.py), static files under ``/intake/static/``.
"""
from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import quote

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import ValidationError

from intake.adapters.mongo import AuditLog
from intake.domain import materials as mat
from shared import regions
from intake.domain.mine import INDUSTRY_GROUPS, MINERALS, MINING_METHODS, PRODUCTION_STATUSES, SCALES
from intake.service_layer import views
from intake.service_layer.errors import ServiceError
from shared import identity
from shared.config import Settings
from shared.runtime import service_readiness
from shared.web import create_service_app, finalize

from . import schemas

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
ENTERPRISE = ("enterprise",)
READERS = identity.ANY_SIGNED_IN  # each record is then checked: own enterprise, or within the official's area


def error_response(exc: ServiceError) -> Response:
    body = {"code": exc.status, "status": _STATUS_NAMES.get(exc.status, "Error"), "message": exc.message}
    errors = getattr(exc, "errors", None)
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = exc.status
    return response


_STATUS_NAMES = {403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity",
                 503: "Service Unavailable"}


def service_errors(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ServiceError as exc:
            return error_response(exc)

    return wrapper


def vocabulary() -> dict:
    """Everything a client needs to fill the mine form: 盟市/旗县, minerals, scales, methods, statuses."""
    return {
        "leagues": [{"code": l.code, "name": l.name, "division_code": l.division_code,
                     "counties": [{"code": c.code, "name": c.name} for c in l.counties]} for l in regions.LEAGUES],
        "minerals": [{"code": m.code, "name": m.name, "category": m.category, "industry_group": m.industry_group,
                      "well": m.well} for m in MINERALS],
        "scales": SCALES, "mining_methods": MINING_METHODS, "production_statuses": PRODUCTION_STATUSES,
        "industry_groups": {str(k): v for k, v in INDUSTRY_GROUPS.items()},
        "material_kinds": [k.to_dict() | {"item_label": k.item_label} for k in mat.KINDS],
    }


def create_app(settings: Settings | None = None, *, service=None):
    settings = settings or Settings.from_env()
    holder: dict = {"service": service}

    def svc():
        # Built on first use: generating the OpenAPI document never needs the database.
        if holder["service"] is None:
            from intake.bootstrap import build_service

            holder["service"] = build_service(settings)
        return holder["service"]

    def me():
        return identity.current_principal()

    mines = ApiBlueprint("mines", __name__, url_prefix="/api/v1/mines", description="矿山登记（矿山企业登记和维护本企业的矿山）")

    @mines.route("")
    class Mines(MethodView):
        @identity.requires(*READERS)
        @mines.response(200, schemas.MineOut(many=True))
        @service_errors
        def get(self):
            """Mines the caller may see: an enterprise its own, officials those of their area."""
            today = svc().today()
            return [views.mine_view(m, d, today) for m, d in svc().list_mines(me())]

        @identity.requires(*ENTERPRISE)
        @mines.arguments(schemas.MineIn)
        @mines.response(201, schemas.MineOut)
        @mines.alt_response(422, description="矿山信息有误：errors 按字段（如 mining_licence.valid_to）列出原因")
        @mines.alt_response(403, description="只能登记本企业的矿山")
        @service_errors
        def post(self, body):
            """Register a mine of the caller's enterprise (all errors at once, each naming its field)."""
            body.pop("expected_version", None)
            mine, doc = svc().register_mine(me(), body)
            return views.mine_view(mine, doc, svc().today()), 201

    @mines.route("/vocabulary")
    class Vocabulary(MethodView):
        @identity.requires(*READERS)
        @mines.response(200, description="盟市与旗县、矿种、规模、开采方式、生产状态、材料类型")
        def get(self):
            """The code lists of the mine register and of the materials (附件2 一)."""
            return vocabulary()

    @mines.route("/<mine_id>")
    class MineView(MethodView):
        @identity.requires(*READERS)
        @mines.response(200, schemas.MineOut)
        @mines.alt_response(403, description="其他企业的矿山，或不在管辖范围内")
        @mines.alt_response(404, description="找不到该矿山")
        @service_errors
        def get(self, mine_id):
            """One mine."""
            mine, doc = svc().get_mine(me(), mine_id)
            return views.mine_view(mine, doc, svc().today())

        @identity.requires(*ENTERPRISE)
        @mines.arguments(schemas.MineIn)
        @mines.response(200, schemas.MineOut)
        @mines.alt_response(409, description="矿山信息已在其他地方修改（expected_version 不一致）")
        @service_errors
        def put(self, body, mine_id):
            """Replace a mine's data (the whole mine, validated as on registration)."""
            expected = body.pop("expected_version", None)
            mine, doc = svc().update_mine(me(), mine_id, body, expected)
            return views.mine_view(mine, doc, svc().today())

    apps = ApiBlueprint("applications", __name__, url_prefix="/api/v1/applications",
                        description="申报（自评估、申报材料、提交、审核进度）")

    def app_view(loaded):
        catalog = svc().catalog(loaded.app.catalog)
        return views.application_view(loaded.app, loaded.doc, catalog, loaded.mine,
                                      svc().mine_problems(loaded.app, loaded.mine))

    @apps.route("")
    class Applications(MethodView):
        @identity.requires(*READERS)
        @apps.arguments(schemas.ApplicationListQuery, location="query")
        @apps.response(200, schemas.ApplicationListItem(many=True))
        @service_errors
        def get(self, query):
            """Applications the caller may see, newest first."""
            return [views.application_list_item(d) for d in svc().list_applications(me(), **query)]

        @identity.requires(*ENTERPRISE)
        @apps.arguments(schemas.ApplicationCreate)
        @apps.response(201, schemas.ApplicationOut)
        @apps.alt_response(409, description="该矿山已有进行中的申报")
        @service_errors
        def post(self, body):
            """Start an application for one of the caller's mines, optionally with a first draft."""
            kwargs = {"assessment": body.get("assessment"), "records": body.get("records"),
                      "catalog_id": body.get("catalog")}
            if body.get("declared_penalties") is not None:
                kwargs["declared_penalties"] = body["declared_penalties"]
            loaded = svc().start_application(me(), body["mine_id"], **kwargs)
            return app_view(loaded), 201

    @apps.route("/<app_id>")
    class ApplicationView(MethodView):
        @identity.requires(*READERS)
        @apps.response(200, schemas.ApplicationOut)
        @apps.alt_response(403, description="其他企业的申报，或不在管辖范围内")
        @apps.alt_response(404, description="找不到该申报")
        @service_errors
        def get(self, app_id):
            """Status, latest score report, history, versions, materials and the working draft."""
            return app_view(svc().load(me(), app_id))

        @identity.requires(*ENTERPRISE)
        @apps.arguments(schemas.ApplicationUpdate)
        @apps.response(200, schemas.ApplicationOut)
        @apps.alt_response(409, description="不是草稿或退回补正状态，或 expected_revision 已过期")
        @service_errors
        def put(self, body, app_id):
            """Edit the draft: the assessment, 检查记录 (all, or one with ``record``), the penalty declaration."""
            kwargs = {}
            for key in ("assessment", "records", "declared_penalties"):
                if key in body:
                    kwargs[key] = body[key]
            record = body.get("record")
            if record is not None:
                indicator, text = record.get("indicator"), record.get("text", "")
                if not isinstance(indicator, str) or not isinstance(text, (str, type(None))):
                    return error_response(_invalid({"record": ["检查记录：应为 {indicator: 指标编号, text: 文字}"]}))
                kwargs["record_patch"] = {indicator: text or ""}
            loaded = svc().update_application(me(), app_id, expected_revision=body.get("expected_revision"),
                                              **kwargs)
            return app_view(loaded)

    @apps.route("/<app_id>/attachments")
    class Attachments(MethodView):
        @identity.requires(*ENTERPRISE)
        @apps.doc(requestBody={"required": True,
                               "content": {"multipart/form-data": {"schema": schemas.AttachmentUpload}}})
        @apps.response(201, schemas.AttachmentOut)
        @apps.alt_response(413, description="超过部署的上传上限（GREENMINE_UPLOAD_MAX_BYTES）")
        @apps.alt_response(422, description="类型、大小、扩展名或所属指标有误；网页、脚本、可执行文件一律拒收")
        @service_errors
        def post(self, app_id):
            """Upload one file (a material of 附件2 一, or evidence of one indicator) to the draft."""
            try:
                form = schemas.AttachmentUpload().load({**request.form.to_dict(), **request.files.to_dict()})
            except ValidationError as exc:
                return error_response(_invalid(exc.messages))
            upload = form["file"]
            _loaded, ref = svc().add_attachment(me(), app_id, kind=form["kind"], indicator=form.get("indicator"),
                                                stream=upload.stream, filename=upload.filename or "",
                                                declared_type=upload.mimetype)
            return views.attachment_view(ref, app_id), 201

    @apps.route("/<app_id>/attachments/<attachment_id>")
    class Attachment(MethodView):
        @identity.requires(*READERS)
        @apps.response(200, description="文件（始终以附件下载：Content-Disposition: attachment）")
        @service_errors
        def get(self, app_id, attachment_id):
            """Download an attachment of the draft or of any version (recorded in the audit log)."""
            ref, grid_out = svc().open_attachment(me(), app_id, attachment_id)
            return download_response(ref, grid_out, svc().files)

        @identity.requires(*ENTERPRISE)
        @apps.response(200, schemas.ApplicationOut)
        @service_errors
        def delete(self, app_id, attachment_id):
            """Remove an attachment from the draft (versions that refer to it keep it)."""
            return app_view(svc().remove_attachment(me(), app_id, attachment_id))

    @apps.route("/<app_id>/submit")
    class Submit(MethodView):
        @identity.requires(*ENTERPRISE)
        @apps.response(200, schemas.ApplicationOut)
        @apps.alt_response(422, description="尚缺的材料、自评估错误、证照问题，逐项列出（errors）")
        @apps.alt_response(409, description="当前状态不能提交")
        @apps.alt_response(503, description="评分服务暂不可用（草稿不变）")
        @service_errors
        def post(self, app_id):
            """Submit (or resubmit after a return): freeze a version and publish intake.application_submitted."""
            return app_view(svc().submit(me(), app_id))

    @apps.route("/<app_id>/versions/<int:number>")
    class Version(MethodView):
        @identity.requires(*READERS)
        @apps.response(200, schemas.VersionOut)
        @service_errors
        def get(self, app_id, number):
            """A submitted version, frozen: readable for ever."""
            _loaded, version = svc().get_version(me(), app_id, number)
            return views.version_view(version, app_id)

    @apps.route("/<app_id>/audit")
    class Audit(MethodView):
        @identity.requires(*READERS)
        @apps.response(200, description="审计日志：谁在何时做了什么（含每次附件下载）")
        @service_errors
        def get(self, app_id):
            """The append-only audit log of one application."""
            svc().load(me(), app_id)
            entries = AuditLog(svc().db).for_subject(app_id)
            return [{"at": e["at"].isoformat(), "actor": e["actor"], "action": e["action"],
                     "detail": _plain(e.get("detail"))} for e in entries]

    app = create_service_app("intake", settings=settings, title="greenmine intake", blueprints=[mines, apps],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "intake"))
    from intake.entrypoints.pages import pages_blueprint

    app.register_blueprint(pages_blueprint(svc, settings))
    app.extensions["greenmine"]["intake_service"] = svc
    return finalize(app)


def _invalid(errors):
    from intake.service_layer.errors import Invalid

    return Invalid("提交的数据有误，请按提示修改", errors)


def _plain(value):
    from intake.domain.application import to_plain

    try:
        return to_plain(value)
    except ValueError:
        return str(value)


def download_response(ref, grid_out, files) -> Response:
    """Stored files are only ever downloaded, never rendered: attachment disposition, nosniff, a sandboxing CSP."""
    response = Response(files.iterate(grid_out), mimetype=ref.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(grid_out.length)
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{_ascii_name(ref.filename)}\"; "
                                               f"filename*=UTF-8''{quote(ref.filename)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Checksum-SHA256"] = ref.sha256
    return response


def _ascii_name(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    safe = "".join(ch for ch in ext if ch.isascii() and ch.isalnum())[:8] or "bin"
    return f"attachment.{safe}"


