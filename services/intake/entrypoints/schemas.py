"""marshmallow schemas of the intake API (they generate contracts/http/intake.openapi.json).

Input schemas are deliberately lenient about *values* (strings where the domain accepts 露天, 2024/1/31 or
全角 digits): the domain validates every value and names every wrong field in Chinese.  They are strict about
*shape*: an unknown field is refused.  Nested errors are flattened to dotted paths (``mining_licence.number``),
the same paths the domain uses.
"""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.web import translate_messages


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix or "(body)"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(_flatten(value, path))
            else:
                out.setdefault(path, []).extend(value if isinstance(value, list) else [value])
    else:
        out[prefix or "(body)"] = messages if isinstance(messages, list) else [messages]
    return out


class FlatSchema(Schema):
    """Errors as {"a.b": ["中文"]} instead of nested dicts."""

    def handle_error(self, error: ValidationError, data, **kwargs):
        raise ValidationError(_flatten(translate_messages(error.normalized_messages())))


class _Out(Schema):
    class Meta:
        unknown = EXCLUDE


# -- mines ---------------------------------------------------------------------------------------------------------

class EnterpriseIn(Schema):
    name = fields.String(allow_none=True, metadata={"description": "企业名称（默认取登录账号的企业名称）"})
    credit_code = fields.String(allow_none=True,
                                metadata={"description": "统一社会信用代码（默认取登录账号绑定的代码；只能是本企业）"})


class LicenceIn(Schema):
    number = fields.String(allow_none=True)
    valid_from = fields.String(allow_none=True, metadata={"description": "2024-01-31、2024/1/31 或 2024年1月31日"})
    valid_to = fields.String(allow_none=True)


class BusinessLicenceIn(Schema):
    valid_from = fields.String(allow_none=True)
    valid_to = fields.String(allow_none=True, metadata={"description": "营业期限截止日期；null、空或“长期”表示长期"})


class MineIn(FlatSchema):
    enterprise = fields.Nested(EnterpriseIn, load_default=dict)
    name = fields.String(allow_none=True, metadata={"description": "矿山名称"})
    mining_licence = fields.Nested(LicenceIn, allow_none=True,
                                   metadata={"description": "采矿许可证：证号 C+22位数字，有效期"})
    safety_licence = fields.Nested(LicenceIn, allow_none=True, metadata={"description": "安全生产许可证"})
    business_licence = fields.Nested(BusinessLicenceIn, allow_none=True, metadata={"description": "营业执照营业期限"})
    league = fields.String(allow_none=True, metadata={"description": "盟市：代码（ordos）、名称或区划代码"})
    county = fields.String(allow_none=True, metadata={"description": "旗县（市、区）：名称或6位区划代码"})
    minerals = fields.List(fields.Raw(), allow_none=True,
                           metadata={"description": "矿种：代码或名称，或 {code: other, other: 名称}"})
    scale = fields.String(allow_none=True, metadata={"description": "large|medium|small（大型/中型/小型）"})
    industry_group = fields.Raw(allow_none=True, metadata={"description": "行业分支 1 或 2（（一）/（二））"})
    mining_method = fields.String(allow_none=True, metadata={"description": "open_pit|underground|oil_gas"})
    production_status = fields.String(allow_none=True,
                                      metadata={"description": "in_production|suspended|construction|closed"})
    production_start_date = fields.String(allow_none=True, metadata={"description": "正式投产日期"})
    production_stopped_on = fields.String(allow_none=True, metadata={
        "description": "停产日期（选填；仅生产状态为停产或关闭时填写，不早于正式投产日期，不晚于今天）"})
    remaining_reserve_years = fields.Raw(allow_none=True, metadata={"description": "剩余储量可采年限（年）"})
    mining_area = fields.String(allow_none=True, metadata={
        "description": "矿区范围（选填）：采矿许可证所载的拐点坐标或面积，最多2000字，可分行"})
    expected_version = fields.Integer(allow_none=True, load_default=None,
                                      metadata={"description": "编辑时：所读到的版本号（并发保护）"})


class EnterpriseOut(_Out):
    name = fields.String()
    credit_code = fields.String()


class LicenceOut(_Out):
    number = fields.String()
    valid_from = fields.String()
    valid_to = fields.String(allow_none=True)


class MineralOut(_Out):
    code = fields.String()
    other = fields.String(allow_none=True)
    name = fields.String()


class MineOut(_Out):
    id = fields.String()
    enterprise = fields.Nested(EnterpriseOut)
    name = fields.String()
    mining_licence = fields.Nested(LicenceOut)
    safety_licence = fields.Nested(LicenceOut)
    business_licence = fields.Nested(LicenceOut)
    league = fields.String()
    league_name = fields.String()
    county = fields.String()
    county_name = fields.String()
    minerals = fields.List(fields.Nested(MineralOut))
    scale = fields.String()
    scale_label = fields.String()
    industry_group = fields.Integer()
    industry_group_label = fields.String()
    mining_method = fields.String()
    mining_method_label = fields.String()
    production_status = fields.String()
    production_status_label = fields.String()
    production_start_date = fields.String(allow_none=True)
    production_stopped_on = fields.String(allow_none=True)
    remaining_reserve_years = fields.String()
    mining_area = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    expired_licences = fields.List(fields.String())
    expiring_licences = fields.List(fields.String(), metadata={"description": "90天内到期的证照"})
    prerequisite_hints = fields.Dict(metadata={"description": "登记信息对先决条件的提示（P1、P4）"})


# -- applications -------------------------------------------------------------------------------------------------

_ASSESSMENT_DOC = ("自评估，评分契约 contracts/scoring/assessment.v1.schema.json 的形式；草稿可以不完整。"
                   "mine 按矿山登记信息填写（行业分支（二）可选 industry_variant）")


class ApplicationCreate(FlatSchema):
    mine_id = fields.String(required=True, validate=validate.Length(min=1), metadata={"description": "矿山编号"})
    catalog = fields.String(load_default=None, allow_none=True, metadata={"description": "评价指标版本，默认 nm-2025"})
    assessment = fields.Dict(load_default=None, allow_none=True, metadata={"description": _ASSESSMENT_DOC})
    records = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None, allow_none=True,
                          metadata={"description": "检查记录：指标编号（1–50、P1–P5）→ 文字"})
    declared_penalties = fields.Boolean(load_default=None, allow_none=True,
                                        metadata={"description": "截至申报之日前3年是否受到行政处罚"})


class ApplicationUpdate(FlatSchema):
    assessment = fields.Dict(allow_none=True, metadata={"description": _ASSESSMENT_DOC})
    records = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True,
                          metadata={"description": "检查记录（整体替换）：指标编号 → 文字"})
    record = fields.Dict(metadata={"description": "单项检查记录：{indicator, text}（与 records 二选一）"})
    declared_penalties = fields.Boolean(allow_none=True, metadata={"description": "近3年行政处罚声明"})
    expected_revision = fields.Integer(allow_none=True, load_default=None,
                                       metadata={"description": "所读到的 revision；不一致时 409（并发保护）"})


class ApplicationListQuery(Schema):
    status = fields.String(load_default=None, metadata={"description": "按状态筛选"})
    mine_id = fields.String(load_default=None, metadata={"description": "按矿山筛选"})


class AttachmentUpload(FlatSchema):
    """multipart/form-data: the material kind, the indicator it proves (optional), the file."""

    kind = fields.String(required=True, metadata={"description": "材料类型（附件2 一(一)–(七)，或 evidence/other）"})
    indicator = fields.String(load_default=None, allow_none=True,
                              metadata={"description": "所属指标 1–50 或 P1–P5（evidence 必填）"})
    file = Upload(required=True, metadata={"description": "文件（PDF、图片、Office 文档或视频，按材料类型限制）"})


class AttachmentOut(_Out):
    id = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.String()
    indicator = fields.String(allow_none=True)
    download_url = fields.String()


class ReasonOut(_Out):
    key = fields.String(metadata={"description": "指标编号、P1–P5、materials.<kind> 或 general"})
    label = fields.String()
    text = fields.String()


class ReturnOut(_Out):
    version = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    comment = fields.String()
    reasons = fields.List(fields.Nested(ReasonOut))


class HistoryOut(_Out):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    action_label = fields.String()
    summary = fields.String()
    detail = fields.Dict()


class ScoreSummaryOut(_Out):
    total = fields.String(allow_none=True)
    verdict = fields.String(allow_none=True)
    verdict_label = fields.String(allow_none=True)
    failed_binding = fields.List(fields.Integer())
    failed_prerequisites = fields.List(fields.String())


class VersionSummaryOut(_Out):
    number = fields.Integer()
    submitted_at = fields.DateTime()
    submitted_by = fields.String()
    resubmission = fields.Boolean()
    attachments = fields.Integer()
    declared_penalties = fields.Boolean()
    score = fields.Nested(ScoreSummaryOut, allow_none=True)
    url = fields.String()


class VersionOut(VersionSummaryOut):
    assessment = fields.Dict()
    records = fields.Dict()
    mine = fields.Dict(allow_none=True, metadata={"description": "提交时矿山登记信息的快照"})
    score_report = fields.Dict(allow_none=True)
    attachment_list = fields.List(fields.Nested(AttachmentOut))


class ChecklistOut(_Out):
    kind = fields.String()
    label = fields.String()
    item = fields.Integer(allow_none=True)
    item_label = fields.String()
    requirement = fields.String()
    status = fields.String(metadata={"description": "present|missing|not_required"})
    count = fields.Integer()


class ProblemOut(_Out):
    field = fields.String()
    message = fields.String()


class DraftOut(_Out):
    assessment = fields.Dict(allow_none=True)
    records = fields.Dict()
    declared_penalties = fields.Boolean(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentOut))


CASE_NO_DOC = {"description": "办件编号（首次提交时分配，补正重新提交不变；草稿为空）"}


class ProgressStepOut(_Out):
    key = fields.String(metadata={"description": "submit / review / decision / evaluation / notice / announcement"})
    label = fields.String(metadata={"description": "提交、部门审核、初审决定、自治区评估、公示、公告"})
    state = fields.String(metadata={"description": "done / current / pending / stopped"})
    state_label = fields.String()
    note = fields.String()
    due = fields.Date(allow_none=True, metadata={"description": "此步骤的办结期限（北京时间日期）"})


class ApplicationOut(_Out):
    id = fields.String()
    case_no = fields.String(allow_none=True, metadata=CASE_NO_DOC)
    mine_id = fields.String()
    mine_name = fields.String(allow_none=True)
    mine = fields.Nested(MineOut)
    league = fields.String(allow_none=True)
    league_name = fields.String(allow_none=True)
    credit_code = fields.String()
    enterprise_name = fields.String(allow_none=True)
    catalog = fields.String()
    status = fields.String()
    status_label = fields.String()
    editable = fields.Boolean()
    revision = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    versions_count = fields.Integer()
    versions = fields.List(fields.Nested(VersionSummaryOut))
    score_report = fields.Dict(allow_none=True, metadata={"description": "最新一版已出的自评评分报告（report.v1）"})
    score_report_version = fields.Integer(allow_none=True)
    score_pending = fields.Boolean(metadata={"description": "最新提交的版本尚待评分服务计分"})
    returns = fields.List(fields.Nested(ReturnOut))
    current_return = fields.Nested(ReturnOut, allow_none=True)
    history = fields.List(fields.Nested(HistoryOut))
    timeline = fields.List(fields.Nested(HistoryOut))
    materials = fields.List(fields.Nested(ChecklistOut))
    missing = fields.List(fields.Nested(ProblemOut), metadata={"description": "提交前尚缺的材料与声明"})
    draft = fields.Nested(DraftOut)
    initial_review_due = fields.Date(allow_none=True, metadata={
        "description": "初审期间：初审决定的办结期限（按法定工作日计算，北京时间日期）"})
    initial_review_due_estimated = fields.Boolean(metadata={
        "description": "期限跨入尚未公布节假日安排的年份，暂按周一至周五计"})
    progress = fields.List(fields.Nested(ProgressStepOut), metadata={
        "description": "办理进度：提交→部门审核→初审决定→自治区评估→公示→公告"})


class ApplicationListItem(_Out):
    id = fields.String()
    case_no = fields.String(allow_none=True, metadata=CASE_NO_DOC)
    mine_id = fields.String()
    mine_name = fields.String(allow_none=True)
    enterprise_name = fields.String(allow_none=True)
    credit_code = fields.String()
    league = fields.String(allow_none=True)
    league_name = fields.String(allow_none=True)
    status = fields.String()
    status_label = fields.String()
    versions_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


# -- vocabulary, audit, files ----------------------------------------------------------------------------------------

class CountyOut(_Out):
    code = fields.String()
    name = fields.String()


class LeagueOut(_Out):
    code = fields.String()
    name = fields.String()
    division_code = fields.String()
    counties = fields.List(fields.Nested(CountyOut))


class MineralTypeOut(_Out):
    code = fields.String()
    name = fields.String()
    category = fields.String()
    industry_group = fields.Integer()
    well = fields.Boolean(metadata={"description": "井采矿种（适用油气开采方式）"})


class MaterialKindOut(_Out):
    code = fields.String()
    label = fields.String()
    item = fields.Integer(allow_none=True)
    item_label = fields.String(allow_none=True)
    requirement = fields.String()
    content_types = fields.List(fields.String())
    max_bytes = fields.Integer()


class VocabularyOut(_Out):
    leagues = fields.List(fields.Nested(LeagueOut))
    minerals = fields.List(fields.Nested(MineralTypeOut),
                           metadata={"description": "矿种目录（contracts/vocabularies/minerals.yaml）"})
    mineral_categories = fields.Dict(keys=fields.String(), values=fields.String())
    scales = fields.Dict(keys=fields.String(), values=fields.String())
    mining_methods = fields.Dict(keys=fields.String(), values=fields.String())
    production_statuses = fields.Dict(keys=fields.String(), values=fields.String())
    industry_groups = fields.Dict(keys=fields.String(), values=fields.String())
    material_kinds = fields.List(fields.Nested(MaterialKindOut))


class AuditEntryOut(_Out):
    at = fields.String(metadata={"description": "ISO 8601 时间"})
    actor = fields.Dict(metadata={"description": "username、role（及 enterprise、area、department）"})
    action = fields.String()
    detail = fields.Dict()


#: OpenAPI's type of a downloaded file's bytes (no marshmallow field describes a whole body as bytes).
BINARY = {"type": "string", "format": "binary"}
