"""MongoDB side of the supervision service: its repositories and the unit of work over them."""
from __future__ import annotations

from pymongo import ASCENDING

from shared.aggregates import MongoAggregates
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork
from supervision.domain.findings import SweepFinding
from supervision.domain.records import MineRecords
from supervision.domain.register import SupervisedMine
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

MINES = "mines"
FINDINGS = "findings"
MINE_RECORDS = "mine_records"


def ensure_indexes(db) -> None:
    """What the pages' and the API's queries need."""
    db[MINES].create_index([("league", ASCENDING), ("mine_name", ASCENDING)], name="by_league")
    db[FINDINGS].create_index([("league", ASCENDING), ("status", ASCENDING)], name="by_league_status")
    db[MINE_RECORDS].create_index([("league", ASCENDING)], name="by_league")


class MongoSupervisionUnitOfWork(MongoUnitOfWork, SupervisionUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.mines = MongoAggregates(tx, MINES, SupervisedMine)
        self.findings = MongoAggregates(tx, FINDINGS, SweepFinding)
        self.mine_records = MongoAggregates(tx, MINE_RECORDS, MineRecords)
