"""Test doubles of the ports in `shared`, for the fast handler tests (no server). Never used by the services.

`FakeUnitOfWork` keeps the contract of `uow.run`: on an exception the repositories and the published events
go back to what they were before, as a rolled-back transaction would leave them."""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TypeVar

from shared.contracts import ContractRegistry
from shared.unit_of_work import UnitOfWork

T = TypeVar("T")


class FakeUnitOfWork(UnitOfWork):
    """In-memory unit of work. Subclasses set their fake repositories as attributes in `__init__` and list their
    names in `repositories` so that a failed `run` restores them.

    `published` holds (envelope, topic) of committed runs; `commits` counts them. Events are validated against
    their contracts when a registry is given, as the real outbox does."""

    repositories: tuple[str, ...] = ()

    def __init__(self, registry: ContractRegistry | None = None):
        self.registry = registry
        self.published: list[tuple[dict, str | None]] = []
        self.commits = 0
        self.reads = 0
        self._depth = 0

    def run(self, work: Callable[[], T]) -> T:
        if self._depth:
            return work()
        saved = {name: copy.deepcopy(getattr(self, name)) for name in self.repositories}
        published = len(self.published)
        self._depth += 1
        try:
            result = work()
        except BaseException:
            for name, value in saved.items():
                setattr(self, name, value)
            del self.published[published:]
            raise
        finally:
            self._depth -= 1
        self.commits += 1
        return result

    def read(self, work: Callable[[], T]) -> T:
        """Reads see what the fake repositories hold (the fake has no uncommitted state outside `run`)."""
        self.reads += 1
        return work()

    def publish(self, envelope: dict, *, topic: str | None = None) -> None:
        if not self._depth:
            raise RuntimeError("the unit of work is used outside uow.run(...)")
        if self.registry is not None:
            self.registry.validate(envelope)
        self.published.append((envelope, topic))

    def events(self, event_type: str | None = None) -> list[dict]:
        """The published envelopes, optionally of one type."""
        return [e for e, _ in self.published if event_type is None or e["type"] == event_type]
