"""The supervision service's web app, served by gunicorn: `gunicorn 'supervision.entrypoints.http:create_app()'`."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template

from shared import identity
from shared.config import Settings
from shared.runtime import service_readiness
from shared.web import create_service_app, finalize

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    pages = Blueprint("supervision_pages", __name__, url_prefix="/supervision")

    @pages.get("/")
    @identity.requires('region_office', 'bureau', 'department_reviewer', 'admin')
    def workspace():
        return render_template("supervision/workspace.html")

    app = create_service_app("supervision", settings=settings, title="greenmine supervision", blueprints=[],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "supervision"))
    app.register_blueprint(pages)
    return finalize(app)
