"""Composition root of the public_notice service: builds adapters only where the caller passed none."""
from __future__ import annotations

from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml)."""
    return {}
