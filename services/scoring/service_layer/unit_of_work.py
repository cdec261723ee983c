"""The scoring service's unit-of-work port: the repositories a handler may use inside `uow.run(...)`."""
from __future__ import annotations

import abc

from scoring.domain.assessment import ScoredAssessment
from shared.unit_of_work import UnitOfWork


class AssessmentRepository(abc.ABC):
    """Scored assessments, by id (write side; lists for people are read models in `adapters/queries.py`)."""

    @abc.abstractmethod
    def add(self, assessment: ScoredAssessment) -> None:
        """Store a new scored assessment (an existing id is a duplicate and fails)."""

    @abc.abstractmethod
    def get(self, assessment_id: str) -> ScoredAssessment | None:
        """The scored assessment, or None."""

    @abc.abstractmethod
    def exists(self, assessment_id: str) -> bool:
        """Whether an assessment with this id is stored."""


class ScoringUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the scoring service: its assessments and the events they cause."""

    assessments: AssessmentRepository
