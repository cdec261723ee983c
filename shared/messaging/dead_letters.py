"""Reading a topic whole, the dead letters of a service and replaying them to that service alone."""
from __future__ import annotations

import json
import logging
import time

from kafka import TopicPartition

from shared.config import Settings
from shared.contracts import ContractRegistry
from shared.messaging.clients import RETRY_TOPIC_PATTERN, make_consumer, make_producer

log = logging.getLogger(__name__)


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
