"""What the scoring service is asked to do: one small immutable command per use case."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EvaluateAssessment:
    """Score an assessment and return the report; nothing is stored (the live score of the enterprise's form,
    the reviewers' re-scoring, a filled score sheet). `field_prefix` is where the assessment sits in the
    caller's input (``"assessment."`` inside a request body), so errors name the caller's fields. `stage`, when
    given, applies that stage's rules too (a third-party evaluation's scores above 0 need their 核查记录)."""

    assessment: Mapping[str, Any]
    field_prefix: str = ""
    stage: str | None = None


@dataclass(frozen=True)
class RecordAssessment:
    """Score an assessment of one stage for one submitted application version, store it and publish
    `scoring.assessment_scored`: a third-party evaluation (evaluator) or a spot check (region office)."""

    subject_id: str
    version_no: int
    stage: str
    assessment: Mapping[str, Any]
    scored_by: str
    scorer_role: str
    scorer_label: str = ""
    league: str | None = None
    # The caller's key for this recording: the same key again answers the stored record (a retried request after
    # a lost answer, or after the caller's own transaction failed, records nothing twice).
    request_key: str | None = None
