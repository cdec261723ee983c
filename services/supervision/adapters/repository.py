"""MongoDB side of the supervision service: its repositories and the unit of work over them."""
from __future__ import annotations

from pymongo import ASCENDING

from shared.aggregates import MongoAggregates
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork
from supervision.domain.measures import Measure
from supervision.domain.register import SupervisedMine
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

MINES = "mines"
MEASURES = "measures"


def ensure_indexes(db) -> None:
    """What the pages' and the API's queries need."""
    db[MINES].create_index([("league", ASCENDING), ("mine_name", ASCENDING)], name="by_league")
    db[MEASURES].create_index([("mine_id", ASCENDING), ("kind", ASCENDING), ("state", ASCENDING)], name="by_mine")
    db[MEASURES].create_index([("league", ASCENDING), ("state", ASCENDING)], name="by_league")
    db[MEASURES].create_index([("credit_code", ASCENDING)], name="by_enterprise")


class MongoSupervisionUnitOfWork(MongoUnitOfWork, SupervisionUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.mines = MongoAggregates(tx, MINES, SupervisedMine)
        self.measures = MongoAggregates(tx, MEASURES, Measure)
