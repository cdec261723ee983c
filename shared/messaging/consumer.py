"""The idempotent consumer: validate, upcast, handle exactly once (inbox), commit after processing, retry,
dead-letter."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError

from shared.clock import utcnow
from shared.config import Settings
from shared.contracts import ContractError
from shared.logging import correlation_id
from shared.messaging.clients import (
    DATABASE_PATIENCE_S,
    RETRY_TOPIC_PATTERN,
    Handler,
    InfrastructureUnavailable,
    PermanentFailure,
    broker_cluster_id,
    database_away,
    make_consumer,
    make_producer,
    mark_alive,
)
from shared.storage import AlreadyProcessed, ServiceStore, Transaction

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # processed | duplicate | ignored | dead_lettered
    event_id: str | None = None
    reason: str | None = None


def _header(record, name: str) -> str | None:
    for key, value in record.headers or []:
        if key == name:
            return value.decode("utf-8", "replace") if value is not None else None
    return None


class EventConsumer:
    """Consumes a service's topics: validate, upcast, handle exactly once (inbox), commit after processing.

    Retries transient failures with exponential backoff; an invalid message, or one that keeps failing,
    goes to the service's dead-letter topic with the reason and can be replayed onto `retry.<service>`."""

    def __init__(self, service: str, settings: Settings, store: ServiceStore, handlers: dict[str, Handler],
                 *, topics: Iterable[str] | None = None, producer: KafkaProducer | None = None,
                 max_attempts: int = 5, backoff_s: float = 0.2, cluster_id: Callable[[], str | None] | None = None,
                 broker_check_every_s: float = 3.0, database_patience_s: float = DATABASE_PATIENCE_S):
        self.service = service
        self.settings = settings
        self.store = store
        self.registry = store.registry
        self.handlers = handlers
        names = list(topics) if topics is not None else self.registry.topics_consumed_by(service)
        self.topics = [settings.topic(t) for t in names] + [
            settings.topic(RETRY_TOPIC_PATTERN.format(service=service))]
        self.dead_letter_topic = settings.topic(self.registry.dead_letter_topic(service))
        self._producer = producer
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.database_patience_s = database_patience_s
        self.consumer: KafkaConsumer | None = None
        self.cluster_id = cluster_id if cluster_id is not None else broker_cluster_id(settings)
        self.broker_check_every_s = broker_check_every_s
        self._cluster: str | None = None
        self._last_check = float("-inf")
        self._rewind_until = 0.0  # partitions assigned before this moment are read from the beginning
        self.rewinds = 0

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = make_producer(self.settings)
        return self._producer

    def parse(self, record):
        """(envelope, handler, topic) for a record this service handles; otherwise its Outcome (an invalid record
        is dead-lettered here, a type nobody here handles is ignored)."""
        try:
            envelope = json.loads(record.value.decode("utf-8"))
            if not isinstance(envelope, dict):
                raise ContractError("message is not a JSON object")
            self.registry.validate(envelope)
        except (ValueError, ContractError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            errors = getattr(exc, "errors", [])
            return self.dead_letter(record, f"invalid message: {exc}", errors=errors, attempts=1)
        envelope = self.registry.upcast(envelope)
        handler = self.handlers.get(envelope["type"])
        if handler is None:
            return Outcome("ignored", envelope["event_id"])
        return envelope, handler, _header(record, "replayed_from_topic") or record.topic

    def handle(self, record) -> Outcome:
        """Process one Kafka record; never raises for a bad message (it is dead-lettered instead)."""
        parsed = self.parse(record)
        if isinstance(parsed, Outcome):
            return parsed
        envelope, handler, topic = parsed
        token = correlation_id.set(envelope["correlation_id"])
        away_since: float | None = None
        try:
            attempt = 0
            while attempt < self.max_attempts:
                attempt += 1
                try:
                    def work(tx: Transaction) -> None:
                        tx.claim_inbox(envelope, topic)
                        handler(envelope, tx)

                    self.store.transaction(work)
                    return Outcome("processed", envelope["event_id"])
                except AlreadyProcessed:
                    return Outcome("duplicate", envelope["event_id"])
                except (PermanentFailure, ContractError) as exc:
                    return self.dead_letter(record, f"{type(exc).__name__}: {exc}",
                                            errors=getattr(exc, "errors", []), attempts=attempt)
                except Exception as exc:
                    if database_away(exc):  # not the handler's fault: wait for the database, count nothing
                        attempt -= 1
                        away_since = away_since or time.monotonic()
                        if time.monotonic() - away_since > self.database_patience_s:
                            raise InfrastructureUnavailable(f"database away for {self.database_patience_s:.0f}s: "
                                                            f"{type(exc).__name__}: {exc}") from exc
                        log.warning("database away while handling %s (%s); waiting", envelope["event_id"],
                                    type(exc).__name__)
                        mark_alive()
                        time.sleep(min(2.0, self.backoff_s * 4))
                        continue
                    if attempt == self.max_attempts:
                        return self.dead_letter(record, f"gave up after {attempt} attempts: "
                                                f"{type(exc).__name__}: {exc}", attempts=attempt)
                    delay = self.backoff_s * 2 ** (attempt - 1)
                    log.warning("handling %s failed (attempt %d): %s; retrying in %.1fs",
                                envelope["event_id"], attempt, exc, delay)
                    time.sleep(delay)
        finally:
            correlation_id.reset(token)
        raise AssertionError("unreachable")

    def dead_letter(self, record, reason: str, *, errors: list | None = None, attempts: int) -> Outcome:
        value = record.value
        try:
            original_value = value.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            import base64

            original_value, encoding = base64.b64encode(value).decode(), "base64"
        letter = {
            "service": self.service,
            "reason": reason,
            "errors": errors or [],
            "attempts": attempts,
            "failed_at": utcnow().isoformat(),
            "original": {
                "topic": _header(record, "replayed_from_topic") or record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "key": record.key.decode("utf-8", "replace") if record.key else None,
                "headers": [[k, v.decode("utf-8", "replace") if v else ""] for k, v in (record.headers or [])],
                "value": original_value,
                "encoding": encoding,
            },
        }
        self.producer.send(self.dead_letter_topic, key=record.key,
                           value=json.dumps(letter, ensure_ascii=False).encode("utf-8"),
                           headers=[("reason", reason[:500].encode("utf-8"))]).get(timeout=30)
        log.error("dead-lettered %s/%s@%s: %s", record.topic, record.partition, record.offset, reason)
        return Outcome("dead_lettered", None, reason)

    def handle_polled(self, records: list) -> None:
        """Handle the records of one poll; a subclass may handle them together (see review_routing)."""
        for record in records:
            self.handle(record)

    def consumer_options(self) -> dict:
        """Extra KafkaConsumer settings for this consumer (a batching subclass asks for bigger polls)."""
        return {}

    def _commit(self) -> None:
        assert self.consumer is not None
        try:
            self.consumer.commit()
        except KafkaError as exc:  # a rebalance or a new broker: the records come again, the inbox absorbs them
            log.warning("offset commit failed (%s: %s); the records will be delivered again", type(exc).__name__, exc)

    def check_broker(self) -> bool:
        """Read every assigned partition again from the beginning when the broker is another cluster than the one
        this consumer read from (a broker that lost its log). Returns whether it rewound."""
        now = time.monotonic()
        if now - self._last_check < self.broker_check_every_s:
            return False
        self._last_check = now
        current = self.cluster_id() if self.cluster_id is not None else None
        if not current or current == self._cluster:
            return False
        previous, self._cluster = self._cluster, current
        if previous is None:
            return False
        self.rewinds += 1
        # The group is rebuilt on the new broker too: partitions assigned in the next while also start over.
        self._rewind_until = now + 60.0
        assigned = list(self.consumer.assignment()) if self.consumer is not None else []
        if assigned:
            self.consumer.seek_to_beginning(*assigned)
        log.warning("broker changed from cluster %s to %s: reading %d partitions again from the beginning",
                    previous, current, len(assigned))
        return True

    def _rebalance_listener(self) -> ConsumerRebalanceListener:
        outer = self

        class Rewind(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                pass

            def on_partitions_assigned(self, assigned):
                if assigned and time.monotonic() < outer._rewind_until and outer.consumer is not None:
                    outer.consumer.seek_to_beginning(*assigned)  # non-blocking: a reset applied at the next fetch

        return Rewind()

    def run(self, stop: threading.Event, *, heartbeat_every_s: float = 2.0) -> None:
        # The topic prefix also prefixes the group, so deployments (and tests) sharing a broker stay apart.
        self.consumer = make_consumer(self.settings, group_id=self.settings.topic(self.service),
                                      **self.consumer_options())
        self.consumer.subscribe(self.topics, listener=self._rebalance_listener())
        name = f"{self.service}-consumer"
        last_beat = 0.0
        try:
            while not stop.is_set():
                mark_alive()
                self.check_broker()
                batches = self.consumer.poll(timeout_ms=500)
                records = [record for partition_records in batches.values() for record in partition_records]
                if records:
                    self.handle_polled(records)
                    if self.check_broker():
                        continue  # the broker changed under these records: read them again, commit nothing
                    self._commit()
                now = time.monotonic()
                if now - last_beat >= heartbeat_every_s:
                    try:
                        assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in self.consumer.assignment())
                        self.store.heartbeat(name, {"assigned": assigned})
                    except Exception:
                        log.exception("heartbeat failed")
                    last_beat = now
        finally:
            try:
                self.consumer.close()
            finally:
                if self._producer is not None:
                    self._producer.close(timeout=5)
