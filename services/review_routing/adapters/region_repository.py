"""MongoDB storage of the region stage: one collection per aggregate of `domain.region`, behind the one generic
port `service_layer.unit_of_work.Aggregates` (versioned saves through the transaction, equality queries).

| collection | holds |
|---|---|
| `region_reviews` | RegionReview: a forwarded case version through the region stage |
| `institutions` | EvaluationInstitution: the register of third-party evaluation institutions, bans, findings |
| `commissions` | Commission: 委托, acceptance with the pledges, decline, expiry |
| `evaluations` | Evaluation: scores, 核查记录, images, the submitted report |
| `check_rounds` | CheckRound: document check parts, the spot-check draw, spot-check assessments |
| `draws` | DrawRecord: published draws (public API `/api/v1/evaluation/draws`) |
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING

from review_routing.service_layer.unit_of_work import Aggregates
from shared.storage import Transaction

REGION_REVIEWS, INSTITUTIONS, COMMISSIONS = "region_reviews", "institutions", "commissions"
EVALUATIONS, CHECK_ROUNDS, DRAWS = "evaluations", "check_rounds", "draws"


def ensure_indexes(db) -> None:
    db[REGION_REVIEWS].create_index([("status", ASCENDING), ("due_date", ASCENDING)], name="by_status")
    db[REGION_REVIEWS].create_index([("application_id", ASCENDING)], name="by_application")
    db[COMMISSIONS].create_index([("institution_id", ASCENDING), ("status", ASCENDING)], name="by_institution")
    db[COMMISSIONS].create_index([("application_id", ASCENDING)], name="by_application")
    db[EVALUATIONS].create_index([("commission_id", ASCENDING)], name="by_commission")
    db[DRAWS].create_index([("drawn_at", DESCENDING)], name="newest_first")


class MongoAggregates(Aggregates):
    def __init__(self, tx: Transaction, collection: str, kind):
        self.tx = tx
        self.collection = collection
        self.coll = tx.db[collection]
        self.session = tx.session
        self.kind = kind

    def get(self, aggregate_id: str):
        doc = self.coll.find_one({"_id": aggregate_id}, session=self.session)
        return self.kind.from_dict(doc) if doc else None

    def get_many(self, aggregate_ids: Iterable[str]) -> dict:
        return {d["_id"]: self.kind.from_dict(d)
                for d in self.coll.find({"_id": {"$in": list(aggregate_ids)}}, session=self.session)}

    def find(self, *, sort: str | None = None, descending: bool = False, limit: int = 0, **equals: Any) -> list:
        query = {name.replace("__", "."): ({"$in": list(value)} if isinstance(value, list | tuple | set) else value)
                 for name, value in equals.items()}
        cursor = self.coll.find(query, session=self.session).sort(
            [(sort or "_id", DESCENDING if descending else ASCENDING)])
        if limit:
            cursor = cursor.limit(limit)
        return [self.kind.from_dict(d) for d in cursor]

    def save(self, aggregate) -> int:
        aggregate.version = self.tx.save_versioned(self.collection, aggregate.to_dict(), aggregate.version)
        return aggregate.version
