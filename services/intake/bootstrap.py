"""Composition root of the intake service: builds adapters only where the caller passed none."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore

log = logging.getLogger(__name__)


def build_service(settings: Settings, store: ServiceStore | None = None, *, files=None, scoring=None,
                  clock: Callable[[], datetime] | None = None, ensure_indexes: bool = True):
    """The intake use cases wired to MongoDB (+ GridFS) and the scoring service over HTTP."""
    from intake.adapters import mongo
    from intake.adapters.files import AttachmentFiles
    from intake.adapters.scoring_client import ScoringClient
    from intake.service_layer.handlers import IntakeService, utcnow
    from shared.runtime import service_store

    store = store or service_store(settings, "intake")
    if ensure_indexes:
        store.ensure_indexes()
        mongo.ensure_indexes(store.db)
    files = files or AttachmentFiles(store.db, settings.upload_max_bytes)
    scoring = scoring or ScoringClient(settings)
    return IntakeService(store, files, scoring, clock=clock or utcnow)


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml)."""
    service = build_service(settings, store)
    return {
        "scoring.assessment_scored": service.on_assessment_scored,
        "review_routing.case_routed": service.on_case_routed,
        "review_routing.initial_review_decided": service.on_initial_review_decided,
    }
