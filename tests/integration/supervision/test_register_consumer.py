"""The register of listed mines on real servers: `public_notice.mine_listed` published on the real broker reaches
supervision's real consumer and the mine enters the register; a redelivery is a duplicate and the same listing under
another event id changes nothing; the region office reads every 盟市, a bureau its own and is refused another's."""
from __future__ import annotations

import copy
import json
import threading
import uuid

import pytest
from polling import wait_for

from shared import identity
from shared.config import REPO_ROOT
from shared.messaging import EventConsumer, encode, ensure_topics, make_producer
from shared.runtime import service_store
from supervision.bootstrap import event_handlers
from supervision.entrypoints.http import create_app

pytestmark = pytest.mark.integration
EXAMPLE = json.loads((REPO_ROOT / "contracts" / "examples" / "public_notice.mine_listed.v1.json").read_text("utf-8"))
TOPIC = "public_notice.listing.events"


def listed(n: int, league: str, **payload) -> dict:
    envelope = copy.deepcopy(EXAMPLE)
    envelope["event_id"] = str(uuid.uuid4())
    envelope["aggregate_id"] = f"mine-{n:04d}"
    envelope["payload"].update({"mine_id": f"mine-{n:04d}", "league": league, "application_id": f"app-{n:04d}",
                                "review_id": f"app-{n:04d}.v1",
                                "mine": {**EXAMPLE["payload"]["mine"], "name": f"示范矿山{n}号", "county": None},
                                **payload})
    return envelope


def bearer(settings, username, role, area):
    principal = identity.Principal(username, role, area=area)
    return {"Authorization": "Bearer " + identity.issue_token(settings.secret_key, principal)}


@pytest.fixture
def running(settings, registry):
    """Supervision's consumer in a thread on the real broker; yields (consumer, store, outcomes)."""
    ensure_topics(settings, registry)
    store = service_store(settings, "supervision")
    store.ensure_indexes()
    outcomes: list = []

    class Recording(EventConsumer):
        def handle(self, record):
            outcome = super().handle(record)
            outcomes.append(outcome)
            return outcome

    consumer = Recording("supervision", settings, store, event_handlers(settings, store))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True, name="supervision-consumer")
    thread.start()
    producer = make_producer(settings)

    def publish(envelope):
        """The consumer's outcome of this delivery (a redelivery has an outcome of its own)."""
        seen = len(outcomes)
        producer.send(settings.topic(TOPIC), key=envelope["aggregate_id"].encode(), value=encode(envelope)).get(30)
        return wait_for(lambda: next((o for o in outcomes[seen:] if getattr(o, "event_id", None) ==
                                      envelope["event_id"]), None), what=envelope["type"])

    yield publish, store
    stop.set()
    thread.join(timeout=15)
    producer.close(timeout=5)


def snapshot(store) -> list[dict]:
    return sorted(store.db["mines"].find(), key=lambda d: d["_id"])


def test_listed_mines_enter_the_register_once_and_each_reader_sees_its_area(settings, running):
    publish, store = running
    ordos = listed(1, "鄂尔多斯市")
    baotou = listed(2, "包头市", source="import", application_id=None, review_id=None, version_no=None)
    assert publish(ordos).status == "processed"
    assert publish(baotou).status == "processed"
    before = snapshot(store)
    assert [(d["_id"], d["league"], d["source"], d["version"]) for d in before] == [
        ("mine-0001", "鄂尔多斯市", "publicity", 1), ("mine-0002", "包头市", "import", 1)]

    assert publish(ordos).status == "duplicate"                      # redelivered: the inbox stops it
    same_listing = {**copy.deepcopy(ordos), "event_id": str(uuid.uuid4())}
    assert publish(same_listing).status == "processed"               # another path, the same 公告
    assert snapshot(store) == before

    client = create_app(settings).test_client()
    office = client.get("/api/v1/supervision/mines", headers=bearer(settings, "region", "region_office", "自治区"))
    assert office.status_code == 200, office.get_data(as_text=True)
    assert [(m["mine_id"], m["league"], m["scale_label"], m["status_label"]) for m in office.json] == [
        ("mine-0002", "包头市", "大型", "在库"), ("mine-0001", "鄂尔多斯市", "大型", "在库")]
    assert office.json[1]["announcement_no"] == EXAMPLE["payload"]["announcement_no"]
    only = client.get("/api/v1/supervision/mines?league=包头市",
                      headers=bearer(settings, "region", "region_office", "自治区"))
    assert [m["mine_id"] for m in only.json] == ["mine-0002"]

    bureau = bearer(settings, "bureau", "bureau", "鄂尔多斯市")
    own = client.get("/api/v1/supervision/mines", headers=bureau)
    assert [m["mine_id"] for m in own.json] == ["mine-0001"]
    other = client.get("/api/v1/supervision/mines?league=包头市", headers=bureau)
    assert other.status_code == 403 and "鄂尔多斯市" in other.json["message"]
    wrong = client.get("/api/v1/supervision/mines?league=北京市", headers=bureau)
    assert wrong.status_code == 422 and "league" in wrong.json["errors"]
    enterprise = identity.Principal("enterprise", "enterprise", enterprise="91150600MA0N00001W")
    refused = client.get("/api/v1/supervision/mines", headers={
        "Authorization": "Bearer " + identity.issue_token(settings.secret_key, enterprise)})
    assert refused.status_code == 403
    assert client.get("/api/v1/supervision/mines").status_code == 401

    page = client.get("/supervision/", headers=bureau).get_data(as_text=True)
    assert "在库绿色矿山（本盟市，共 1 座）" in page and "示范矿山1号" in page and "示范矿山2号" not in page
