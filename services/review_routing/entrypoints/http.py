"""The review_routing service's web app, served by gunicorn: `gunicorn 'review_routing.entrypoints.http:create_app()'`."""
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
    pages = Blueprint("review_routing_pages", __name__, url_prefix="/review")

    @pages.get("/")
    @identity.requires('bureau', 'department_reviewer', 'region_office', 'admin')
    def workspace():
        return render_template("review_routing/workspace.html")

    app = create_service_app("review_routing", settings=settings, title="greenmine review_routing", blueprints=[],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "review_routing"))
    app.register_blueprint(pages)
    return finalize(app)
