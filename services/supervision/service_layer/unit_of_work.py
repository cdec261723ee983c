"""The supervision service's unit-of-work port: the repositories its handlers may use inside `uow.run(...)`."""
from __future__ import annotations

import abc

from shared.aggregates import Aggregates
from shared.unit_of_work import UnitOfWork
from supervision.domain.measures import Measure
from supervision.domain.register import SupervisedMine


class SupervisionUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the supervision service's state and the events it causes."""

    mines: Aggregates[SupervisedMine]    # the register of listed mines (domain/register.py)
    measures: Aggregates[Measure]        # 标注 / 限期整改 / 移出 (domain/measures.py)
