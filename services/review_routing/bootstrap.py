"""Composition root of the review_routing service: builds the message bus, with real adapters only where the
caller passed none, and the consumer's handlers.

Environment (besides the platform's, see docs/review-routing.md and `adapters/config.py`):
`GREENMINE_REVIEW_DEPARTMENT_DAYS`, `GREENMINE_REVIEW_LEAD_DAYS`, `GREENMINE_REVIEW_RECHECK_DAYS`,
`GREENMINE_REVIEW_DECISION_DAYS`, `GREENMINE_REVIEW_REMIND_EVERY_DAYS` (working days per step),
`GREENMINE_REVIEW_SWEEP_SECONDS` (overdue sweep interval), `GREENMINE_REVIEW_PHOTO_MAX_BYTES`.
"""
from __future__ import annotations

from review_routing.adapters import config, region_repository, repository
from review_routing.adapters.directory import IdentityDirectory
from review_routing.adapters.photos import PhotoStore
from review_routing.adapters.unit_of_work import MongoReviewUnitOfWork
from review_routing.domain import commands
from review_routing.domain.photos import PhotoPolicy
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar
from review_routing.service_layer import decisions, region, routing, sheets, sweep, tasks, views
from shared.bus import MessageBus
from shared.catalog import load_catalog
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging import Handler
from shared.runtime import service_store
from shared.scoring_client import ScoringClient
from shared.storage import ServiceStore, mongo_client
from shared.workdays import deadline_policy

SERVICE = "review_routing"
sweep_interval_s = config.sweep_interval_s

COMMAND_HANDLERS = {
    commands.ClaimTask: tasks.claim_task,
    commands.UnclaimTask: tasks.unclaim_task,
    commands.TransferTask: tasks.transfer_task,
    commands.RemindTask: tasks.remind_task,
    commands.GiveOpinion: tasks.give_opinion,
    commands.UploadPhoto: tasks.upload_photo,
    commands.OpenPhoto: tasks.open_photo,
    commands.ViewEvidence: tasks.view_evidence,
    commands.ViewCaseEvidence: tasks.view_case_evidence,
    commands.DecideCase: decisions.decide_case,
    commands.ShowCase: decisions.show_case,
    commands.SweepOverdue: sweep.sweep_overdue,
    commands.ShowQueue: views.show_queue,
    commands.ShowTask: views.show_task,
    commands.ListColleagues: views.list_colleagues,
    commands.ListCases: views.list_cases,
    commands.ShowAuditLog: views.show_audit_log,
    commands.PrintOpinionSheet: sheets.print_opinion_sheet,
    commands.PrintCountersignSheet: sheets.print_countersign_sheet,
    commands.PrintDecision: sheets.print_decision,
}
EVENT_HANDLERS = {
    "intake.application_submitted": routing.route_submission,
    "scoring.assessment_scored": routing.record_self_assessment,
}


REGION_COMMAND_HANDLERS, REGION_EVENT_HANDLERS = region.handlers()
COMMAND_HANDLERS.update(REGION_COMMAND_HANDLERS)
EVENT_HANDLERS.update(REGION_EVENT_HANDLERS)


def bootstrap(settings: Settings, store: ServiceStore | None = None, *, uow_factory=None, uow_for=None,
              scoring=None, directory=None, calendar: WorkingCalendar | None = None,
              policy: DeadlinePolicy | None = None, photo_policy: PhotoPolicy | None = None, photo_files=None,
              clock=None, catalogs=None, env=None) -> MessageBus:
    """The review's bus. Nothing here connects yet: the clients connect on first use. Tests pass
    `uow_factory` (a fake unit of work) and fakes of the other adapters."""
    if store is None and (uow_factory is None or photo_files is None):
        store = service_store(settings, SERVICE)
    if uow_factory is None:
        uow_factory = lambda: MongoReviewUnitOfWork(store)  # noqa: E731
        uow_for = uow_for or (lambda tx: MongoReviewUnitOfWork.within(store, tx))
    if scoring is None:
        scoring = ScoringClient(settings)
    if directory is None:
        directory = IdentityDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    dependencies = {
        "clock": clock or utcnow, "catalogs": catalogs or load_catalog, "calendar": calendar or WorkingCalendar(),
        "policy": policy or deadline_policy(env), "photo_policy": photo_policy or config.photo_policy(env),
        "photo_files": photo_files or PhotoStore(store.db), "directory": directory, "scoring": scoring,
    }
    return MessageBus(uow_factory=uow_factory, command_handlers=COMMAND_HANDLERS, event_handlers=EVENT_HANDLERS,
                      dependencies=dependencies, uow_for=uow_for)


def ensure_indexes(store: ServiceStore) -> None:
    store.ensure_indexes()
    repository.ensure_indexes(store.db)
    region_repository.ensure_indexes(store.db)


def event_handlers(bus: MessageBus) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml). Routing
    also offers `.batch(envelopes, tx)` to the batching consumer."""
    handlers = bus.consumer_handlers()
    deps = bus.dependencies
    uow_for = bus.uow_for
    handlers["intake.application_submitted"] = batchable(
        handlers["intake.application_submitted"],
        lambda envelopes, tx: routing.route_submissions(
            envelopes, uow_for(tx), catalogs=deps["catalogs"], calendar=deps["calendar"], policy=deps["policy"],
            clock=deps["clock"]))
    return handlers


def batchable(single: Handler, batch) -> Handler:
    """`single(envelope, tx)` offering `.batch(envelopes, tx)` to the batching consumer. The single form is
    what the consumer falls back to when a chunk fails."""
    def handler(envelope, tx):
        single(envelope, tx)

    handler.__name__ = getattr(single, "__name__", "handler")
    handler.batch = batch
    return handler
