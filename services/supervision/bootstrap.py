"""Composition root of the supervision service: the message bus with its handlers and their dependencies.

Real adapters are built only where the caller passed none; the database is reached on first use only."""
from __future__ import annotations

from collections.abc import Callable

from shared.bus import MessageBus
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore
from supervision.adapters.repository import MongoSupervisionUnitOfWork, ensure_indexes
from supervision.service_layer import handlers
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

SERVICE = "supervision"
COMMAND_HANDLERS: dict[type, Callable] = {}
EVENT_HANDLERS: dict[str, Callable] = {"public_notice.mine_listed": handlers.when_mine_listed}


def bootstrap(settings: Settings, store: ServiceStore | None = None, *,
              uow_factory: Callable[[], SupervisionUnitOfWork] | None = None,
              clock: Callable | None = None) -> MessageBus:
    if store is None and uow_factory is None:   # once: a store per unit of work re-reads every contract
        from shared.runtime import service_store

        store = service_store(settings, SERVICE)

    def default_uow() -> SupervisionUnitOfWork:
        return MongoSupervisionUnitOfWork(store)

    return MessageBus(uow_factory=uow_factory or default_uow, command_handlers=COMMAND_HANDLERS,
                      event_handlers=EVENT_HANDLERS, dependencies={"clock": clock or utcnow},
                      uow_for=lambda tx: MongoSupervisionUnitOfWork.within(store, tx))


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml). Called once
    when the consumer starts: the register's indexes are made then."""
    ensure_indexes(store.db)
    return bootstrap(settings, store).consumer_handlers()
