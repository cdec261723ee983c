"""MongoDB storage of the region stage: one collection per aggregate of `domain.region`, behind the one generic
port `shared.aggregates.Aggregates` (versioned saves through the transaction, equality queries).

| collection | holds |
|---|---|
| `region_reviews` | RegionReview: a forwarded case version through the region stage |
| `institutions` | EvaluationInstitution: the register of third-party evaluation institutions, bans, findings |
| `commissions` | Commission: 委托, acceptance with the pledges, decline, expiry |
| `evaluations` | Evaluation: scores, 核查记录, images, the submitted report |
| `check_rounds` | CheckRound: document check parts, the spot-check draw, spot-check assessments |
| `draws` | DrawRecord: published draws (public API `/api/v1/evaluation/draws`) |
| `re_evaluations` | ReEvaluation: a listed mine's 重大变化 to check on site, and its outcome |
"""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from shared.aggregates import MongoAggregates

__all__ = ["MongoAggregates", "ensure_indexes"]

REGION_REVIEWS, INSTITUTIONS, COMMISSIONS = "region_reviews", "institutions", "commissions"
EVALUATIONS, CHECK_ROUNDS, DRAWS = "evaluations", "check_rounds", "draws"
RE_EVALUATIONS = "re_evaluations"


def ensure_indexes(db) -> None:
    db[REGION_REVIEWS].create_index([("status", ASCENDING), ("due_date", ASCENDING)], name="by_status")
    db[REGION_REVIEWS].create_index([("application_id", ASCENDING)], name="by_application")
    db[COMMISSIONS].create_index([("institution_id", ASCENDING), ("status", ASCENDING)], name="by_institution")
    db[COMMISSIONS].create_index([("application_id", ASCENDING)], name="by_application")
    db[EVALUATIONS].create_index([("commission_id", ASCENDING)], name="by_commission")
    db[DRAWS].create_index([("drawn_at", DESCENDING)], name="newest_first")
    db[RE_EVALUATIONS].create_index([("status", ASCENDING), ("due_date", ASCENDING)], name="by_status")
