"""Machine-independent figures beside the timings (issue 14 item 1): database round trips and documents written
(shared/db_work.py, dumped by the processes under test) and Kafka messages produced, per application."""
from __future__ import annotations

import time
from pathlib import Path

from shared import db_work


class WorkMeter:
    """Reads what the processes under test asked of MongoDB and what landed on the run's Kafka topics."""

    def __init__(self, settings, dump_dir: Path):
        self.settings, self.dump_dir = settings, dump_dir

    def reading(self) -> dict:
        time.sleep(db_work.DUMP_EVERY_S * 1.5)   # every process has dumped since the last thing happened
        dumps = db_work.read_dumps(self.dump_dir).values()
        return {"round_trips": db_work.total(dumps, "round_trips"),
                "documents_written": db_work.total(dumps, "documents_written"),
                "kafka_messages": self.kafka_messages()}

    def kafka_messages(self) -> int:
        """Messages on every topic of this run (its topic prefix): the sum of the partitions' end offsets."""
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap_servers.split(","))
        try:
            prefix = self.settings.topic_prefix
            partitions = [TopicPartition(topic, p) for topic in consumer.topics() if topic.startswith(prefix)
                          for p in (consumer.partitions_for_topic(topic) or ())]
            return sum(consumer.end_offsets(partitions).values()) if partitions else 0
        finally:
            consumer.close()

    @staticmethod
    def per_application(group: str, before: dict, after: dict, applications: int) -> list[dict]:
        return [{"name": f"{group}.{key}_per_application", "value": (after[key] - before[key]) / applications,
                 "unit": "count"} for key in ("round_trips", "documents_written", "kafka_messages")]
