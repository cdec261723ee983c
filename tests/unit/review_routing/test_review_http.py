"""The review API on a fake unit of work (no server): bodies read with exact decimals and refused by field
path, domain refusals answered by the platform's one error mapping, answers as documented."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from review_builders import CONTRACTS, full_opinion, submission, submitted_event
from review_fakes import FakePhotoFiles, FakeReviewUnitOfWork

from review_routing.bootstrap import bootstrap
from review_routing.entrypoints.http import create_app
from shared import identity
from shared.config import Settings
from shared.contracts import ContractRegistry

SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "unit-secret", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                              "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
ECO = identity.Principal("rv_eco", "department_reviewer", display_name="生态", department="ecology_environment",
                         area="鄂尔多斯市")
ECO_BAOTOU = identity.Principal("rv_eco_bt", "department_reviewer", department="ecology_environment", area="包头市")
TASK = "app-1.v1.ecology_environment"


class Directory:
    def get(self, username):
        return None

    def all(self):
        return []


@pytest.fixture
def api(catalog):
    uow = FakeReviewUnitOfWork(ContractRegistry([CONTRACTS]))
    bus = bootstrap(SETTINGS, uow_factory=lambda: uow, uow_for=lambda tx: uow, scoring=None,
                    directory=Directory(), photo_files=FakePhotoFiles(), env={})
    bus.handle_event(submitted_event(submission(catalog)), uow)
    client = create_app(SETTINGS, bus).test_client()

    def call(method, path, who=ECO, **kwargs):
        token = identity.issue_token(SETTINGS.secret_key, who)
        return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    call.uow, call.bus = uow, bus
    return call


def test_scores_are_read_exactly_and_opinions_recorded(api):
    assert api("POST", f"/api/v1/review/tasks/{TASK}/claim").status_code == 200
    view = api("GET", f"/api/v1/review/tasks/{TASK}").get_json()
    full = full_opinion(view, indicators={3: {"verdict": "score", "score": "SCORE", "opinion": "ok"}})
    body = json.dumps(full).replace('"SCORE"', "0.35").encode()
    answer = api("POST", f"/api/v1/review/tasks/{TASK}/opinion", data=body, content_type="application/json")
    assert answer.status_code == 201, answer.get_json()
    assert set(answer.get_json()) == {"task_id", "status", "status_label", "claimed_by", "version", "opinion_id",
                                      "sequence", "supersedes"}
    stored = api.uow.tasks.get(TASK).current_opinion.indicator(3).score
    assert stored == Decimal("0.35") and str(stored) == "0.35"


def test_bodies_are_refused_by_field_path_and_rules_by_the_domain(api):
    api("POST", f"/api/v1/review/tasks/{TASK}/claim")
    shape = api("POST", f"/api/v1/review/tasks/{TASK}/opinion", content_type="application/json",
                data='{"decision": "agree", "indicators": [{"indicator": 3, "score": "abc", "weight": 1}]}')
    assert shape.status_code == 422
    assert shape.get_json()["errors"] == {"indicators[0].score": ["得分应为数字"],
                                          "indicators[0].weight": ["不认识的字段"]}
    rule = api("POST", f"/api/v1/review/tasks/{TASK}/opinion", json={"decision": "agree",
                                                                     "indicators": [{"indicator": 3, "score": "9"}]})
    assert rule.status_code == 422 and "不能超过该项标准分" in rule.get_json()["errors"]["indicators[0].score"][0]
    assert api.uow.tasks.get(TASK).opinions == []
    for text in (b'{"decision": ', b'\xff'):
        broken = api("POST", f"/api/v1/review/tasks/{TASK}/opinion", data=text, content_type="application/json")
        assert broken.status_code == 422 and broken.get_json()["message"] == "请求体不是合法的 JSON"
    empty = api("POST", f"/api/v1/review/tasks/{TASK}/opinion", data=b"", content_type="application/json")
    assert empty.status_code == 422 and "decision" in empty.get_json()["errors"]
    listed = api("POST", f"/api/v1/review/tasks/{TASK}/opinion", json=[1])
    assert listed.status_code == 422 and listed.get_json()["errors"] == {"(body)": ["应为对象"]}


def test_domain_refusals_are_answered_once_by_the_platform(api):
    forbidden = api("GET", f"/api/v1/review/tasks/{TASK}", who=ECO_BAOTOU)
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == 403
    assert api("GET", "/api/v1/review/tasks/nope").status_code == 404
    assert api("POST", f"/api/v1/review/tasks/{TASK}/unclaim").status_code == 409
    page = api("GET", f"/review/tasks/{TASK}", who=ECO_BAOTOU)
    assert page.status_code == 403
    queue = api("GET", "/api/v1/review/queues/ecology_environment").get_json()
    assert [i["task_id"] for i in queue["items"]] == [TASK]


def test_answers_carry_all_the_handlers_return(api):
    """The documented answer schemas drop nothing: each answer is the handler's result, as JSON."""
    import json

    from review_routing.domain import commands as c
    from review_routing.domain.access import Actor

    eco = Actor(ECO.username, ECO.role, ECO.display_name, ECO.department, ECO.area)
    bureau = identity.Principal("bureau", "bureau", display_name="局", area="鄂尔多斯市")
    assert api("POST", f"/api/v1/review/tasks/{TASK}/claim").status_code == 200
    assert api("POST", f"/api/v1/review/tasks/{TASK}/remind", who=bureau, json={"message": "快"}).status_code == 200
    view = api("GET", f"/api/v1/review/tasks/{TASK}").get_json()
    assert api("POST", f"/api/v1/review/tasks/{TASK}/opinion", json=full_opinion(
        view, "return", comments="补正", indicators={3: {"verdict": "score", "score": "0.5", "opinion": "缺",
                                                         "record": "r"}},
        site_checks=[{"inspectors": ["张"], "location": "采场", "checked_on": "2026-03-02",
                      "observations": "o"}])).status_code == 201
    decided = api("POST", "/api/v1/review/cases/app-1/decision", who=bureau,
                  json={"decision": "return", "reasons": [{"indicator": 3, "text": "补设"}]})
    assert decided.status_code == 201 and decided.get_json()["reasons"][0]["text"] == "补设"
    as_json = lambda value: json.loads(json.dumps(value, default=str))  # noqa: E731
    bureau_actor = Actor("bureau", "bureau", "局", None, "鄂尔多斯市")
    for path, who, command in [
            (f"/api/v1/review/tasks/{TASK}", ECO, c.ShowTask(eco, TASK)),
            ("/api/v1/review/queues/ecology_environment", ECO, c.ShowQueue(eco, "ecology_environment")),
            ("/api/v1/review/cases/app-1", bureau, c.ShowCase(bureau_actor, "app-1")),
            ("/api/v1/review/cases", bureau, c.ListCases(bureau_actor)),
            ("/api/v1/review/cases/app-1/audit", bureau, c.ShowAuditLog(bureau_actor, application_id="app-1"))]:
        answer = api("GET", path, who=who)
        assert answer.status_code == 200, (path, answer.get_json())
        assert answer.get_json() == as_json(api.bus.handle(command)), path


def test_the_task_page_shows_materials_by_label_and_judges_every_item(api, catalog):
    """Issue 10: the 生态环境 task lists its 附件2 一 materials by their Chinese labels (the EIA approval among them,
    opened in the browser), fills P1's 相关材料, offers a verdict per indicator, and shows no internal code."""
    import re

    payload = submission(catalog, "app-2")
    payload["attachments"] += [
        {"attachment_id": "att-eia", "kind": "eia_approval", "indicator": None, "prerequisite": None,
         "filename": "环评批复.pdf", "content_type": "application/pdf", "size": 10, "sha256": "b" * 64},
        {"attachment_id": "att-xls", "kind": "annual_sales_report", "indicator": None, "prerequisite": None,
         "filename": "销售报表.xlsx", "size": 10, "sha256": "c" * 64,
         "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}]
    api.bus.handle_event(submitted_event(payload), api.uow)
    task = "app-2.v1.ecology_environment"
    assert api("POST", f"/api/v1/review/tasks/{task}/claim").status_code == 200
    page = api("GET", f"/review/tasks/{task}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "申报材料（附件2 一）" in html and "环境影响评价报告及批复" in html
    assert f'href="/api/v1/review/tasks/{task}/evidence/att-eia?inline=true"' in html
    assert "att-xls" not in html                       # the sales report is the natural-resources bureau's
    p1 = html[html.index('id="pre-P1"'):html.index("</article>", html.index('id="pre-P1"'))]
    assert "环评批复.pdf" in p1 and "采矿许可证.pdf" in p1
    assert html.count('name="verdict-3"') == 4        # 认可自评 / 给分 / 确认不涉及 / 有问题
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    for code in ("eia_approval", "mining_licence", "ecology_environment", "natural_resources", "OCR"):
        assert code not in text, code
    admin = api.uow.tasks.get(task)
    view = api("GET", f"/api/v1/review/tasks/{task}").get_json()
    assert [m["kind_label"] for m in view["materials"]][:1] == ["采矿许可证"]
    assert {m["attachment_id"] for m in view["materials"]} == {a["attachment_id"] for a in admin.attachments
                                                               if a["kind"] != "evidence"}


def test_the_self_assessment_reads_in_words_never_in_sub_item_keys(catalog):
    """Defect 3: "加分子项:solid_waste_use、topsoil_reuse" becomes the sub-items' texts from the index."""
    from review_routing.service_layer.presenters import _entry_label

    rule = catalog.indicator(17).scoring_rule("open_pit")
    label = _entry_label({"items": {"solid_waste_use": True, "topsoil_reuse": True,
                                    "tailings_pollution_control": False}}, rule)
    assert label.startswith("加分子项：") and rule.item("solid_waste_use").text in label
    assert rule.item("topsoil_reuse").text in label and "_" not in label
    assert "tailings" not in label and rule.item("tailings_pollution_control").text not in label
    deductions = catalog.indicator(1).scoring_rule("open_pit")
    assert (_entry_label({"deductions": ["management_living_unclear"]}, deductions)
            == "扣分情形：管理区、生活区分区不明显")
    patents = catalog.indicator(45).scoring_rule("open_pit")
    assert "（2 项）" in _entry_label({"items": {"invention_patents": 2}}, patents)
    # without the rule (or with keys it does not know): a count, never the keys
    assert _entry_label({"items": {"solid_waste_use": True, "topsoil_reuse": True}}) == "加分子项 2 项"
    assert _entry_label({"deductions": ["nope"]}, deductions) == "扣分情形 1 项"
    assert _entry_label({"not_applicable": True}) == "不涉及" and _entry_label(None) == "未填写"
