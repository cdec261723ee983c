"""The review's unit of work on MongoDB: the repositories of `adapters.repository` bound to one transaction."""
from __future__ import annotations

from review_routing.adapters import region_repository as region
from review_routing.adapters.repository import (
    MongoAuditLog,
    MongoCaseRepository,
    MongoPhotoRepository,
    MongoQueueRepository,
    MongoSelfReports,
    MongoTaskRepository,
)
from review_routing.domain.region import kinds
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork


class MongoReviewUnitOfWork(MongoUnitOfWork, ReviewUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.cases = MongoCaseRepository(tx)
        self.tasks = MongoTaskRepository(tx)
        self.queue = MongoQueueRepository(tx)
        self.audit = MongoAuditLog(tx)
        self.photos = MongoPhotoRepository(tx)
        self.self_reports = MongoSelfReports(tx)
        for name, kind in kinds().items():
            setattr(self, name, region.MongoAggregates(tx, name, kind))
