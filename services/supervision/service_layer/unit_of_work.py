"""The supervision service's unit-of-work port: the repositories its handlers may use inside `uow.run(...)`."""
from __future__ import annotations

import abc

from shared.aggregates import Aggregates
from shared.unit_of_work import UnitOfWork
from supervision.domain.construction import ConstructionContract
from supervision.domain.findings import SweepFinding
from supervision.domain.inspections import Inspection, InspectionPlan, Inspector
from supervision.domain.measures import Measure
from supervision.domain.records import MineRecords
from supervision.domain.register import SupervisedMine
from supervision.domain.targets import YearlyTarget


class SupervisionUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the supervision service's state and the events it causes."""

    mines: Aggregates[SupervisedMine]    # the register of listed mines (domain/register.py)
    inspectors: Aggregates[Inspector]    # 双随机: the inspector pool (domain/inspections.py)
    inspection_plans: Aggregates[InspectionPlan]  # 双随机: the yearly plans and their draws
    inspections: Aggregates[Inspection]  # 双随机: one per drawn mine, a part per department
    yearly_targets: Aggregates[YearlyTarget]                   # the 盟市's yearly targets (domain/targets.py)
    construction_contracts: Aggregates[ConstructionContract]   # 绿色矿山建设合同 (domain/construction.py)
    findings: Aggregates[SweepFinding]      # what the daily sweep found (domain/findings.py)
    mine_records: Aggregates[MineRecords]   # 异常名录 entries and 开发利用水平 grades (domain/records.py)
    measures: Aggregates[Measure]        # 标注 / 限期整改 / 移出 (domain/measures.py)
