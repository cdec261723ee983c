"""The review API's answers as marshmallow schemas: what each operation returns (see `service_layer`)."""
from __future__ import annotations

from marshmallow import Schema, fields

Str = fields.String
Int = fields.Integer
Bool = fields.Boolean


def _maybe(field_class, **kwargs):
    return field_class(allow_none=True, **kwargs)


def _objects(description: str = ""):
    return fields.List(fields.Dict(), metadata={"description": description} if description else {})


class QueueItem(Schema):
    task_id = Str(required=True)
    application_id = Str(required=True)
    version_no = Int(required=True)
    department = Str(required=True)
    league = Str(required=True)
    county = Str()
    lead = Bool()
    mine_id = Str()
    mine_name = Str()
    indicators = Int(metadata={"description": "本任务的指标数"})
    prerequisites = Int()
    evidence = Int(metadata={"description": "材料数"})
    status = Str(required=True)
    status_label = Str()
    claimed_by = _maybe(Str)
    due_date = _maybe(Str, metadata={"description": "到期日(YYYY-MM-DD)"})
    overdue = Bool()
    days_overdue = Int()
    reminders = Int()
    decision = _maybe(Str)
    opinions = Int()
    closed_reason = _maybe(Str)
    assigned_at = _maybe(Str)
    case_no = _maybe(Str, metadata={"description": "办件编号"})
    claimed_by_name = _maybe(Str, metadata={"description": "办理人姓名"})
    reminded = _maybe(fields.Dict, metadata={"description": "催办到本人的最近一次催办(内容、催办人、时间)"})


class Queue(Schema):
    department = Str(required=True)
    department_name = Str()
    today = Str(metadata={"description": "北京时间的今天"})
    total = Int(required=True)
    overdue = Int()
    items = fields.List(fields.Nested(QueueItem), required=True)


class TaskSummary(Schema):
    task_id = Str(required=True)
    status = Str(required=True)
    status_label = Str()
    claimed_by = _maybe(Str)
    version = Int(metadata={"description": "任务的版本(乐观并发)"})


class Reminded(TaskSummary):
    reminders = Int(metadata={"description": "催办次数"})


class OpinionRecorded(TaskSummary):
    opinion_id = Str(required=True)
    sequence = Int(required=True, metadata={"description": "第几次意见"})
    supersedes = _maybe(Str, metadata={"description": "被替代的意见编号"})


class Colleague(Schema):
    username = Str(required=True)
    name = Str()


class Photo(Schema):
    photo_id = Str(required=True)
    task_id = Str()
    filename = Str()
    content_type = Str()
    size = Int()
    sha256 = Str()
    uploaded_by = Str()
    uploaded_by_name = Str()
    uploaded_at = Str()
    url = Str(metadata={"description": "下载地址(以附件下载)"})


class AuditEntry(Schema):
    id = Str(required=True)
    at = Str(required=True)
    action = Str(required=True, metadata={"description": "task_claimed、evidence_viewed、decision_recorded …"})
    actor = Str()
    actor_name = Str()
    role = Str()
    department = _maybe(Str)
    area = _maybe(Str)
    application_id = _maybe(Str)
    version_no = _maybe(Int)
    task_id = _maybe(Str)
    target = _maybe(Str)
    detail = fields.Dict()


class IndicatorOpinionView(Schema):
    indicator = Int(required=True)
    name = Str(metadata={"description": "指标名称"})
    verdict = Str(metadata={"description": "判定：agree 认可自评 / score 给分 / not_applicable 确认不涉及 / "
                                           "problem 有问题"})
    verdict_label = Str(metadata={"description": "判定（中文）"})
    opinion = Str()
    score = Str(metadata={"description": "得分(精确小数)"})
    not_applicable = Bool()
    reason = Str()
    record = Str(metadata={"description": "检查记录"})


class PrerequisiteFindingView(Schema):
    prerequisite = Str(required=True)
    met = Bool(required=True)
    note = Str()


class CheckFindingView(Schema):
    check = Str(required=True)
    label = Str()
    passed = Bool(required=True)
    note = Str()


class SiteCheckView(Schema):
    inspectors = fields.List(Str())
    location = Str()
    checked_on = Str()
    observations = Str()
    photos = fields.List(Str())


class OpinionView(Schema):
    opinion_id = Str(required=True)
    sequence = Int(required=True)
    decision = Str(required=True, metadata={"description": "agree / return / disagree"})
    decision_label = Str()
    given_by = Str()
    given_by_name = Str()
    given_at = Str()
    indicators = fields.List(fields.Nested(IndicatorOpinionView))
    prerequisites = fields.List(fields.Nested(PrerequisiteFindingView))
    checks = fields.List(fields.Nested(CheckFindingView))
    site_checks = fields.List(fields.Nested(SiteCheckView))
    comments = Str()
    supersedes = _maybe(Str)
    current = Bool(metadata={"description": "是否为当前有效的意见"})


class ReminderView(Schema):
    no = Int(required=True)
    at = Str()
    by = Str()
    by_name = Str()
    message = Str()
    automatic = Bool()


class TransferView(Schema):
    at = Str()
    by = Str()
    from_user = _maybe(Str)
    from_name = _maybe(Str, metadata={"description": "原办理人姓名"})
    to_user = Str()
    to_name = Str()
    reason = Str()


class HistoryView(Schema):
    at = Str()
    actor = Str()
    actor_name = _maybe(Str, metadata={"description": "办理人姓名（系统操作为空）"})
    action = Str()
    action_label = Str(metadata={"description": "操作（中文）"})
    detail = Str()


class PreviousOpinions(Schema):
    task_id = Str(required=True)
    version_no = Int(required=True)
    opinions = fields.List(fields.Nested(OpinionView))


class TaskView(Schema):
    task_id = Str(required=True)
    application_id = Str(required=True)
    case_no = _maybe(Str, metadata={"description": "办件编号"})
    version_no = Int(required=True)
    department = Str(required=True)
    department_name = Str()
    lead = Bool()
    league = Str()
    county = _maybe(Str)
    catalog = Str()
    mine = fields.Dict()
    enterprise = fields.Dict()
    resubmission = Bool()
    routed_at = Str()
    due_date = Str()
    due_estimated = Bool()
    status = Str(required=True)
    status_label = Str()
    claimed_by = _maybe(Str)
    claimed_by_name = _maybe(Str)
    overdue = Bool()
    days_overdue = Int()
    outcome = _maybe(Str)
    outcome_label = _maybe(Str)
    closed_reason = _maybe(Str)
    indicators = _objects("指标:名称、标准分、评分说明、自评、材料、本部门当前意见")
    prerequisites = _objects("先决条件及本部门的判定")
    checks = _objects("初审七项内容(牵头任务)")
    attachments = _objects("本任务的全部材料：材料类型的中文名称（kind_label）、所属附件2 一的项（item_label）、"
                           "查看地址（url 下载；view_url 在浏览器中查看，仅 PDF 和 JPEG/PNG）")
    materials = _objects("申报材料（附件2 一），按项排列")
    other_attachments = _objects("既非附件2 一所列、又不属于本任务指标的材料")
    opinions = fields.List(fields.Nested(OpinionView), metadata={"description": "意见(最新在前)"})
    reminders = fields.List(fields.Nested(ReminderView))
    transfers = fields.List(fields.Nested(TransferView))
    history = fields.List(fields.Nested(HistoryView))
    photos = fields.List(fields.Nested(Photo))
    previous = _maybe(fields.Nested, nested=PreviousOpinions, metadata={"description": "本部门对上一版的意见"})
    returned_reasons = _objects("上一版退回补正的理由")
    permissions = fields.Dict(keys=Str(), values=Bool())


class CaseSummary(Schema):
    application_id = Str(required=True)
    case_no = _maybe(Str, metadata={"description": "办件编号"})
    league = Str()
    county = _maybe(Str)
    mine = Str()
    enterprise = Str()
    version_no = Int()
    status = Str()
    status_label = Str()
    tasks = Int()
    agreed = Int()
    with_opinion = Int()
    overdue = Int()
    routed_at = Str()


class CountersignRow(Schema):
    task_id = Str(required=True)
    department = Str(required=True)
    department_name = Str()
    lead = Bool()
    status = Str()
    status_label = Str()
    claimed_by = _maybe(Str)
    claimed_by_name = _maybe(Str)
    due_date = Str()
    overdue = Bool()
    days_overdue = Int()
    reminders = Int()
    decision = _maybe(Str)
    decision_label = _maybe(Str)
    given_at = _maybe(Str)
    given_by_name = _maybe(Str)
    opinions = Int()


class Reason(Schema):
    indicator = _maybe(Int)
    prerequisite = _maybe(Str)
    check = _maybe(Str)
    text = Str(required=True)


class DecisionView(Schema):
    decision = Str(required=True, metadata={"description": "forwarded / returned / rejected"})
    label = Str()
    reasons = fields.List(fields.Nested(Reason))
    decided_by = Str()
    decided_by_name = Str()
    decided_at = Str()
    report = _maybe(fields.Dict, metadata={"description": "决定所依据的重新评分"})


class CaseVersionView(Schema):
    version_no = Int(required=True)
    resubmission = Bool()
    submitted_at = Str()
    routed_at = Str()
    status = Str()
    status_label = Str()
    warnings = fields.List(Str())
    tasks = fields.List(fields.Nested(CountersignRow), metadata={"description": "各部门办理情况"})
    decision = _maybe(fields.Nested, nested=DecisionView)
    attachments = _objects()
    late = fields.List(fields.Nested(CountersignRow), metadata={"description": "逾期的部门"})
    decision_due = _maybe(Str)
    decision_overdue = Bool()
    all_agreed = Bool()
    side_by_side = fields.Dict(metadata={"description": "各部门意见并列"})
    self_report = _maybe(fields.Dict, metadata={"description": "企业自评的评分结果"})
    rescored_assessment = fields.Dict(metadata={"description": "按审核意见重新评分所用的评估数据"})
    report = _maybe(fields.Dict, metadata={"description": "按审核意见重新评分的结果"})
    report_error = _maybe(fields.Dict)


class CaseView(Schema):
    application_id = Str(required=True)
    case_no = _maybe(Str, metadata={"description": "办件编号"})
    league = Str()
    county = _maybe(Str)
    catalog = Str()
    mine = fields.Dict()
    enterprise = fields.Dict()
    status = Str()
    status_label = Str()
    latest_version = _maybe(Int)
    today = Str()
    can_decide = Bool()
    checks = _objects()
    prerequisites = _objects()
    versions = fields.List(fields.Nested(CaseVersionView), metadata={"description": "最新版本在前"})


class DecisionRecorded(DecisionView):
    application_id = Str(required=True)
    version_no = Int(required=True)
