"""The review API's bodies and answers as marshmallow schemas (the OpenAPI document is generated from them).

The request bodies own their SHAPE: which keys exist and their JSON types (integers, exact decimals, dates,
booleans), unknown keys refused. The RULES (what a task covers, what must be said, ranges, what goes together)
belong to the domain (`domain/opinion.py`, `domain/case.py`), which reports every problem with its field.
"""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from review_routing.domain.case import DECISIONS as CASE_DECISIONS
from review_routing.domain.opinion import DECISIONS as OPINION_DECISIONS
from review_routing.domain.opinion import VERDICTS
from review_routing.domain.task import STATUSES
from shared.schemas import INVALID_BODY, Body, FieldErrorParser, field_errors, flatten, load  # noqa: F401

# The generic reading of bodies (field paths, exact decimals, Chinese messages) is the platform's: shared/schemas.py.
ReviewParser = FieldErrorParser


class QueueArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(metadata={"description": "状态，可用逗号分隔多个：" + "、".join(
        f"{k}({v})" for k, v in STATUSES.items())})
    due_before = fields.Date(metadata={"description": "到期日不晚于（YYYY-MM-DD）"})
    due_after = fields.Date(metadata={"description": "到期日不早于（YYYY-MM-DD）"})
    league = fields.String(metadata={"description": "盟市（须在本人辖区内）"})
    mine = fields.String(metadata={"description": "矿山名称（包含）、矿山编号或申报编号"})
    overdue = fields.Boolean(metadata={"description": "true 只看逾期，false 只看未逾期"})
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class EvidenceArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    inline = fields.Boolean(load_default=False, metadata={
        "description": "true：PDF、JPEG、PNG 在浏览器中查看（其他类型仍以附件下载）"})


class CaseArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    league = fields.String(metadata={"description": "盟市"})
    status = fields.String(metadata={"description": "under_review / forwarded / returned / rejected / superseded"})


class TransferBody(Schema):
    to_user = fields.String(required=True, metadata={"description": "同部门、同辖区审核人员的用户名"})
    reason = fields.String(required=True, metadata={"description": "转办原因"})


class RemindBody(Schema):
    message = fields.String(load_default="", metadata={"description": "催办内容（可空）"})


class PhotoUpload(Schema):
    photo = Upload(required=True, metadata={"description": "JPEG 或 PNG，不超过 GREENMINE_REVIEW_PHOTO_MAX_BYTES"})


NUMBER = "得分应为数字"


class IndicatorOpinionBody(Body):
    """The department's judgement of one indicator of its task (every indicator needs one)."""

    indicator = fields.Integer(metadata={"description": "指标编号"},
                               error_messages={"invalid": "应为指标编号（整数）", "null": "应为指标编号（整数）"})
    verdict = fields.String(allow_none=True, metadata={
        "description": "判定（必填；旧客户端只给 score 或 not_applicable 时据此推定）：agree 认可自评（企业自评成立，"
                       "不另给分；企业判定为不涉及的项不可用）、score 给分（须给 score；与企业自评分不同时须在 "
                       "opinion 写明理由）、not_applicable 确认不涉及（须在 reason 写明判定依据，不给分）、"
                       "problem 有问题（须在 opinion 写明问题，可同时给 score；含有问题项的意见不能为“同意”）",
        "enum": list(VERDICTS)})
    opinion = fields.String(metadata={"description": "意见（给分与自评不同、有问题时必填）"})
    score = fields.Decimal(allow_nan=False, allow_none=True,
                           metadata={"description": "得分（不超过标准分，最多两位小数）", "example": "1.5"},
                           error_messages={"invalid": NUMBER, "special": NUMBER})
    not_applicable = fields.Boolean(metadata={"description": "判定为不涉及项（同 verdict=not_applicable）"})
    reason = fields.String(metadata={"description": "不涉及的判定依据和理由"})
    record = fields.String(metadata={"description": "检查记录"})

    @pre_load
    def _blank_score(self, data, **_):
        if isinstance(data, dict) and data.get("score") == "":
            data = {**data, "score": None}
        if isinstance(data, dict) and data.get("verdict") == "":
            data = {**data, "verdict": None}
        return data


class PrerequisiteFindingBody(Body):
    prerequisite = fields.String(metadata={"description": "先决条件编号（P1…）"})
    met = fields.Boolean(metadata={"description": "是否满足"})
    note = fields.String(metadata={"description": "说明（不满足时必填）"})


class CheckFindingBody(Body):
    check = fields.String(metadata={"description": "初审内容 C1–C7"})
    passed = fields.Boolean(metadata={"description": "是否通过"})
    note = fields.String(metadata={"description": "说明（未通过时必填）"})


class Inspectors(fields.List):
    """A list of names, or the names typed on one line (张工、李工)."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class SiteCheckBody(Body):
    inspectors = Inspectors(metadata={"description": "参加现场检查的工作人员（也可为一行，用、分隔）"})
    location = fields.String(metadata={"description": "检查地点（现场）"})
    checked_on = fields.Date(metadata={"description": "检查日期"},
                             error_messages={"invalid": "检查日期格式应为 YYYY-MM-DD"})
    observations = fields.String(metadata={"description": "查看的内容和发现"})
    photos = fields.List(fields.String(), metadata={"description": "本任务已上传的照片编号"},
                         error_messages={"invalid": "应为照片编号列表"})


class OpinionBody(Body):
    """A department's opinion on its task. Which decisions, indicators, prerequisites and checks are allowed
    and what must be said with them is checked by the domain (422 with every problem by field)."""

    decision = fields.String(metadata={"description": "同意 / 退回补正 / 不同意（必填）",
                                       "enum": list(OPINION_DECISIONS)})
    comments = fields.String(metadata={"description": "总体意见（退回补正、不同意时须写明理由）"})
    indicators = fields.List(fields.Nested(IndicatorOpinionBody),
                             metadata={"description": "逐项判定：本任务的每项指标各一条（缺项 422，逐项列出）"})
    prerequisites = fields.List(fields.Nested(PrerequisiteFindingBody),
                                metadata={"description": "本任务的每项先决条件各一条：是否满足（缺项 422）"})
    checks = fields.List(fields.Nested(CheckFindingBody),
                         metadata={"description": "牵头任务：附件2 二（一）–（七），即 C1–C7"})
    site_checks = fields.List(fields.Nested(SiteCheckBody),
                              metadata={"description": "现场检查记录：谁、到哪里、哪天、看了什么、照片"})


class ReasonBody(Body):
    indicator = fields.Integer(allow_none=True, metadata={"description": "指标编号"})
    prerequisite = fields.String(allow_none=True, metadata={"description": "先决条件编号"})
    check = fields.String(allow_none=True, metadata={"description": "初审内容 C1–C7"})
    text = fields.String(metadata={"description": "理由（必填）"})


class DecisionBody(Body):
    """The lead bureau's decision; whether it may be taken and what its reasons must say is the domain's."""

    version_no = fields.Integer(strict=True, metadata={"description": "默认最新版本"},
                                error_messages={"invalid": "应为申报版本号（整数）"})
    decision = fields.String(metadata={"description": "通过（报自治区）/ 退回补正 / 不予通过（必填）",
                                       "enum": list(CASE_DECISIONS)})
    reasons = fields.List(fields.Nested(ReasonBody), allow_none=True,
                          metadata={"description": "退回补正、不予通过须逐条写明理由"})
