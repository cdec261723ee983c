"""Composition root of the intake service: the message bus with its handlers, wired to MongoDB (+ GridFS) and
the scoring service over HTTP, building real adapters only where the caller passed none."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake.domain import commands as c
from intake.service_layer import applications, mines, publicity, region, submission, views
from shared.bus import MessageBus
from shared.config import Settings
from shared.messaging import Handler
from shared.storage import ServiceStore

log = logging.getLogger(__name__)

COMMAND_HANDLERS = {
    c.RegisterMine: mines.register_mine,
    c.UpdateMine: mines.update_mine,
    c.StartApplication: applications.start_application,
    c.EditDraft: applications.edit_draft,
    c.AddAttachment: applications.add_attachment,
    c.RemoveAttachment: applications.remove_attachment,
    c.OpenAttachment: applications.open_attachment,
    c.SubmitApplication: submission.submit,
    c.ListMines: views.list_mines,
    c.GetMine: views.get_mine,
    c.ListApplications: views.list_applications,
    c.GetApplication: views.get_application,
    c.GetVersion: views.get_version,
    c.GetAuditTrail: views.audit_trail,
    c.GetScoreSheet: views.score_sheet,
    c.GetReceipt: views.receipt,
    c.ImportMine: mines.import_mine,
    c.ImportDraft: applications.import_draft,
}

EVENT_HANDLERS = {
    "scoring.assessment_scored": submission.on_assessment_scored,
    "review_routing.case_routed": submission.on_case_routed,
    "review_routing.initial_review_decided": submission.on_initial_review_decided,
    **region.EVENT_HANDLERS,
    **publicity.EVENT_HANDLERS,
}


@dataclass
class Intake:
    """The wired service: its bus, and the store and file store behind it (for operators and tests)."""

    bus: MessageBus
    store: ServiceStore
    files: Any

    @property
    def db(self):
        return self.store.db

    def handle(self, command):
        return self.bus.handle(command)


def bootstrap(settings: Settings, store: ServiceStore | None = None, *, files=None, scoring=None,
              clock: Callable[[], datetime] | None = None, catalogs=None, ensure_indexes: bool = True,
              calendar=None, deadlines=None) -> Intake:
    from intake.adapters import mongo
    from intake.adapters.files import AttachmentFiles
    from shared.catalog import load_catalog
    from shared.clock import utcnow
    from shared.runtime import service_store
    from shared.scoring_client import ScoringClient
    from shared.workdays import WorkingCalendar, deadline_policy

    store = store or service_store(settings, "intake")
    if ensure_indexes:
        store.ensure_indexes()
        mongo.ensure_indexes(store.db)
    files = files or AttachmentFiles(store.db, settings.upload_max_bytes)
    bus = MessageBus(
        uow_factory=lambda: mongo.MongoIntakeUnitOfWork(store),
        uow_for=lambda tx: mongo.MongoIntakeUnitOfWork.within(store, tx),
        command_handlers=COMMAND_HANDLERS,
        event_handlers=EVENT_HANDLERS,
        dependencies={"clock": clock or utcnow, "files": files, "scoring": scoring or ScoringClient(settings),
                      "catalogs": catalogs or load_catalog, "calendar": calendar or WorkingCalendar(),
                      # the review's step lengths (GREENMINE_REVIEW_*_DAYS): the receipt promises its deadline
                      "deadlines": deadlines or deadline_policy()},
    )
    return Intake(bus, store, files)


def event_handlers(settings: Settings, store: ServiceStore) -> dict[str, Handler]:
    """Event type -> handler(envelope, tx) for this service's consumer (see contracts/topics.yaml)."""
    return bootstrap(settings, store).bus.consumer_handlers()
