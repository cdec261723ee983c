"""The intake consumer on real servers: the scoring report lands on its version, routing and the initial review
decision move the case, a return is answered with a new version (补正), replays and out-of-order events are safe."""
from __future__ import annotations

import json

import pytest
from intake_api_support import COAL_MINE, full_assessment, upload_required

from shared.contracts import new_event
from shared.messaging import EventConsumer, PermanentFailure
from shared.storage import outbox_messages

pytestmark = pytest.mark.integration
# The outbox also holds intake.mine_recorded (the mine register, for supervision): these tests read the submission.
SUBMITTED = "intake.application_submitted"


@pytest.fixture
def consumer(intake_settings, service):
    from intake.bootstrap import event_handlers

    return EventConsumer("intake", intake_settings, service.store, event_handlers(intake_settings, service.store))


def deliver(consumer, envelope: dict, topic: str) -> str:
    class Record:
        partition, offset, headers = 0, 0, []
        key = envelope["aggregate_id"].encode()
        value = json.dumps(envelope, ensure_ascii=False).encode()

    Record.topic = consumer.settings.topic(topic)
    return consumer.handle(Record()).status


def routed(app_id: str, version: int) -> dict:
    return new_event("review_routing.case_routed", producer="review_routing", aggregate_type="case",
                     aggregate_id=app_id, aggregate_version=1, payload={
                         "application_id": app_id, "version_no": version, "league": "鄂尔多斯市",
                         "routed_at": "2026-03-02T08:16:00Z",
                         "tasks": [{"task_id": "t-nr", "department": "natural_resources", "lead": True,
                                    "indicators": [1, 2, 8], "prerequisites": ["P1", "P4"],
                                    "due_date": "2026-03-16"},
                                   {"task_id": "t-eco", "department": "ecology_environment", "lead": False,
                                    "indicators": [33, 34], "prerequisites": ["P5"], "due_date": "2026-03-16"}]})


def decided(app_id: str, version: int, decision: str, reasons: list[dict]) -> dict:
    return new_event("review_routing.initial_review_decided", producer="review_routing", aggregate_type="case",
                     aggregate_id=app_id, aggregate_version=2, payload={
                         "application_id": app_id, "version_no": version, "decision": decision,
                         "reasons": reasons, "decided_by": "bureau", "decided_at": "2026-03-20T09:00:00Z",
                         "league": "鄂尔多斯市", "report": None})


def scored(app_id: str, version: int, report: dict, stage: str = "self_assessment") -> dict:
    return new_event("scoring.assessment_scored", producer="scoring", aggregate_type="assessment",
                     aggregate_id=f"{app_id}:{version}:{stage}", aggregate_version=1,
                     payload={"subject": {"kind": "application", "id": app_id, "version_no": version},
                              "stage": stage, "report": report})


@pytest.fixture
def submitted(ent1):
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id, "assessment": full_assessment(),
                                                "declared_penalties": False}).json["id"]
    upload_required(ent1, app_id)
    response = ent1.post(f"/api/v1/applications/{app_id}/submit")
    assert response.status_code == 200, response.get_data(as_text=True)
    return app_id


def report_of(ent1, intake_settings, app_id: str) -> dict:
    """The real scoring service's report of the submitted version (what scoring would publish)."""
    import requests
    from intake_api_support import headers

    version = ent1.get(f"/api/v1/applications/{app_id}/versions/1").json
    assessment = version["assessment"]
    url = intake_settings.service_urls["scoring"] + "/api/v1/scoring/evaluate"
    response = requests.post(url, json=assessment, headers=headers(intake_settings, ent1.principal), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_resubmission_after_a_return(ent1, submitted, consumer, service, intake_settings):
    app_id = submitted
    report = report_of(ent1, intake_settings, app_id)
    assert deliver(consumer, scored(app_id, 1, report), "scoring.assessment.events") == "processed"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["score_report"]["total"] == report["total"] and body["score_report_version"] == 1
    assert body["versions"][0]["score"]["verdict"] == "qualified" and not body["score_pending"]

    assert deliver(consumer, routed(app_id, 1), "review_routing.case.events") == "processed"
    assert ent1.get(f"/api/v1/applications/{app_id}").json["status"] == "routed"

    returned = decided(app_id, 1, "returned", [
        {"indicator": 3, "prerequisite": None, "check": None, "text": "标识标牌缺失2处，请补充整改后的现场照片"},
        {"indicator": 3, "prerequisite": None, "check": None, "text": "检查记录未写明查看人员"},
        {"indicator": None, "prerequisite": "P4", "check": None, "text": "请提供上一年度储量年度报告的评审意见"},
        {"indicator": None, "prerequisite": None, "check": "materials.site_photos", "text": "现场照片不清晰"},
        {"indicator": None, "prerequisite": None, "check": None, "text": "请于15个工作日内补正"},
    ])
    assert deliver(consumer, returned, "review_routing.case.events") == "processed"
    assert deliver(consumer, returned, "review_routing.case.events") == "duplicate"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["status"] == "returned" and body["status_label"] == "退回补正" and body["editable"]
    reasons = {r["key"]: (r["label"], r["text"]) for r in body["current_return"]["reasons"]}
    assert reasons["3"] == ("第3项「标识标牌」", "标识标牌缺失2处，请补充整改后的现场照片；检查记录未写明查看人员")
    assert reasons["P4"][0] == "先决条件P4「矿山要求」"
    assert reasons["materials.site_photos"] == ("申报材料：现场照片", "现场照片不清晰")
    assert reasons["general"] == ("总体意见", "请于15个工作日内补正")
    assert [h["action"] for h in body["timeline"]] == ["created", "submit", "score_recorded", "route", "return"]

    same = ent1.post(f"/api/v1/applications/{app_id}/submit")
    assert same.status_code == 422 and "没有任何修改" in same.json["errors"]["draft"][0]
    ent1.put(f"/api/v1/applications/{app_id}", {"record": {"indicator": "3", "text": "4月1日张三、李四复查：已补设"}})
    resubmitted = ent1.post(f"/api/v1/applications/{app_id}/submit")
    assert resubmitted.status_code == 200, resubmitted.get_data(as_text=True)
    body = resubmitted.json
    assert body["status"] == "resubmitted" and [v["number"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["resubmission"] is True and body["score_pending"]
    assert body["score_report_version"] == 1  # the latest report we have, until v2's arrives
    events = [d["envelope"]["payload"] for d in outbox_messages(service.db, SUBMITTED)]
    assert [(e["version_no"], e["resubmission"]) for e in events] == [(1, False), (2, True)]
    assert events[1]["assessment"]["indicators"]["3"]["record"] == "4月1日张三、李四复查：已补设"
    v1 = ent1.get(f"/api/v1/applications/{app_id}/versions/1").json
    assert v1["records"] == {} and v1["score_report"]["total"] == report["total"]

    # a late routing event of version 1 changes nothing; version 2's routing moves the case on
    assert deliver(consumer, routed(app_id, 1), "review_routing.case.events") == "processed"
    assert ent1.get(f"/api/v1/applications/{app_id}").json["status"] == "resubmitted"
    assert deliver(consumer, routed(app_id, 2), "review_routing.case.events") == "processed"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["status"] == "routed" and len(body["returns"]) == 1 and body["current_return"] is None


def test_decision_overtaking_the_routing_event(ent1, submitted, consumer):
    app_id = submitted
    assert deliver(consumer, decided(app_id, 1, "forwarded", []), "review_routing.case.events") == "processed"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["status"] == "forwarded"
    assert [h["action"] for h in body["timeline"]][-2:] == ["route", "forward"]
    assert deliver(consumer, routed(app_id, 1), "review_routing.case.events") == "processed"
    assert ent1.get(f"/api/v1/applications/{app_id}").json["status"] == "forwarded"


def test_rejection_with_reasons(ent1, submitted, consumer):
    app_id = submitted
    deliver(consumer, routed(app_id, 1), "review_routing.case.events")
    deliver(consumer, decided(app_id, 1, "rejected", [{"indicator": 8, "text": "开采方式不符合要求"}]),
            "review_routing.case.events")
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["status"] == "rejected" and not body["editable"]
    assert "第8项「开采方式」：开采方式不符合要求" in body["timeline"][-1]["summary"]
    assert ent1.post("/api/v1/applications", {"mine_id": body["mine_id"]}).status_code == 201  # may apply again


def test_score_events_are_idempotent_and_other_stages_ignored(ent1, submitted, consumer, intake_settings, service):
    app_id = submitted
    report = report_of(ent1, intake_settings, app_id)
    first = scored(app_id, 1, report)
    assert deliver(consumer, first, "scoring.assessment.events") == "processed"
    revision = ent1.get(f"/api/v1/applications/{app_id}").json["revision"]
    assert deliver(consumer, first, "scoring.assessment.events") == "duplicate"
    assert deliver(consumer, scored(app_id, 1, report), "scoring.assessment.events") == "processed"
    different = {**report, "total": "61.00"}
    assert deliver(consumer, scored(app_id, 1, different), "scoring.assessment.events") == "processed"
    assert deliver(consumer, scored(app_id, 1, different, "initial_review"), "scoring.assessment.events") == "processed"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["revision"] == revision and body["score_report"]["total"] == report["total"]
    assert service.db["audit_log"].count_documents({"action": "score_recorded"}) == 1


def test_events_for_unknown_applications_or_versions_are_permanent_failures(submitted, service, consumer):
    handlers = service.bus.consumer_handlers()
    for envelope, handler in [(routed("app-unknown", 1), handlers["review_routing.case_routed"]),
                              (routed(submitted, 7), handlers["review_routing.case_routed"]),
                              (scored("app-unknown", 1, {}), handlers["scoring.assessment_scored"])]:
        with pytest.raises(PermanentFailure):
            service.store.transaction(lambda tx, handler=handler, envelope=envelope: handler(envelope, tx))
