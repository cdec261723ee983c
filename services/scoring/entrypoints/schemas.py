"""The scoring API's bodies and answers as marshmallow schemas (they also write its OpenAPI document).

Assessments are read with their decimals exact (0.1 stays Decimal("0.1")) and only their outer shape is
checked here; the scoring engine checks everything that depends on the evaluation index and names each
field at fault (contracts/scoring/assessment.v1.schema.json describes the whole shape)."""
from __future__ import annotations

import json
from decimal import Decimal

from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields, validate
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from scoring.domain.stages import STAGE_ROLES, STAGES


def _dotted(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as the flat `{"field.path": [messages]}` every 422 answer uses."""
    if isinstance(messages, list):
        return {prefix.rstrip(".") or "(body)": [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = prefix if key == "_schema" else f"{prefix}{key}."
        for field, texts in _dotted(value, path).items():
            out.setdefault(field, []).extend(texts)
    return out


class ExactJsonParser(FlaskParser):
    """JSON bodies with exact decimals, malformed JSON answered 422 naming the body, field paths dotted."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return json.loads(req.get_data(cache=True), parse_float=Decimal)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(422, exc=error, messages={"json": {"(body)": [f"请求体不是合法的 JSON:{error}"]}},
              message="请求体不是合法的 JSON")

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = {location: _dotted(value) if isinstance(value, dict) else value
                    for location, value in error.messages.items()}
        abort(error_status_code or self.DEFAULT_VALIDATION_STATUS, exc=error, messages=messages, schema=schema,
              headers=error_headers)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ExactJsonParser()


# ---- requests -----------------------------------------------------------------------------------------------

class AssessmentSchema(Schema):
    """One assessment (自评、第三方评估或抽查的逐项输入), contracts/scoring/assessment.v1.schema.json."""

    class Meta:
        unknown = INCLUDE   # the engine names unknown keys itself

    catalog = fields.String(metadata={"description": "评价指标版本 id,如 nm-2025"})
    mine = fields.Dict(metadata={"description": "industry_group(1/2)、mining_method(open_pit/underground/"
                                                "oil_gas)、industry_variant(分支二)"})
    prerequisites = fields.Dict(keys=fields.String(), metadata={"description": "先决条件 P1–P5 → 是否满足"})
    indicators = fields.Dict(keys=fields.String(), metadata={
        "description": "指标编号 → 评分输入(score / findings / deductions / items / not_applicable + reason, "
                       "record, evidence:支撑材料附件编号，为空列表时得分按0分计)"})


MAX_VERSION_NO = 2**31 - 1


class RecordRequestSchema(Schema):
    subject_id = fields.String(required=True, validate=validate.Length(min=1, error="必填项缺失"),
                               metadata={"description": "申报(application)id"})
    # Bounded: MongoDB stores 8-byte integers at most, and no application has more versions than this.
    version_no = fields.Integer(required=True, strict=True,
                                validate=validate.Range(min=1, max=MAX_VERSION_NO, error="应为 1 至 {max} 的整数"),
                                error_messages={"invalid": "应为不小于1的整数"})
    stage = fields.String(required=True, validate=validate.OneOf(
        list(STAGE_ROLES), error=f"取值应为以下之一:{', '.join(STAGE_ROLES)}"))
    league = fields.String(allow_none=True, load_default=None, metadata={"description": "盟市"})
    assessment = fields.Nested(AssessmentSchema, required=True)
    request_key = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{1,120}$",
                                                                     error="应为 1 至 120 位字母、数字或 ._:-"),
        metadata={"description": "幂等键：同一键再次提交时返回已记录的评分，不重复记录"})


class SheetQuerySchema(Schema):
    catalog = fields.String(load_default="nm-2025")
    industry_group = fields.Integer(validate=validate.OneOf([1, 2]), load_default=None,
                                    metadata={"description": "1 或 2;省略则输出全部50项"})
    format = fields.String(validate=validate.OneOf(["xlsx", "html"]), load_default="html")


class SheetRequestSchema(Schema):
    assessment = fields.Nested(AssessmentSchema, required=True)
    format = fields.String(validate=validate.OneOf(["xlsx", "html"], error="取值应为 xlsx 或 html"),
                           load_default="html")


class EvaluateQuerySchema(Schema):
    stage = fields.String(load_default=None, validate=validate.OneOf(
        list(STAGES), error=f"取值应为以下之一:{', '.join(STAGES)}"), metadata={
        "description": "评分环节；third_party_evaluation、spot_check 时得分高于0的指标须有核查记录（record）"})


class AssessmentListQuerySchema(Schema):
    subject = fields.String(required=True, metadata={"description": "申报(application)id"})


# ---- answers ------------------------------------------------------------------------------------------------

POINTS = {"pattern": r"^[0-9]+(\.[0-9]+)?$"}
MONEY = {"pattern": r"^[0-9]+\.[0-9]{2}$"}


class ReportMineSchema(Schema):
    industry_group = fields.Integer(required=True)
    mining_method = fields.String(required=True)
    industry_variant = fields.String()


class CategoryScoreSchema(Schema):
    no = fields.Integer(required=True)
    name = fields.String(required=True)
    points = fields.String(required=True, metadata=POINTS)
    applicable_points = fields.String(required=True, metadata={**POINTS, "description": "适用指标的标准分之和"})
    earned = fields.String(required=True, metadata={**POINTS, "description": "适用指标实得分之和"})
    score = fields.String(required=True, metadata={**MONEY, "description": "折合法得分,2位小数"})
    all_not_applicable = fields.Boolean(required=True)


class ReportSchema(Schema):
    """The scoring report, contracts/scoring/report.v1.schema.json (points are decimal strings)."""

    catalog = fields.String(required=True)
    catalog_version = fields.String(required=True)
    mine = fields.Nested(ReportMineSchema, required=True)
    verdict = fields.String(required=True, validate=validate.OneOf(["ineligible", "not_qualified", "qualified"]))
    verdict_label = fields.String(required=True)
    total = fields.String(required=True, metadata=MONEY)
    pass_total = fields.String(required=True, metadata=POINTS)
    categories = fields.List(fields.Nested(CategoryScoreSchema), required=True)
    failed_binding = fields.List(fields.Integer(), required=True)
    failed_prerequisites = fields.List(fields.String(), required=True)
    not_applicable_binding = fields.List(fields.Integer(), required=True, metadata={
        "description": "判定为不涉及项的约束性指标：须经初审责任部门确认并经评估机构现场确认"})
    unsupported = fields.List(fields.Integer(), metadata={
        "description": "填有得分但缺少支撑材料（evidence 为空）、按0分计的指标"})
    notes = fields.List(fields.String(), metadata={"description": "给人看的中文说明"})
    indicator_scores = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True,
                                   metadata={"description": "指标编号 → 该项得分(见 report.v1 的 indicator_score)"})


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
    report = fields.Nested(ReportSchema)


class CatalogSummarySchema(Schema):
    id = fields.String(required=True)
    version = fields.String(required=True)
    title = fields.String(required=True)
    issued = fields.String(required=True, metadata={"format": "date"})
    indicators = fields.Integer(required=True, metadata={"description": "指标项数"})


class CatalogDocumentSchema(Schema):
    """One evaluation index version as data: contracts/catalog/<id>.yaml in JSON (catalog.schema.json)."""

    id = fields.String(required=True)
    version = fields.String(required=True)
    title = fields.String(required=True)
    issued = fields.String(required=True)
    source = fields.String()
    total_points = fields.Raw(metadata={"description": "满分"})
    binding_count = fields.Integer()
    pass_total = fields.Raw(metadata={"description": "达标分"})
    industry_groups = fields.List(fields.Dict())
    mining_methods = fields.List(fields.Dict())
    industry_variants = fields.List(fields.Dict())
    scoring_rules = fields.Dict()
    categories = fields.List(fields.Dict())
    prerequisites = fields.List(fields.Dict())
    departments = fields.List(fields.Dict())
