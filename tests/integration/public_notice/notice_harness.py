"""The public notice on real servers: its real consumer (with the sweep run by the test, not by a thread), its
outbox relay, its web app called with bearer tokens or anonymously, demo accounts in the identity database, and
publishing other services' events (the region's `region_review_decided`, …) onto the real broker."""
from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from datetime import UTC, datetime

from polling import Clock, wait_for

from shared import identity
from shared.contracts import new_event
from shared.messaging import EventConsumer, OutboxRelay, encode, ensure_topics, make_producer
from shared.runtime import service_store
from shared.storage import mongo_client, outbox_messages

PASSWORD = "Greenmine-2025"
# (username, role, fields): the accounts the public notice's tests act as.
USERS = [
    ("region", "region_office", {}),
    ("admin", "admin", {}),
    ("bureau", "bureau", {"area": "鄂尔多斯市"}),
    ("bureau_baotou", "bureau", {"area": "包头市"}),
    ("reviewer_nr", "department_reviewer", {"department": "natural_resources", "area": "鄂尔多斯市"}),
    ("reviewer_eco", "department_reviewer", {"department": "ecology_environment", "area": "鄂尔多斯市"}),
    ("reviewer_forestry", "department_reviewer", {"department": "forestry_grassland", "area": "鄂尔多斯市"}),
    ("reviewer_nr_baotou", "department_reviewer", {"department": "natural_resources", "area": "包头市"}),
    ("enterprise", "enterprise", {"enterprise": "91150600MA0N00001W"}),
    ("enterprise2", "enterprise", {"enterprise": "91150200MA0N00002B"}),
]


class RecordingConsumer(EventConsumer):
    """The real consumer, remembering each record's outcome so tests can wait for an event and its replay."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes: list = []

    def handle(self, record):
        outcome = super().handle(record)
        self.outcomes.append(outcome)
        return outcome


@dataclasses.dataclass
class NoticeHarness:
    settings: object
    store: object
    bus: object
    clock: Clock
    app: object
    consumer: RecordingConsumer
    producer: object
    identity_db: object

    @property
    def db(self):
        return self.store.db

    def headers(self, username: str | None) -> dict:
        headers = {"Accept": "application/json"}
        if username:
            principal = identity.UserDirectory(self.identity_db).get(username)
            assert principal is not None, username
            headers["Authorization"] = f"Bearer {identity.issue_token(self.settings.secret_key, principal)}"
        return headers

    def call(self, method: str, path: str, username: str | None = None, body=None, **kwargs):
        """An API call as `username` (None: anonymous, as the public)."""
        client = self.app.test_client()
        if body is not None:
            kwargs["data"] = json.dumps(body, ensure_ascii=False)
            kwargs["content_type"] = "application/json"
        headers = {**self.headers(username), **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)

    def publish(self, envelope: dict) -> None:
        """Put another service's event on its topic (contracts/topics.yaml), as its relay would."""
        topic = self.store.registry.topic_for(envelope["type"])
        self.producer.send(self.settings.topic(topic), key=envelope["aggregate_id"].encode(),
                           value=encode(envelope)).get(timeout=30)

    def handled(self, event_id: str) -> bool:
        return any(getattr(o, "event_id", None) == event_id for o in self.consumer.outcomes)

    def deliver(self, envelope: dict, what: str | None = None) -> None:
        """Publish and wait until the consumer has handled it."""
        self.publish(envelope)
        wait_for(lambda: self.handled(envelope["event_id"]), what=what or envelope["type"])

    def published(self, event_type: str) -> list[dict]:
        """This service's events of a type, from its outbox (payloads), oldest first."""
        return [m["envelope"]["payload"] for m in outbox_messages(self.db, event_type)]


def add_users(identity_db, users=USERS) -> None:
    directory = identity.UserDirectory(identity_db)
    for username, role, fields in users:
        directory.add(username, PASSWORD, role, replace=True, **fields)


def proposed_event(n: int, *, league: str = "鄂尔多斯市", total: str = "92.50", decided_at: datetime | None = None,
                   enterprise: tuple[str, str] = ("鄂尔多斯示范煤业有限公司", "91150600MA0N00001W"),
                   minerals=("煤",), scale: str = "large", decision: str = "proposed") -> dict:
    """review_routing's `region_review_decided` for a made-up case number n (proposed unless told)."""
    app_id = f"app-{n:04d}"
    payload = {
        "review_id": f"{app_id}.v1", "application_id": app_id, "version_no": 1, "league": league,
        "case_no": f"150600-2026-{n:05d}", "decision": decision,
        "reasons": [] if decision == "proposed" else [{"indicator": None, "text": "现场核查不符"}],
        "decided_by": "region", "decided_by_name": "自治区自然资源厅",
        "decided_at": (decided_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "enterprise": {"id": None, "name": enterprise[0], "credit_code": enterprise[1]},
        "mine": {"mine_id": f"mine-{n:04d}", "name": f"示范矿山{n}号", "minerals": list(minerals), "scale": scale,
                 "county": None},
        "evaluation": {"institution_id": "inst-1", "institution_name": "内蒙古绿原矿山评估咨询有限公司",
                       "assessment_id": f"asm-{n}", "total": total, "verdict": "达标"},
    }
    return new_event("review_routing.region_review_decided", producer="review_routing",
                     aggregate_type="region_review", aggregate_id=f"{app_id}.v1", aggregate_version=3,
                     payload=payload, correlation_id=str(uuid.uuid4()))


def start(settings, registry, *, clock: Clock | None = None, **dependencies):
    """(harness, stop): the public notice's consumer and relay in threads, its web app, the users."""
    from public_notice.bootstrap import SERVICE, bootstrap, ensure_indexes
    from public_notice.entrypoints.http import create_app

    ensure_topics(settings, registry)
    store = service_store(settings, SERVICE)
    store.ensure_indexes()
    ensure_indexes(store.db)
    identity_db = mongo_client(settings.mongodb_uri)[settings.database_name("identity")]
    add_users(identity_db)
    clock = clock or Clock()
    bus = bootstrap(settings, store, clock=clock, **dependencies)
    app = create_app(settings, bus)
    consumer = RecordingConsumer(SERVICE, settings, store, bus.consumer_handlers())
    relay = OutboxRelay(store, make_producer(settings))
    stop = threading.Event()
    threads = [threading.Thread(target=consumer.run, args=(stop,), daemon=True, name="notice-consumer"),
               threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_sleep_s": 0.05}, daemon=True,
                                name="notice-relay")]
    for thread in threads:
        thread.start()
    producer = make_producer(settings)
    harness = NoticeHarness(settings, store, bus, clock, app, consumer, producer, identity_db)

    def finish():
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        relay.producer.close(timeout=5)
        producer.close(timeout=5)

    return harness, finish
