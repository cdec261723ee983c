"""`python -m review_routing.entrypoints.consumer`: the review_routing service's Kafka consumer process.

Consumes intake.application.events (routing), scoring.assessment.events (self-assessment reports) and every
department topic review_routing.tasks.<department> (the department queues), and runs the overdue sweep
(every GREENMINE_REVIEW_SWEEP_SECONDS, on working days) in a second thread. Records are handled in chunks,
one transaction per chunk (adapters/batching.py), with the platform's guarantees.
"""
from __future__ import annotations

import logging
import signal
import threading

from review_routing.adapters.batching import BatchingConsumer
from review_routing.bootstrap import SERVICE, bootstrap, ensure_indexes, event_handlers, sweep_interval_s
from review_routing.domain.commands import SweepOverdue
from shared.bus import MessageBus
from shared.config import Settings
from shared.logging import configure_logging
from shared.runtime import service_store

log = logging.getLogger(__name__)


def sweep_forever(bus: MessageBus, stop: threading.Event, interval_s: float) -> None:
    while not stop.wait(interval_s):
        try:
            sent = bus.handle(SweepOverdue())
            if sent:
                log.info("overdue sweep sent %d events", sent)
        except Exception:  # the database may be away for a while; try again next round
            log.exception("overdue sweep failed")


def main(settings: Settings | None = None, stop: threading.Event | None = None) -> None:
    settings = settings or Settings.from_env()
    configure_logging(f"{SERVICE}-consumer", settings.log_level)
    store = service_store(settings, SERVICE)
    ensure_indexes(store)
    bus = bootstrap(settings, store)
    consumer = BatchingConsumer(SERVICE, settings, store, event_handlers(bus))
    if stop is None:
        stop = threading.Event()

        def handler(signum, _frame):
            log.info("received signal %s, stopping", signum)
            stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
    sweeper = threading.Thread(target=sweep_forever, args=(bus, stop, sweep_interval_s()), daemon=True,
                               name="overdue-sweep")
    sweeper.start()
    log.info("consuming %s", ", ".join(consumer.topics))
    consumer.run(stop)


if __name__ == "__main__":
    main()
