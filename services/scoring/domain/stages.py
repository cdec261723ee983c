"""The stages at which an application is scored, and who may record which stage's assessment."""
from __future__ import annotations

SELF_ASSESSMENT = "self_assessment"
STAGES = {
    SELF_ASSESSMENT: "企业自评",
    "initial_review": "初审复核",
    "third_party_evaluation": "第三方评估",
    "spot_check": "抽查",
}
# The stages recorded through the API, and the roles that may record each (the self-assessment comes from
# intake's submitted event; the initial review re-scores without storing).
STAGE_ROLES = {"third_party_evaluation": ("evaluator",), "spot_check": ("region_office",)}


def may_record(stage: str, role: str) -> bool:
    return role in STAGE_ROLES.get(stage, ())


def self_assessment_id(application_id: str, version_no: int) -> str:
    """One self-assessment record per submitted version: a redelivered event meets the same id."""
    return f"{application_id}:{version_no}:{SELF_ASSESSMENT}"


# The stages that inspect on site: a score above 0 there needs its 核查记录 (who, where, when, what was seen).
RECORDS_REQUIRED = frozenset({"third_party_evaluation", "spot_check"})


def requires_records(stage: str) -> bool:
    return stage in RECORDS_REQUIRED
