"""Composition root of the public_notice service: the message bus with its handlers and their dependencies.

Real adapters are built only where the caller passed none; the database is reached on first use only."""
from __future__ import annotations

from collections.abc import Callable

from public_notice.adapters.repository import MongoPublicNoticeUnitOfWork
from public_notice.service_layer import handlers
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork
from shared.bus import MessageBus
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore

SERVICE = "public_notice"
COMMAND_HANDLERS: dict[type, Callable] = {}
EVENT_HANDLERS: dict[str, Callable] = {
    "review_routing.misconduct_found": handlers.when_misconduct_found,
}


def bootstrap(settings: Settings, store: ServiceStore | None = None, *,
              uow_factory: Callable[[], PublicNoticeUnitOfWork] | None = None,
              clock: Callable | None = None) -> MessageBus:
    def default_uow() -> PublicNoticeUnitOfWork:
        from shared.runtime import service_store

        return MongoPublicNoticeUnitOfWork(store or service_store(settings, SERVICE))

    return MessageBus(uow_factory=uow_factory or default_uow, command_handlers=COMMAND_HANDLERS,
                      event_handlers=EVENT_HANDLERS, dependencies={"clock": clock or utcnow},
                      uow_for=lambda tx: MongoPublicNoticeUnitOfWork.within(store, tx))


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml)."""
    return bootstrap(settings, store).consumer_handlers()
