"""The printable sheets (部门审核意见表, 会签单, 初审意见) as models and as PDFs read back, and the queue exports as
spreadsheets read back: case number, department names, Beijing times, names; never a code."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from review_builders import AT, BUREAU, CONTRACTS, routed, submission, submitted_event
from review_fakes import FakePhotoFiles, FakeReviewUnitOfWork

from review_routing.bootstrap import bootstrap
from review_routing.domain.errors import InvalidTransition
from review_routing.domain.opinion import CheckFinding, IndicatorOpinion, Opinion, PrerequisiteFinding, SiteCheck
from review_routing.entrypoints.http import create_app
from review_routing.service_layer.sheets import countersign_sheet, decision_sheet, opinion_sheet, self_label
from shared import identity
from shared.config import Settings
from shared.contracts import ContractRegistry

CASE_NO = "150600-2026-00012"
GIVEN = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)      # 北京时间 2026-03-04 01:30: the date changes
DECIDED = datetime(2026, 3, 5, 2, 5, tzinfo=UTC)      # 北京时间 2026-03-05 10:05
QUALIFIED = {"verdict": "qualified", "verdict_label": "达标", "total": "96.50", "failed_binding": [],
             "failed_prerequisites": []}
CODES = ("ecology_environment", "natural_resources", "emergency_management", "forwarded", "agree", "under_review",
         "T17:30", "T02:05")


def name(code):
    return {"ecology_environment": "生态环境", "natural_resources": "自然资源", "emergency_management": "应急管理",
            }.get(code, f"部门{len(code)}")


def agree(task, who: str, at: datetime = GIVEN, *, score_first: bool = True) -> Opinion:
    """A recorded "同意" judging every item of the task (as the domain stores one)."""
    items = [IndicatorOpinion(no, opinion="与自评一致") for no in task.indicators]
    if score_first and items:
        items[0] = IndicatorOpinion(task.indicators[0], opinion="扣分", score=Decimal("0.5"), record="查看台账")
    opinion = Opinion(f"op-{task.department}", 1, "agree", f"rv_{task.department}", who, at, tuple(items),
                      tuple(PrerequisiteFinding(p, True, "") for p in task.prerequisites),
                      tuple(CheckFinding(c, True, "") for c in task.checks),
                      (SiteCheck(("张三", "李四"), "采场东侧", date(2026, 3, 3), "排土场已复绿", ("ph-1",)),),
                      "同意通过")
    task.opinions.append(opinion)
    task.status = "opinion_given"
    return opinion


@pytest.fixture
def case_and_tasks(catalog):
    case, result = routed(catalog, {**submission(catalog), "case_no": CASE_NO})
    return case, list(result.tasks)


def test_the_case_number_reaches_the_case_and_every_task(case_and_tasks):
    case, tasks = case_and_tasks
    assert case.case_no == CASE_NO and {t.case_no for t in tasks} == {CASE_NO}
    assert type(case).from_dict(case.to_dict()).case_no == CASE_NO
    assert type(tasks[0]).from_dict(tasks[0].to_dict()).case_no == CASE_NO


def test_opinion_sheet_names_every_item_in_chinese(catalog, case_and_tasks):
    case, tasks = case_and_tasks
    eco = next(t for t in tasks if t.department == "ecology_environment")
    with pytest.raises(InvalidTransition, match="尚未出具审核意见"):
        opinion_sheet(eco, catalog, name, case)
    agree(eco, "王审核")
    sheet = opinion_sheet(eco, catalog, name, case)
    assert sheet["case_no"] == CASE_NO and sheet["department"] == "生态环境"
    assert sheet["enterprise"]["name"] == "鄂尔多斯示范煤业有限公司" and sheet["bureau"] == "鄂尔多斯市自然资源局"
    assert [i["no"] for i in sheet["indicators"]] == list(eco.indicators)
    first = sheet["indicators"][0]
    assert "0.5 分" in first["judgement"] and first["record"] == "查看台账" and first["note"] == "扣分"
    assert all(p["judgement"] == "满足" for p in sheet["prerequisites"]) and sheet["prerequisites"]
    assert sheet["site_checks"][0]["inspectors"] == "张三、李四" and sheet["site_checks"][0]["photos"] == 1
    assert sheet["given_by_name"] == "王审核" and sheet["given_at"] == GIVEN and sheet["decision"] == "同意"


def test_lead_sheet_carries_the_seven_checks(catalog, case_and_tasks):
    case, tasks = case_and_tasks
    lead = next(t for t in tasks if t.lead)
    agree(lead, "赵局")
    sheet = opinion_sheet(lead, catalog, name, case)
    assert len(sheet["checks"]) == 7 and all(c["judgement"] == "通过" for c in sheet["checks"])
    assert sheet["lead"] and sheet["department"] == "自然资源"


def test_self_labels_never_show_sub_item_keys():
    assert self_label({"items": {"solid_waste_use": True, "topsoil_reuse": True, "x": False}}) == "加分子项 2 项"
    assert self_label({"deductions": ["a"]}) == "扣分条件 1 项" and self_label({"deductions": []}) == "无扣分"
    assert self_label({"not_applicable": True}) == "不涉及" and self_label(None) == "未填写"
    assert self_label({"score": "2"}) == "2 分" and self_label({"findings": 3}) == "不符合 3 处"


def test_countersign_sheet_lists_every_department_lead_first(catalog, case_and_tasks):
    case, tasks = case_and_tasks
    eco = next(t for t in tasks if t.department == "ecology_environment")
    agree(eco, "王审核")
    sheet = countersign_sheet(case, 1, tasks, name, DECIDED)
    assert sheet["total"] == len(tasks) == 10 and sheet["agreed"] == 1
    assert sheet["rows"][0]["lead"] and sheet["rows"][0]["department"] == "自然资源"
    row = next(r for r in sheet["rows"] if r["department"] == "生态环境")
    assert row["conclusion"] == "同意" and row["reviewer"] == "王审核" and row["given_at"] == GIVEN
    pending = next(r for r in sheet["rows"] if r["department"] == "应急管理")
    assert pending["conclusion"] == "未出具意见（待认领）" and pending["given_at"] is None
    assert sheet["decision"] is None and sheet["case_no"] == CASE_NO


def test_decision_sheet_after_forward_and_after_return(catalog, case_and_tasks):
    case, tasks = case_and_tasks
    with pytest.raises(InvalidTransition, match="尚未作出初审决定"):
        decision_sheet(case, 1, catalog)
    for task in tasks:
        agree(task, f"{name(task.department)}审核员")
    case.decide(1, "forward", None, BUREAU, DECIDED, tasks, QUALIFIED, catalog, name)
    sheet = decision_sheet(case, 1, catalog)
    assert sheet["decision"] == "通过（报自治区自然资源厅）" and "同意通过初审" in sheet["wording"]
    assert sheet["rescore"] == {"total": "96.50", "verdict": "达标", "failed_binding": [], "failed_prerequisites": []}
    assert sheet["decided_by_name"] == BUREAU.name and sheet["decided_at"] == DECIDED
    assert sheet["bureau"] == "鄂尔多斯市自然资源局"

    other, result = routed(catalog, {**submission(catalog, "app-2"), "case_no": "150600-2026-00013"})
    other.decide(1, "return", [{"indicator": 3, "text": "补设标牌"}, {"prerequisite": "P1", "text": "补交许可证"},
                               {"text": "总体补正"}], BUREAU, DECIDED, list(result.tasks), None, catalog, name)
    sheet = decision_sheet(other, 1, catalog)
    assert [r["text"] for r in sheet["reasons"]] == ["补设标牌", "补交许可证", "总体补正"]
    assert sheet["reasons"][0]["subject"].startswith("第3项指标（") and sheet["reasons"][2]["subject"] == "总体"
    assert sheet["reasons"][1]["subject"].startswith("先决条件P1（")
    assert sheet["rescore"] is None and "补正" in sheet["wording"]


# --- the documents over HTTP (fake unit of work), read back -----------------------------------------------------
SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "unit-secret", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                              "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
BUREAU_P = identity.Principal("bureau", "bureau", display_name="鄂尔多斯市自然资源局", area="鄂尔多斯市")
ECO = identity.Principal("rv_ecology_environment", "department_reviewer", display_name="王审核",
                         department="ecology_environment", area="鄂尔多斯市")
ECO_BAOTOU = identity.Principal("rv_eco_bt", "department_reviewer", department="ecology_environment", area="包头市")


class Directory:
    def get(self, username):
        return None

    def all(self):
        return []


class Scoring:
    def evaluate(self, assessment, principal):
        return dict(QUALIFIED)


@pytest.fixture
def web(catalog):
    uow = FakeReviewUnitOfWork(ContractRegistry([CONTRACTS]))
    bus = bootstrap(SETTINGS, uow_factory=lambda: uow, uow_for=lambda tx: uow, scoring=Scoring(),
                    directory=Directory(), photo_files=FakePhotoFiles(), env={}, clock=lambda: AT)
    bus.handle_event(submitted_event({**submission(catalog), "case_no": CASE_NO}), uow)
    client = create_app(SETTINGS, bus).test_client()

    def call(path, who=BUREAU_P):
        token = identity.issue_token(SETTINGS.secret_key, who)
        return client.get(path, headers={"Authorization": f"Bearer {token}"})

    call.uow, call.client = uow, client
    return call


def pdf_text(answer) -> str:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"].startswith("inline;")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)


def no_codes(text: str) -> None:
    for code in CODES:
        assert code not in text, code


def test_the_three_sheets_as_pdfs(web, catalog):
    tasks = web.uow.tasks.of_case("app-1", 1)
    assert web("/review/tasks/app-1.v1.ecology_environment/opinion-sheet.pdf", ECO).status_code == 409
    for task in tasks:
        agree(task, "王审核" if task.department == "ecology_environment" else f"{name(task.department)}审核员")
        web.uow.tasks.save(task)
    text = pdf_text(web("/review/tasks/app-1.v1.ecology_environment/opinion-sheet.pdf", ECO))
    for expected in ("部门审核意见表", CASE_NO, "鄂尔多斯示范煤业有限公司", "鄂尔多斯示范煤矿", "鄂尔多斯市准格尔旗",
                     "生态环境", "王审核", "2026-03-04 01:30", "采场东侧", "张三、李四", "先决条件"):
        assert expected in text, expected
    no_codes(text)
    assert web("/review/tasks/app-1.v1.ecology_environment/opinion-sheet.pdf", ECO_BAOTOU).status_code == 403

    text = pdf_text(web("/review/cases/app-1/countersign.pdf"))
    for expected in ("会签单", CASE_NO, "自然资源", "生态环境", "王审核", "2026-03-04 01:30", "10/10 个部门同意"):
        assert expected in text, expected
    no_codes(text)
    assert web("/review/cases/app-1/countersign.pdf", ECO).status_code == 403
    assert web("/review/cases/app-1/countersign.pdf?version=7").status_code == 404
    assert web("/review/cases/app-1/countersign.pdf?version=x").status_code == 422

    assert web("/review/cases/app-1/decision.pdf").status_code == 409
    bureau = BUREAU
    case = web.uow.cases.get("app-1")
    case.decide(1, "forward", None, bureau, DECIDED, tasks, QUALIFIED, catalog, name)
    web.uow.cases.save(case)
    text = pdf_text(web("/review/cases/app-1/decision.pdf"))
    for expected in ("初审意见", CASE_NO, "同意通过初审", "96.50", "达标", BUREAU.name, "2026-03-05 10:05",
                     "鄂尔多斯市自然资源局"):
        assert expected in text, expected
    no_codes(text)


def test_queue_and_case_exports(web):
    cases = web("/review/cases.xlsx")
    assert cases.status_code == 200 and cases.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(cases.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("办件编号", "矿山", "企业")
    assert rows[1][0] == CASE_NO and rows[1][1] == "鄂尔多斯示范煤矿" and rows[1][5] == "审核中"
    assert rows[1][9] == "2026-03-02 16:15"       # routed 08:15 UTC, shown in Beijing time
    assert web("/review/cases.xlsx", ECO).status_code == 403

    queue = web("/review/queue.xlsx", ECO)
    assert queue.status_code == 200
    rows = list(load_workbook(io.BytesIO(queue.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "办件编号" and len(rows) == 2
    assert rows[1][0] == CASE_NO and rows[1][7] == "待认领" and rows[1][2] == "鄂尔多斯市准格尔旗"
    lead = list(load_workbook(io.BytesIO(web("/review/queue.xlsx").data)).active.iter_rows(values_only=True))
    assert len(lead) == 2 and lead[1][0] == CASE_NO


def post(web, path, body, who=BUREAU_P):
    token = identity.issue_token(SETTINGS.secret_key, who)
    return web.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def test_a_reminder_reaches_the_assignee_or_every_reviewer_of_an_unclaimed_task(web):
    task = "app-1.v1.ecology_environment"
    assert post(web, f"/api/v1/review/tasks/{task}/remind", {"message": "请于本周内出具意见"}).status_code == 200
    colleague = identity.Principal("rv_eco_2", "department_reviewer", display_name="李审核",
                                   department="ecology_environment", area="鄂尔多斯市")
    for who in (ECO, colleague):                       # unclaimed: every reviewer of the department and area
        page = web("/review/", who).get_data(as_text=True)
        assert "催办提醒（1 项）" in page and "请于本周内出具意见" in page and "鄂尔多斯市自然资源局" in page
        assert "2026-03-02 16:15" in page                # sent at 08:15 UTC, shown in Beijing time
    task_page = web(f"/review/tasks/{task}", ECO).get_data(as_text=True)
    assert 'id="reminder-banner"' in task_page and "请于本周内出具意见" in task_page and CASE_NO in task_page
    item = web("/api/v1/review/queues/ecology_environment", ECO).get_json()["items"][0]
    assert item["reminded"]["message"] == "请于本周内出具意见" and item["case_no"] == CASE_NO
    assert post(web, f"/api/v1/review/tasks/{task}/claim", {}, ECO).status_code == 200
    assert "催办提醒" in web("/review/", ECO).get_data(as_text=True)          # the assignee still sees it
    assert "催办提醒" not in web("/review/", colleague).get_data(as_text=True)
    assert "催办提醒" not in web("/review/", ECO_BAOTOU).get_data(as_text=True)


def test_the_case_page_after_the_forward_shows_the_decision_and_offers_no_form(web, catalog):
    page = web("/review/cases/app-1").get_data(as_text=True)
    assert 'id="decision-form"' in page and CASE_NO in page and "初审决定已作出" not in page
    for code in ("ecology_environment", "natural_resources"):
        assert f">{code}<" not in page
    for task in web.uow.tasks.of_case("app-1", 1):
        agree(task, f"{name(task.department)}审核员")
        web.uow.tasks.save(task)
    answer = post(web, "/api/v1/review/cases/app-1/decision", {"version_no": 1, "decision": "forward"})
    assert answer.status_code == 201, answer.get_json()
    page = web("/review/cases/app-1").get_data(as_text=True)
    assert 'id="decision-form"' not in page and "初审决定已作出" in page
    assert "/review/cases/app-1/decision.pdf" in page and "鄂尔多斯市自然资源局" in page
    assert "2026-03-02 16:15" in page and "T08:15" not in page
    cases = web("/review/", BUREAU_P).get_data(as_text=True)
    assert CASE_NO in cases and "/review/cases.xlsx" in cases


def test_the_task_page_marks_every_reading_reconstructed_from_the_original(web, catalog):
    """Issue 11 item 7: besides the 依据, every other reading the catalog flags `inferred` (name, points,
    attribute, rule …) carries the 据原件重建 mark on the department's task page."""
    page = web("/review/tasks/app-1.v1.ecology_environment", ECO).get_data(as_text=True)
    task = next(t for t in web.uow.tasks.of_case("app-1", 1) if t.department == "ecology_environment")
    marked = 0
    for no in task.indicators:
        rebuilt = [f for f in catalog.indicator(no).reconstructed_fields if f != "依据"]
        if rebuilt:
            assert f"按原件重建：{'、'.join(rebuilt)}\">据原件重建</span>" in page, no
            marked += 1
    assert marked > 5 and "OCR" not in page
