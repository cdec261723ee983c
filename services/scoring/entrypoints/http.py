"""The scoring service's web app, served by gunicorn: `gunicorn 'scoring.entrypoints.http:create_app()'`."""
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
    pages = Blueprint("scoring_pages", __name__, url_prefix="/scoring")

    @pages.get("/")
    @identity.requires('evaluator', 'region_office', 'bureau', 'department_reviewer', 'admin')
    def workspace():
        return render_template("scoring/workspace.html")

    app = create_service_app("scoring", settings=settings, title="greenmine scoring", blueprints=[],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "scoring"))
    app.register_blueprint(pages)
    return finalize(app)
