"""MongoDB side of the supervision service: its repositories and the unit of work over them."""
from __future__ import annotations

from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork


class MongoSupervisionUnitOfWork(MongoUnitOfWork, SupervisionUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        """No repositories yet (set them here as attributes: `self.cases = CaseRepository(tx)`)."""
