"""Scoring use cases: score an assessment for a stage, store the report, publish `scoring.assessment_scored`.

Every stage that stores a score goes through `_record`: the enterprise's self-assessment (from intake's
submitted event), the third-party evaluation (an evaluator's assessment) and the spot check (the region's).
Handlers are `handler(cmd, uow, *, dependencies)` (see `shared.bus`); the engine is pure, so scoring happens
before `uow.run`, and only the store and the event are inside the transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from scoring.domain.assessment import ScoredAssessment
from scoring.domain.commands import EvaluateAssessment, RecordAssessment
from scoring.domain.engine import AssessmentInvalid, score_assessment
from scoring.domain.stages import SELF_ASSESSMENT, STAGES, may_record, self_assessment_id
from scoring.service_layer.unit_of_work import ScoringUnitOfWork
from shared.contracts import new_event
from shared.errors import FieldError, InvalidInput, NotPermitted
from shared.messaging import PermanentFailure

CatalogSource = Callable[[str], Any]


class AssessmentRejected(InvalidInput):
    """The assessment cannot be scored; `errors` names every field at fault."""


def _report(assessment: Mapping, catalogs: CatalogSource, field_prefix: str = "", stage: str | None = None) -> dict:
    try:
        return score_assessment(assessment, catalogs, stage).to_dict()
    except AssessmentInvalid as exc:
        raise AssessmentRejected("评估数据有误,请按提示修改",
                                 [FieldError(field_prefix + e["field"], e["message"]) for e in exc.errors]) from None


def evaluate_assessment(cmd: EvaluateAssessment, uow: ScoringUnitOfWork, *, catalogs: CatalogSource) -> dict:
    """The report of an assessment; nothing is stored. Raises AssessmentRejected."""
    return _report(cmd.assessment, catalogs, cmd.field_prefix, cmd.stage)


def record_assessment(cmd: RecordAssessment, uow: ScoringUnitOfWork, *, catalogs: CatalogSource,
                      clock: Callable[[], datetime], new_id: Callable[[], str]) -> ScoredAssessment:
    """Score, store and publish a third-party evaluation or a spot check. Raises NotPermitted for a role that
    may not record the stage, AssessmentRejected (fields under ``assessment.``) for a bad assessment."""
    if not may_record(cmd.stage, cmd.scorer_role):
        raise NotPermitted(f"{cmd.scorer_label or cmd.scorer_role}不能提交“{STAGES.get(cmd.stage, cmd.stage)}”评分")
    report = _report(cmd.assessment, catalogs, "assessment.", cmd.stage)
    record_id = keyed_id(cmd) if cmd.request_key else new_id()
    record = ScoredAssessment(id=record_id, subject_id=cmd.subject_id, version_no=cmd.version_no, stage=cmd.stage,
                              assessment=cmd.assessment, report=report, scored_by=cmd.scored_by,
                              scored_at=clock(), league=cmd.league)

    def work() -> ScoredAssessment:
        stored = uow.assessments.get(record_id) if cmd.request_key else None
        if stored is not None:           # the same request again: its record, nothing stored or published
            return stored
        _store(uow, record, causation_id=None)
        return record

    return uow.run(work)


def keyed_id(cmd: RecordAssessment) -> str:
    """The record id of a keyed request: the key within the caller's subject, version and stage."""
    return f"{cmd.subject_id}:{cmd.version_no}:{cmd.stage}:{cmd.request_key}"


def when_application_submitted_score_self_assessment(envelope: dict, uow: ScoringUnitOfWork, *,
                                                     catalogs: CatalogSource,
                                                     clock: Callable[[], datetime]) -> None:
    """`intake.application_submitted` → the enterprise's self-assessment, scored, stored and published."""
    payload = envelope["payload"]
    record_id = self_assessment_id(payload["application_id"], payload["version_no"])

    def work() -> None:
        # The inbox stops a redelivered event first; this keeps a replay through another path harmless too.
        if uow.assessments.exists(record_id):
            return
        try:
            report = _report(payload["assessment"], catalogs)
        except AssessmentRejected as exc:
            # Intake scores the form before it lets anyone submit: this is a contract breach, not user error.
            raise PermanentFailure("submitted assessment cannot be scored: "
                                   + "; ".join(f"{e.field}: {e.message}" for e in exc.errors)) from None
        record = ScoredAssessment(id=record_id, subject_id=payload["application_id"],
                                  version_no=payload["version_no"], stage=SELF_ASSESSMENT,
                                  assessment=payload["assessment"], report=report,
                                  scored_by=payload["submitted_by"], scored_at=clock(),
                                  league=payload["mine"]["league"])
        _store(uow, record, causation_id=envelope["event_id"])

    uow.run(work)


def _store(uow: ScoringUnitOfWork, record: ScoredAssessment, *, causation_id: str | None) -> None:
    uow.assessments.add(record)
    uow.publish(new_event(
        "scoring.assessment_scored", producer="scoring", aggregate_type="assessment", aggregate_id=record.id,
        aggregate_version=1, causation_id=causation_id,
        payload={"subject": record.subject, "stage": record.stage, "report": record.report}))
