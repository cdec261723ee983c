"""MongoDB side of the supervision service: its repositories and the unit of work over them."""
from __future__ import annotations

from pymongo import ASCENDING

from shared.aggregates import MongoAggregates
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork
from supervision.domain.construction import ConstructionContract
from supervision.domain.findings import SweepFinding
from supervision.domain.inspections import Inspection, InspectionPlan, Inspector
from supervision.domain.measures import Measure
from supervision.domain.records import MineRecords
from supervision.domain.register import SupervisedMine
from supervision.domain.targets import YearlyTarget
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

MINES = "mines"
INSPECTORS, INSPECTION_PLANS, INSPECTIONS = "inspectors", "inspection_plans", "inspections"
YEARLY_TARGETS = "yearly_targets"
CONSTRUCTION_CONTRACTS = "construction_contracts"
FINDINGS = "findings"
MINE_RECORDS = "mine_records"
MEASURES = "measures"


def ensure_indexes(db) -> None:
    """What the pages' and the API's queries need."""
    db[MINES].create_index([("league", ASCENDING), ("mine_name", ASCENDING)], name="by_league")
    db[INSPECTORS].create_index([("league", ASCENDING), ("active", ASCENDING)], name="by_league")
    db[INSPECTIONS].create_index([("year", ASCENDING), ("league", ASCENDING)], name="by_year")
    db[YEARLY_TARGETS].create_index([("year", ASCENDING), ("league", ASCENDING)], name="by_year")
    db[CONSTRUCTION_CONTRACTS].create_index([("league", ASCENDING), ("mine_id", ASCENDING)], name="by_league")
    db[FINDINGS].create_index([("league", ASCENDING), ("status", ASCENDING)], name="by_league_status")
    db[MINE_RECORDS].create_index([("league", ASCENDING)], name="by_league")
    db[MEASURES].create_index([("mine_id", ASCENDING), ("kind", ASCENDING), ("state", ASCENDING)], name="by_mine")
    db[MEASURES].create_index([("league", ASCENDING), ("state", ASCENDING)], name="by_league")
    db[MEASURES].create_index([("credit_code", ASCENDING)], name="by_enterprise")
    db[MINES].create_index([("credit_code", ASCENDING), ("status", ASCENDING)], name="by_enterprise")
    db[MINES].create_index([("register_mine_id", ASCENDING)], name="by_register_id")


class MongoSupervisionUnitOfWork(MongoUnitOfWork, SupervisionUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.mines = MongoAggregates(tx, MINES, SupervisedMine)
        self.inspectors = MongoAggregates(tx, INSPECTORS, Inspector)
        self.inspection_plans = MongoAggregates(tx, INSPECTION_PLANS, InspectionPlan)
        self.inspections = MongoAggregates(tx, INSPECTIONS, Inspection)
        self.yearly_targets = MongoAggregates(tx, YEARLY_TARGETS, YearlyTarget)
        self.construction_contracts = MongoAggregates(tx, CONSTRUCTION_CONTRACTS, ConstructionContract)
        self.findings = MongoAggregates(tx, FINDINGS, SweepFinding)
        self.mine_records = MongoAggregates(tx, MINE_RECORDS, MineRecords)
        self.measures = MongoAggregates(tx, MEASURES, Measure)
