"""Read models of the scoring service (outside any transaction; nothing here changes state)."""
from __future__ import annotations

from pymongo.database import Database

from scoring.adapters.repository import ASSESSMENTS
from scoring.domain.stages import STAGES


def assessments_of(db: Database, subject_id: str, covers_area) -> list[dict]:
    """Every scored assessment of one application (all stages), newest first, limited to the ones whose 盟市
    `covers_area(league)` accepts (an assessment without a 盟市 is visible to every caller allowed to list)."""
    docs = db[ASSESSMENTS].find({"subject.id": subject_id}).sort("scored_at", -1)
    return [{**d, "stage_label": STAGES[d["stage"]]} for d in docs
            if d.get("league") is None or covers_area(d.get("league"))]
