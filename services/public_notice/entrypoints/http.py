"""The public_notice service's web app, served by gunicorn: `gunicorn 'public_notice.entrypoints.http:create_app()'`."""
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
    pages = Blueprint("public_notice_pages", __name__, url_prefix="/notice")

    @pages.get("/")
    @identity.requires('region_office', 'admin')
    def workspace():
        return render_template("public_notice/workspace.html")

    app = create_service_app("public_notice", settings=settings, title="greenmine public_notice", blueprints=[],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "public_notice"))
    app.register_blueprint(pages)
    return finalize(app)
