"""Composition root of the review_routing service: builds adapters only where the caller passed none.

Environment (besides the platform's, see docs/review-routing.md):
`GREENMINE_REVIEW_DEPARTMENT_DAYS`, `GREENMINE_REVIEW_LEAD_DAYS`, `GREENMINE_REVIEW_RECHECK_DAYS`,
`GREENMINE_REVIEW_DECISION_DAYS`, `GREENMINE_REVIEW_REMIND_EVERY_DAYS` (working days per step),
`GREENMINE_REVIEW_SWEEP_SECONDS` (overdue sweep interval), `GREENMINE_REVIEW_PHOTO_MAX_BYTES`.
"""
from __future__ import annotations

import os

from shared.config import Settings
from shared.messaging import Handler
from shared.runtime import service_store
from shared.storage import ServiceStore, mongo_client

from review_routing.adapters import repository
from review_routing.adapters.directory import IdentityDirectory
from review_routing.adapters.scoring_client import ScoringClient
from review_routing.domain.photos import PhotoPolicy
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar
from review_routing.service_layer.handlers import TASK_EVENT_TYPES, ReviewService

SERVICE = "review_routing"


def build_service(settings: Settings, store: ServiceStore | None = None, *, scorer=None, directory=None,
                  calendar: WorkingCalendar | None = None, policy: DeadlinePolicy | None = None,
                  photo_policy: PhotoPolicy | None = None, clock=None, env=None) -> ReviewService:
    env = os.environ if env is None else env
    store = store or service_store(settings, SERVICE)
    if scorer is None:
        scorer = ScoringClient(settings.service_urls.get("scoring"))
    if directory is None:
        directory = IdentityDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    options = {"clock": clock} if clock is not None else {}
    return ReviewService(store, calendar=calendar or WorkingCalendar(), policy=policy or DeadlinePolicy.from_env(env),
                         photo_policy=photo_policy or PhotoPolicy.from_env(env), directory=directory,
                         scorer=scorer, **options)


def ensure_indexes(store: ServiceStore) -> None:
    store.ensure_indexes()
    repository.ensure_indexes(store.db)


def event_handlers(settings: Settings, store: ServiceStore, service: ReviewService | None = None
                   ) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml)."""
    service = service or build_service(settings, store)
    # One handler object for every task event type, so that a chunk's task events are projected together.
    task_events = batchable(service.on_task_events,
                            lambda envelopes, tx: service.on_task_events(envelopes, tx, assume_new_assignments=True))
    handlers: dict[str, Handler] = {
        "intake.application_submitted": batchable(service.on_applications_submitted),
        "scoring.assessment_scored": service.on_assessment_scored,
    }
    for event_type in TASK_EVENT_TYPES:
        handlers[event_type] = task_events
    return handlers


def batchable(careful, fast=None) -> Handler:
    """A handler(envelope, tx) that also offers `.batch(envelopes, tx)` to the batching consumer. The single
    form (`careful`) is what the consumer falls back to when a chunk fails."""
    def handler(envelope, tx):
        careful([envelope], tx)

    handler.batch = fast or careful
    return handler


def sweep_interval_s(env=None) -> float:
    env = os.environ if env is None else env
    raw = env.get("GREENMINE_REVIEW_SWEEP_SECONDS", "")
    try:
        return max(1.0, float(raw)) if raw else 60.0
    except ValueError:
        raise ValueError(f"环境变量 GREENMINE_REVIEW_SWEEP_SECONDS 应为秒数,实为 {raw!r}") from None
