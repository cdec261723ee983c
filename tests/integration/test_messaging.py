"""The messaging guarantees of the platform, on real servers (Kafka protocol + MongoDB wire protocol):
outbox atomicity, at-least-once relay, exactly-once handling through the inbox, dead letters and replay."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kafka import KafkaProducer
from polling import wait_for

from shared.contracts import ContractError, new_event
from shared.messaging import (
    EventConsumer,
    OutboxRelay,
    ensure_topics,
    list_dead_letters,
    make_producer,
    read_topic,
    replay_dead_letters,
)
from shared.storage import ServiceStore, mongo_client, outbox_messages

pytestmark = pytest.mark.integration
PROCESS = Path(__file__).with_name("platform_process.py")


def probe(n: int, aggregate_id: str = "agg-1", version: int = 1) -> dict:
    return new_event("test.probe_recorded", producer="intake", aggregate_type="probe", aggregate_id=aggregate_id,
                     aggregate_version=version, payload={"n": n})


def stores(settings, registry):
    client = mongo_client(settings.mongodb_uri)
    producer_store = ServiceStore(client, settings.database_name("intake"), registry, "intake",
                                  settings.topic_prefix)
    consumer_store = ServiceStore(client, settings.database_name("scoring"), registry, "scoring",
                                  settings.topic_prefix)
    producer_store.ensure_indexes()
    consumer_store.ensure_indexes()
    return producer_store, consumer_store


def settings_env(settings) -> str:
    return json.dumps({
        "MONGODB_URI": settings.mongodb_uri, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "GREENMINE_DB_PREFIX": settings.db_prefix, "GREENMINE_TOPIC_PREFIX": settings.topic_prefix,
        "GREENMINE_SECRET_KEY": settings.secret_key,
        "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka_session_timeout_ms),
        "GREENMINE_KAFKA_HEARTBEAT_MS": str(settings.kafka_heartbeat_ms),
    })


def run_process(kind: str, settings, *flags, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROCESS), kind, settings_env(settings), *flags],
                          capture_output=True, text=True, timeout=timeout)


def start_process(kind: str, settings, *flags) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(PROCESS), kind, settings_env(settings), *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def consume_until(consumer: EventConsumer, predicate, timeout: float = 40.0):
    """Run the consumer in a thread until predicate() is truthy; returns its value."""
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    try:
        return wait_for(predicate, timeout=timeout)
    finally:
        stop.set()
        thread.join(timeout=30)


def record_probe(store: ServiceStore, event: dict) -> None:
    def change(tx):
        tx.db["probes"].insert_one({"_id": event["event_id"], "n": event["payload"]["n"]}, session=tx.session)
        tx.publish(event)

    store.transaction(change)


def counter(store: ServiceStore) -> dict:
    return store.db["counters"].find_one({"_id": "probe"}) or {"total": 0, "events": 0}


@pytest.fixture
def topics(settings, registry):
    return ensure_topics(settings, registry)


class TestOutbox:
    def test_state_change_and_event_commit_together(self, settings, registry):
        producer_store, _ = stores(settings, registry)
        event = probe(3)
        record_probe(producer_store, event)
        assert producer_store.db["probes"].find_one({"_id": event["event_id"]})["n"] == 3
        (stored,) = outbox_messages(producer_store.db)
        assert stored["event_id"] == event["event_id"] and stored["published_at"] is None
        assert stored["aggregateid"] == "agg-1" and stored["type"] == "test.probe_recorded"
        assert stored["topic"] == settings.topic_prefix + "test.probe.events"

    def test_failure_after_publish_stores_neither(self, settings, registry):
        producer_store, _ = stores(settings, registry)

        def change(tx):
            tx.db["probes"].insert_one({"_id": "p1"}, session=tx.session)
            tx.publish(probe(1))
            raise RuntimeError("business rule broke after the event was queued")

        with pytest.raises(RuntimeError):
            producer_store.transaction(change)
        assert producer_store.db["probes"].count_documents({}) == 0
        assert producer_store.db["outbox"].count_documents({}) == 0

    def test_invalid_event_is_refused_before_anything_is_stored(self, settings, registry):
        producer_store, _ = stores(settings, registry)
        bad = probe(1)
        bad["payload"] = {"n": "three"}

        def change(tx):
            tx.db["probes"].insert_one({"_id": "p1"}, session=tx.session)
            tx.publish(bad)

        with pytest.raises(ContractError) as raised:
            producer_store.transaction(change)
        assert raised.value.errors[0]["field"] == "payload.n"
        assert "'three'" in raised.value.errors[0]["message"] or "three" in raised.value.errors[0]["message"]
        assert producer_store.db["probes"].count_documents({}) == 0


class TestRelayAndConsumer:
    def test_end_to_end_in_order_keyed_by_aggregate(self, settings, registry, topics):
        producer_store, consumer_store = stores(settings, registry)
        events = [probe(i, aggregate_id=f"agg-{i % 3}", version=i) for i in range(1, 13)]
        for event in events:
            record_probe(producer_store, event)
        producer = make_producer(settings)
        try:
            assert OutboxRelay(producer_store, producer).publish_pending() == 12
        finally:
            producer.close()
        assert producer_store.unpublished_count() == 0
        records = read_topic(settings, settings.topic("test.probe.events"))
        assert len(records) == 12
        by_key: dict[str, list[int]] = {}
        partitions: dict[str, set[int]] = {}
        for record in records:
            envelope = json.loads(record.value)
            by_key.setdefault(record.key.decode(), []).append(envelope["aggregate_version"])
            partitions.setdefault(record.key.decode(), set()).add(record.partition)
            assert dict(record.headers)["event_type"] == b"test.probe_recorded"
        assert all(versions == sorted(versions) for versions in by_key.values())
        assert all(len(p) == 1 for p in partitions.values())  # one aggregate, one partition

        consume_until(EventConsumer("scoring", settings, consumer_store, {"test.probe_recorded": _count_probe},
                                    topics=["test.probe.events"]),
                      lambda: counter(consumer_store)["events"] == 12)
        assert counter(consumer_store)["total"] == sum(range(1, 13))
        assert consumer_store.db["inbox"].count_documents({}) == 12

    def test_a_transaction_is_one_outbox_document_sent_in_order_and_marked_once(self, settings, registry, topics):
        """250 events of one transaction: three documents (100, 100, 50), the relay sends them in publishing
        order in batches of whole documents and marks each document once."""
        from shared.storage import OUTBOX, OUTBOX_MESSAGES_PER_DOCUMENT

        producer_store, _ = stores(settings, registry)
        events = [probe(i, aggregate_id="agg-bulk", version=i) for i in range(1, 251)]
        producer_store.transaction(lambda tx: [tx.publish(e) for e in events])
        documents = list(producer_store.db[OUTBOX].find().sort("order", 1))
        assert [d["count"] for d in documents] == [OUTBOX_MESSAGES_PER_DOCUMENT] * 2 + [50]
        assert [m["event_id"] for m in outbox_messages(producer_store.db)] == [e["event_id"] for e in events]
        assert producer_store.unpublished_count() == 250
        producer = make_producer(settings)
        try:
            relay = OutboxRelay(producer_store, producer, batch_size=150)
            assert relay.publish_pending() == 200          # whole documents: two of them reach the batch size
            assert producer_store.unpublished_count() == 50
            assert relay.publish_pending() == 50 and relay.publish_pending() == 0
        finally:
            producer.close()
        assert all(d["published_at"] is not None for d in producer_store.db[OUTBOX].find())
        records = read_topic(settings, settings.topic("test.probe.events"))
        assert [json.loads(r.value)["aggregate_version"] for r in records] == list(range(1, 251))

    def test_replayed_event_changes_nothing(self, settings, registry, topics):
        _, consumer_store = stores(settings, registry)
        consumer = EventConsumer("scoring", settings, consumer_store, {"test.probe_recorded": _count_probe},
                                 topics=["test.probe.events"], producer=make_producer(settings))
        event = probe(5)

        class Record:
            topic = settings.topic("test.probe.events")
            partition, offset, key = 0, 0, b"agg-1"
            value = json.dumps(event).encode()
            headers = []

        assert consumer.handle(Record()).status == "processed"
        assert consumer.handle(Record()).status == "duplicate"
        assert counter(consumer_store) == {"_id": "probe", "total": 5, "events": 1}

    def test_consumer_killed_after_processing_before_commit_handles_exactly_once(
            self, settings, registry, topics):
        producer_store, consumer_store = stores(settings, registry)
        for n in (1, 2, 3):
            record_probe(producer_store, probe(n))
        producer = make_producer(settings)
        try:
            OutboxRelay(producer_store, producer).publish_pending()
        finally:
            producer.close()

        crashed = run_process("consumer", settings, "--crash-before-commit")
        assert crashed.returncode == 17, crashed.stdout + crashed.stderr
        assert counter(consumer_store)["events"] == 3  # processed, offsets never committed

        survivor = start_process("consumer", settings)
        try:
            # The redelivered records hit the inbox; the group's offsets move past them.
            wait_for(lambda: _committed(settings, settings.topic("scoring"), "test.probe.events") >= 3, timeout=40)
        finally:
            survivor.terminate()
            survivor.wait(timeout=30)
        assert counter(consumer_store) == {"_id": "probe", "total": 6, "events": 3}
        assert consumer_store.db["effects"].count_documents({}) == 3

    @pytest.mark.parametrize("crash", ["--crash-before-publish", "--crash-after-publish"])
    def test_relay_killed_loses_nothing(self, settings, registry, topics, crash):
        producer_store, consumer_store = stores(settings, registry)
        events = [probe(n, aggregate_id=f"a{n}") for n in range(1, 6)]
        for event in events:
            record_probe(producer_store, event)
        died = run_process("relay", settings, crash)
        assert died.returncode in (18, 19), died.stdout + died.stderr
        assert producer_store.unpublished_count() == 5  # committed, not yet marked published

        relay = start_process("relay", settings)
        consumer = start_process("consumer", settings)
        try:
            wait_for(lambda: producer_store.unpublished_count() == 0, timeout=30)
            wait_for(lambda: counter(consumer_store)["events"] == 5, timeout=40)
        finally:
            for process in (relay, consumer):
                process.terminate()
                process.wait(timeout=30)
        records = read_topic(settings, settings.topic("test.probe.events"))
        sent = [json.loads(r.value)["event_id"] for r in records]
        assert set(sent) == {e["event_id"] for e in events}
        if crash == "--crash-after-publish":
            assert len(sent) == 10  # published twice: at least once, never lost
        assert counter(consumer_store) == {"_id": "probe", "total": 15, "events": 5}


class TestDeadLetters:
    def test_invalid_message_is_dead_lettered_with_reason_and_replayable(self, settings, registry, topics):
        _, consumer_store = stores(settings, registry)
        raw = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
                            enable_idempotence=False)
        topic = settings.topic("test.probe.events")
        raw.send(topic, key=b"bad-1", value=b"{not json").get(timeout=30)
        wrong = probe(1, aggregate_id="bad-2")
        wrong["payload"] = {"n": "many"}
        raw.send(topic, key=b"bad-2", value=json.dumps(wrong).encode()).get(timeout=30)
        good = probe(7, aggregate_id="good")
        raw.send(topic, key=b"good", value=json.dumps(good).encode()).get(timeout=30)
        raw.close()

        consume_until(EventConsumer("scoring", settings, consumer_store, {"test.probe_recorded": _count_probe},
                                    topics=["test.probe.events"]),
                      lambda: counter(consumer_store)["events"] == 1)

        letters = list_dead_letters(settings, registry, "scoring")
        assert len(letters) == 2
        reasons = {letter["original"]["key"]: letter for letter in letters}
        assert "invalid message" in reasons["bad-1"]["reason"]
        assert reasons["bad-1"]["original"]["value"] == "{not json"
        assert reasons["bad-2"]["errors"][0]["field"] == "payload.n"
        assert reasons["bad-2"]["original"]["topic"] == topic

    def test_failing_handler_goes_to_dlq_and_replay_processes_it_after_the_fix(self, settings, registry, topics):
        producer_store, consumer_store = stores(settings, registry)
        broken = {"on": True}

        def flaky(envelope, tx):
            if broken["on"]:
                raise RuntimeError("downstream lookup unavailable")
            _count_probe(envelope, tx)

        event = probe(4, aggregate_id="retry-me")
        record_probe(producer_store, event)
        producer = make_producer(settings)
        OutboxRelay(producer_store, producer).publish_pending()
        producer.close()

        def flaky_consumer():
            return EventConsumer("scoring", settings, consumer_store, {"test.probe_recorded": flaky},
                                 topics=["test.probe.events"], max_attempts=3, backoff_s=0.01)

        letters = consume_until(flaky_consumer(), lambda: list_dead_letters(settings, registry, "scoring"))
        assert letters[0]["attempts"] == 3
        assert "downstream lookup unavailable" in letters[0]["reason"]
        assert counter(consumer_store)["events"] == 0

        broken["on"] = False
        replayed = replay_dead_letters(settings, registry, "scoring")
        assert [r["original"]["key"] for r in replayed] == ["retry-me"]
        consume_until(flaky_consumer(), lambda: counter(consumer_store)["events"] == 1)
        assert counter(consumer_store)["total"] == 4
        inbox = consumer_store.db["inbox"].find_one({"_id": event["event_id"]})
        assert inbox["topic"] == settings.topic("test.probe.events")  # the original topic, not retry.*


class TestDatabaseAway:
    def test_a_database_that_is_away_is_waited_for_never_dead_lettered(self, settings, registry):
        """A restarting database (connection refused, no primary, a transient transaction error) is not the
        event's fault: the consumer waits for it without counting attempts, however many it takes."""
        from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError

        _, consumer_store = stores(settings, registry)
        failures = [ServerSelectionTimeoutError("127.0.0.1:1: [Errno 111] Connection refused"),
                    AutoReconnect("connection closed"), AutoReconnect("not primary"),
                    OperationFailure("WriteConflict", code=112, details={"errorLabels": ["TransientTransactionError"]})]
        calls = []

        def away_then_back(envelope, tx):
            calls.append(1)
            if failures:
                raise failures.pop(0)
            _count_probe(envelope, tx)

        consumer = EventConsumer("scoring", settings, consumer_store, {"test.probe_recorded": away_then_back},
                                 topics=["test.probe.events"], max_attempts=2, backoff_s=0.01)

        class Record:
            topic = settings.topic("test.probe.events")
            partition, offset, key, headers = 0, 0, b"agg-1", []
            value = json.dumps(probe(7)).encode()

        assert consumer.handle(Record()).status == "processed"  # 4 failures, with max_attempts=2
        assert len(calls) == 5 and counter(consumer_store)["total"] == 7

    def test_a_database_away_for_too_long_stops_the_consumer_without_a_dead_letter(self, settings, registry):
        from pymongo.errors import AutoReconnect

        from shared.messaging import InfrastructureUnavailable

        _, consumer_store = stores(settings, registry)

        def always_away(envelope, tx):
            raise AutoReconnect("connection refused")

        consumer = EventConsumer("scoring", settings, consumer_store, {"test.probe_recorded": always_away},
                                 topics=["test.probe.events"], backoff_s=0.01, database_patience_s=0.3)

        class Record:
            topic = settings.topic("test.probe.events")
            partition, offset, key, headers = 0, 0, b"agg-1", []
            value = json.dumps(probe(8)).encode()

        with pytest.raises(InfrastructureUnavailable):  # the process exits, its supervisor starts it again
            consumer.handle(Record())


class TestUpcasting:
    def test_consumer_reads_old_versions_through_upcasters(self, settings, registry):
        _, consumer_store = stores(settings, registry)
        registry.register_upcaster("test.probe_recorded", 1, lambda p: {"count": p.pop("n"), **p})
        seen = []
        consumer = EventConsumer("scoring", settings, consumer_store,
                                 {"test.probe_recorded": lambda env, tx: seen.append(env)},
                                 topics=["test.probe.events"])

        class Record:
            topic = "x"
            partition, offset, key, headers = 0, 0, b"k", []
            value = json.dumps(probe(9)).encode()

        assert consumer.handle(Record()).status == "processed"
        assert seen[0]["version"] == 2 and seen[0]["payload"] == {"count": 9}


def _count_probe(envelope, tx):
    payload = envelope["payload"]
    tx.db["counters"].update_one({"_id": "probe"}, {"$inc": {"total": payload["n"], "events": 1}}, upsert=True,
                                 session=tx.session)


def _committed(settings, group: str, topic: str) -> int:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers.split(","))
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == settings.topic(topic) and meta.offset > 0)

