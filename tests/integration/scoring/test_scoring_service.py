"""The scoring service over HTTP and over Kafka, on real servers."""
from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scoring.bootstrap import event_handlers
from scoring.entrypoints.http import create_app
from shared import identity
from shared.contracts import ContractRegistry
from shared.messaging import EventConsumer, OutboxRelay, ensure_topics, make_producer, read_topic
from shared.runtime import service_store
from shared.storage import outbox_messages

pytestmark = pytest.mark.integration
CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
SUBMITTED = json.loads((CONTRACTS / "examples" / "intake.application_submitted.v1.json").read_text())


def token(settings, role, **claims):
    defaults = {"area": "自治区"} if role in ("evaluator", "region_office", "admin") else {}
    principal = identity.Principal(f"{role}-user", role, **{**defaults, **claims})
    return {"Authorization": f"Bearer {identity.issue_token(settings.secret_key, principal)}"}


@pytest.fixture
def client(settings):
    return create_app(settings).test_client()


def assessment():
    return copy.deepcopy(SUBMITTED["payload"]["assessment"])


def evaluated():
    """An evaluator's (or the spot check's) assessment: every score above 0 carries its 核查记录."""
    out = assessment()
    for entry in out["indicators"].values():
        if not entry.get("not_applicable"):
            entry.setdefault("record", "2026-05-04 评估组王工、李工到矿区现场核查：符合")
    return out


class TestEvaluate:
    def test_report_for_a_valid_assessment(self, settings, client):
        response = client.post("/api/v1/scoring/evaluate", json=assessment(),
                               headers=token(settings, "enterprise", enterprise="91150600MA0N00001W"))
        assert response.status_code == 200
        report = response.json
        assert report["verdict"] == "qualified" and report["catalog"] == "nm-2025"
        assert report["indicator_scores"]["16"]["not_applicable"] is True
        assert report["indicator_scores"]["3"]["score"] == "0.6"  # 1 point − 2 findings × 0.2

    def test_every_error_is_named_by_field(self, settings, client):
        bad = assessment()
        bad["indicators"]["1"] = {"score": "2.005"}
        bad["indicators"]["2"] = {"findings": -1}
        del bad["indicators"]["4"]
        bad["indicators"]["22"] = {"score": 1}
        bad["prerequisites"].pop("P2")
        response = client.post("/api/v1/scoring/evaluate", json=bad, headers=token(settings, "evaluator"))
        assert response.status_code == 422
        assert response.json["message"] == "评估数据有误,请按提示修改"
        assert {"indicators.1.score", "indicators.2.findings", "indicators.4", "indicators.22",
                "prerequisites.P2"} <= set(response.json["errors"])

    def test_body_that_is_not_json(self, settings, client):
        response = client.post("/api/v1/scoring/evaluate", data=b"{oops", content_type="application/json",
                               headers=token(settings, "evaluator"))
        assert response.status_code == 422 and "(body)" in response.json["errors"]

    def test_decimals_are_exact(self, settings, client):
        body = json.dumps(assessment()).replace('"score": "2"', '"score": 1.5', 1)
        response = client.post("/api/v1/scoring/evaluate", data=body, content_type="application/json",
                               headers=token(settings, "evaluator"))
        assert response.status_code == 200
        assert response.json["indicator_scores"]["1"]["score"] == "1.5"


class TestSheets:
    def test_blank_sheet_per_branch_as_xlsx_and_html(self, client):
        xlsx = client.get("/api/v1/scoring/sheet?industry_group=2&format=xlsx")
        assert xlsx.status_code == 200 and xlsx.headers["Content-Disposition"].startswith("attachment")
        sheet = load_workbook(__import__("io").BytesIO(xlsx.data)).active
        headers = [c.value for c in next(r for r in sheet.iter_rows() if r[0].value == "一级指标")]
        assert headers[:4] == ["一级指标", "二级指标", "三级指标", "标准分"] and headers[-1] == "分工部门"
        html = client.get("/api/v1/scoring/sheet?industry_group=1")
        assert html.status_code == 200 and "@media print" in html.get_data(as_text=True)
        assert client.get("/api/v1/scoring/sheet?industry_group=3").status_code == 422

    def test_filled_sheet_of_an_assessment(self, settings, client):
        response = client.post("/api/v1/scoring/sheet", json={"assessment": assessment(), "format": "html"},
                               headers=token(settings, "enterprise", enterprise="91150600MA0N00001W"))
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "安全警示牌缺失2处" in text and "本矿无暂不能开采利用的共伴生矿产" in text


class TestRecordedStages:
    def test_evaluator_records_a_third_party_evaluation(self, settings, client):
        body = {"subject_id": "app-1", "version_no": 1, "stage": "third_party_evaluation", "league": "鄂尔多斯市",
                "assessment": evaluated()}
        response = client.post("/api/v1/scoring/assessments", json=body, headers=token(settings, "evaluator"))
        assert response.status_code == 201, response.json
        assert response.json["stage_label"] == "第三方评估" and response.json["report"]["verdict"] == "qualified"
        store = service_store(settings, "scoring")
        outbox = outbox_messages(store.db)
        assert [o["type"] for o in outbox] == ["scoring.assessment_scored"]
        assert outbox[0]["envelope"]["payload"]["stage"] == "third_party_evaluation"
        listed = client.get("/api/v1/scoring/assessments?subject=app-1",
                            headers=token(settings, "bureau", area="鄂尔多斯市"))
        assert [a["stage"] for a in listed.json] == ["third_party_evaluation"]
        other_area = client.get("/api/v1/scoring/assessments?subject=app-1",
                                headers=token(settings, "bureau", area="包头市"))
        assert other_area.json == []

    def test_roles_per_stage_and_nothing_stored_when_invalid(self, settings, client):
        body = {"subject_id": "app-1", "version_no": 1, "stage": "spot_check", "assessment": evaluated()}
        assert client.post("/api/v1/scoring/assessments", json=body,
                           headers=token(settings, "evaluator")).status_code == 403
        body["assessment"]["indicators"]["1"] = {"score": 9}
        response = client.post("/api/v1/scoring/assessments", json=body, headers=token(settings, "region_office"))
        assert response.status_code == 422 and "assessment.indicators.1.score" in response.json["errors"]
        missing = client.post("/api/v1/scoring/assessments", json={"stage": "spot_check"},
                              headers=token(settings, "region_office"))
        assert set(missing.json["errors"]) == {"subject_id", "version_no", "assessment"}
        store = service_store(settings, "scoring")
        assert store.db["assessments"].count_documents({}) == 0 and store.db["outbox"].count_documents({}) == 0


def test_submitted_application_is_scored_and_published_over_kafka(settings):
    registry = ContractRegistry([CONTRACTS])
    ensure_topics(settings, registry)
    intake = service_store(settings, "intake", registry)
    scoring = service_store(settings, "scoring", registry)
    for store in (intake, scoring):
        store.ensure_indexes()
    submitted = copy.deepcopy(SUBMITTED)
    intake.transaction(lambda tx: tx.publish(submitted))
    producer = make_producer(settings)
    OutboxRelay(intake, producer).publish_pending()

    consumer = EventConsumer("scoring", settings, scoring, event_handlers(settings, scoring))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while scoring.db["assessments"].count_documents({}) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    record = scoring.db["assessments"].find_one({"_id": "app-7f3a2c:1:self_assessment"})
    assert record["report"]["verdict"] == "qualified" and record["scored_by"] == "enterprise"

    assert OutboxRelay(scoring, producer).publish_pending() == 1
    producer.close()
    scored = [json.loads(r.value) for r in read_topic(settings, settings.topic("scoring.assessment.events"))]
    assert len(scored) == 1
    event = scored[0]
    registry.validate(event)
    assert event["causation_id"] == submitted["event_id"]
    assert event["correlation_id"] == submitted["correlation_id"]
    assert event["payload"]["subject"] == {"kind": "application", "id": "app-7f3a2c", "version_no": 1}

    # The same submission delivered again (a replay) scores nothing twice.
    class Record:
        topic, partition, offset, key, headers = settings.topic("intake.application.events"), 0, 0, b"k", []
        value = json.dumps(submitted).encode()

    assert consumer.handle(Record()).status == "duplicate"
    assert scoring.db["assessments"].count_documents({}) == 1


class TestNoServerErrorFromInput:
    """Issue 9 item 4: numbers Decimal cannot hold and wrong types are 422s naming the field, never a 500."""

    @pytest.mark.parametrize("number", ["1e400", "-1e400", "1e-400", "1e999999999", "123456789012345678901234567890"])
    def test_huge_and_tiny_scores(self, settings, client, number):
        body = json.dumps(evaluated(), ensure_ascii=False).replace('"score": "2"', f'"score": {number}', 1)
        assert f'"score": {number}' in body
        for path in ("/api/v1/scoring/evaluate",):
            response = client.post(path, data=body, content_type="application/json",
                                   headers=token(settings, "evaluator"))
            assert response.status_code == 422, (number, response.get_data(as_text=True))
            assert "indicators.1.score" in response.json["errors"]
        recorded = ('{"subject_id": "app-1", "version_no": 1, "stage": "third_party_evaluation", '
                    f'"league": "鄂尔多斯市", "assessment": {body}}}')
        response = client.post("/api/v1/scoring/assessments", data=recorded, content_type="application/json",
                               headers=token(settings, "evaluator"))
        assert response.status_code == 422 and "assessment.indicators.1.score" in response.json["errors"]

    @pytest.mark.parametrize("stage", [{}, [], 1, None, True, "no_such_stage"])
    def test_stage_of_a_wrong_type(self, settings, client, stage):
        body = {"subject_id": "app-1", "version_no": 1, "stage": stage, "league": "鄂尔多斯市",
                "assessment": assessment()}
        response = client.post("/api/v1/scoring/assessments", json=body, headers=token(settings, "region_office"))
        assert response.status_code == 422, response.get_data(as_text=True)
        assert "stage" in response.json["errors"]

    @pytest.mark.parametrize("field,value", [("subject_id", {}), ("version_no", "1e400"), ("version_no", 1e300),
                                             ("version_no", 2**63), ("version_no", 10**30),
                                             ("league", []), ("assessment", "x")])
    def test_other_fields_of_a_wrong_type(self, settings, client, field, value):
        body = {"subject_id": "app-1", "version_no": 1, "stage": "spot_check", "league": "鄂尔多斯市",
                "assessment": assessment(), field: value}
        response = client.post("/api/v1/scoring/assessments", json=body, headers=token(settings, "region_office"))
        assert response.status_code == 422, response.get_data(as_text=True)


class TestEvidenceRules:
    """The notice's rules over HTTP (the engine's are in tests/unit/scoring/test_evidence_rules.py)."""

    def test_every_indicator_not_applicable_is_refused(self, settings, client):
        body = assessment()
        body["indicators"] = {no: {"not_applicable": True, "reason": "不涉及"} for no in body["indicators"]}
        response = client.post("/api/v1/scoring/evaluate", json=body, headers=token(settings, "evaluator"))
        assert response.status_code == 422
        assert response.json["errors"] == {"indicators": [
            "全部指标均判定为不涉及项，无法评分：所有约束性指标必须得满分，不涉及项仅限确不涉及的个别指标"
            "（须写明判定依据，约束性指标还须经初审责任部门和评估机构确认），请逐项评分"]}

    def test_a_score_without_evidence_counts_zero(self, settings, client):
        body = assessment()
        body["indicators"]["2"] = {"score": "2", "evidence": []}
        body["indicators"]["4"] = {"score": "2", "evidence": ["att-1"]}
        response = client.post("/api/v1/scoring/evaluate", json=body,
                               headers=token(settings, "enterprise", enterprise="91150600MA0N00001W"))
        assert response.status_code == 200, response.json
        report = response.json
        assert report["unsupported"] == [2] and report["notes"] == ["第2项缺少支撑材料，按0分计"]
        two = report["indicator_scores"]["2"]
        assert (two["score"], two["claimed_score"], two["unsupported"], two["note"]) == (
            "0", "2", True, "缺少支撑材料，按0分计")
        assert report["indicator_scores"]["4"]["score"] == "2"

    def test_an_evaluation_needs_records_for_scores_above_zero(self, settings, client):
        body = {"subject_id": "app-1", "version_no": 1, "stage": "third_party_evaluation", "league": "鄂尔多斯市",
                "assessment": evaluated()}
        del body["assessment"]["indicators"]["2"]["record"]
        response = client.post("/api/v1/scoring/assessments", json=body, headers=token(settings, "evaluator"))
        assert response.status_code == 422
        assert response.json["errors"] == {"assessment.indicators.2.record": [
            "第2项「配套设施」得分 2（高于0分），须填写核查记录：核查人员、时间、地点及现场查看的内容"]}
        assert service_store(settings, "scoring").db["assessments"].count_documents({}) == 0
        # The same rule through the evaluate endpoint when the stage is named; not for a self-assessment.
        evaluate = client.post("/api/v1/scoring/evaluate?stage=third_party_evaluation", json=body["assessment"],
                               headers=token(settings, "evaluator"))
        assert evaluate.status_code == 422 and list(evaluate.json["errors"]) == ["indicators.2.record"]
        plain = client.post("/api/v1/scoring/evaluate", json=body["assessment"], headers=token(settings, "evaluator"))
        assert plain.status_code == 200
