"""Composition root of the supervision service: the message bus with its handlers and their dependencies.

Handlers come from the areas of `service_layer/areas.py`. Real adapters are built only where the caller passed
none; the database is reached on first use only. Dependencies a handler may name: `clock` (aware UTC now),
`calendar` (shared.workdays.WorkingCalendar: the official calendar), `settings`."""
from __future__ import annotations

from collections.abc import Callable

from shared.bus import MessageBus
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore
from shared.workdays import WorkingCalendar
from supervision.adapters.repository import MongoSupervisionUnitOfWork, ensure_indexes
from supervision.service_layer import areas
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

SERVICE = "supervision"
COMMAND_HANDLERS, EVENT_HANDLERS = areas.handlers()


def bootstrap(settings: Settings, store: ServiceStore | None = None, *,
              uow_factory: Callable[[], SupervisionUnitOfWork] | None = None,
              clock: Callable | None = None, calendar: WorkingCalendar | None = None,
              **more_dependencies) -> MessageBus:
    """The bus. `more_dependencies` lets tests and the entrypoints pass further adapters by name."""
    if store is None and uow_factory is None:   # once: a store per unit of work re-reads every contract
        from shared.runtime import service_store

        store = service_store(settings, SERVICE)

    def default_uow() -> SupervisionUnitOfWork:
        return MongoSupervisionUnitOfWork(store)

    dependencies = {"clock": clock or utcnow, "calendar": calendar or WorkingCalendar(), "settings": settings,
                    **more_dependencies}
    return MessageBus(uow_factory=uow_factory or default_uow, command_handlers=COMMAND_HANDLERS,
                      event_handlers=EVENT_HANDLERS, dependencies=dependencies,
                      uow_for=lambda tx: MongoSupervisionUnitOfWork.within(store, tx))


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml). Called once
    when the consumer starts: the indexes are made then."""
    ensure_indexes(store.db)
    return bootstrap(settings, store).consumer_handlers()
