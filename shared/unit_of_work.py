"""The unit-of-work port every service layer uses, and its MongoDB adapter over `ServiceStore.transaction`.

A handler is a plain function `handler(cmd, uow)`. It does its reads and writes through the repositories the
unit of work hands out (`uow.tasks`, `uow.cases`, …) and its events through `uow.publish`, all inside
`uow.run(work)`: the work runs in ONE transaction with the outbox, and is retried whole on a transient error,
so `work` must have no outside effect (calls to other services and file uploads happen before `run`).

Why `run(work)` and not `with uow:`: MongoDB transactions must be retried from the start on
TransientTransactionError, which only a callback allows (`ClientSession.with_transaction`). Nesting is allowed
and joins the outer transaction: the consumer claims the inbox and calls the event handler in one transaction.

One unit of work serves one use case: entrypoints build a fresh one per command (`bootstrap`'s `uow()`), so a
web worker's threads never share one. Tests use `shared.testing.FakeUnitOfWork` with in-memory repositories.
"""
from __future__ import annotations

import abc
from collections.abc import Callable
from typing import TypeVar

from shared.storage import ServiceStore, Transaction

T = TypeVar("T")


class UnitOfWork(abc.ABC):
    """Port: one atomic change of one service's state and the events it causes."""

    @abc.abstractmethod
    def run(self, work: Callable[[], T]) -> T:
        """Run `work()` atomically: its writes and published events are kept together or not at all."""

    @abc.abstractmethod
    def read(self, work: Callable[[], T]) -> T:
        """Run `work()` with the repositories reading the latest committed data, outside any transaction (queries,
        and the look-ups a handler makes before calling another service). Inside `run` it joins that run."""

    @abc.abstractmethod
    def publish(self, envelope: dict, *, topic: str | None = None) -> None:
        """Queue a contract event; it is written to the outbox with the change (only inside `run`)."""


class MongoUnitOfWork(UnitOfWork):
    """Adapter: repositories bound to one MongoDB transaction of the service's store.

    Subclasses name their repositories by overriding `bind(tx)` and setting attributes, e.g.
    `self.tasks = TaskRepository(tx)`; outside `run` the attributes are absent, so a read outside the
    transaction fails loudly instead of silently reading without a snapshot."""

    def __init__(self, store: ServiceStore, tx: Transaction | None = None):
        self.store = store
        self._tx: Transaction | None = None
        self._bound: set[str] = set()
        if tx is not None:
            self._enter(tx)

    @classmethod
    def within(cls, store: ServiceStore, tx: Transaction):
        """A unit of work joined to a transaction that is already open (the consumer's, with its inbox claim)."""
        return cls(store, tx)

    def bind(self, tx: Transaction) -> None:
        """Create the repositories for this transaction (override)."""

    def _enter(self, tx: Transaction) -> None:
        before = set(vars(self))
        self._tx = tx
        self.bind(tx)
        self._bound = set(vars(self)) - before - {"_tx"}

    def _leave(self) -> None:
        for name in self._bound:
            delattr(self, name)
        self._bound = set()
        self._tx = None

    @property
    def tx(self) -> Transaction:
        if self._tx is None:
            raise RuntimeError("the unit of work is used outside uow.run(...)")
        return self._tx

    def run(self, work: Callable[[], T]) -> T:
        if self._tx is not None:          # nested: the outer transaction commits or aborts everything
            return work()

        def in_transaction(tx: Transaction) -> T:
            self._enter(tx)
            try:
                return work()
            finally:
                self._leave()

        return self.store.transaction(in_transaction)

    def read(self, work: Callable[[], T]) -> T:
        if self._tx is not None:
            return work()
        # The repositories get a view without a session: each read sees the latest committed data.
        self._enter(_ReadOnly(self.store.db, None, self.store.registry, self.store.service,
                              self.store.topic_prefix))
        try:
            return work()
        finally:
            self._leave()

    def publish(self, envelope: dict, *, topic: str | None = None) -> None:
        self.tx.publish(envelope, topic=topic)


class _ReadOnly(Transaction):
    """What repositories see inside `read`: the database without a session; publishing is refused."""

    def publish(self, envelope: dict, *, topic: str | None = None) -> None:
        raise RuntimeError("events are published inside uow.run(...), not uow.read(...)")

    def save_versioned(self, collection: str, document: dict, expected_version: int | None) -> int:
        raise RuntimeError("changes are written inside uow.run(...), not uow.read(...)")
