"""The register of third-party evaluation institutions on the web: API under `/api/v1/evaluation/institutions`
(the region office writes; an evaluator reads its own institution), pages under `/evaluation/institutions`.
Also the demo register (`load_demo_data`, entry point `greenmine.demo_data`)."""
from __future__ import annotations

from flask import render_template
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from review_routing.domain.region.institutions import CONFLICT_KINDS, MISCONDUCT
from review_routing.entrypoints.schemas import Body
from review_routing.service_layer.region import institutions as ins
from shared import identity
from shared.schemas import document_errors

READERS = ("region_office", "admin", "evaluator")
WRITERS = ("region_office",)


def actor():
    from review_routing.entrypoints.http import actor as current

    return current()


# -- bodies ---------------------------------------------------------------------------------------------------
class ContactBody(Body):
    person = fields.String(required=True, validate=validate.Length(max=50), metadata={"description": "联系人"})
    phone = fields.String(required=True, validate=validate.Length(max=20), metadata={"description": "联系电话"})
    email = fields.String(load_default="", validate=validate.Length(max=254), metadata={"description": "电子邮箱"})
    address = fields.String(load_default="", validate=validate.Length(max=200), metadata={"description": "地址"})


class StaffBody(Body):
    staff_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                             metadata={"description": "已登记人员的编号（修改时保留；新人员不填）"})
    name = fields.String(required=True, validate=validate.Length(max=50), metadata={"description": "姓名"})
    title = fields.String(required=True, validate=validate.Length(max=50), metadata={"description": "职称"})
    id_hint = fields.String(load_default="", validate=validate.Length(max=64),
                            metadata={"description": "证书编号等（可选，回避时区分同名人员）"})


class ConflictBody(Body):
    conflict_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                                metadata={"description": "已申报条目的编号（修改时保留；新申报不填）"})
    kind = fields.String(required=True, validate=validate.Length(max=32), metadata={
        "description": "利益冲突类型：" + "、".join(f"{k}（{v}）" for k, v in CONFLICT_KINDS.items())})
    credit_code = fields.String(load_default="", validate=validate.Length(max=40),
                                metadata={"description": "企业统一社会信用代码"})
    enterprise_id = fields.String(load_default="", validate=validate.Length(max=64),
                                  metadata={"description": "企业编号（无信用代码时）"})
    enterprise_name = fields.String(load_default="", validate=validate.Length(max=100))
    note = fields.String(load_default="", validate=validate.Length(max=500), metadata={"description": "说明"})


class InstitutionBody(Body):
    name = fields.String(required=True, validate=validate.Length(max=100), metadata={"description": "机构名称"})
    credit_code = fields.String(required=True, validate=validate.Length(max=40),
                                metadata={"description": "统一社会信用代码（GB 32100-2015，含校验位）"})
    contact = fields.Nested(ContactBody, required=True)
    staff = fields.List(fields.Nested(StaffBody), load_default=list, validate=validate.Length(max=200))
    conflicts = fields.List(fields.Nested(ConflictBody), load_default=list, validate=validate.Length(max=200))


class InstitutionPatch(Body):
    name = fields.String(validate=validate.Length(max=100))
    contact = fields.Nested(ContactBody)
    staff = fields.List(fields.Nested(StaffBody), validate=validate.Length(max=200),
                        metadata={"description": "评估人员的完整名单（替换原名单）"})
    conflicts = fields.List(fields.Nested(ConflictBody), validate=validate.Length(max=200),
                            metadata={"description": "利益冲突申报的完整清单（替换原清单）"})
    version = fields.Integer(load_default=None, allow_none=True,
                             metadata={"description": "读取时的版本；已被他人修改则拒绝（409）"})


class FindingBody(Body):
    kind = fields.String(required=True, validate=validate.Length(max=40), metadata={
        "description": "违规情形：" + "、".join(f"{k}（{v}）" for k, v in MISCONDUCT.items())})
    facts = fields.String(required=True, validate=validate.Length(max=2000), metadata={"description": "违规事实"})
    found_on = fields.String(required=True, validate=validate.Length(max=10),
                             metadata={"description": "认定日期 YYYY-MM-DD（北京时间），禁入3年自此日起"})
    document_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                                metadata={"description": "文号（可选）"})
    staff_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                             metadata={"description": "针对本机构某评估人员时：其编号"})
    person = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50),
                           metadata={"description": "针对未登记的评估人员时：其姓名"})


# -- answers --------------------------------------------------------------------------------------------------
class ContactView(Schema):
    person = fields.String(required=True)
    phone = fields.String(required=True)
    email = fields.String()
    address = fields.String()


class StaffView(Schema):
    staff_id = fields.String(required=True)
    name = fields.String(required=True)
    title = fields.String(required=True, metadata={"description": "职称"})
    id_hint = fields.String()


class ConflictView(Schema):
    conflict_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(CONFLICT_KINDS)})
    kind_label = fields.String(required=True)
    credit_code = fields.String()
    enterprise_id = fields.String()
    enterprise_name = fields.String()
    note = fields.String()
    declared_at = fields.String()


class FindingView(Schema):
    finding_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(MISCONDUCT)})
    kind_label = fields.String(required=True)
    facts = fields.String(required=True)
    found_on = fields.String(required=True)
    banned_until = fields.String(required=True, metadata={"description": "禁入期最后一日（含）"})
    document_no = fields.String(allow_none=True)
    staff_id = fields.String(allow_none=True)
    person = fields.String(allow_none=True)
    recorded_by = fields.String()
    recorded_by_name = fields.String()
    recorded_at = fields.String()


class InstitutionSummary(Schema):
    institution_id = fields.String(required=True)
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["active", "banned"]})
    status_label = fields.String(required=True)
    banned_until = fields.String(allow_none=True)
    refusal = fields.String(allow_none=True, metadata={"description": "禁入期内：不予采信的理由"})
    contact = fields.Nested(ContactView)
    staff_count = fields.Integer()
    conflict_count = fields.Integer()
    finding_count = fields.Integer()
    version = fields.Integer(allow_none=True)


class HistoryEntry(Schema):
    at = fields.String()
    action = fields.String()
    by = fields.String()
    text = fields.String()


class InstitutionView(InstitutionSummary):
    staff = fields.List(fields.Nested(StaffView))
    conflicts = fields.List(fields.Nested(ConflictView))
    findings = fields.List(fields.Nested(FindingView))
    registered_at = fields.DateTime(allow_none=True)
    registered_by = fields.String()
    history = fields.List(fields.Nested(HistoryEntry))


class FindingAnswer(Schema):
    finding = fields.Nested(FindingView, required=True)
    institution = fields.Nested(InstitutionView, required=True)


def routes(api, pages, bus) -> None:
    @api.route("/institutions")
    class Institutions(MethodView):
        @identity.requires(*READERS)
        @api.response(200, InstitutionSummary(many=True))
        @document_errors(api, 401, 403)
        def get(self):
            """The register of evaluation institutions with each one's status today (an evaluator: its own)."""
            return bus.handle(ins.ListInstitutions(actor()))

        @identity.requires(*WRITERS)
        @api.arguments(InstitutionBody)
        @api.response(201, InstitutionView)
        @document_errors(api, 401, 403, 409, 422)
        def post(self, body):
            """Register an institution (one entry per 统一社会信用代码)."""
            return bus.handle(ins.RegisterInstitution(
                actor(), body["name"], body["credit_code"], body["contact"], tuple(body["staff"]),
                tuple(body["conflicts"])))

    @api.route("/institutions/<institution_id>")
    class Institution(MethodView):
        @identity.requires(*READERS)
        @api.response(200, InstitutionView)
        @document_errors(api, 401, 403, 404)
        def get(self, institution_id):
            """One institution: contact, staff, declared conflicts, findings and bans."""
            return bus.handle(ins.ShowInstitution(actor(), institution_id))

        @identity.requires(*WRITERS)
        @api.arguments(InstitutionPatch)
        @api.response(200, InstitutionView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def patch(self, body, institution_id):
            """Edit the name, contact, staff or declared conflicts (each given list replaces the old one)."""
            return bus.handle(ins.EditInstitution(
                actor(), institution_id, name=body.get("name"), contact=body.get("contact"),
                staff=tuple(body["staff"]) if "staff" in body else None,
                conflicts=tuple(body["conflicts"]) if "conflicts" in body else None,
                expected_version=body.get("version")))

    @api.route("/institutions/<institution_id>/findings")
    class Findings(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(FindingBody)
        @api.response(201, FindingAnswer)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, body, institution_id):
            """Record a misconduct finding (正文 二(四)): the institution is banned for three years from the date
            found and the finding is published as a 通报 by the public notice."""
            return bus.handle(ins.RecordMisconduct(
                actor(), institution_id, body["kind"], body["facts"], body["found_on"],
                document_no=body.get("document_no"), staff_id=body.get("staff_id"), person=body.get("person")))

    @pages.get("/institutions")
    @identity.requires(*READERS)
    def institutions_page():
        me = actor()
        return render_template("review_routing/region/institutions.html", items=bus.handle(ins.ListInstitutions(me)),
                               me=me, conflict_kinds=CONFLICT_KINDS)

    @pages.get("/institutions/<institution_id>")
    @identity.requires(*READERS)
    def institution_page(institution_id):
        me = actor()
        return render_template("review_routing/region/institution.html",
                               v=bus.handle(ins.ShowInstitution(me, institution_id)), me=me,
                               conflict_kinds=CONFLICT_KINDS, misconduct=MISCONDUCT)


# -- demo data ------------------------------------------------------------------------------------------------
# The demo register: two active institutions (the second with a declared conflict of interest with the demo coal
# enterprise) and one banned after a published finding. `shared.demo_accounts.DEMO_INSTITUTION(_2)` bind the demo
# evaluator accounts to the first two by these ids ("inst-" + the credit code in lower case).
DEMO_INSTITUTIONS = (
    {"name": "内蒙古绿原矿山评估咨询有限公司", "credit_code": "91150100MA0P00011N",
     "contact": {"person": "李明远", "phone": "0471-6600101", "email": "pinggu@lvyuan.example.cn",
                 "address": "呼和浩特市赛罕区敕勒川大街1号"},
     "staff": ({"name": "李明远", "title": "正高级工程师"}, {"name": "张晓燕", "title": "高级工程师"},
               {"name": "王浩", "title": "工程师"}),
     "conflicts": ()},
    {"name": "包头华测资源环境技术有限公司", "credit_code": "91150200MA0P000220",
     "contact": {"person": "赵丽", "phone": "0472-5100202", "email": "", "address": "包头市昆都仑区钢铁大街88号"},
     "staff": ({"name": "赵丽", "title": "高级工程师"}, {"name": "孙强", "title": "工程师"}),
     "conflicts": ({"kind": "consulting", "credit_code": "91150600MA0N00001W",
                    "enterprise_name": "鄂尔多斯示范煤业有限公司", "note": "2025年为其编制绿色矿山建设方案"},)},
    {"name": "鄂尔多斯市金岩矿业技术服务有限公司", "credit_code": "91150600MA0P00033Q",
     "contact": {"person": "刘建军", "phone": "0477-8300303", "email": "", "address": "鄂尔多斯市东胜区"},
     "staff": ({"name": "刘建军", "title": "高级工程师"}, {"name": "陈峰", "title": "助理工程师"}),
     "conflicts": (),
     "finding": {"kind": "collusion_fraud", "person": "刘建军", "found_on": "2026-03-16",
                 "document_no": "内自然资字〔2026〕18号",
                 "facts": "在某砂石矿现场评估中与企业串通，以其他矿山的现场照片冒充本矿照片，虚报已复垦面积。"}},
)


def load_demo_data(settings=None, bus=None) -> dict:
    """Register the demo institutions that are missing and record the demo finding once (its 通报 reaches the
    public notice through the outbox). Entry point `greenmine.demo_data`."""
    from review_routing.bootstrap import bootstrap
    from review_routing.domain.access import Actor
    from review_routing.domain.errors import NotFound
    from shared.config import Settings

    bus = bus or bootstrap(settings or Settings.from_env())
    office = Actor("region", "region_office", "自治区自然资源厅", area="自治区")
    created = {"institutions": [], "findings": []}
    for demo in DEMO_INSTITUTIONS:
        inst_id = ins.institution_id_for(demo["credit_code"])
        try:
            view = bus.handle(ins.ShowInstitution(office, inst_id))
        except NotFound:
            view = bus.handle(ins.RegisterInstitution(office, demo["name"], demo["credit_code"], demo["contact"],
                                                      demo["staff"], demo["conflicts"]))
            created["institutions"].append(inst_id)
        finding = demo.get("finding")
        if finding and not view["findings"]:
            staff_id = next(s["staff_id"] for s in view["staff"] if s["name"] == finding["person"])
            bus.handle(ins.RecordMisconduct(office, inst_id, finding["kind"], finding["facts"], finding["found_on"],
                                            document_no=finding["document_no"], staff_id=staff_id))
            created["findings"].append(inst_id)
    return created
