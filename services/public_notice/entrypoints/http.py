"""The public_notice service's web app, served by gunicorn: `gunicorn 'public_notice.entrypoints.http:create_app()'`.

Four blueprints every area adds its views to (`routes(web, bus)` in `entrypoints/<area>.py`, see AREAS): the API
`/api/v1/notice/…`, the staff pages `/notice/…`, the public pages `/public/…`, and any further blueprint an area
appends to `web.extra` (the public list API `/api/v1/list`). Commands go through the bus of
`public_notice.bootstrap`; public reads use the read models of `adapters/queries.py`."""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

from flask import Blueprint, render_template
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from public_notice.adapters import queries
from public_notice.bootstrap import SERVICE, bootstrap
from shared import identity
from shared.config import Settings
from shared.runtime import service_readiness, service_store
from shared.schemas import FieldErrorParser
from shared.web import AreaWeb, create_service_app, finalize

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
AREAS = ("publicity", "objections", "listing", "notifications.inbox", "notifications.email",
         "notifications.webhooks", "notifications.feeds")


class NoticeApi(ApiBlueprint):
    """The service's API blueprints: bodies read with field paths and Chinese messages (shared.schemas)."""

    ARGUMENTS_PARSER = FieldErrorParser()


class BulletinSchema(Schema):
    bulletin_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "misconduct（第三方评估机构违规）"})
    title = fields.String(required=True)
    text = fields.String(required=True, metadata={"description": "通报全文"})
    institution_id = fields.String()
    institution_name = fields.String(required=True)
    credit_code = fields.String(metadata={"description": "统一社会信用代码"})
    person = fields.String(allow_none=True, metadata={"description": "评估人员（认定针对个人时）"})
    misconduct = fields.String()
    misconduct_label = fields.String(metadata={"description": "违规情形（通知原文）"})
    facts = fields.String()
    found_on = fields.String(metadata={"description": "认定日期"})
    banned_until = fields.String(metadata={"description": "不再采信其评估服务至（含）"})
    document_no = fields.String(allow_none=True)
    published_at = fields.DateTime()


def create_app(settings: Settings | None = None, bus=None):
    settings = settings or Settings.from_env()
    # One store per process for the bus's units of work and the read models: each store reads every contract.
    # (Opening it does not connect: the database is reached on first use.)
    store = service_store(settings, SERVICE)

    def db():
        return store.db

    pages = Blueprint("public_notice_pages", __name__, url_prefix="/notice")

    @pages.get("/")
    @identity.requires('region_office', 'admin')
    def workspace():
        from public_notice.entrypoints.publicity import overview

        return render_template("public_notice/workspace.html", overview=overview(the_bus))

    public_pages = Blueprint("public_pages", __name__, url_prefix="/public")

    @public_pages.get("/bulletins")
    @identity.public
    def public_bulletins():
        return render_template("public_notice/bulletins.html", bulletins=queries.bulletins(db()))

    notice_api = NoticeApi("notice", __name__, url_prefix="/api/v1/notice",
                              description="公示、异议、名录公告、通报与通知")

    @notice_api.route("/bulletins")
    class Bulletins(MethodView):
        @identity.public
        @notice_api.response(200, BulletinSchema(many=True))
        def get(self):
            """The published 通报, newest first (no sign-in)."""
            return queries.bulletins(db())

    web = AreaWeb(api=notice_api, pages=pages, public=public_pages, settings=settings, db=db)
    the_bus = bus or bootstrap(settings, store)
    for area in AREAS:
        import_module(f"public_notice.entrypoints.{area}").routes(web, the_bus)
    app = create_service_app(SERVICE, settings=settings, title="greenmine public_notice",
                             blueprints=[notice_api, *web.extra],
                             url_prefix="notice",
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, SERVICE))
    app.register_blueprint(pages)
    app.register_blueprint(public_pages)
    app.extensions["greenmine"]["bus"] = the_bus  # views hand their commands to it
    return finalize(app)
