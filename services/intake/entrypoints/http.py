"""The intake service's web app, served by gunicorn: `gunicorn 'intake.entrypoints.http:create_app()'`."""
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
    pages = Blueprint("intake_pages", __name__, url_prefix="/intake")

    @pages.get("/")
    @identity.requires('enterprise', 'bureau', 'region_office', 'admin')
    def workspace():
        return render_template("intake/workspace.html")

    app = create_service_app("intake", settings=settings, title="greenmine intake", blueprints=[],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "intake"))
    app.register_blueprint(pages)
    return finalize(app)
