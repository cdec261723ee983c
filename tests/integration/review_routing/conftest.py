"""Fixtures: the review service on real servers (see review_harness)."""
from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path

import pytest

# --import-mode=importlib: put the uniquely named helper modules on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "review_routing"))

from review_harness import Clock, CountingConsumer, Harness, add_users, start_scoring  # noqa: E402

from review_routing.bootstrap import bootstrap, ensure_indexes, event_handlers  # noqa: E402
from review_routing.entrypoints.http import create_app  # noqa: E402
from shared.catalog import load_catalog  # noqa: E402
from shared.messaging import OutboxRelay, ensure_topics, make_producer  # noqa: E402
from shared.runtime import service_store  # noqa: E402
from shared.storage import mongo_client  # noqa: E402


@pytest.fixture
def review(settings, registry):
    ensure_topics(settings, registry)
    scoring_server, scoring_url = start_scoring(settings)
    settings = dataclasses.replace(settings, service_urls={**settings.service_urls, "scoring": scoring_url})
    store = service_store(settings, "review_routing")
    ensure_indexes(store)
    identity_db = mongo_client(settings.mongodb_uri)[settings.database_name("identity")]
    add_users(identity_db)
    clock = Clock()
    bus = bootstrap(settings, store, clock=clock)
    app = create_app(settings, bus)
    consumer = CountingConsumer("review_routing", settings, store, event_handlers(bus))
    relay = OutboxRelay(store, make_producer(settings))
    stop = threading.Event()
    threads = [threading.Thread(target=consumer.run, args=(stop,), daemon=True, name="review-consumer"),
               threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_sleep_s": 0.05}, daemon=True,
                                name="review-relay")]
    for thread in threads:
        thread.start()
    producer = make_producer(settings)
    harness = Harness(settings, store, bus, clock, app, consumer, producer, identity_db)
    try:
        yield harness
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        relay.producer.close(timeout=5)
        producer.close(timeout=5)
        scoring_server.shutdown()


@pytest.fixture(scope="session")
def catalog():
    return load_catalog("nm-2025")
