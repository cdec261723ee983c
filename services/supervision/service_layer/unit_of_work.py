"""The supervision service's unit-of-work port: the repositories its handlers may use inside `uow.run(...)`."""
from __future__ import annotations

import abc

from shared.aggregates import Aggregates
from shared.unit_of_work import UnitOfWork
from supervision.domain.inspections import Inspection, InspectionPlan, Inspector
from supervision.domain.register import SupervisedMine


class SupervisionUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the supervision service's state and the events it causes."""

    mines: Aggregates[SupervisedMine]    # the register of listed mines (domain/register.py)
    inspectors: Aggregates[Inspector]    # 双随机: the inspector pool (domain/inspections.py)
    inspection_plans: Aggregates[InspectionPlan]  # 双随机: the yearly plans and their draws
    inspections: Aggregates[Inspection]  # 双随机: one per drawn mine, a part per department
