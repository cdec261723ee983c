"""A consumer or relay process the crash tests can kill at the worst moment.

    python platform_process.py consumer SETTINGS_JSON [--crash-before-commit]
    python platform_process.py relay SETTINGS_JSON [--crash-before-publish | --crash-after-publish]

The crash points are injected here, in the test harness, by overriding one step of the real classes, so the
production code carries no fault hooks.
"""
from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from shared.config import Settings  # noqa: E402
from shared.contracts import ContractRegistry  # noqa: E402
from shared.messaging import EventConsumer, OutboxRelay, make_producer  # noqa: E402
from shared.storage import ServiceStore, mongo_client  # noqa: E402

CONTRACTS = [ROOT / "contracts", ROOT / "tests" / "fixtures" / "contracts"]


def count_probe(envelope, tx):
    """The effect under test: add n to a counter, remember which event did it."""
    tx.db["counters"].update_one({"_id": "probe"}, {"$inc": {"total": envelope["payload"]["n"], "events": 1}},
                                 upsert=True, session=tx.session)
    tx.db["effects"].insert_one({"event_id": envelope["event_id"]}, session=tx.session)


def main() -> None:
    kind, settings_json, *flags = sys.argv[1:]
    settings = Settings.from_env(json.loads(settings_json))
    registry = ContractRegistry(CONTRACTS)
    if kind == "consumer":
        store = ServiceStore(mongo_client(settings.mongodb_uri), settings.database_name("scoring"), registry,
                             "scoring", settings.topic_prefix)
        store.ensure_indexes()
        consumer = EventConsumer("scoring", settings, store, {"test.probe_recorded": count_probe})
        if "--crash-before-commit" in flags:
            def crash():
                print("CRASHING before commit", flush=True)
                os._exit(17)

            consumer._commit = crash
        consumer.run(threading.Event())
    elif kind == "relay":
        store = ServiceStore(mongo_client(settings.mongodb_uri), settings.database_name("intake"), registry,
                             "intake", settings.topic_prefix)
        producer = make_producer(settings)
        if "--crash-before-publish" in flags:
            def crash_send(*args, **kwargs):
                print("CRASHING before publish", flush=True)
                os._exit(18)

            producer.send = crash_send
        if "--crash-after-publish" in flags:
            real_db = store.db

            class OutboxThatDiesWhenMarking:
                def find(self, *args, **kwargs):
                    return real_db["outbox"].find(*args, **kwargs)

                def update_many(self, *args, **kwargs):
                    print("CRASHING after publish, before marking", flush=True)
                    os._exit(19)

            class Database:
                def __getitem__(self, name):
                    return OutboxThatDiesWhenMarking() if name == "outbox" else real_db[name]

            store.db = Database()
        OutboxRelay(store, producer).run(threading.Event())
    else:
        raise SystemExit(f"unknown process kind {kind}")


if __name__ == "__main__":
    main()
