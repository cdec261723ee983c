"""The scoring service's web app, served by gunicorn: `gunicorn 'scoring.entrypoints.http:create_app()'`.

- `POST /api/v1/scoring/evaluate`: the report for an assessment (the live score of the enterprise's form and the
  reviewers' re-scoring), 422 with field errors; nothing stored.
- `POST /api/v1/scoring/assessments`: a third-party evaluation or a spot check, scored, stored and published.
- `GET|POST /api/v1/scoring/sheet`: the printable score sheet (评分表), blank or filled, as .xlsx or HTML.
- `GET /api/v1/scoring/catalogs[/<id>]`: the evaluation index as data (public).

Views only turn requests into commands for the bus (`scoring.bootstrap`) and results into answers; refusals
(`shared.errors`) become HTTP statuses in `shared.web`.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, render_template
from flask.views import MethodView

from scoring.adapters.queries import assessments_of
from scoring.adapters.repository import to_document
from scoring.adapters.score_sheet import score_sheet_html, score_sheet_xlsx
from scoring.bootstrap import LazyStore, bootstrap
from scoring.domain.commands import EvaluateAssessment, RecordAssessment
from scoring.domain.stages import STAGE_ROLES, STAGES
from scoring.entrypoints.schemas import (
    ApiBlueprint,
    AssessmentListQuerySchema,
    AssessmentSchema,
    CatalogDocumentSchema,
    CatalogSummarySchema,
    EvaluateQuerySchema,
    RecordedAssessmentSchema,
    RecordRequestSchema,
    ReportSchema,
    SheetQuerySchema,
    SheetRequestSchema,
)
from shared import identity
from shared.catalog import CatalogError, list_catalogs, load_catalog
from shared.config import Settings
from shared.errors import NotFound
from shared.runtime import service_readiness
from shared.schemas import document_errors
from shared.web import NO_SCRIPT_POLICY, create_service_app, finalize

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet_response(fmt: str, catalog, industry_group, report=None, assessment=None) -> Response:
    name = f"绿色矿山评分表-{catalog.id}" + (f"-分支{industry_group}" if industry_group else "")
    if fmt == "xlsx":
        body = score_sheet_xlsx(catalog, industry_group, report=report, assessment=assessment)
        response = Response(body, mimetype=XLSX)
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}.xlsx"
        return response
    response = Response(score_sheet_html(catalog, industry_group, report=report, assessment=assessment),
                        mimetype="text/html")
    response.headers["Content-Security-Policy"] = NO_SCRIPT_POLICY  # a printable document: its own styles, no script
    return response


def _catalog(catalog_id: str):
    try:
        return load_catalog(catalog_id)
    except (CatalogError, FileNotFoundError, KeyError):
        raise NotFound(f"没有评价指标版本 {catalog_id}") from None


def create_app(settings: Settings | None = None, bus=None):
    settings = settings or Settings.from_env()
    store = LazyStore(settings)   # opened on first use: an app that only scores never needs the database
    bus = bus or bootstrap(settings, store)

    api = ApiBlueprint("scoring", __name__, url_prefix="/api/v1/scoring", description="评分")

    @api.route("/evaluate")
    class Evaluate(MethodView):
        @identity.requires(*identity.ANY_SIGNED_IN)
        @api.arguments(EvaluateQuerySchema, location="query")
        @api.arguments(AssessmentSchema)
        @api.response(200, ReportSchema)
        @document_errors(api)
        def post(self, query, assessment):
            """Score an assessment (nothing is stored); `?stage=` applies that stage's rules as well."""
            # The report is already in its contract shape: answered as is (the live score is a hot path).
            return jsonify(bus.handle(EvaluateAssessment(assessment, stage=query["stage"])))

    @api.route("/assessments")
    class Assessments(MethodView):
        @identity.requires("evaluator", "region_office")
        @api.arguments(RecordRequestSchema)
        @api.response(201, RecordedAssessmentSchema)
        @document_errors(api)
        def post(self, body):
            """Record a third-party evaluation (evaluator) or a spot check (region office): scored and published."""
            principal = identity.current_principal()
            record = bus.handle(RecordAssessment(
                subject_id=body["subject_id"], version_no=body["version_no"], stage=body["stage"],
                assessment=body["assessment"], scored_by=principal.username, scorer_role=principal.role,
                scorer_label=principal.role_label, league=body.get("league"), request_key=body.get("request_key")))
            return {**to_document(record), "stage_label": record.stage_label}

        @identity.requires("evaluator", "region_office", "bureau", "admin")
        @api.arguments(AssessmentListQuerySchema, location="query")
        @api.response(200, RecordedAssessmentSchema(many=True))
        @document_errors(api)
        def get(self, query):
            """Every scored assessment of one application (all stages), newest first."""
            principal = identity.current_principal()
            return assessments_of(store.get().db, query["subject"], principal.covers_area)

    @api.route("/sheet")
    class Sheet(MethodView):
        @identity.public
        @api.arguments(SheetQuerySchema, location="query")
        @api.response(200, description="空白评分表 (.xlsx 或可打印 HTML)", content_type="text/html")
        @document_errors(api, 404, 422)
        def get(self, query):
            """The blank score sheet of the index (per branch, or all 50 indicators)."""
            return _sheet_response(query["format"], _catalog(query["catalog"]), query["industry_group"])

        @identity.requires(*identity.ANY_SIGNED_IN)
        @api.arguments(SheetRequestSchema)
        @api.response(200, description="已评分的评分表 (.xlsx 或可打印 HTML)", content_type="text/html")
        @document_errors(api)
        def post(self, body):
            """The score sheet of one assessment, filled with its scores and 检查记录."""
            assessment = body["assessment"]
            report = bus.handle(EvaluateAssessment(assessment, field_prefix="assessment."))
            return _sheet_response(body["format"], load_catalog(report["catalog"]),
                                   report["mine"]["industry_group"], report=report, assessment=assessment)

    @api.route("/catalogs")
    class Catalogs(MethodView):
        @identity.public
        @api.response(200, CatalogSummarySchema(many=True))
        def get(self):
            """The published versions of the evaluation index."""
            return [{"id": c.id, "version": c.version, "title": c.title, "issued": c.issued.isoformat(),
                     "indicators": len(c.indicators)} for c in map(load_catalog, list_catalogs())]

    @api.route("/catalogs/<catalog_id>")
    class CatalogView(MethodView):
        @identity.public
        @api.response(200, CatalogDocumentSchema)
        @document_errors(api, 404)
        def get(self, catalog_id):
            """One version of the evaluation index as data (for forms and other systems)."""
            import yaml

            if catalog_id not in list_catalogs():
                raise NotFound(f"没有评价指标版本 {catalog_id}")
            path = settings.contracts_dir / "catalog" / f"{catalog_id}.yaml"
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            # The whole file as it is (the schema documents it; new keys must not be dropped on the way).
            return jsonify(json.loads(json.dumps(data, default=str, ensure_ascii=False)))

    pages = Blueprint("scoring_pages", __name__, url_prefix="/scoring")

    @pages.get("/")
    @identity.requires("evaluator", "region_office", "bureau", "department_reviewer", "admin")
    def workspace():
        catalogs = [load_catalog(c) for c in list_catalogs()]
        return render_template("scoring/workspace.html", catalogs=catalogs, stages=STAGES,
                               can_submit=[s for s, roles in STAGE_ROLES.items()
                                           if identity.current_principal().role in roles])

    app = create_service_app("scoring", settings=settings, title="greenmine scoring", blueprints=[api],
                             template_dirs=[TEMPLATES], readiness=service_readiness(settings, "scoring"))
    app.register_blueprint(pages)
    return finalize(app)
