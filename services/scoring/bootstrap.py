"""Composition root of the scoring service: the message bus with its handlers and their dependencies.

Real adapters are built only where the caller passed none, so tests hand in fakes the same way. The database
is reached on first use only: an app that only scores never needs it.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from scoring.adapters.repository import MongoScoringUnitOfWork
from scoring.domain.commands import EvaluateAssessment, RecordAssessment
from scoring.service_layer.handlers import (
    evaluate_assessment,
    record_assessment,
    when_application_submitted_score_self_assessment,
)
from scoring.service_layer.unit_of_work import ScoringUnitOfWork
from shared.bus import MessageBus
from shared.catalog import load_catalog
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore

SERVICE = "scoring"
COMMAND_HANDLERS = {EvaluateAssessment: evaluate_assessment, RecordAssessment: record_assessment}
EVENT_HANDLERS = {"intake.application_submitted": when_application_submitted_score_self_assessment}


class LazyStore:
    """The service's store, opened on the first transaction (not when the app or the bus is built)."""

    def __init__(self, settings: Settings, store: ServiceStore | None = None):
        self.settings = settings
        self._store = store

    def get(self) -> ServiceStore:
        if self._store is None:
            from shared.runtime import service_store

            self._store = service_store(self.settings, SERVICE)
        return self._store

    def transaction(self, work):
        return self.get().transaction(work)


def bootstrap(settings: Settings, store: ServiceStore | LazyStore | None = None, *,
              uow_factory: Callable[[], ScoringUnitOfWork] | None = None, catalogs: Callable | None = None,
              clock: Callable | None = None, new_id: Callable[[], str] | None = None) -> MessageBus:
    lazy = store if isinstance(store, LazyStore) else LazyStore(settings, store)
    dependencies: dict[str, Any] = {
        "catalogs": catalogs or load_catalog,
        "clock": clock or utcnow,
        "new_id": new_id or (lambda: str(uuid.uuid4())),
    }
    return MessageBus(
        uow_factory=uow_factory or (lambda: MongoScoringUnitOfWork(lazy)),
        command_handlers=COMMAND_HANDLERS, event_handlers=EVENT_HANDLERS, dependencies=dependencies,
        uow_for=lambda tx: MongoScoringUnitOfWork.within(lazy, tx))


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for the scoring consumer (see contracts/topics.yaml)."""
    return bootstrap(settings, store).consumer_handlers()
