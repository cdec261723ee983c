"""The supervision service's in-memory unit of work for unit tests: every repository of
`service_layer/unit_of_work.py`, so that a test of one area runs the others' handlers and sweeps too (the `Sweep`
command runs every area's sweep). Published events are checked against the contracts."""
from __future__ import annotations

from shared.config import REPO_ROOT
from shared.contracts import ContractRegistry
from shared.testing import FakeAggregates, FakeUnitOfWork
from supervision.domain.construction import ConstructionContract
from supervision.domain.findings import SweepFinding
from supervision.domain.inspections import Inspection, InspectionPlan, Inspector
from supervision.domain.measures import Measure
from supervision.domain.records import MineRecords
from supervision.domain.register import SupervisedMine
from supervision.domain.targets import YearlyTarget

REGISTRY = ContractRegistry([REPO_ROOT / "contracts"])
KINDS = {"mines": SupervisedMine, "findings": SweepFinding, "mine_records": MineRecords, "measures": Measure,
         "inspectors": Inspector, "inspection_plans": InspectionPlan, "inspections": Inspection,
         "yearly_targets": YearlyTarget, "construction_contracts": ConstructionContract}


class FakeSupervisionUnitOfWork(FakeUnitOfWork):
    repositories = tuple(KINDS)

    def __init__(self, registry: ContractRegistry | None = REGISTRY):
        super().__init__(registry)
        for name, kind in KINDS.items():
            setattr(self, name, FakeAggregates(kind))
