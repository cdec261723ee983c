"""The supervision service's unit-of-work port: the repositories its handlers may use inside `uow.run(...)`."""
from __future__ import annotations

import abc

from shared.aggregates import Aggregates
from shared.unit_of_work import UnitOfWork
from supervision.domain.findings import SweepFinding
from supervision.domain.records import MineRecords
from supervision.domain.register import SupervisedMine


class SupervisionUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the supervision service's state and the events it causes."""

    mines: Aggregates[SupervisedMine]    # the register of listed mines (domain/register.py)
    findings: Aggregates[SweepFinding]      # what the daily sweep found (domain/findings.py)
    mine_records: Aggregates[MineRecords]   # 异常名录 entries and 开发利用水平 grades (domain/records.py)
