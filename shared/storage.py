"""MongoDB plumbing: one database per service, transactions, the transactional outbox and the inbox.

A state change and the events it causes are written in ONE multi-document transaction (the outbox pattern):
either both are stored or neither is. The relay (shared.messaging.OutboxRelay) publishes the outbox later,
at least once. Consumers record every processed event_id in the inbox inside the transaction of their own
state change, so a replayed event changes nothing.

Durability: a transaction is acknowledged only once it is journaled and, on a replica set, on a majority
(`DURABLE`, WriteConcern("majority", j=True)), so `kill -9` of the database loses nothing that was acknowledged.
The embedded SecantusDB ignores the write concern of commitTransaction, so shared.embedded starts it with
`--sync-on-commit` (without, `kill -9` lost 6-13 of 300 acknowledged transactions; with, none; about 20% fewer
transactions per second: bench/bench_durability.py). Heartbeats and the relay's "published" marks are not
transactions: losing one only repeats a heartbeat or a publication (the inbox absorbs it).

One outbox document per transaction (issue 14): its `messages`, in the order they were published, each in the
Debezium MongoDB outbox shape (aggregatetype, aggregateid, type, envelope). The relay sends a document's
messages and marks the document published once. With a document per event, the embedded database spent as
much CPU on the relay's "published" marks (an indexed update per event) as on every insert of the routing
together (docs/capacity.md §3); a routed application publishes ~11 events in one transaction. Change data
capture could still replace the Python relay, with one unwind of `messages` (Debezium's outbox router reads one
event per document). `outbox_messages` reads them flattened, for tests and operators.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bson import ObjectId
from pymongo import ASCENDING, MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from shared import db_work
from shared.clock import utcnow
from shared.contracts import ContractError, ContractRegistry
from shared.errors import Conflict

T = TypeVar("T")

_clients: dict[str, MongoClient] = {}
_clients_lock = threading.Lock()

OUTBOX = "outbox"
INBOX = "inbox"
HEARTBEATS = "process_heartbeats"
PUBLISHED_OUTBOX_RETENTION_S = 7 * 24 * 3600
# Messages per outbox document: a routing chunk of 200 submissions publishes ~2,200 events, and the largest
# envelopes (a submission with its whole assessment) are tens of KB; 100 keeps a document far below 16 MB.
OUTBOX_MESSAGES_PER_DOCUMENT = 100
DURABLE = WriteConcern("majority", j=True)


def mongo_client(uri: str) -> MongoClient:
    """One client per URI per process (pymongo clients are thread-safe and pool connections).

    A client is created lazily and never at import time; gunicorn forks before the app factory runs."""
    with _clients_lock:
        client = _clients.get(uri)
        if client is None:
            client = MongoClient(uri, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, tz_aware=True,
                                 uuidRepresentation="standard", appname="greenmine",
                                 event_listeners=db_work.listeners())
            _clients[uri] = client
        return client


def close_clients() -> None:
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


class AlreadyProcessed(Exception):
    """The inbox already holds this event id: the event was handled before."""


class ConcurrencyError(Conflict):
    """A document changed between read and write (optimistic concurrency on its `version`): a Conflict (409)
    with a message for people; `detail` names the document for the logs."""

    def __init__(self, detail: str):
        super().__init__("记录已被同时修改，请刷新后重试")
        self.detail = detail


@dataclass
class Transaction:
    """What a handler sees inside a transaction: the database, the session, and `publish`.

    Every read and write must pass `session=tx.session`; `tx.collection(name)` does not do that for you on
    purpose, because pymongo's API makes the session explicit and hiding it has bitten other projects."""

    db: Database
    session: ClientSession
    registry: ContractRegistry
    service: str
    topic_prefix: str = ""
    _pending: list[dict] = field(default_factory=list)

    def collection(self, name: str):
        return self.db[name]

    def publish(self, envelope: dict, *, topic: str | None = None) -> None:
        """Queue an event for the outbox; validated now so an invalid event fails the whole change."""
        self.registry.validate(envelope)
        topic = topic or self.registry.topic_for(envelope["type"])
        if "{" in topic:
            raise ContractError(f"{envelope['type']} is published on one topic per department: pass topic=")
        self._pending.append({
            "event_id": envelope["event_id"],
            "topic": self.topic_prefix + topic,
            "key": envelope["aggregate_id"],
            "aggregatetype": envelope["aggregate_type"],
            "aggregateid": envelope["aggregate_id"],
            "type": envelope["type"],
            "version": envelope["version"],
            "envelope": envelope,
        })

    def claim_inbox(self, envelope: dict, topic: str) -> None:
        """Record the event as processed by this service; raises AlreadyProcessed on a replay."""
        inbox = self.db[INBOX]
        if inbox.find_one({"_id": envelope["event_id"]}, {"_id": 1}, session=self.session):
            raise AlreadyProcessed(envelope["event_id"])
        try:
            inbox.insert_one({"_id": envelope["event_id"], "type": envelope["type"], "topic": topic,
                              "processed_at": utcnow()}, session=self.session)
        except DuplicateKeyError:
            raise AlreadyProcessed(envelope["event_id"]) from None

    def save_versioned(self, collection: str, document: dict, expected_version: int | None) -> int:
        """Insert (expected_version None) or replace a document guarded by its `version` field."""
        coll = self.db[collection]
        if expected_version is None:
            document = {**document, "version": 1}
            coll.insert_one(document, session=self.session)
            return 1
        new_version = expected_version + 1
        result = coll.replace_one({"_id": document["_id"], "version": expected_version},
                                  {**document, "version": new_version}, session=self.session)
        if result.matched_count != 1:
            raise ConcurrencyError(f"{collection}/{document['_id']} changed since version {expected_version}")
        return new_version

    def _flush(self) -> None:
        if self._pending:
            now, size = utcnow(), OUTBOX_MESSAGES_PER_DOCUMENT
            documents = []
            for start in range(0, len(self._pending), size):
                order = ObjectId()
                part = self._pending[start:start + size]
                documents.append({"_id": order, "order": order, "messages": part, "count": len(part),
                                  "created_at": now, "published_at": None})
            self.db[OUTBOX].insert_many(documents, ordered=True, session=self.session)
            self._pending = []


class ServiceStore:
    """One service's database with its outbox and inbox."""

    def __init__(self, client: MongoClient, db_name: str, registry: ContractRegistry, service: str,
                 topic_prefix: str = ""):
        self.client = client
        self.db = client[db_name]
        self.registry = registry
        self.service = service
        self.topic_prefix = topic_prefix

    @classmethod
    def from_settings(cls, settings, service: str, registry: ContractRegistry | None = None) -> ServiceStore:
        registry = registry or ContractRegistry.of(settings.contracts_dir)
        return cls(mongo_client(settings.mongodb_uri), settings.database_name(service), registry, service,
                   settings.topic_prefix)

    def ensure_indexes(self) -> None:
        outbox = self.db[OUTBOX]
        outbox.create_index([("published_at", ASCENDING), ("order", ASCENDING)], name="unpublished_in_order")
        outbox.create_index("published_at", name="published_ttl", expireAfterSeconds=PUBLISHED_OUTBOX_RETENTION_S,
                            partialFilterExpression={"published_at": {"$type": "date"}})
        self.db[INBOX].create_index("processed_at", name="processed_at")

    def transaction(self, fn: Callable[[Transaction], T]) -> T:
        """Run fn in one transaction, retried on transient errors (so fn must not have outside effects)."""
        with self.client.start_session() as session:
            def callback(s: ClientSession) -> T:
                tx = Transaction(self.db, s, self.registry, self.service, self.topic_prefix)
                result = fn(tx)
                tx._flush()
                return result

            return session.with_transaction(
                callback,
                read_concern=ReadConcern("snapshot"),
                write_concern=DURABLE,
            )

    def heartbeat(self, process: str, detail: dict | None = None) -> None:
        self.db[HEARTBEATS].update_one({"_id": process}, {"$set": {"at": utcnow(), **(detail or {})}},
                                       upsert=True)

    def heartbeats(self) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.db[HEARTBEATS].find()}

    def unpublished_count(self) -> int:
        """Events (not documents) the relay has still to send."""
        return sum(d.get("count", 0) for d in self.db[OUTBOX].find({"published_at": None}, {"count": 1}))


def outbox_messages(db: Database, event_type: str | None = None, *, unpublished: bool = False) -> list[dict]:
    """A service's outbox as events, in publishing order: each message with its document's `created_at`,
    `published_at` and `published_to` (for tests and operators; the relay reads documents)."""
    query = {"published_at": None} if unpublished else {}
    out = []
    for doc in db[OUTBOX].find(query).sort("order", ASCENDING):
        stamps = {k: doc.get(k) for k in ("created_at", "published_at", "published_to")}
        out.extend({**m, **stamps} for m in doc["messages"] if event_type in (None, m["type"]))
    return out
