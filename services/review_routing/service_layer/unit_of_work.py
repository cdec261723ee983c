"""The review's unit-of-work port: the repositories a handler may use inside `uow.run(...)`.

Adapters: `adapters.unit_of_work.MongoReviewUnitOfWork` (MongoDB, one transaction with the outbox) and, for the
handler tests, `tests/unit/review_routing/fakes.py`. Repositories speak domain objects (`ReviewCase`,
`ReviewTask`) for the write model and plain documents for the read models (queue, audit, photos, reports).
A versioned save raises `shared.storage.ConcurrencyError` when the record changed meanwhile.
"""
from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass

from review_routing.domain.case import ReviewCase
from review_routing.domain.task import ReviewTask
from shared.aggregates import Aggregates  # the one generic repository port (shared/aggregates.py)
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class QueueQuery:
    """A department queue's filter (the read model `queue`); every given condition must hold."""
    department: str
    league: str | None = None
    county: str | None = None
    statuses: tuple[str, ...] | None = None     # None: any status
    due_from: str | None = None        # due_date >= (ISO date)
    due_until: str | None = None       # due_date <=
    due_before: str | None = None      # due_date <  (overdue)
    mine: str | None = None            # mine id, application id, or part of the mine's name


class CaseRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, application_id: str) -> ReviewCase | None: ...

    @abc.abstractmethod
    def get_many(self, application_ids: Iterable[str]) -> dict[str, ReviewCase]: ...

    @abc.abstractmethod
    def add_many(self, cases: list[ReviewCase]) -> None:
        """Insert new cases at their `version`."""

    @abc.abstractmethod
    def replace(self, case: ReviewCase, expected_version: int) -> None:
        """Store `case` at its `version` if the stored one is still at `expected_version`."""

    @abc.abstractmethod
    def save(self, case: ReviewCase) -> int:
        """Versioned save (the next version); sets and returns `case.version`."""

    @abc.abstractmethod
    def summaries(self, league: str | None, status: str | None) -> list[dict]:
        """Case documents without the assessments, by application id."""

    @abc.abstractmethod
    def decision_reasons(self, application_id: str, version_no: int) -> list[dict]:
        """The reasons of the decision on one version ([] if none)."""


class TaskRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, task_id: str) -> ReviewTask | None: ...

    @abc.abstractmethod
    def of_case(self, application_id: str, version_no: int | None = None) -> list[ReviewTask]:
        """By version number, then task id."""

    @abc.abstractmethod
    def add_many(self, tasks: list[ReviewTask]) -> None:
        """Insert new tasks at their `version`."""

    @abc.abstractmethod
    def save(self, task: ReviewTask) -> int:
        """Versioned save; sets and returns `task.version`."""

    @abc.abstractmethod
    def previous(self, application_id: str, department: str, version_no: int) -> ReviewTask | None:
        """The department's task on the latest earlier version."""

    @abc.abstractmethod
    def pending_due_before(self, day: str) -> list[str]:
        """Ids of open or claimed tasks without outcome whose due date is before `day`."""


class QueueRepository(abc.ABC):
    @abc.abstractmethod
    def get_many(self, task_ids: Iterable[str]) -> dict[str, dict]: ...

    @abc.abstractmethod
    def add_many(self, entries: list[dict]) -> None:
        """Insert new entries (an existing one fails the transaction)."""

    @abc.abstractmethod
    def replace_many(self, entries: list[dict]) -> None: ...

    @abc.abstractmethod
    def search(self, query: QueueQuery) -> list[dict]:
        """Matching entries by due date, then task id."""


class AuditLog(abc.ABC):
    """Insert-only: nothing updates or deletes an entry."""

    @abc.abstractmethod
    def add_many(self, entries: list[dict]) -> None: ...

    @abc.abstractmethod
    def entries(self, *, application_id: str | None = None, task_id: str | None = None,
                limit: int = 500) -> list[dict]:
        """Newest first."""


class PhotoRepository(abc.ABC):
    """The registered site-check photos (their bytes are in a file store, see `PhotoFiles`)."""

    @abc.abstractmethod
    def get(self, photo_id: str) -> dict | None: ...

    @abc.abstractmethod
    def of_task(self, task_id: str) -> list[dict]:
        """In upload order."""

    @abc.abstractmethod
    def ids_of_task(self, task_id: str) -> set[str]: ...

    @abc.abstractmethod
    def count_of_task(self, task_id: str) -> int: ...

    @abc.abstractmethod
    def add(self, photo: dict) -> None: ...


class SelfReports(abc.ABC):
    """The enterprise's self-assessment reports (from scoring), one per application version."""

    @abc.abstractmethod
    def put(self, application_id: str, version_no: int, report: dict, scored_at: str) -> None: ...

    @abc.abstractmethod
    def get(self, application_id: str, version_no: int) -> dict | None: ...


class PhotoFiles(abc.ABC):
    """Port: the photos' bytes. Not transactional: written before the registering transaction and deleted
    again if it fails."""

    @abc.abstractmethod
    def put(self, photo_id: str, filename: str, content_type: str, data: bytes) -> tuple[object, str]:
        """(file id, sha256 hex)."""

    @abc.abstractmethod
    def delete(self, file_id) -> None: ...

    @abc.abstractmethod
    def open(self, file_id):
        """A readable stream of the file."""


class ReviewUnitOfWork(UnitOfWork):
    """One atomic change of the review's state with its audit entries and events."""

    cases: CaseRepository
    tasks: TaskRepository
    queue: QueueRepository
    audit: AuditLog
    photos: PhotoRepository
    self_reports: SelfReports
    # The region stage (domain.region), one collection each:
    region_reviews: Aggregates       # RegionReview
    institutions: Aggregates         # EvaluationInstitution
    commissions: Aggregates          # Commission
    evaluations: Aggregates          # Evaluation
    check_rounds: Aggregates         # CheckRound
    draws: Aggregates                # DrawRecord
    re_evaluations: Aggregates       # ReEvaluation
