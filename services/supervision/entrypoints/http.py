"""The supervision service's web app, served by gunicorn: `gunicorn 'supervision.entrypoints.http:create_app()'`.

Only the workspace page so far; commands (to come) go through the bus of `supervision.bootstrap`."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template

from shared import identity
from shared.config import Settings
from shared.runtime import service_readiness
from shared.web import create_service_app, finalize
from supervision.bootstrap import SERVICE, bootstrap

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(settings: Settings | None = None, bus=None):
    settings = settings or Settings.from_env()
    pages = Blueprint("supervision_pages", __name__, url_prefix="/supervision")

    @pages.get("/")
    @identity.requires('region_office', 'bureau', 'department_reviewer', 'admin')
    def workspace():
        return render_template("supervision/workspace.html")

    app = create_service_app(SERVICE, settings=settings, title="greenmine supervision", blueprints=[],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, SERVICE))
    app.register_blueprint(pages)
    app.extensions["greenmine"]["bus"] = bus or bootstrap(settings)  # views hand their commands to it
    return finalize(app)
