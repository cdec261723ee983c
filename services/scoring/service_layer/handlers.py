"""Scoring use cases: score an assessment for a stage, store the report, publish `scoring.assessment_scored`.

Every stage that scores goes through `record_score`: the enterprise's self-assessment (from the submitted
event), the third-party evaluation (an evaluator's assessment) and the spot check (the region's)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from scoring.domain.engine import AssessmentInvalid, score_assessment
from shared.catalog import load_catalog
from shared.contracts import new_event
from shared.messaging import PermanentFailure
from shared.storage import Transaction

ASSESSMENTS = "assessments"
STAGES = {
    "self_assessment": "企业自评",
    "initial_review": "初审复核",
    "third_party_evaluation": "第三方评估",
    "spot_check": "抽查",
}


def evaluate(assessment: dict) -> dict:
    """Score without storing: the live score of the form and the reviewers' re-scoring."""
    return score_assessment(assessment, load_catalog).to_dict()


def record_score(tx: Transaction, *, subject_id: str, version_no: int, stage: str, assessment: dict,
                 scored_by: str, record_id: str | None = None, causation_id: str | None = None,
                 league: str | None = None) -> dict:
    """Score, store and publish in the caller's transaction. Raises AssessmentInvalid for a bad assessment."""
    report = evaluate(assessment)
    record_id = record_id or str(uuid.uuid4())
    now = datetime.now(timezone.utc)
    tx.db[ASSESSMENTS].insert_one({
        "_id": record_id, "subject": {"kind": "application", "id": subject_id, "version_no": version_no},
        "stage": stage, "league": league, "assessment": assessment, "report": report, "scored_by": scored_by,
        "scored_at": now, "catalog": report["catalog"], "catalog_version": report["catalog_version"],
    }, session=tx.session)
    tx.publish(new_event(
        "scoring.assessment_scored", producer="scoring", aggregate_type="assessment", aggregate_id=record_id,
        aggregate_version=1, causation_id=causation_id,
        payload={"subject": {"kind": "application", "id": subject_id, "version_no": version_no},
                 "stage": stage, "report": report}))
    return report


def when_application_submitted_score_self_assessment(envelope: dict, tx: Transaction) -> None:
    payload = envelope["payload"]
    # One record per submitted version: a redelivered event would hit the same _id (the inbox stops it first).
    record_id = f"{payload['application_id']}:{payload['version_no']}:self_assessment"
    if tx.db[ASSESSMENTS].find_one({"_id": record_id}, {"_id": 1}, session=tx.session):
        return
    try:
        record_score(tx, subject_id=payload["application_id"], version_no=payload["version_no"],
                     stage="self_assessment", assessment=payload["assessment"], scored_by=payload["submitted_by"],
                     record_id=record_id, causation_id=envelope["event_id"], league=payload["mine"]["league"])
    except AssessmentInvalid as exc:
        # Intake scores the form before it lets anyone submit, so this is a contract breach, not user error.
        raise PermanentFailure("submitted assessment cannot be scored: "
                               + "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)) from None
