"""The intake consumer on real servers follows the region stage: the contract examples of the region events (each
validated by the real consumer) move a forwarded application to 自治区评估中（已委托第三方评估机构）, then to 拟公示 or
退回整改 (the reasons on the enterprise's case page, as for a 退回补正); replays are duplicates; no score shows."""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
from intake_api_support import COAL_MINE, full_assessment, headers, upload_required

from shared.contracts import new_event
from shared.messaging import EventConsumer

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"
TOPIC = "review_routing.region.events"


@pytest.fixture
def consumer(intake_settings, service):
    from intake.bootstrap import event_handlers

    return EventConsumer("intake", intake_settings, service.store, event_handlers(intake_settings, service.store))


def deliver(consumer, envelope: dict, topic: str = TOPIC) -> str:
    class Record:
        partition, offset, headers = 0, 0, []
        key = envelope["aggregate_id"].encode()
        value = json.dumps(envelope, ensure_ascii=False).encode()

    Record.topic = consumer.settings.topic(topic)
    return consumer.handle(Record()).status


def example(event_type: str, app_id: str, **payload) -> dict:
    """The contract's example of `event_type`, for version 1 of `app_id`."""
    envelope = copy.deepcopy(json.loads((EXAMPLES / f"{event_type}.v1.json").read_text(encoding="utf-8")))
    envelope["event_id"] = str(uuid.uuid4())
    envelope["payload"].update(application_id=app_id, version_no=1, review_id=f"{app_id}.v1", **payload)
    return envelope


@pytest.fixture
def forwarded(ent1, consumer):
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id, "assessment": full_assessment(),
                                                "declared_penalties": False}).json["id"]
    upload_required(ent1, app_id)
    assert ent1.post(f"/api/v1/applications/{app_id}/submit").status_code == 200
    decided = new_event("review_routing.initial_review_decided", producer="review_routing", aggregate_type="case",
                        aggregate_id=app_id, aggregate_version=2, payload={
                            "application_id": app_id, "version_no": 1, "decision": "forwarded", "reasons": [],
                            "decided_by": "bureau", "decided_at": "2026-03-20T09:00:00Z", "league": "鄂尔多斯市",
                            "report": None})
    assert deliver(consumer, decided, "review_routing.case.events") == "processed"
    assert ent1.get(f"/api/v1/applications/{app_id}").json["status"] == "forwarded"
    return app_id


def case_page(client, settings, principal, app_id: str) -> str:
    response = client.get(f"/intake/applications/{app_id}", headers={**headers(settings, principal),
                                                                       "Accept": "text/html"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_commissioned_accepted_and_proposed(ent1, forwarded, consumer, client, intake_settings):
    app_id = forwarded
    assert deliver(consumer, example("review_routing.region_review_opened", app_id)) == "processed"
    assert ent1.get(f"/api/v1/applications/{app_id}").json["status"] == "forwarded"
    commissioned = example("review_routing.evaluation_commissioned", app_id)
    assert deliver(consumer, commissioned) == "processed"
    assert deliver(consumer, commissioned) == "duplicate"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["status"] == "under_evaluation" and body["status_label"] == "自治区评估中（已委托第三方评估机构）"
    html = case_page(client, intake_settings, ent1.principal, app_id)
    assert "自治区评估中（已委托第三方评估机构）" in html and "自治区委托第三方评估机构" in html
    assert deliver(consumer, example("review_routing.commission_accepted", app_id)) == "processed"
    decided = example("review_routing.region_review_decided", app_id, decision="proposed", reasons=[])
    assert deliver(consumer, decided) == "processed"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["status"] == "proposed" and body["status_label"] == "拟公示"
    html = case_page(client, intake_settings, ent1.principal, app_id)
    assert "拟公示" in html
    total = decided["payload"]["evaluation"]["total"]
    assert total not in html and total not in json.dumps(body, ensure_ascii=False)


def test_a_region_return_shows_the_reasons_and_is_answered_by_a_resubmission(ent1, forwarded, consumer, client,
                                                                             intake_settings):
    app_id = forwarded
    deliver(consumer, example("review_routing.evaluation_commissioned", app_id))
    returned = example("review_routing.region_review_decided", app_id, decision="returned", reasons=[
        {"indicator": 3, "text": "现场标识标牌缺失，请整改后补充照片"}, {"indicator": None, "text": "请提交整改报告"}])
    assert deliver(consumer, returned) == "processed"
    body = ent1.get(f"/api/v1/applications/{app_id}").json
    assert body["status"] == "rectification" and body["status_label"] == "退回整改" and body["editable"]
    reasons = {r["key"]: (r["label"], r["text"]) for r in body["current_return"]["reasons"]}
    assert reasons["3"] == ("第3项「标识标牌」", "现场标识标牌缺失，请整改后补充照片")
    assert reasons["general"] == ("总体意见", "请提交整改报告")
    html = case_page(client, intake_settings, ent1.principal, app_id)
    assert "自治区退回整改意见" in html and "现场标识标牌缺失，请整改后补充照片" in html
    ent1.put(f"/api/v1/applications/{app_id}", {"record": {"indicator": "3", "text": "已补设标识标牌"}})
    resubmitted = ent1.post(f"/api/v1/applications/{app_id}/submit")
    assert resubmitted.status_code == 200, resubmitted.get_data(as_text=True)
    assert resubmitted.json["status"] == "resubmitted"
    assert [v["number"] for v in resubmitted.json["versions"]] == [1, 2]
