"""MongoDB side of the supervision service: its repositories and the unit of work over them."""
from __future__ import annotations

from pymongo import ASCENDING

from shared.aggregates import MongoAggregates
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork
from supervision.domain.inspections import Inspection, InspectionPlan, Inspector
from supervision.domain.register import SupervisedMine
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

MINES = "mines"
INSPECTORS, INSPECTION_PLANS, INSPECTIONS = "inspectors", "inspection_plans", "inspections"


def ensure_indexes(db) -> None:
    """What the pages' and the API's queries need."""
    db[MINES].create_index([("league", ASCENDING), ("mine_name", ASCENDING)], name="by_league")
    db[INSPECTORS].create_index([("league", ASCENDING), ("active", ASCENDING)], name="by_league")
    db[INSPECTIONS].create_index([("year", ASCENDING), ("league", ASCENDING)], name="by_year")


class MongoSupervisionUnitOfWork(MongoUnitOfWork, SupervisionUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.mines = MongoAggregates(tx, MINES, SupervisedMine)
        self.inspectors = MongoAggregates(tx, INSPECTORS, Inspector)
        self.inspection_plans = MongoAggregates(tx, INSPECTION_PLANS, InspectionPlan)
        self.inspections = MongoAggregates(tx, INSPECTIONS, Inspection)
