"""Composition root of the scoring service."""
from __future__ import annotations

from scoring.service_layer.handlers import when_application_submitted_score_self_assessment
from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for the scoring consumer (see contracts/topics.yaml)."""
    return {"intake.application_submitted": when_application_submitted_score_self_assessment}
