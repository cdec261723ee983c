"""`python -m supervision.entrypoints.consumer`: the supervision service's Kafka consumer process.

Consumes the topics contracts/topics.yaml names for supervision (the green-mine list, intake's mine register) and
runs the sweep (`Sweep`: the daily triggers on the official calendar, deadlines passing) every
GREENMINE_SUPERVISION_SWEEP_SECONDS (default 300) in a second thread."""
from __future__ import annotations

import logging
import os
import threading

from shared.areas import sweep_forever
from shared.config import Settings
from shared.logging import configure_logging
from shared.messaging import EventConsumer
from shared.runtime import service_store, stop_on_signals
from supervision.bootstrap import SERVICE, bootstrap, ensure_indexes
from supervision.domain.commands import Sweep

log = logging.getLogger(__name__)


def sweep_interval_s() -> float:
    return float(os.environ.get("GREENMINE_SUPERVISION_SWEEP_SECONDS", "300"))


def main(settings: Settings | None = None, stop: threading.Event | None = None) -> None:
    settings = settings or Settings.from_env()
    configure_logging(f"{SERVICE}-consumer", settings.log_level)
    store = service_store(settings, SERVICE)
    store.ensure_indexes()
    ensure_indexes(store.db)
    bus = bootstrap(settings, store)
    consumer = EventConsumer(SERVICE, settings, store, bus.consumer_handlers())
    stop = stop or stop_on_signals()
    threading.Thread(target=sweep_forever, args=(bus, Sweep(), stop, sweep_interval_s()), daemon=True,
                     name="supervision-sweep").start()
    log.info("consuming %s", ", ".join(consumer.topics))
    consumer.run(stop)


if __name__ == "__main__":
    main()
