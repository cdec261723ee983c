"""Process entry helpers shared by the services: consumer and relay main loops, per-service readiness."""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from shared.config import Settings
from shared.contracts import ContractRegistry
from shared.logging import configure_logging
from shared.messaging import (
    EventConsumer,
    Handler,
    OutboxRelay,
    broker_cluster_id,
    ensure_topics,
    make_producer,
)
from shared.readiness import Readiness
from shared.storage import ServiceStore

log = logging.getLogger(__name__)


def service_store(settings: Settings, service: str, registry: ContractRegistry | None = None) -> ServiceStore:
    return ServiceStore.from_settings(settings, service, registry)


def service_readiness(settings: Settings, service: str) -> Readiness:
    """A service is ready when its database and broker answer and its consumer and relay are beating."""
    return Readiness(settings, service, store_factory=lambda: service_store(settings, service),
                     processes=(f"{service}-consumer", f"{service}-relay"))


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum, _frame):
        log.info("received signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def run_consumer(service: str, handlers_factory: Callable[[Settings, ServiceStore], dict[str, Handler]],
                 settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    configure_logging(f"{service}-consumer", settings.log_level)
    store = service_store(settings, service)
    store.ensure_indexes()
    consumer = EventConsumer(service, settings, store, handlers_factory(settings, store))
    log.info("consuming %s", ", ".join(consumer.topics))
    consumer.run(_stop_on_signals())


def run_relay(service: str, settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    configure_logging(f"{service}-relay", settings.log_level)
    store = service_store(settings, service)
    store.ensure_indexes()
    producer = make_producer(settings)
    try:
        relay = OutboxRelay(store, producer, cluster_id=broker_cluster_id(settings),
                            on_new_broker=lambda: ensure_topics(settings, store.registry))
        relay.run(_stop_on_signals())
    finally:
        producer.close(timeout=5)
