"""Kafka clients with the settings that suit both Apache Kafka and the embedded Tansu broker, the topics, and
what the consumer and relay loops share (liveness, the database-away test, the failure kinds)."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError
from pymongo.errors import ConnectionFailure, PyMongoError

from shared.config import SERVICES, Settings
from shared.contracts import ContractRegistry
from shared.storage import Transaction

log = logging.getLogger(__name__)


Handler = Callable[[dict, Transaction], None]
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
RETRY_TOPIC_PATTERN = "retry.{service}"
RELAY_STATE = "relay_state"
# How often a consumer re-reads the cluster's metadata even when nothing failed. Topics or partitions that appear
# after the group formed (made after a broker came back empty, or added by an operator) are assigned only at the
# next rebalance, which this refresh triggers; kafka-python's default is 5 min.
CONSUMER_METADATA_MAX_AGE_MS = 5000


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
        metadata_max_age_ms=CONSUMER_METADATA_MAX_AGE_MS,
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
