"""The unit of work intake's handlers use, and the repositories it hands out (ports; Mongo adapters in
``intake.adapters``, in-memory fakes in the tests).

Inside ``uow.run(work)`` the repositories share one transaction with the outbox (``uow.publish``); inside
``uow.read(work)`` they read the latest committed data without a transaction (queries and the look-ups done
before a call to another service)."""
from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from intake.domain.application import Application, ApplicationVersion
from intake.domain.mine import Mine
from shared.unit_of_work import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """The records a principal may list: one enterprise's, one 盟市's, or (both None) everything."""

    credit_code: str | None = None
    league: str | None = None


class DuplicateMine(Exception):
    """A mine with the same 采矿许可证证号 is already registered (``existing``: its stored document, may be empty)."""

    def __init__(self, existing: dict):
        self.existing = existing
        super().__init__(existing.get("_id"))


class MineRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, mine_id: str) -> tuple[Mine, dict] | None:
        """The mine and its stored document (``version``, ``created_at`` …)."""

    @abc.abstractmethod
    def list(self, scope: Scope) -> list[tuple[Mine, dict]]:
        """Oldest first."""

    @abc.abstractmethod
    def add(self, mine: Mine, actor: str, now: datetime) -> dict:
        """Insert; raises DuplicateMine."""

    @abc.abstractmethod
    def save(self, mine: Mine, previous: dict, actor: str, now: datetime) -> dict:
        """Replace the version read as ``previous``; raises DuplicateMine (or a conflict if it changed)."""


class ApplicationRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, app_id: str) -> tuple[Application, dict] | None:
        """The aggregate with all its versions, and its stored document (listing fields)."""

    @abc.abstractmethod
    def version(self, app_id: str, number: int) -> ApplicationVersion | None: ...

    @abc.abstractmethod
    def list(self, scope: Scope, status: str | None = None, mine_id: str | None = None) -> list[dict]:
        """Listing documents (without the draft assessment), newest first."""

    @abc.abstractmethod
    def open_for_mine(self, mine_id: str, closed: tuple[str, ...]) -> dict | None:
        """An application of the mine whose status is not in ``closed``."""

    @abc.abstractmethod
    def save(self, app: Application, listing: dict[str, Any]) -> None:
        """Insert or update (new versions inserted, a version's report written once)."""

    @abc.abstractmethod
    def follow_mine(self, mine_id: str, listing: dict[str, Any]) -> None:
        """Copy a mine's listing fields (name, 盟市 …) onto its applications."""


class CaseNumbers(abc.ABC):
    """The per-盟市-per-year sequences of 办件编号 (``intake.domain.case_numbers``)."""

    @abc.abstractmethod
    def next(self, key: str) -> int:
        """The next number of the sequence ``key`` (1 for a new one), counted within the transaction: a
        submission that is rolled back gives its number back."""


class AuditLog(abc.ABC):
    @abc.abstractmethod
    def record(self, *, actor: dict, action: str, subject_type: str, subject_id: str, detail: dict | None = None,
               at: datetime | None = None) -> None: ...

    @abc.abstractmethod
    def for_subject(self, subject_id: str) -> list[dict]: ...


class IntakeUnitOfWork(UnitOfWork):
    mines: MineRepository
    applications: ApplicationRepository
    case_numbers: CaseNumbers
    audit: AuditLog

    @abc.abstractmethod
    def publish_events(self, app: Application) -> None:
        """Publish, with the change, the contract events of the aggregate's new domain events (drained from it)."""

    @abc.abstractmethod
    def publish_mine(self, mine: Mine, *, register_version: int, change: str, recorded_on: date, at: datetime,
                     before: Mine | None = None) -> None:
        """Publish, with the change, ``intake.mine_recorded``: the register entry as it now stands (``change``
        registered | updated | imported; ``before``, for an update, tells which fields changed)."""
