"""The outbox relay: a service's outbox to Kafka, in order, at least once, keyed by aggregate id; and sending
again what a broker lost."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from kafka import KafkaProducer

from shared.clock import utcnow
from shared.messaging.clients import RELAY_STATE, mark_alive
from shared.storage import OUTBOX, ServiceStore

log = logging.getLogger(__name__)


def _headers(envelope: dict) -> list[tuple[str, bytes]]:
    return [
        ("event_type", envelope["type"].encode()),
        ("event_version", str(envelope["version"]).encode()),
        ("event_id", envelope["event_id"].encode()),
        ("correlation_id", envelope["correlation_id"].encode()),
    ]


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class OutboxRelay:
    """Publishes a service's outbox to Kafka in order, at least once, keyed by aggregate id.

    A crash after publishing and before marking re-sends the batch on restart; consumers' inboxes absorb it.
    A crash before publishing loses nothing: the documents are still unpublished."""

    def __init__(self, store: ServiceStore, producer: KafkaProducer, *, batch_size: int = 200,
                 send_timeout_s: float = 30.0, cluster_id: Callable[[], str | None] | None = None,
                 on_new_broker: Callable[[], object] | None = None, broker_check_every_s: float = 3.0,
                 producer_factory: Callable[[], KafkaProducer] | None = None):
        self.store = store
        self.producer = producer
        self.producer_factory = producer_factory
        self.batch_size = batch_size
        self.send_timeout_s = send_timeout_s
        self.cluster_id = cluster_id
        self.on_new_broker = on_new_broker
        self.broker_check_every_s = broker_check_every_s
        self._cluster: str | None = None
        self._last_check = float("-inf")

    def check_broker(self) -> int:
        """Send again what a broker that lost its log never delivered; returns how many events were requeued.

        Each outbox document records the cluster it was published to. A broker that comes back empty (the
        embedded broker keeps its log in memory; a Kafka cluster rebuilt from scratch) answers with another
        cluster id: every event published to an earlier cluster and still in the outbox is then published
        again, in its original order. Consumers' inboxes absorb the ones they had already handled."""
        if self.cluster_id is None:
            return 0
        current = self.cluster_id()
        if not current:
            return 0
        state = self.store.db[RELAY_STATE]
        known = state.find_one({"_id": "broker"})
        requeued = 0
        if (known is None or known.get("cluster_id") != current) and self.on_new_broker is not None:
            self.on_new_broker()  # e.g. create the topics with their partitions before anything is sent
        if known is not None and known.get("cluster_id") != current:
            self._renew_producer()
            requeued = _queue_again(self.store, {"published_at": {"$ne": None}, "published_to": {"$ne": current}})
            log.warning("broker changed from cluster %s to %s: %d published events queued again",
                        known.get("cluster_id"), current, requeued)
        if known is None or known.get("cluster_id") != current:
            state.update_one({"_id": "broker"}, {"$set": {"cluster_id": current, "since": utcnow(),
                                                          "requeued": requeued}}, upsert=True)
        self._cluster = current
        return requeued

    def _renew_producer(self) -> None:
        """A producer that knew the earlier cluster keeps its partition counts for minutes. Where a topic came back
        with fewer partitions (the embedded broker auto-creates a topic with 4 when a client touches it before
        the topics are made), the old producer kept writing to partitions no consumer is assigned: the chaos test
        lost two of intake.application.events' six that way. A new producer reads the new cluster's metadata."""
        if self.producer_factory is None:
            return
        try:
            self.producer.close(timeout=5)
        except Exception:  # the old connections are gone with the old broker
            log.info("closing the producer of the earlier broker failed", exc_info=True)
        self.producer = self.producer_factory()

    def _maybe_check_broker(self) -> None:
        now = time.monotonic()
        if now - self._last_check >= self.broker_check_every_s:
            self._last_check = now
            self.check_broker()

    def publish_pending(self) -> int:
        """Send the oldest unpublished outbox documents' messages (about `batch_size` of them, whole documents)
        and mark those documents; returns how many messages were sent."""
        self._maybe_check_broker()
        outbox = self.store.db[OUTBOX]
        batch, messages = [], []
        for doc in outbox.find({"published_at": None}).sort("order", 1).limit(self.batch_size):
            batch.append(doc["_id"])
            messages.extend(doc["messages"])
            if len(messages) >= self.batch_size:
                break
        if not batch:
            return 0
        futures = [
            self.producer.send(m["topic"], key=m["key"].encode(), value=encode(m["envelope"]),
                               headers=_headers(m["envelope"]))
            for m in messages
        ]
        self.producer.flush(timeout=self.send_timeout_s)
        for future in futures:
            future.get(timeout=self.send_timeout_s)  # raises if the broker refused: nothing gets marked
        outbox.update_many({"_id": {"$in": batch}},
                           {"$set": {"published_at": utcnow(), "published_to": self._cluster}})
        return len(messages)

    def run(self, stop: threading.Event, *, idle_sleep_s: float = 0.1, heartbeat_every_s: float = 2.0) -> None:
        name = f"{self.store.service}-relay"
        last_beat = 0.0
        backoff = 0.5
        while not stop.is_set():
            mark_alive()
            try:
                sent = self.publish_pending()
                backoff = 0.5
                now = time.monotonic()
                if now - last_beat >= heartbeat_every_s:
                    self.store.heartbeat(name, {"published_last": sent})
                    last_beat = now
                if not sent:
                    stop.wait(idle_sleep_s)
            except Exception:  # broker or database away: keep the outbox, try again later
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)


def republish_outbox(store: ServiceStore, since, until=None) -> int:
    """Queue again every event of the service's outbox written at or after `since` (and before `until`), for an
    operator who knows a broker lost them; the relay sends them in their original order and consumers' inboxes
    absorb the ones already handled. Events older than the outbox's retention are gone. Returns the count."""
    created = {"$gte": since}
    if until is not None:
        created["$lt"] = until
    return _queue_again(store, {"created_at": created, "published_at": {"$ne": None}})


def _queue_again(store: ServiceStore, query: dict) -> int:
    """Mark the published outbox documents matching `query` unpublished; returns how many events they hold."""
    outbox = store.db[OUTBOX]
    ids, events = [], 0
    for doc in outbox.find(query, {"count": 1}):
        ids.append(doc["_id"])
        events += doc.get("count", 0)
    if ids:
        outbox.update_many({"_id": {"$in": ids}}, {"$set": {"published_at": None}})
    return events
