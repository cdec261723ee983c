"""The mine register's events on real servers: registering and updating a mine over the API puts
`intake.mine_recorded` on the real topic through the outbox (relayed by the real relay), valid against its schema,
once each — the same requests sent again (a client's retry) write nothing and publish nothing."""
from __future__ import annotations

import json

import pytest
from intake_api_support import COAL_MINE, mine

from shared.messaging import OutboxRelay, ensure_topics, make_producer, read_topic

pytestmark = pytest.mark.integration
TOPIC = "intake.mine.events"
AREA = "由12个拐点圈定，面积8.6521平方千米"


def relay(service, settings) -> int:
    producer = make_producer(settings)
    try:
        return OutboxRelay(service.store, producer).publish_pending()
    finally:
        producer.close()


def test_registering_and_updating_publish_once_each(ent1, service, intake_settings, registry):
    ensure_topics(intake_settings, registry)
    created = ent1.post("/api/v1/mines", mine(COAL_MINE, mining_area=AREA))
    assert created.status_code == 201, created.get_data(as_text=True)
    mine_id = created.json["id"]
    assert created.json["mining_area"] == AREA and created.json["production_stopped_on"] is None
    retried = ent1.post("/api/v1/mines", mine(COAL_MINE, mining_area=AREA))
    assert retried.status_code == 422 and "mining_licence.number" in retried.json["errors"]

    change = mine(COAL_MINE, mining_area=AREA, scale="medium", production_status="suspended",
                  production_stopped_on="2024-12-31", expected_version=1)
    updated = ent1.put(f"/api/v1/mines/{mine_id}", change)
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert updated.json["version"] == 2 and updated.json["production_stopped_on"] == "2024-12-31"
    again = ent1.put(f"/api/v1/mines/{mine_id}", change)          # the retry: the same body, the version it read
    assert again.status_code == 200 and again.json["version"] == 2

    bad = ent1.put(f"/api/v1/mines/{mine_id}", mine(COAL_MINE, production_stopped_on="2024-12-31"))
    assert bad.status_code == 422 and bad.json["errors"]["production_stopped_on"] == [
        "停产日期：生产状态为“在产”的矿山不填写停产日期；已停产或关闭的，请先将生产状态改为“停产”或“关闭”"]

    assert relay(service, intake_settings) == 2
    records = [r for r in read_topic(intake_settings, intake_settings.topic(TOPIC))]
    envelopes = [json.loads(r.value) for r in records]
    for envelope in envelopes:
        registry.validate(envelope)
    assert {r.key.decode() for r in records} == {mine_id} and len({r.partition for r in records}) == 1
    assert [(e["type"], e["payload"]["change"], e["payload"]["register_version"]) for e in envelopes] == [
        ("intake.mine_recorded", "registered", 1), ("intake.mine_recorded", "updated", 2)]
    registered, changed = (e["payload"] for e in envelopes)
    assert registered["mine"]["mining_area"] == AREA and registered["mine"]["league"] == "鄂尔多斯市"
    assert registered["enterprise"]["credit_code"] == created.json["enterprise"]["credit_code"]
    assert changed["changed"] == ["mine.scale", "mine.production_status", "mine.production_stopped_on"]
    assert changed["mine"]["scale"] == "medium" and changed["mine"]["production_stopped_on"] == "2024-12-31"
    assert relay(service, intake_settings) == 0                   # nothing left in the outbox
