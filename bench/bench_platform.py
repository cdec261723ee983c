"""Raw broker and database baselines on the servers in use (embedded Tansu + SecantusDB by default):
kafka-python produce/consume of 1 KB JSON events, pymongo insert/find of a 5 KB document."""
from __future__ import annotations

import json
import os
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from pymongo import MongoClient

EVENTS = int(os.environ.get("BENCH_EVENTS", "5000"))
DOCS = int(os.environ.get("BENCH_DOCS", "2000"))


def _payload(i: int) -> bytes:
    body = {"event_id": str(uuid.uuid4()), "type": "bench.event_recorded", "n": i, "pad": "x" * 850}
    return json.dumps(body).encode()


def kafka_figures(bootstrap: str) -> list[dict]:
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 6, -1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5)
    messages = [_payload(i) for i in range(EVENTS)]
    started = time.perf_counter()
    for i, message in enumerate(messages):
        producer.send(topic, key=str(i % 64).encode(), value=message)
    producer.flush()
    produce_s = time.perf_counter() - started
    producer.close()
    # Synchronous round trip (no linger): what one acknowledged send costs.
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=0)
    latencies = []
    for i in range(200):
        t = time.perf_counter()
        producer.send(topic, key=b"sync", value=messages[i]).get(timeout=10)
        latencies.append(time.perf_counter() - t)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:6]}",
                             auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=2000,
                             heartbeat_interval_ms=300)
    total, started, first = EVENTS + 200, None, None
    seen = 0
    deadline = time.monotonic() + 120
    while seen < total and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=500)
        if batch and first is None:
            first = started = time.perf_counter()
        for records in batch.values():
            seen += len(records)
        if batch:
            consumer.commit()
    consume_s = time.perf_counter() - started
    consumer.close()
    latencies.sort()
    return [
        {"name": "kafka.produce_msgs_per_s", "value": EVENTS / produce_s, "unit": "msg/s"},
        {"name": "kafka.sync_send_p50_ms", "value": latencies[len(latencies) // 2] * 1000, "unit": "ms"},
        {"name": "kafka.sync_send_p99_ms", "value": latencies[int(len(latencies) * 0.99) - 1] * 1000, "unit": "ms"},
        {"name": "kafka.consume_msgs_per_s", "value": seen / consume_s, "unit": "msg/s"},
    ]


def mongo_figures(uri: str) -> list[dict]:
    client = MongoClient(uri)
    db = client[f"bench_{uuid.uuid4().hex[:8]}"]
    docs = [{"_id": str(uuid.uuid4()), "n": i, "body": "y" * 5000} for i in range(DOCS)]
    started = time.perf_counter()
    for doc in docs:
        db.docs.insert_one(doc)
    insert_s = time.perf_counter() - started
    started = time.perf_counter()
    for doc in docs:
        db.docs.find_one({"_id": doc["_id"]})
    find_s = time.perf_counter() - started
    client.drop_database(db.name)
    client.close()
    return [
        {"name": "mongo.insert_one_per_s", "value": DOCS / insert_s, "unit": "ops/s"},
        {"name": "mongo.find_one_by_id_per_s", "value": DOCS / find_s, "unit": "ops/s"},
    ]


def run(env: dict) -> list[dict]:
    return kafka_figures(env["kafka"]) + mongo_figures(env["mongodb"])
