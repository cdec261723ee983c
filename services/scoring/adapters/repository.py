"""MongoDB side of the scoring service: the assessments collection and the unit of work over it."""
from __future__ import annotations

from scoring.domain.assessment import ScoredAssessment
from scoring.service_layer.unit_of_work import AssessmentRepository, ScoringUnitOfWork
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork

ASSESSMENTS = "assessments"


def to_document(record: ScoredAssessment) -> dict:
    return {"_id": record.id, "subject": record.subject, "stage": record.stage, "league": record.league,
            "assessment": record.assessment, "report": record.report, "scored_by": record.scored_by,
            "scored_at": record.scored_at, "catalog": record.catalog, "catalog_version": record.catalog_version}


def from_document(doc: dict) -> ScoredAssessment:
    return ScoredAssessment(id=doc["_id"], subject_id=doc["subject"]["id"], version_no=doc["subject"]["version_no"],
                            stage=doc["stage"], assessment=doc["assessment"], report=doc["report"],
                            scored_by=doc["scored_by"], scored_at=doc["scored_at"], league=doc.get("league"))


class MongoAssessmentRepository(AssessmentRepository):
    def __init__(self, tx: Transaction):
        self.tx = tx
        self.collection = tx.db[ASSESSMENTS]

    def add(self, assessment: ScoredAssessment) -> None:
        self.collection.insert_one(to_document(assessment), session=self.tx.session)

    def get(self, assessment_id: str) -> ScoredAssessment | None:
        doc = self.collection.find_one({"_id": assessment_id}, session=self.tx.session)
        return None if doc is None else from_document(doc)

    def exists(self, assessment_id: str) -> bool:
        return self.collection.find_one({"_id": assessment_id}, {"_id": 1}, session=self.tx.session) is not None


class MongoScoringUnitOfWork(MongoUnitOfWork, ScoringUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.assessments = MongoAssessmentRepository(tx)
