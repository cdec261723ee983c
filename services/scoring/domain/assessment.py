"""A scored assessment as the scoring service keeps it: who scored which application version at which stage,
the input and the report (scored under the catalog version the report names, kept for good)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scoring.domain.stages import STAGES


@dataclass(frozen=True)
class ScoredAssessment:
    id: str
    subject_id: str
    version_no: int
    stage: str
    assessment: Mapping[str, Any]
    report: Mapping[str, Any]
    scored_by: str
    scored_at: datetime
    league: str | None = None

    @property
    def subject(self) -> dict[str, Any]:
        return {"kind": "application", "id": self.subject_id, "version_no": self.version_no}

    @property
    def stage_label(self) -> str:
        return STAGES[self.stage]

    @property
    def catalog(self) -> str:
        return self.report["catalog"]

    @property
    def catalog_version(self) -> str:
        return self.report["catalog_version"]
