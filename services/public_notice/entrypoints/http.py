"""The public_notice service's web app, served by gunicorn: `gunicorn 'public_notice.entrypoints.http:create_app()'`."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from shared import identity
from shared.config import Settings
from shared.identity import LEAGUES
from shared.runtime import service_readiness, service_store
from shared.web import create_service_app, finalize

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    pages = Blueprint("public_notice_pages", __name__, url_prefix="/notice")

    @pages.get("/")
    @identity.requires('region_office', 'admin')
    def workspace():
        return render_template("public_notice/workspace.html")

    store_holder: dict = {}

    def db():
        if "store" not in store_holder:
            store_holder["store"] = service_store(settings, "public_notice")
        return store_holder["store"].db

    def green_mines(league: str | None, name: str | None) -> list[dict]:
        """The green-mine list (名录) read model, kept by this service from listing decisions."""
        query: dict = {"status": {"$ne": "removed"}}
        if league:
            query["league"] = league
        if name:
            import re

            query["mine_name"] = {"$regex": re.escape(name)}
        return list(db()["green_mines"].find(query, {"_id": 0}).sort([("league", 1), ("mine_name", 1)]))

    public_pages = Blueprint("public_pages", __name__, url_prefix="/public")

    @public_pages.get("/list")
    @identity.public
    def public_list():
        league = request.args.get("league") or None
        name = (request.args.get("q") or "").strip() or None
        return render_template("public_notice/list.html", mines=green_mines(league, name), leagues=LEAGUES,
                               league=league, q=name or "")

    @public_pages.get("/notices")
    @identity.public
    def public_notices():
        notices = list(db()["notices"].find({"published": True}, {"_id": 0}).sort("published_at", -1).limit(100))
        return render_template("public_notice/notices.html", notices=notices)

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

    api = ApiBlueprint("green_mine_list", __name__, url_prefix="/api/v1/list", description="绿色矿山名录(公开)")

    @api.route("")
    class GreenMineList(MethodView):
        @identity.public
        @api.arguments(ListQuerySchema, location="query")
        @api.response(200, GreenMineSchema(many=True))
        def get(self, query):
            """The public green-mine list, filtered by 盟市 or name."""
            return green_mines(query.get("league"), query.get("q"))

    app = create_service_app("public_notice", settings=settings, title="greenmine public_notice", blueprints=[api],
                             url_prefix="notice",
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "public_notice"))
    app.register_blueprint(pages)
    app.register_blueprint(public_pages)
    return finalize(app)
