"""Process entry helpers shared by the services: consumer and relay main loops, per-service readiness, and the
liveness check of consumers and relays (`python -m shared.runtime alive --max-age 120`, the orchestrator's
probe: exit 0 when the loop touched GREENMINE_LIVENESS_FILE recently, 1 otherwise)."""
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
    """A service is ready when its database and broker answer and its consumer and relay are beating. A store per
    probe costs nothing: the client is one per URI and the contracts one per process (`ContractRegistry.of`)."""
    return Readiness(settings, service, store_factory=lambda: service_store(settings, service),
                     processes=(f"{service}-consumer", f"{service}-relay"))


def stop_on_signals() -> threading.Event:
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
    consumer.run(stop_on_signals())


def run_relay(service: str, settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    configure_logging(f"{service}-relay", settings.log_level)
    store = service_store(settings, service)
    store.ensure_indexes()
    relay = OutboxRelay(store, make_producer(settings), cluster_id=broker_cluster_id(settings),
                        on_new_broker=lambda: ensure_topics(settings, store.registry),
                        producer_factory=lambda: make_producer(settings))
    try:
        relay.run(stop_on_signals())
    finally:
        relay.producer.close(timeout=5)


def alive(path: str, max_age_s: float) -> tuple[bool, str]:
    """Whether the liveness file was touched within `max_age_s` seconds."""
    import os
    import time

    try:
        age = time.time() - os.path.getmtime(path)
    except OSError as exc:
        return False, f"no liveness file {path}: {exc.strerror}"
    return age <= max_age_s, f"liveness file touched {age:.0f}s ago (at most {max_age_s:.0f}s)"


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    from shared.messaging import LIVENESS_FILE_ENV

    parser = argparse.ArgumentParser(prog="python -m shared.runtime")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("alive", help="exit 0 when the consumer's or relay's loop is turning")
    check.add_argument("--file", default=os.environ.get(LIVENESS_FILE_ENV, "/tmp/greenmine-alive"))
    check.add_argument("--max-age", type=float, default=120.0)
    args = parser.parse_args(argv)
    ok, detail = alive(args.file, args.max_age)
    print(detail)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
