"""Kafka plumbing (kafka-python): client settings, topics, the outbox relay, idempotent consumers, dead letters.

Settings chosen to work on both Apache Kafka and the embedded Tansu broker (docs/local-infra notes):
- consumers: manual commit after processing, `auto_offset_reset="earliest"` (Tansu answers LATEST wrongly),
  session timeout from the environment (2 s on Tansu, whose group join waits half the session timeout;
  10 s on Kafka, whose group.min.session.timeout.ms defaults to 6 s), no static membership;
- producers: idempotence off (an idempotent kafka-python producer never recovers from a Tansu restart),
  `max_in_flight_requests_per_connection=1` so retries cannot reorder one aggregate's events, acks=all.

Nothing is lost when a broker loses its log (the embedded broker keeps it in memory): the relay sends again
what is still in the outbox (`OutboxRelay.check_broker`), and a consumer that meets a new cluster reads its
topics again from the beginning (`EventConsumer.check_broker`): its group's offsets went with the old broker,
and offsets it still holds in memory point into a log that no longer exists. Its inbox absorbs what it had
handled already. A database that is away (restarting) is waited for, never a reason to dead-letter an event.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError, TopicAlreadyExistsError
from pymongo.errors import ConnectionFailure, PyMongoError

from shared.clock import utcnow
from shared.config import SERVICES, Settings
from shared.contracts import ContractError, ContractRegistry
from shared.logging import correlation_id
from shared.storage import OUTBOX, AlreadyProcessed, ServiceStore, Transaction

log = logging.getLogger(__name__)

Handler = Callable[[dict, Transaction], None]
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
RETRY_TOPIC_PATTERN = "retry.{service}"
RELAY_STATE = "relay_state"


class PermanentFailure(Exception):
    """Raised by a handler for an event it can never process (goes to the dead-letter topic at once)."""


class InfrastructureUnavailable(Exception):
    """The database stayed away longer than a consumer waits for it: the process stops without committing, is
    started again by its supervisor, and reads the event again."""


DATABASE_PATIENCE_S = 120.0
LIVENESS_FILE_ENV = "GREENMINE_LIVENESS_FILE"


def mark_alive() -> None:
    """Touch the liveness file (GREENMINE_LIVENESS_FILE, when set): a consumer's or relay's loop is turning.
    The orchestrator's liveness probe (`python -m shared.runtime alive`) restarts a process that stops turning."""
    import os

    path = os.environ.get(LIVENESS_FILE_ENV)
    if path:
        try:
            with open(path, "a"):
                os.utime(path)
        except OSError as exc:
            log.warning("cannot touch the liveness file %s: %s", path, exc)


def database_away(exc: BaseException) -> bool:
    """Whether a failure says the database is unreachable or changing primary (a restart), not that the handler
    failed: such an event is retried until the database is back, never counted towards a dead letter."""
    if isinstance(exc, ConnectionFailure):  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError
        return True
    if isinstance(exc, PyMongoError):
        return exc.has_error_label("TransientTransactionError") or exc.has_error_label(
            "UnknownTransactionCommitResult") or exc.has_error_label("RetryableWriteError")
    return False


# --- clients -------------------------------------------------------------------------------------------------
def make_producer(settings: Settings, **overrides) -> KafkaProducer:
    options = dict(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        acks="all",
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
        retries=5,
        linger_ms=5,
        max_request_size=MAX_MESSAGE_BYTES,
        request_timeout_ms=15000,
        client_id="greenmine",
    )
    options.update(overrides)
    return KafkaProducer(**options)


def broker_cluster_id(settings: Settings) -> Callable[[], str | None]:
    """A probe of the broker's cluster id (None while it cannot be reached), for the relay's loss check."""
    admin: list[KafkaAdminClient] = []

    def probe() -> str | None:
        try:
            if not admin:
                admin.append(KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
                                              client_id="greenmine-relay", request_timeout_ms=5000))
            return admin[0].describe_cluster().get("cluster_id")
        except Exception as exc:  # broker away: the relay's own retry loop deals with it
            log.info("broker cluster id not available: %s", exc)
            while admin:
                try:
                    admin.pop().close()
                except Exception:
                    pass
            return None

    return probe


def make_consumer(settings: Settings, group_id: str | None, topics: Iterable[str] = (), **overrides) -> KafkaConsumer:
    options = dict(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_ms,
        max_poll_interval_ms=300000,
        max_poll_records=100,
        fetch_max_bytes=MAX_MESSAGE_BYTES * 2,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
        client_id=f"greenmine-{group_id or 'reader'}",
    )
    options.update(overrides)
    consumer = KafkaConsumer(**options)
    topics = list(topics)
    if topics:
        consumer.subscribe(topics)
    return consumer


def all_topic_specs(settings: Settings, registry: ContractRegistry) -> dict[str, int]:
    """Every topic the system uses, prefixed, with its partition count."""
    topics = {settings.topic(name): spec.partitions for name, spec in registry.topics.items()}
    for service in SERVICES:
        topics[settings.topic(registry.dead_letter_topic(service))] = registry.dead_letter_partitions
        topics[settings.topic(RETRY_TOPIC_PATTERN.format(service=service))] = 1
    return topics


def ensure_topics(settings: Settings, registry: ContractRegistry) -> dict[str, str]:
    """Create every topic with its partitions; returns {topic: "created" | "exists"}. Idempotent."""
    wanted = all_topic_specs(settings, registry)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
                             client_id="greenmine-admin", request_timeout_ms=15000)
    try:
        existing = set(admin.list_topics())
        outcome = {name: "exists" for name in wanted if name in existing}
        missing = [NewTopic(name, num_partitions=n, replication_factor=-1)
                   for name, n in wanted.items() if name not in existing]
        if missing:
            try:
                admin.create_topics(missing, validate_only=False)
            except TopicAlreadyExistsError:
                pass  # created meanwhile by another process
            for topic in missing:
                outcome[topic.name] = "created"
        return dict(sorted(outcome.items()))
    finally:
        admin.close()


# --- outbox relay ---------------------------------------------------------------------------------------------
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
                 on_new_broker: Callable[[], object] | None = None, broker_check_every_s: float = 3.0):
        self.store = store
        self.producer = producer
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
            requeued = self.store.db[OUTBOX].update_many(
                {"published_at": {"$ne": None}, "published_to": {"$ne": current}},
                {"$set": {"published_at": None}}).modified_count
            log.warning("broker changed from cluster %s to %s: %d published events queued again",
                        known.get("cluster_id"), current, requeued)
        if known is None or known.get("cluster_id") != current:
            state.update_one({"_id": "broker"}, {"$set": {"cluster_id": current, "since": utcnow(),
                                                          "requeued": requeued}}, upsert=True)
        self._cluster = current
        return requeued

    def _maybe_check_broker(self) -> None:
        now = time.monotonic()
        if now - self._last_check >= self.broker_check_every_s:
            self._last_check = now
            self.check_broker()

    def publish_pending(self) -> int:
        self._maybe_check_broker()
        outbox = self.store.db[OUTBOX]
        batch = list(outbox.find({"published_at": None}).sort("order", 1).limit(self.batch_size))
        if not batch:
            return 0
        futures = [
            self.producer.send(doc["topic"], key=doc["key"].encode(), value=encode(doc["envelope"]),
                               headers=_headers(doc["envelope"]))
            for doc in batch
        ]
        self.producer.flush(timeout=self.send_timeout_s)
        for future in futures:
            future.get(timeout=self.send_timeout_s)  # raises if the broker refused: nothing gets marked
        outbox.update_many({"_id": {"$in": [doc["_id"] for doc in batch]}},
                           {"$set": {"published_at": utcnow(), "published_to": self._cluster}})
        return len(batch)

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
    return store.db[OUTBOX].update_many({"created_at": created, "published_at": {"$ne": None}},
                                        {"$set": {"published_at": None}}).modified_count


# --- consumer -------------------------------------------------------------------------------------------------
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


# --- dead letters ------------------------------------------------------------------------------------------------
def read_topic(settings: Settings, topic: str, *, idle_s: float = 1.5, max_wait_s: float = 15.0) -> list:
    """Read a whole topic without a consumer group (manual assignment from the beginning).

    The end is detected from the fetch high-watermark, not ListOffsets(LATEST), which Tansu answers wrongly."""
    consumer = make_consumer(settings, group_id=None)
    try:
        partitions = consumer.partitions_for_topic(topic)
        deadline = time.monotonic() + max_wait_s
        while partitions is None and time.monotonic() < deadline:
            time.sleep(0.2)
            partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records, last_data = [], time.monotonic()
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=300)
            for recs in batch.values():
                records.extend(recs)
            if batch:
                last_data = time.monotonic()
            done = all(consumer.highwater(tp) is not None and consumer.position(tp) >= consumer.highwater(tp)
                       for tp in tps)
            if done or (not batch and time.monotonic() - last_data >= idle_s):
                break
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def list_dead_letters(settings: Settings, registry: ContractRegistry, service: str) -> list[dict]:
    topic = settings.topic(registry.dead_letter_topic(service))
    letters = []
    for record in read_topic(settings, topic):
        letter = json.loads(record.value.decode("utf-8"))
        letter["dlq"] = {"topic": topic, "partition": record.partition, "offset": record.offset}
        letters.append(letter)
    return letters


def replay_dead_letters(settings: Settings, registry: ContractRegistry, service: str,
                        offsets: set[int] | None = None) -> list[dict]:
    """Re-deliver dead letters to `retry.<service>`, read only by that service's consumer, so other services
    that handled the original are not disturbed. Returns the letters replayed."""
    import base64

    retry_topic = settings.topic(RETRY_TOPIC_PATTERN.format(service=service))
    chosen = [d for d in list_dead_letters(settings, registry, service)
              if offsets is None or d["dlq"]["offset"] in offsets]
    if not chosen:
        return []
    producer = make_producer(settings)
    try:
        for letter in chosen:
            original = letter["original"]
            value = (base64.b64decode(original["value"]) if original.get("encoding") == "base64"
                     else original["value"].encode("utf-8"))
            headers = [(k, v.encode()) for k, v in original.get("headers", [])
                       if k not in ("replayed_from_topic", "replayed_from_dlq")]
            headers += [("replayed_from_topic", original["topic"].encode()),
                        ("replayed_from_dlq", f"{letter['dlq']['topic']}:{letter['dlq']['partition']}:"
                                              f"{letter['dlq']['offset']}".encode())]
            producer.send(retry_topic, key=original["key"].encode() if original.get("key") else None,
                          value=value, headers=headers).get(timeout=30)
        producer.flush()
    finally:
        producer.close(timeout=5)
    return chosen
