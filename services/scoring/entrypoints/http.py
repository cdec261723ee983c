"""The scoring service's web app, served by gunicorn: `gunicorn 'scoring.entrypoints.http:create_app()'`.

- `POST /api/v1/scoring/evaluate`: the report for an assessment (the live score of the enterprise's form and the
  reviewers' re-scoring), 422 with field errors; nothing stored.
- `POST /api/v1/scoring/assessments`: a third-party evaluation or a spot check, scored, stored and published.
- `GET|POST /api/v1/scoring/sheet`: the printable score sheet (评分表), blank or filled, as .xlsx or HTML.
- `GET /api/v1/scoring/catalogs[/<id>]`: the evaluation index as data (public).
"""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, render_template
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest import abort
from marshmallow import Schema, fields, validate

from scoring.adapters.score_sheet import score_sheet_html, score_sheet_xlsx
from scoring.domain.engine import AssessmentInvalid
from scoring.service_layer.handlers import ASSESSMENTS, STAGES, evaluate, record_score
from shared import identity
from shared.catalog import CatalogError, list_catalogs, load_catalog
from shared.config import Settings
from shared.runtime import service_readiness, service_store
from shared.web import create_service_app, finalize, json_body

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ASSESSMENT_REF = {"$ref": "https://greenmine.example/contracts/scoring/assessment.v1.schema.json"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Who may submit which stage's assessment.
STAGE_ROLES = {"third_party_evaluation": ("evaluator",), "spot_check": ("region_office",)}


def _invalid(exc: AssessmentInvalid, prefix: str = ""):
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(prefix + error["field"], []).append(error["message"])
    abort(422, message="评估数据有误,请按提示修改", errors=errors)


def _sheet_response(fmt: str, catalog, industry_group, report=None, assessment=None) -> Response:
    name = f"绿色矿山评分表-{catalog.id}" + (f"-分支{industry_group}" if industry_group else "")
    if fmt == "xlsx":
        body = score_sheet_xlsx(catalog, industry_group, report=report, assessment=assessment)
        response = Response(body, mimetype=XLSX)
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}.xlsx"
        return response
    return Response(score_sheet_html(catalog, industry_group, report=report, assessment=assessment),
                    mimetype="text/html")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


class SheetQuerySchema(Schema):
    catalog = fields.String(load_default="nm-2025")
    industry_group = fields.Integer(validate=validate.OneOf([1, 2]), load_default=None,
                                    metadata={"description": "1 或 2;省略则输出全部50项"})
    format = fields.String(validate=validate.OneOf(["xlsx", "html"]), load_default="html")


class RecordedAssessmentSchema(Schema):
    id = fields.String(attribute="_id")
    subject = fields.Dict()
    stage = fields.String()
    stage_label = fields.String()
    league = fields.String(allow_none=True)
    scored_by = fields.String()
    scored_at = fields.DateTime()
    catalog = fields.String()
    catalog_version = fields.String()
    report = fields.Dict()


class AssessmentListQuerySchema(Schema):
    subject = fields.String(required=True, metadata={"description": "申报(application)id"})


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    store_holder: dict = {}

    def store():
        # Built on first use: an app that only scores never needs the database.
        if "store" not in store_holder:
            store_holder["store"] = service_store(settings, "scoring")
        return store_holder["store"]

    api = ApiBlueprint("scoring", __name__, url_prefix="/api/v1/scoring", description="评分")

    @api.route("/evaluate")
    class Evaluate(MethodView):
        @identity.requires(*identity.ANY_SIGNED_IN)
        @api.doc(requestBody={"required": True, "content": {"application/json": {"schema": ASSESSMENT_REF}}})
        @api.response(200, description="评分报告 (contracts/scoring/report.v1.schema.json)")
        @api.alt_response(422, description="评估数据有误:errors 按字段列出原因")
        def post(self):
            """Score an assessment (nothing is stored)."""
            try:
                return evaluate(json_body())
            except AssessmentInvalid as exc:
                _invalid(exc)

    @api.route("/assessments")
    class Assessments(MethodView):
        @identity.requires("evaluator", "region_office")
        @api.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["subject_id", "version_no", "stage", "assessment"],
            "properties": {"subject_id": {"type": "string"}, "version_no": {"type": "integer"},
                           "stage": {"enum": list(STAGE_ROLES)}, "league": {"type": "string"},
                           "assessment": ASSESSMENT_REF}}}}})
        @api.response(201, RecordedAssessmentSchema)
        def post(self):
            """Record a third-party evaluation (evaluator) or a spot check (region office): scored and published."""
            body = json_body()
            principal = identity.current_principal()
            errors = {}
            stage = body.get("stage")
            if stage not in STAGE_ROLES:
                errors["stage"] = [f"取值应为以下之一:{', '.join(STAGE_ROLES)}"]
            elif principal.role not in STAGE_ROLES[stage]:
                abort(403, message=f"{principal.role_label}不能提交“{STAGES[stage]}”评分")
            if not isinstance(body.get("subject_id"), str) or not body.get("subject_id"):
                errors["subject_id"] = ["必填项缺失"]
            if not isinstance(body.get("version_no"), int) or body.get("version_no", 0) < 1:
                errors["version_no"] = ["应为不小于1的整数"]
            if not isinstance(body.get("assessment"), dict):
                errors["assessment"] = ["必填项缺失"]
            if errors:
                abort(422, message="提交的数据有误,请按提示修改", errors=errors)
            try:
                record_id = store().transaction(lambda tx: _record(tx, body, principal))
            except AssessmentInvalid as exc:
                _invalid(exc, "assessment.")
            doc = store().db[ASSESSMENTS].find_one({"_id": record_id})
            return {**doc, "stage_label": STAGES[doc["stage"]]}, 201

        @identity.requires("evaluator", "region_office", "bureau", "admin")
        @api.arguments(AssessmentListQuerySchema, location="query")
        @api.response(200, RecordedAssessmentSchema(many=True))
        def get(self, query):
            """Every scored assessment of one application (all stages), newest first."""
            principal = identity.current_principal()
            docs = store().db[ASSESSMENTS].find({"subject.id": query["subject"]}).sort("scored_at", -1)
            return [{**d, "stage_label": STAGES[d["stage"]]} for d in docs
                    if d.get("league") is None or principal.covers_area(d.get("league"))]

    def _record(tx, body, principal):
        import uuid

        record_id = str(uuid.uuid4())
        record_score(tx, subject_id=body["subject_id"], version_no=body["version_no"], stage=body["stage"],
                     assessment=body["assessment"], scored_by=principal.username, record_id=record_id,
                     league=body.get("league"))
        return record_id

    @api.route("/sheet")
    class Sheet(MethodView):
        @identity.public
        @api.arguments(SheetQuerySchema, location="query")
        @api.response(200, description="空白评分表 (.xlsx 或可打印 HTML)")
        def get(self, query):
            """The blank score sheet of the index (per branch, or all 50 indicators)."""
            try:
                catalog = load_catalog(query["catalog"])
            except (CatalogError, FileNotFoundError, KeyError):
                abort(404, message=f"没有评价指标版本 {query['catalog']}")
            return _sheet_response(query["format"], catalog, query["industry_group"])

        @identity.requires(*identity.ANY_SIGNED_IN)
        @api.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["assessment"],
            "properties": {"assessment": ASSESSMENT_REF, "format": {"enum": ["xlsx", "html"]}}}}}})
        @api.response(200, description="已评分的评分表 (.xlsx 或可打印 HTML)")
        def post(self):
            """The score sheet of one assessment, filled with its scores and 检查记录."""
            body = json_body()
            fmt = body.get("format", "html")
            if fmt not in ("xlsx", "html"):
                abort(422, message="提交的数据有误", errors={"format": ["取值应为 xlsx 或 html"]})
            assessment = body.get("assessment")
            try:
                report = evaluate(assessment if isinstance(assessment, dict) else {})
            except AssessmentInvalid as exc:
                _invalid(exc, "assessment.")
            catalog = load_catalog(report["catalog"])
            return _sheet_response(fmt, catalog, report["mine"]["industry_group"], report=report,
                                   assessment=assessment)

    @api.route("/catalogs")
    class Catalogs(MethodView):
        @identity.public
        @api.response(200, description="评价指标版本列表")
        def get(self):
            """The published versions of the evaluation index."""
            out = []
            for catalog_id in list_catalogs():
                catalog = load_catalog(catalog_id)
                out.append({"id": catalog.id, "version": catalog.version, "title": catalog.title,
                            "issued": catalog.issued.isoformat(), "indicators": len(catalog.indicators)})
            return out

    @api.route("/catalogs/<catalog_id>")
    class CatalogView(MethodView):
        @identity.public
        @api.response(200, description="评价指标(与 contracts/catalog/<id>.yaml 相同的数据,JSON 格式)")
        def get(self, catalog_id):
            """One version of the evaluation index as data (for forms and other systems)."""
            import yaml

            if catalog_id not in list_catalogs():
                abort(404, message=f"没有评价指标版本 {catalog_id}")
            path = settings.contracts_dir / "catalog" / f"{catalog_id}.yaml"
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            return json.loads(json.dumps(data, default=str, ensure_ascii=False))

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
