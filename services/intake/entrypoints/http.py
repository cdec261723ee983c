"""The intake service's web app, served by gunicorn: `gunicorn 'intake.entrypoints.http:create_app()'`.

JSON API (bearer token or the sign-in session; documented in contracts/http/intake.openapi.json):

- ``GET|POST /api/v1/mines``, ``GET|PUT /api/v1/mines/{id}``, ``GET /api/v1/mines/vocabulary``
- ``GET|POST /api/v1/applications``, ``GET|PUT /api/v1/applications/{id}``
- ``POST /api/v1/applications/{id}/attachments`` (multipart: ``kind``, optional ``indicator``, ``file``),
  ``GET|DELETE /api/v1/applications/{id}/attachments/{attachment_id}``
- ``POST /api/v1/applications/{id}/submit``, ``GET /api/v1/applications/{id}/versions/{n}``,
  ``GET /api/v1/applications/{id}/audit``

Views only translate: the request into a command for the bus, the result into the answer.  Refusals are
``shared.errors`` raised by the handlers, answered by the platform's one error handler (``shared.web``).
Pages under ``/intake/`` (entrypoints/pages.py), static files under ``/intake/static/``.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from intake.domain import commands as c
from intake.domain import materials as mat
from intake.domain.mine import INDUSTRY_GROUPS, MINERALS, MINING_METHODS, PRODUCTION_STATUSES, SCALES
from intake.domain.minerals import MINERAL_CATEGORIES
from shared import identity, regions
from shared import text as texts
from shared.config import Settings
from shared.errors import FieldError, InvalidInput
from shared.runtime import service_readiness
from shared.schemas import document_errors
from shared.web import create_service_app, finalize

from . import presenters, schemas

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
ENTERPRISE = ("enterprise",)
READERS = identity.ANY_SIGNED_IN  # each record is then checked: own enterprise, or within the official's area


def vocabulary() -> dict:
    """Everything a client needs to fill the mine form: 盟市/旗县, minerals, scales, methods, statuses."""
    return {
        "leagues": [{"code": league.code, "name": league.name, "division_code": league.division_code,
                     "counties": [{"code": c.code, "name": c.name} for c in league.counties]}
                    for league in regions.LEAGUES],
        "minerals": [{"code": m.code, "name": m.name, "category": m.category, "industry_group": m.industry_group,
                      "well": m.well} for m in MINERALS],
        "mineral_categories": dict(MINERAL_CATEGORIES),
        "scales": SCALES, "mining_methods": MINING_METHODS, "production_statuses": PRODUCTION_STATUSES,
        "industry_groups": {str(k): v for k, v in INDUSTRY_GROUPS.items()},
        "material_kinds": [k.to_dict() | {"item_label": k.item_label} for k in mat.KINDS],
    }


def create_app(settings: Settings | None = None, *, intake=None):
    """``intake``: a wired ``intake.bootstrap.Intake`` (tests); by default built on first use, so generating the
    OpenAPI document never needs the database."""
    settings = settings or Settings.from_env()
    holder: dict = {"intake": intake}

    def system():
        if holder["intake"] is None:
            from intake.bootstrap import bootstrap

            holder["intake"] = bootstrap(settings)
        return holder["intake"]

    def handle(command):
        return system().bus.handle(command)

    def me():
        return identity.current_principal()

    mines = ApiBlueprint("mines", __name__, url_prefix="/api/v1/mines",
                         description="矿山登记（矿山企业登记和维护本企业的矿山）")

    @mines.route("")
    class Mines(MethodView):
        @identity.requires(*READERS)
        @mines.response(200, schemas.MineOut(many=True))
        @document_errors(mines, 401, 403)
        def get(self):
            """Mines the caller may see: an enterprise its own, officials those of their area."""
            return [presenters.mine_record_view(r) for r in handle(c.ListMines(me()))]

        @identity.requires(*ENTERPRISE)
        @mines.arguments(schemas.MineIn)
        @mines.response(201, schemas.MineOut)
        @document_errors(mines)
        def post(self, body):
            """Register a mine of the caller's enterprise (all errors at once, each naming its field)."""
            body.pop("expected_version", None)
            return presenters.mine_record_view(handle(c.RegisterMine(me(), body))), 201

    @mines.route("/vocabulary")
    class Vocabulary(MethodView):
        @identity.requires(*READERS)
        @mines.response(200, schemas.VocabularyOut)
        @document_errors(mines, 401)
        def get(self):
            """The code lists of the mine register and of the materials (附件2 一)."""
            return vocabulary()

    @mines.route("/<mine_id>")
    class MineView(MethodView):
        @identity.requires(*READERS)
        @mines.response(200, schemas.MineOut)
        @document_errors(mines, 401, 403, 404)
        def get(self, mine_id):
            """One mine."""
            return presenters.mine_record_view(handle(c.GetMine(me(), mine_id)))

        @identity.requires(*ENTERPRISE)
        @mines.arguments(schemas.MineIn)
        @mines.response(200, schemas.MineOut)
        @document_errors(mines, 401, 403, 404, 409, 422)
        def put(self, body, mine_id):
            """Replace a mine's data (the whole mine, validated as on registration)."""
            expected = body.pop("expected_version", None)
            return presenters.mine_record_view(handle(c.UpdateMine(me(), mine_id, body, expected)))

    apps = ApiBlueprint("applications", __name__, url_prefix="/api/v1/applications",
                        description="申报（自评估、申报材料、提交、审核进度）")

    @apps.route("")
    class Applications(MethodView):
        @identity.requires(*READERS)
        @apps.arguments(schemas.ApplicationListQuery, location="query")
        @apps.response(200, schemas.ApplicationListItem(many=True))
        @document_errors(apps)
        def get(self, query):
            """Applications the caller may see, newest first."""
            return [presenters.application_list_item(d) for d in handle(c.ListApplications(me(), **query))]

        @identity.requires(*ENTERPRISE)
        @apps.arguments(schemas.ApplicationCreate)
        @apps.response(201, schemas.ApplicationOut)
        @document_errors(apps, 401, 403, 409, 422)
        def post(self, body):
            """Start an application for one of the caller's mines, optionally with a first draft."""
            command = c.StartApplication(
                me(), body["mine_id"], assessment=body.get("assessment"), records=body.get("records"),
                declared_penalties=c.UNSET if body.get("declared_penalties") is None else body["declared_penalties"],
                catalog=body.get("catalog"))
            return presenters.loaded_view(handle(command)), 201

    @apps.route("/<app_id>")
    class ApplicationView(MethodView):
        @identity.requires(*READERS)
        @apps.response(200, schemas.ApplicationOut)
        @document_errors(apps, 401, 403, 404)
        def get(self, app_id):
            """Status, latest score report, history, versions, materials and the working draft."""
            return presenters.loaded_view(handle(c.GetApplication(me(), app_id)))

        @identity.requires(*ENTERPRISE)
        @apps.arguments(schemas.ApplicationUpdate)
        @apps.response(200, schemas.ApplicationOut)
        @document_errors(apps, 401, 403, 404, 409, 422)
        def put(self, body, app_id):
            """Edit the draft: the assessment, 检查记录 (all, or one with ``record``), the penalty declaration."""
            fields = {key: body[key] for key in ("assessment", "records", "declared_penalties") if key in body}
            record = body.get("record")
            if record is not None:
                indicator, text = record.get("indicator"), record.get("text", "")
                if not isinstance(indicator, str) or not isinstance(text, (str, type(None))):
                    raise InvalidInput("提交的数据有误，请按提示修改",
                                       [FieldError("record", "检查记录：应为 {indicator: 指标编号, text: 文字}")])
                fields["record_patch"] = {indicator: text or ""}
            command = c.EditDraft(me(), app_id, expected_revision=body.get("expected_revision"), **fields)
            return presenters.loaded_view(handle(command))

    @apps.route("/<app_id>/attachments")
    class Attachments(MethodView):
        @identity.requires(*ENTERPRISE)
        @apps.doc(requestBody={"required": True,
                               "content": {"multipart/form-data": {"schema": schemas.AttachmentUpload}}})
        @apps.response(201, schemas.AttachmentOut)
        @document_errors(apps, 401, 403, 404, 409, 413, 422)
        def post(self, app_id):
            """Upload one file (a material of 附件2 一, or evidence of one indicator) to the draft."""
            try:
                form = schemas.AttachmentUpload().load({**request.form.to_dict(), **request.files.to_dict()})
            except ValidationError as exc:
                raise InvalidInput("提交的数据有误，请按提示修改",
                                   [FieldError(f, m) for f, ms in exc.messages.items() for m in ms]) from None
            upload = form["file"]
            _loaded, ref = handle(c.AddAttachment(me(), app_id, kind=form["kind"], indicator=form.get("indicator"),
                                                  stream=upload.stream, filename=upload.filename or "",
                                                  declared_type=upload.mimetype))
            return presenters.attachment_view(ref, app_id), 201

    @apps.route("/<app_id>/attachments/<attachment_id>")
    class Attachment(MethodView):
        @identity.requires(*READERS)
        @apps.arguments(ViewArgs, location="query")
        @apps.response(200, description="文件：默认以附件下载（Content-Disposition: attachment）；inline=true 时 PDF、"
                                         "JPEG、PNG 在浏览器中查看（inline，仍带 nosniff 与沙箱 CSP）",
                       content_type="application/octet-stream")
        @apps.doc(responses={"200": {"content": {"application/octet-stream": {"schema": schemas.BINARY}}}})
        @document_errors(apps, 401, 403, 404, 422)
        def get(self, args, app_id, attachment_id):
            """Download (or, `inline=true`, view) an attachment of the draft or of any version (audited)."""
            ref, grid_out = handle(c.OpenAttachment(me(), app_id, attachment_id))
            return download_response(ref, grid_out, system().files, inline=args.get("inline", False))

        @identity.requires(*ENTERPRISE)
        @apps.response(200, schemas.ApplicationOut)
        @document_errors(apps, 401, 403, 404, 409)
        def delete(self, app_id, attachment_id):
            """Remove an attachment from the draft (versions that refer to it keep it)."""
            return presenters.loaded_view(handle(c.RemoveAttachment(me(), app_id, attachment_id)))

    @apps.route("/<app_id>/submit")
    class Submit(MethodView):
        @identity.requires(*ENTERPRISE)
        @apps.response(200, schemas.ApplicationOut)
        @document_errors(apps, 401, 403, 404, 409, 422, 503)
        def post(self, app_id):
            """Submit (or resubmit after a return): freeze a version and publish intake.application_submitted.

            422 lists what is still missing (materials, assessment errors, licences); 503: the scoring service
            did not answer (the draft is unchanged)."""
            return presenters.loaded_view(handle(c.SubmitApplication(me(), app_id)))

    @apps.route("/<app_id>/versions/<int:number>")
    class Version(MethodView):
        @identity.requires(*READERS)
        @apps.response(200, schemas.VersionOut)
        @document_errors(apps, 401, 403, 404)
        def get(self, app_id, number):
            """A submitted version, frozen: readable for ever."""
            return presenters.version_view(handle(c.GetVersion(me(), app_id, number)), app_id)

    @apps.route("/<app_id>/audit")
    class Audit(MethodView):
        @identity.requires(*READERS)
        @apps.response(200, schemas.AuditEntryOut(many=True))
        @document_errors(apps, 401, 403, 404)
        def get(self, app_id):
            """The append-only audit log of one application: who did what when (every download too)."""
            return handle(c.GetAuditTrail(me(), app_id))

    app = create_service_app("intake", settings=settings, title="greenmine intake", blueprints=[mines, apps],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "intake"))
    from intake.entrypoints.pages import pages_blueprint

    app.register_blueprint(pages_blueprint(system, settings))
    app.extensions["greenmine"]["intake"] = system
    return finalize(app)


class ViewArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    inline = fields.Boolean(load_default=False, metadata={
        "description": "true：PDF、JPEG、PNG 在浏览器中查看（其他类型仍以附件下载）"})


#: The stored (sniffed) types a browser may show as a viewer: its PDF viewer and its image view run no script of
#: the file's own, and the sandboxing CSP still applies.
INLINE_TYPES = ("application/pdf", "image/jpeg", "image/png")


def download_response(ref, grid_out, files, *, inline: bool = False) -> Response:
    """Stored files are downloaded, or (`inline`, PDF and JPEG/PNG only) shown by the browser's own viewer; never
    rendered as a page of ours: nosniff and a sandboxing CSP (Chromium's PDF viewer works under it) either way."""
    response = Response(files.iterate(grid_out), mimetype=ref.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(grid_out.length)
    name = texts.safe_filename(ref.filename)  # stored before names were cleaned on upload: cleaned here too
    disposition = "inline" if inline and ref.content_type in INLINE_TYPES else "attachment"
    response.headers["Content-Disposition"] = (f"{disposition}; filename=\"{_ascii_name(name)}\"; "
                                               f"filename*=UTF-8''{quote(name)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Checksum-SHA256"] = ref.sha256
    return response


def _ascii_name(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    safe = "".join(ch for ch in ext if ch.isascii() and ch.isalnum())[:8] or "bin"
    return f"attachment.{safe}"
