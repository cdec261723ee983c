"""The count of what a process asks of MongoDB (shared/db_work.py), on a real MongoDB-wire server: every command is
one round trip, documents written are the server's own counts, and the web apps show them on /metrics."""
from __future__ import annotations

import time

import pytest

from shared import db_work
from shared.storage import mongo_client

pytestmark = pytest.mark.integration


def test_round_trips_and_documents_written_are_counted_per_command(settings):
    collection = mongo_client(settings.mongodb_uri)[settings.database_name("dbwork")]["things"]
    before = db_work.WORK.snapshot()
    collection.insert_many([{"_id": n, "n": n} for n in range(3)])
    collection.update_many({"n": {"$gte": 1}}, {"$set": {"seen": True}})
    collection.update_one({"_id": 9}, {"$set": {"n": 9}}, upsert=True)
    collection.update_one({"_id": 0}, {"$set": {"n": 0}})          # matched, not modified: nothing written
    collection.find_one_and_update({"_id": 1}, {"$set": {"n": 10}})
    list(collection.find({}))
    collection.delete_many({"n": {"$gte": 9}})
    after = db_work.WORK.snapshot()

    def delta(kind, command):
        return after[kind].get(command, 0) - before[kind].get(command, 0)

    assert [delta("round_trips", c) for c in ("insert", "update", "findAndModify", "find", "delete")] == [1, 3, 1, 1, 1]
    assert [delta("documents_written", c) for c in ("insert", "update", "findAndModify", "delete")] == [3, 3, 1, 2]


def test_a_process_asked_to_dumps_its_counts_and_web_apps_expose_them(settings, tmp_path, monkeypatch):
    db_work._start_dump(str(tmp_path))
    mongo_client(settings.mongodb_uri)[settings.database_name("dbwork")]["things"].insert_one({"k": 1})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        dumps = db_work.read_dumps(tmp_path)
        if dumps and db_work.total(dumps.values(), "documents_written") >= 1:
            break
        time.sleep(0.2)
    assert db_work.total(dumps.values(), "round_trips") >= 1

    from prometheus_client import CollectorRegistry, generate_latest
    registry = CollectorRegistry()
    registry.register(db_work.WorkCollector())
    text = generate_latest(registry).decode()
    assert 'greenmine_db_round_trips_total{command="insert"}' in text
    assert 'greenmine_db_documents_written_total{command="insert"}' in text
