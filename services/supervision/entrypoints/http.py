"""The supervision service's web app, served by gunicorn: `gunicorn 'supervision.entrypoints.http:create_app()'`.

Blueprints every area adds its views to (`routes(web, bus)` in `entrypoints/<area>.py`, see AREAS): the API
`/api/v1/supervision/…` and the staff pages `/supervision/…`. Commands go through the bus of
`supervision.bootstrap`; reads use the read models of `adapters/queries.py`."""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

from shared.config import Settings
from shared.runtime import service_readiness, service_store
from shared.schemas import FieldErrorParser
from shared.web import AreaWeb, create_service_app, finalize
from supervision.bootstrap import SERVICE, bootstrap

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
AREAS = ("register", "triggers", "measures", "inspections", "targets")


class SupervisionApi(ApiBlueprint):
    """The service's API blueprints: bodies read with field paths and Chinese messages (shared.schemas)."""

    ARGUMENTS_PARSER = FieldErrorParser()


def create_app(settings: Settings | None = None, bus=None):
    settings = settings or Settings.from_env()
    # One store per process for the bus's units of work and the read models: each store reads every contract.
    # (Opening it does not connect: the database is reached on first use.)
    store = service_store(settings, SERVICE)

    def db():
        return store.db

    api = SupervisionApi("supervision", __name__, url_prefix="/api/v1/supervision",
                         description="动态监管：标注、限期整改、移出名录")
    pages = Blueprint("supervision_pages", __name__, url_prefix="/supervision")
    web = AreaWeb(api=api, pages=pages, settings=settings, db=db)
    the_bus = bus or bootstrap(settings, store)
    for area in AREAS:
        import_module(f"supervision.entrypoints.{area}").routes(web, the_bus)
    app = create_service_app(SERVICE, settings=settings, title="greenmine supervision", blueprints=[api, *web.extra],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, SERVICE))
    app.register_blueprint(pages)
    app.extensions["greenmine"]["bus"] = the_bus  # views hand their commands to it
    return finalize(app)
