"""MongoDB side of the public_notice service: its repositories and the unit of work over them."""
from __future__ import annotations

from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork


class MongoPublicNoticeUnitOfWork(MongoUnitOfWork, PublicNoticeUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        """No repositories yet (set them here as attributes: `self.cases = CaseRepository(tx)`)."""
