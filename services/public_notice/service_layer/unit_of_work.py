"""The public_notice service's unit-of-work port: the repositories its handlers may use inside `uow.run(...)`."""
from __future__ import annotations

import abc

from shared.unit_of_work import UnitOfWork


class BulletinRepository(abc.ABC):
    """通报 (bulletins), one per source record (a misconduct finding), by id."""

    @abc.abstractmethod
    def get(self, bulletin_id: str) -> dict | None: ...

    @abc.abstractmethod
    def add(self, bulletin: dict) -> None:
        """Store a new bulletin (an existing id fails the transaction)."""


class PublicNoticeUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the public_notice service's state and the events it causes."""

    bulletins: BulletinRepository
