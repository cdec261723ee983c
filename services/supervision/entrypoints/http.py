"""The supervision service's web app, served by gunicorn: `gunicorn 'supervision.entrypoints.http:create_app()'`.

The workspace page and the situations of dynamic management (public, `GET /api/v1/supervision/situations`); the
commands to come go through the bus of `supervision.bootstrap`."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from shared import identity
from shared.config import Settings
from shared.runtime import service_readiness
from shared.schemas import FieldErrorParser
from shared.web import create_service_app, finalize
from supervision.adapters.situations import department_names, load_situations
from supervision.bootstrap import SERVICE, bootstrap
from supervision.domain.situations import DETECTIONS, Situations

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class SupervisionApi(ApiBlueprint):
    """The service's API blueprints: bodies read with field paths and Chinese messages (shared.schemas)."""

    ARGUMENTS_PARSER = FieldErrorParser()


class DepartmentSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class SituationSchema(Schema):
    no = fields.Integer(required=True, metadata={"description": "the number in the notice's list"})
    code = fields.String(required=True, metadata={"description": "how a measure cites it, e.g. rectify.5"})
    text = fields.String(required=True, metadata={"description": "the notice's words"})
    raised_by = fields.List(fields.Nested(DepartmentSchema), required=True,
                            metadata={"description": "the departments of 附件3 that may raise it"})
    detection = fields.String(required=True, metadata={"enum": list(DETECTIONS)})
    detection_label = fields.String(required=True)
    trigger = fields.String(allow_none=True, metadata={"description": "the daily sweep's rule, when it finds it"})
    follows = fields.String(allow_none=True, metadata={"description": "the measure it follows from"})
    evidence = fields.List(fields.String(), required=True)


class SituationsSchema(Schema):
    mark = fields.List(fields.Nested(SituationSchema), required=True, metadata={"description": "标注 (3)"})
    rectify = fields.List(fields.Nested(SituationSchema), required=True, metadata={"description": "限期整改 (9)"})
    remove = fields.List(fields.Nested(SituationSchema), required=True, metadata={"description": "移出名录 (14)"})


def situations_view(situations: Situations, names: dict[str, str]) -> dict:
    return {measure.code: [{"no": s.no, "code": s.code, "text": s.text,
                            "raised_by": [{"code": d, "name": names[d]} for d in s.raised_by],
                            "detection": s.detection, "detection_label": DETECTIONS[s.detection],
                            "trigger": s.trigger, "follows": s.follows, "evidence": list(s.evidence)}
                           for s in measure.situations]
            for measure in situations.measures}


def create_app(settings: Settings | None = None, bus=None):
    settings = settings or Settings.from_env()
    situations, names = load_situations(), department_names()
    view = situations_view(situations, names)
    pages = Blueprint("supervision_pages", __name__, url_prefix="/supervision")

    @pages.get("/")
    @identity.requires('region_office', 'bureau', 'department_reviewer', 'admin')
    def workspace():
        return render_template("supervision/workspace.html", situations=situations, view=view)

    api = SupervisionApi("supervision", __name__, url_prefix="/api/v1/supervision",
                         description="动态监管：标注、限期整改、移出名录")

    @api.route("/situations")
    class SituationList(MethodView):
        @identity.public
        @api.response(200, SituationsSchema)
        def get(self):
            """The situations of 标注 (3), 限期整改 (9) and 移出名录 (14) in the notice's words and order, each with
            the departments that may raise it, how it is found and the evidence it needs (no sign-in)."""
            return view

    app = create_service_app(SERVICE, settings=settings, title="greenmine supervision", blueprints=[api],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, SERVICE))
    app.register_blueprint(pages)
    app.extensions["greenmine"]["bus"] = bus or bootstrap(settings)  # views hand their commands to it
    return finalize(app)
