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
from shared.messaging.clients import (
    DATABASE_PATIENCE_S,
    LIVENESS_FILE_ENV,
    MAX_MESSAGE_BYTES,
    RELAY_STATE,
    RETRY_TOPIC_PATTERN,
    Handler,
    InfrastructureUnavailable,
    PermanentFailure,
    all_topic_specs,
    broker_cluster_id,
    database_away,
    ensure_topics,
    make_consumer,
    make_producer,
    mark_alive,
)
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.dead_letters import list_dead_letters, read_topic, replay_dead_letters
from shared.messaging.relay import OutboxRelay, encode, republish_outbox

__all__ = [
    "DATABASE_PATIENCE_S", "LIVENESS_FILE_ENV", "MAX_MESSAGE_BYTES", "RELAY_STATE", "RETRY_TOPIC_PATTERN", "Handler",
    "InfrastructureUnavailable", "PermanentFailure", "all_topic_specs", "broker_cluster_id", "database_away",
    "ensure_topics", "make_consumer", "make_producer", "mark_alive", "EventConsumer", "Outcome",
    "list_dead_letters", "read_topic", "replay_dead_letters", "OutboxRelay", "encode", "republish_outbox",
]
