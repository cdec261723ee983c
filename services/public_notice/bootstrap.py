"""Composition root of the public_notice service: the message bus with its handlers and their dependencies.

Handlers come from the areas of `service_layer/areas.py`. Real adapters are built only where the caller passed
none; the database is reached on first use only. Dependencies a handler may name:
`clock` (aware UTC now), `calendar` (shared.workdays.WorkingCalendar: the official calendar), `directory`
(user accounts, adapters/directory.py), `settings` (public URL, SMTP and webhook settings from the environment).
"""
from __future__ import annotations

from collections.abc import Callable

from public_notice.adapters.repository import MongoPublicNoticeUnitOfWork, ensure_indexes  # noqa: F401
from public_notice.service_layer import areas
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork
from shared.bus import MessageBus
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore
from shared.workdays import WorkingCalendar

SERVICE = "public_notice"


def bootstrap(settings: Settings, store: ServiceStore | None = None, *,
              uow_factory: Callable[[], PublicNoticeUnitOfWork] | None = None,
              clock: Callable | None = None, calendar: WorkingCalendar | None = None,
              directory=None, **more_dependencies) -> MessageBus:
    """The bus. `more_dependencies` lets tests and the entrypoints pass further adapters by name (e.g. the
    evidence file store, the mail and webhook senders) that an area's handlers ask for."""
    if store is None and uow_factory is None:   # once: a store per unit of work re-read every contract (160 ms)
        from shared.runtime import service_store

        store = service_store(settings, SERVICE)

    def default_uow() -> PublicNoticeUnitOfWork:
        return MongoPublicNoticeUnitOfWork(store)

    def identity_directory():
        from public_notice.adapters.directory import IdentityDirectory
        from shared.storage import mongo_client

        return IdentityDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])

    commands, events = areas.handlers()
    dependencies = {"clock": clock or utcnow, "calendar": calendar or WorkingCalendar(), "settings": settings,
                    "directory": directory if directory is not None else _Lazy(identity_directory),
                    "senders": Senders(settings), **more_dependencies}
    return MessageBus(uow_factory=uow_factory or default_uow, command_handlers=commands,
                      event_handlers=events, dependencies=dependencies,
                      uow_for=lambda tx: MongoPublicNoticeUnitOfWork.within(store, tx))


class _Lazy:
    """An adapter built on first use (the web app starts before the database answers)."""

    def __init__(self, build: Callable):
        self._build, self._target = build, None

    def __getattr__(self, name):
        if self._target is None:
            self._target = self._build()
        return getattr(self._target, name)


class Senders(dict):
    """Channel → sender for the dispatcher (`notifications.dispatch`), each built on first use: "webhook" the
    signed HTTP sender, "email" helper D1's SmtpSender (imported lazily; a channel whose adapter is missing or
    cannot be built is absent, and its deliveries wait). Tests pass `senders={...}` to bootstrap instead."""

    def __init__(self, settings: Settings):
        super().__init__()
        self._settings, self._failed = settings, set()

    def get(self, channel, default=None):
        if channel not in self:
            sender = None if channel in self._failed else self._build(channel)
            if sender is None:
                return default
            self[channel] = sender
        return self[channel]

    def __missing__(self, channel):
        sender = self.get(channel)
        if sender is None:
            raise KeyError(channel)
        return sender

    def _build(self, channel):
        import logging

        try:
            if channel == "webhook":
                from public_notice.adapters.webhook_sender import WebhookSender

                return WebhookSender()
            if channel == "email":
                from public_notice.adapters.smtp import SmtpSender

                return SmtpSender(self._settings)
        except Exception:  # a missing adapter or bad settings: that channel waits, the others go on
            logging.getLogger(__name__).exception("no sender for channel %s", channel)
        self._failed.add(channel)
        return None


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml)."""
    return bootstrap(settings, store).consumer_handlers()
