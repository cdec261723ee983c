"""The register of evaluation institutions: the credit code's check character, eligibility (bans, conflicts of
interest), the three-year ban (29 February included), and the handlers through the bus on the fakes."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from review_fakes import FakePhotoFiles

from review_routing.bootstrap import bootstrap
from review_routing.domain.access import Actor
from review_routing.domain.region.institutions import (
    MISCONDUCT,
    EvaluationInstitution,
    add_years,
    ban_end,
)
from review_routing.service_layer.region import institutions as inst_handlers
from review_routing.service_layer.region.institutions import (
    EditInstitution,
    ListInstitutions,
    RecordMisconduct,
    RegisterInstitution,
    ShowInstitution,
    eligible_institutions,
    report_refusal,
)
from shared.accounts.rules import credit_code_check_char, credit_code_problems
from shared.config import Settings
from shared.errors import Conflict, InvalidInput, InvalidTransition, NotFound, NotPermitted

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
AT = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)          # 2026-05-20 10:00 Beijing
CODE = "91150100MA0P00011N"
OTHER_CODE = "91150200MA0P000220"
ENTERPRISE = {"name": "鄂尔多斯示范煤业有限公司", "credit_code": "91150600MA0N00001W"}
OFFICE = Actor("region", "region_office", "自治区自然资源厅", area="自治区")
CONTACT = {"person": "王工", "phone": "0471-1234567", "email": "wang@example.cn", "address": "呼和浩特市赛罕区"}


def institution(**overrides) -> EvaluationInstitution:
    fields = {"name": "内蒙古示范评估有限公司", "credit_code": CODE, "contact": CONTACT,
              "staff": [{"name": "李评", "title": "高级工程师"}], "conflicts": [], "by": "region", "at": AT}
    return EvaluationInstitution.register(**{**fields, **overrides})


# -- the credit code ---------------------------------------------------------------------------------------------
def test_credit_code_check_character_follows_gb_32100():
    # Published codes: 91350100M000100Y43 (a real example of the standard's form), the demo enterprises'.
    for code in ("91350100M000100Y43", "91150600MA0N00001W", "91150200MA0N00002B", CODE):
        assert credit_code_check_char(code[:17]) == code[17]
        assert credit_code_problems(code) == []
    assert "校验位" in credit_code_problems(CODE[:17] + "X")[0]
    assert "第18位应为N" in credit_code_problems(CODE[:17] + "X")[0]
    assert "18位" in credit_code_problems("91150100MA0P0001")[0]          # too short
    assert "18位" in credit_code_problems("91150100MA0P0001IO")[0]        # I and O are not in the set
    assert credit_code_problems("") == ["请填写统一社会信用代码"]


def test_register_normalises_and_validates_every_field_at_once():
    inst = institution(credit_code=" 91150100-ma0p00011n ")
    assert inst.credit_code == CODE and inst.staff[0].staff_id.startswith("st-")
    with pytest.raises(InvalidInput) as e:
        institution(name="", credit_code=CODE[:17] + "0", contact={"person": "", "phone": "abc", "email": "x"},
                    staff=[{"name": "", "title": ""}],
                    conflicts=[{"kind": "bribery", "credit_code": ""}])
    fields = {err.field for err in e.value.errors}
    assert {"name", "credit_code", "contact.person", "contact.phone", "contact.email", "staff[0].name",
            "staff[0].title", "conflicts[0].kind", "conflicts[0].credit_code"} <= fields


# -- eligibility and bans ----------------------------------------------------------------------------------------
def test_conflict_of_interest_makes_the_institution_ineligible_for_that_enterprise_only():
    inst = institution(conflicts=[{"kind": "consulting", "credit_code": ENTERPRISE["credit_code"],
                                   "enterprise_name": ENTERPRISE["name"], "note": "2025年为其编制绿色矿山建设方案"}])
    reason = inst.eligible_for(ENTERPRISE, date(2026, 5, 20))
    assert "利益冲突" in reason and "咨询服务" in reason and "建设方案" in reason and ENTERPRISE["name"] in reason
    assert inst.eligible_for({"name": "包头示范砂石有限公司", "credit_code": "91150200MA0N00002B"},
                             date(2026, 5, 20)) is None
    by_id = institution(conflicts=[{"kind": "equity", "enterprise_id": "ent-7"}])
    assert "股权关联" in by_id.eligible_for({"id": "ent-7", "name": "某企业", "credit_code": ""}, date(2026, 5, 20))


def test_three_year_ban_counts_like_the_civil_code_including_29_february():
    assert ban_end(date(2026, 5, 20)) == date(2029, 5, 20)
    assert ban_end(date(2024, 2, 29)) == date(2027, 2, 28)      # no 29 Feb in 2027: the month's last day
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)
    inst = institution()
    finding = inst.record_finding(kind="collusion_fraud", facts="以他矿照片冒充本矿照片", found_on="2024-02-29",
                                  by="region", by_name="自治区自然资源厅", at=AT.replace(year=2024, month=3, day=1))
    assert finding["banned_until"] == "2027-02-28" and finding["kind_label"] == "串通企业弄虚作假"
    assert not inst.is_banned(date(2024, 2, 28))
    assert inst.is_banned(date(2024, 2, 29)) and inst.is_banned(date(2027, 2, 28))
    assert not inst.is_banned(date(2027, 3, 1))
    assert inst.status_on(date(2026, 1, 1)) == "banned" and inst.status_on(date(2027, 3, 1)) == "active"
    refusal = inst.refusal_on(date(2026, 1, 1))
    assert "串通企业弄虚作假" in refusal and "2027年2月28日" in refusal and "3年内不再采信" in refusal
    assert inst.eligible_for(ENTERPRISE, date(2026, 1, 1)) == refusal
    assert inst.refusal_on(date(2027, 3, 1)) is None and inst.eligible_for(ENTERPRISE, date(2027, 3, 1)) is None


def test_finding_against_a_staff_member_names_the_person_and_bans_the_institution():
    inst = institution()
    staff_id = inst.staff[0].staff_id
    finding = inst.record_finding(kind="leak_secrets", facts="向他人提供企业资料", found_on=date(2026, 5, 19),
                                  by="region", by_name="厅", at=AT, staff_id=staff_id,
                                  document_no="内自然资字〔2026〕1号")
    assert finding["person"] == "李评" and finding["staff_id"] == staff_id
    assert inst.person_banned(staff_id, date(2027, 1, 1)) and inst.is_banned(date(2027, 1, 1))
    assert "评估人员李评" in inst.refusal_on(date(2027, 1, 1))
    with pytest.raises(InvalidTransition):          # the same finding twice
        inst.record_finding(kind="leak_secrets", facts="向他人提供企业资料", found_on=date(2026, 5, 19),
                            by="region", by_name="厅", at=AT, staff_id=staff_id)


def test_finding_is_refused_with_reasons():
    inst = institution()
    with pytest.raises(InvalidInput) as e:
        inst.record_finding(kind="late", facts=" ", found_on="2026-13-01", by="r", by_name="r", at=AT,
                            staff_id="st-nobody")
    assert {err.field for err in e.value.errors} == {"kind", "facts", "found_on", "staff_id"}
    with pytest.raises(InvalidInput) as e:
        inst.record_finding(kind="leak_secrets", facts="x", found_on="2026-05-21", by="r", by_name="r", at=AT)
    assert e.value.errors[0].message == "认定日期不能晚于今天"
    assert set(MISCONDUCT.values()) == {"将所承担评估工作转让或外包", "泄露矿山企业秘密", "串通企业弄虚作假",
                                        "评估结论严重失实"}


def test_edit_keeps_staff_ids_and_declaration_times_and_round_trips():
    inst = institution(conflicts=[{"kind": "technical_service", "credit_code": ENTERPRISE["credit_code"]}])
    first = inst.staff[0]
    conflict = inst.conflicts[0]
    later = AT.replace(day=21)
    changed = inst.edit(by="region", at=later,
                        staff=[{"staff_id": first.staff_id, "name": "李评", "title": "正高级工程师"},
                               {"name": "赵核", "title": "工程师"}],
                        conflicts=[{**conflict.to_dict(), "note": "技术服务合同已终止"}])
    assert changed == ["staff", "conflicts"]
    assert inst.staff[0].staff_id == first.staff_id and inst.staff[0].title == "正高级工程师"
    assert inst.conflicts[0].declared_at == AT.isoformat() and inst.conflicts[0].note == "技术服务合同已终止"
    assert inst.edit(by="region", at=later, contact=CONTACT) == []
    with pytest.raises(InvalidInput):
        inst.edit(by="region", at=later, staff=[{"staff_id": "st-forged", "name": "某", "title": "工程师"}])
    copy = EvaluationInstitution.from_dict({**inst.to_dict(), "version": 3})
    assert copy.to_dict() == inst.to_dict() and copy.version == 3


# -- handlers ----------------------------------------------------------------------------------------------------
class Clock:
    def __init__(self, now: datetime = AT):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()        # this module's moment (AT), not the review builders'





@pytest.fixture
def bus(uow, clock):
    return bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow,
                     uow_for=lambda tx: uow, clock=clock, scoring=object(), directory=object(),
                     photo_files=FakePhotoFiles(), env={})


def register(bus, **overrides):
    fields = {"actor": OFFICE, "name": "内蒙古示范评估有限公司", "credit_code": CODE, "contact": CONTACT,
              "staff": ({"name": "李评", "title": "高级工程师"},)}
    return bus.handle(RegisterInstitution(**{**fields, **overrides}))


def test_only_the_region_office_registers_and_one_entry_per_credit_code(bus, uow):
    view = register(bus)
    assert view["institution_id"] == "inst-" + CODE.lower() and view["status"] == "active"
    assert view["status_label"] == "正常" and view["staff"][0]["title"] == "高级工程师"
    with pytest.raises(Conflict):
        register(bus, name="重名登记")
    for role in ("bureau", "evaluator", "admin", "department_reviewer"):
        with pytest.raises(NotPermitted):
            register(bus, actor=Actor("x", role, institution="inst-x"), credit_code=OTHER_CODE)
    assert uow.audit.actions() == ["institution_registered"]


def test_misconduct_bans_publishes_the_event_and_refuses_reports(bus, uow, clock):
    inst_id = register(bus)["institution_id"]
    staff_id = uow.institutions.get(inst_id).staff[0].staff_id
    result = bus.handle(RecordMisconduct(OFFICE, inst_id, "seriously_false_conclusion", "评分与现场明显不符",
                                         "2026-05-18", document_no="内自然资字〔2026〕9号", staff_id=staff_id))
    assert result["finding"]["banned_until"] == "2029-05-18"
    assert result["institution"]["status"] == "banned" and "2029年5月18日" in result["institution"]["status_label"]
    (envelope, topic), = [(e, t) for e, t in uow.published if e["type"] == "review_routing.misconduct_found"]
    assert topic == "review_routing.region.events" and envelope["aggregate_id"] == inst_id
    payload = envelope["payload"]
    assert payload["person"] == "李评" and payload["kind_label"] == "评估结论严重失实"
    assert payload["credit_code"] == CODE and payload["found_on"] == "2026-05-18"
    assert payload["document_no"] == "内自然资字〔2026〕9号"
    assert "misconduct_found" in uow.audit.actions()
    uow.run(lambda: None)
    eligible, excluded = uow.read(lambda: eligible_institutions(uow, ENTERPRISE, date(2026, 6, 1)))
    assert eligible == [] and excluded[0]["id"] == inst_id and "评估结论严重失实" in excluded[0]["reason"]
    assert "3年内不再采信" in uow.read(lambda: report_refusal(uow, inst_id, date(2029, 5, 18)))
    assert uow.read(lambda: report_refusal(uow, inst_id, date(2029, 5, 19))) is None
    assert "名录中没有" in uow.read(lambda: report_refusal(uow, "inst-none", date(2026, 6, 1)))


def test_a_refused_finding_stores_and_publishes_nothing(bus, uow):
    inst_id = register(bus)["institution_id"]
    before = uow.institutions.get(inst_id).version
    with pytest.raises(InvalidInput):
        bus.handle(RecordMisconduct(OFFICE, inst_id, "unknown", "x", "2026-05-18"))
    assert uow.institutions.get(inst_id).version == before
    assert not [e for e, _ in uow.published if e["type"] == "review_routing.misconduct_found"]
    with pytest.raises(NotFound):
        bus.handle(RecordMisconduct(OFFICE, "inst-none", "leak_secrets", "x", "2026-05-18"))
    with pytest.raises(NotPermitted):
        bus.handle(RecordMisconduct(Actor("e", "evaluator", institution=inst_id), inst_id, "leak_secrets", "x",
                                    "2026-05-18"))


def test_edit_through_the_bus_checks_the_version_and_audits(bus, uow):
    view = register(bus)
    edited = bus.handle(EditInstitution(OFFICE, view["institution_id"], contact={**CONTACT, "phone": "13800000000"},
                                        conflicts=({"kind": "consulting", "credit_code": ENTERPRISE["credit_code"]},),
                                        expected_version=view["version"]))
    assert edited["contact"]["phone"] == "13800000000" and edited["conflicts"][0]["kind_label"] == "咨询服务"
    with pytest.raises(Conflict):
        bus.handle(EditInstitution(OFFICE, view["institution_id"], name="新名称", expected_version=view["version"]))
    assert uow.audit.actions() == ["institution_registered", "institution_edited"]
    eligible, excluded = uow.read(lambda: eligible_institutions(uow, ENTERPRISE, date(2026, 6, 1)))
    assert eligible == [] and "利益冲突" in excluded[0]["reason"]


def test_evaluators_read_only_their_own_institution(bus):
    own = register(bus)["institution_id"]
    other = register(bus, name="另一家评估机构", credit_code=OTHER_CODE)["institution_id"]
    evaluator = Actor("evaluator", "evaluator", institution=own)
    assert [i["institution_id"] for i in bus.handle(ListInstitutions(evaluator))] == [own]
    assert bus.handle(ShowInstitution(evaluator, own))["name"] == "内蒙古示范评估有限公司"
    with pytest.raises(NotPermitted):
        bus.handle(ShowInstitution(evaluator, other))
    assert {i["institution_id"] for i in bus.handle(ListInstitutions(OFFICE))} == {own, other}
    assert bus.handle(ListInstitutions(Actor("nobody", "evaluator"))) == []
    with pytest.raises(NotPermitted):
        bus.handle(ListInstitutions(Actor("b", "bureau", area="鄂尔多斯市")))


def test_handlers_are_registered_on_the_bus(bus):
    for command in inst_handlers.COMMAND_HANDLERS:
        assert command in bus.command_handlers


# -- HTTP (the app on the fakes) -----------------------------------------------------------------------------------
HTTP_SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "unit-secret", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                                   "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})


@pytest.fixture
def web(uow, clock):
    from review_routing.entrypoints.http import create_app
    from shared import identity

    bus = bootstrap(HTTP_SETTINGS, uow_factory=lambda: uow, uow_for=lambda tx: uow, clock=clock, scoring=None,
                    directory=object(), photo_files=FakePhotoFiles(), env={})
    client = create_app(HTTP_SETTINGS, bus).test_client()

    def call(method, path, who, html=False, **kwargs):
        token = identity.issue_token(HTTP_SETTINGS.secret_key, who)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/html" if html else "application/json"}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def test_the_register_over_http_and_its_pages(web, uow):
    from shared import identity

    office = identity.Principal("region", "region_office", display_name="自治区自然资源厅", area="自治区")
    body = {"name": "内蒙古示范评估有限公司", "credit_code": CODE.lower(), "contact": CONTACT,
            "staff": [{"name": "李评", "title": "高级工程师"}],
            "conflicts": [{"kind": "consulting", "credit_code": ENTERPRISE["credit_code"],
                           "enterprise_name": ENTERPRISE["name"]}]}
    created = web("POST", "/api/v1/evaluation/institutions", office, json=body)
    assert created.status_code == 201, created.json
    inst_id = created.json["institution_id"]
    assert created.json["credit_code"] == CODE and created.json["conflicts"][0]["kind_label"] == "咨询服务"
    bad = web("POST", "/api/v1/evaluation/institutions", office,
              json={**body, "credit_code": CODE[:17] + "X", "contact": {"person": "王工", "phone": "x"}})
    assert bad.status_code == 422 and {"credit_code", "contact.phone"} <= set(bad.json["errors"])
    assert web("POST", "/api/v1/evaluation/institutions", office, json={**body, "extra": 1}).status_code == 422
    assert web("POST", "/api/v1/evaluation/institutions", office, json=body).status_code == 409
    evaluator = identity.Principal("evaluator", "evaluator", area="自治区", institution=inst_id)
    assert web("POST", "/api/v1/evaluation/institutions", evaluator, json=body).status_code == 403
    assert web("GET", f"/api/v1/evaluation/institutions/{inst_id}", evaluator).json["name"] == body["name"]
    stranger = identity.Principal("e2", "evaluator", area="自治区", institution="inst-other")
    assert web("GET", f"/api/v1/evaluation/institutions/{inst_id}", stranger).status_code == 403
    assert web("GET", "/api/v1/evaluation/institutions", stranger).json == []

    version = created.json["version"]
    patched = web("PATCH", f"/api/v1/evaluation/institutions/{inst_id}", office,
                  json={"contact": {**CONTACT, "person": "张工"}, "version": version})
    assert patched.status_code == 200 and patched.json["contact"]["person"] == "张工"
    assert web("PATCH", f"/api/v1/evaluation/institutions/{inst_id}", office,
               json={"name": "改名", "version": version}).status_code == 409

    staff_id = patched.json["staff"][0]["staff_id"]
    found = web("POST", f"/api/v1/evaluation/institutions/{inst_id}/findings", office,
                json={"kind": "transfer_or_outsource", "facts": "将现场评估转包给无资质单位", "found_on": "2026-05-19",
                      "staff_id": staff_id, "document_no": "内自然资字〔2026〕3号"})
    assert found.status_code == 201, found.json
    assert found.json["finding"]["banned_until"] == "2029-05-19" and found.json["institution"]["status"] == "banned"
    assert web("POST", f"/api/v1/evaluation/institutions/{inst_id}/findings", office,
               json={"kind": "x", "facts": "", "found_on": "yesterday"}).status_code == 422
    assert web("POST", "/api/v1/evaluation/institutions/inst-none/findings", office,
               json={"kind": "leak_secrets", "facts": "x", "found_on": "2026-05-19"}).status_code == 404

    listing = web("GET", "/evaluation/institutions", office, html=True)
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "内蒙古示范评估有限公司" in page and "禁入期内（至2029年5月19日）" in page
    assert "登记评估机构" in page
    detail = web("GET", f"/evaluation/institutions/{inst_id}", office, html=True).get_data(as_text=True)
    for text in ("李评", "高级工程师", "咨询服务", ENTERPRISE["name"], "将所承担评估工作转让或外包",
                 "2026-05-19 至 2029-05-19", "记录违规认定并通报", "3年内不再采信"):
        assert text in detail, text
    assert "transfer_or_outsource" not in detail.split("<script")[0].replace('value="transfer_or_outsource"', "")
    own = web("GET", f"/evaluation/institutions/{inst_id}", evaluator, html=True).get_data(as_text=True)
    assert "李评" in own and "记录违规认定" not in own


def test_demo_register_matches_the_demo_accounts_and_loads_once(bus, uow, clock):
    from review_routing.entrypoints.region.institutions import DEMO_INSTITUTIONS, load_demo_data
    from shared import demo_accounts as cli

    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    ids = [inst_handlers.institution_id_for(d["credit_code"]) for d in DEMO_INSTITUTIONS]
    assert cli.DEMO_INSTITUTION == ids[0] and cli.DEMO_INSTITUTION_2 == ids[1]
    evaluators = {u[0]: u[2]["institution"] for u in cli.DEMO_USERS if u[1] == "evaluator"}
    assert evaluators == {"evaluator": ids[0], "evaluator2": ids[1]}
    assert load_demo_data(bus=bus) == {"institutions": ids, "findings": [ids[2]]}
    assert load_demo_data(bus=bus) == {"institutions": [], "findings": []}
    today = date(2026, 12, 1)
    register = {i.id: i for i in uow.institutions.find()}
    assert register[ids[0]].eligible_for(ENTERPRISE, today) is None
    assert "利益冲突" in register[ids[1]].eligible_for(ENTERPRISE, today)
    assert register[ids[2]].is_banned(today) and register[ids[2]].banned_until == date(2029, 3, 16)
    assert [e["type"] for e, _ in uow.published].count("review_routing.misconduct_found") == 1
