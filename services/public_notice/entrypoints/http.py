"""The public_notice service's web app, served by gunicorn: `gunicorn 'public_notice.entrypoints.http:create_app()'`.

Public pages and API over the read models of `adapters/queries.py`; commands (to come) go through the bus of
`public_notice.bootstrap`."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from public_notice.adapters import queries
from public_notice.bootstrap import SERVICE, bootstrap
from shared import identity
from shared.config import Settings
from shared.identity import LEAGUES
from shared.runtime import service_readiness, service_store
from shared.schemas import document_errors
from shared.web import create_service_app, finalize

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class ListQuerySchema(Schema):
    league = fields.String(metadata={"description": "盟市"})
    q = fields.String(metadata={"description": "矿山名称包含"})


class GreenMineSchema(Schema):
    mine_name = fields.String()
    enterprise_name = fields.String()
    league = fields.String()
    county = fields.String()
    minerals = fields.List(fields.String())
    listed_on = fields.String()
    status = fields.String(metadata={"description": "listed 在库 / marked 标注 / rectifying 限期整改"})


def create_app(settings: Settings | None = None, bus=None):
    settings = settings or Settings.from_env()
    store_holder: dict = {}

    def db():
        if "store" not in store_holder:
            store_holder["store"] = service_store(settings, SERVICE)
        return store_holder["store"].db

    pages = Blueprint("public_notice_pages", __name__, url_prefix="/notice")

    @pages.get("/")
    @identity.requires('region_office', 'admin')
    def workspace():
        return render_template("public_notice/workspace.html")

    public_pages = Blueprint("public_pages", __name__, url_prefix="/public")

    @public_pages.get("/list")
    @identity.public
    def public_list():
        league = request.args.get("league") or None
        name = (request.args.get("q") or "").strip() or None
        return render_template("public_notice/list.html", mines=queries.green_mines(db(), league, name),
                               leagues=LEAGUES, league=league, q=name or "")

    @public_pages.get("/notices")
    @identity.public
    def public_notices():
        return render_template("public_notice/notices.html", notices=queries.published_notices(db()))

    api = ApiBlueprint("green_mine_list", __name__, url_prefix="/api/v1/list", description="绿色矿山名录(公开)")

    @api.route("")
    class GreenMineList(MethodView):
        @identity.public
        @api.arguments(ListQuerySchema, location="query")
        @api.response(200, GreenMineSchema(many=True))
        @document_errors(api, 422)
        def get(self, query):
            """The public green-mine list, filtered by 盟市 or name."""
            return queries.green_mines(db(), query.get("league"), query.get("q"))

    app = create_service_app(SERVICE, settings=settings, title="greenmine public_notice", blueprints=[api],
                             url_prefix="notice",
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, SERVICE))
    app.register_blueprint(pages)
    app.register_blueprint(public_pages)
    app.extensions["greenmine"]["bus"] = bus or bootstrap(settings)  # views hand their commands to it
    return finalize(app)
