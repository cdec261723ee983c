"""`python -m public_notice.entrypoints.consumer`: the public_notice service's Kafka consumer process.

Consumes the topics contracts/topics.yaml names for public_notice (the region stage's decisions and findings, and
every topic the notifications react to), and runs the sweep (`Sweep`: 公示 windows opening and closing,
deadlines passing) every GREENMINE_NOTICE_SWEEP_SECONDS in a second thread, and the delivery dispatcher
(`DispatchDue`: due emails and webhook calls, with retries) every GREENMINE_DELIVERY_POLL_SECONDS (default 2) in a
third, so a slow channel never holds the event flow."""
from __future__ import annotations

import logging
import os
import threading

from public_notice.bootstrap import SERVICE, bootstrap, ensure_indexes
from public_notice.domain.commands import Sweep
from shared.areas import sweep_forever
from shared.bus import MessageBus
from shared.config import Settings
from shared.logging import configure_logging
from shared.messaging import EventConsumer
from shared.runtime import service_store, stop_on_signals

log = logging.getLogger(__name__)


def sweep_interval_s() -> float:
    return float(os.environ.get("GREENMINE_NOTICE_SWEEP_SECONDS", "60"))


def deliver_forever(bus: MessageBus, stop: threading.Event, interval_s: float, limit: int = 50) -> None:
    """Send what is due; at once again while a round was full, else after `interval_s`."""
    from public_notice.service_layer.notifications.dispatch import DispatchDue

    while True:
        recorded = 0
        try:
            recorded = bus.handle(DispatchDue(limit=limit)) or 0
        except Exception:  # the database may be away for a while; try again next round
            log.exception("delivery dispatch failed")
        if stop.wait(0 if recorded >= limit else interval_s):
            return


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
                     name="notice-sweep").start()
    from public_notice.service_layer.notifications.dispatch import poll_seconds

    threading.Thread(target=deliver_forever, args=(bus, stop, poll_seconds()), daemon=True,
                     name="notice-deliveries").start()
    log.info("consuming %s", ", ".join(consumer.topics))
    consumer.run(stop)


if __name__ == "__main__":
    main()
