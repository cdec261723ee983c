"""Read models of the measures area (监管事项) for pages and the API: lists by 盟市, enterprise or mine, and one
measure with its history (no unit of work: latest committed data)."""
from __future__ import annotations

from supervision.adapters.repository import MEASURES
from supervision.domain.measures import OPEN, Measure
from supervision.service_layer.measures import measure_view


def measures(db, *, leagues: list[str] | None = None, credit_code: str | None = None, mine_id: str | None = None,
             kind: str | None = None, state: str | None = None, open_only: bool = False, limit: int = 500) -> list:
    """Measures newest first; `leagues` None: every 盟市; `credit_code`: one enterprise's mines."""
    query: dict = {}
    if leagues is not None:
        query["league"] = {"$in": leagues}
    if credit_code is not None:
        query["credit_code"] = credit_code
    if mine_id:
        query["mine_id"] = mine_id
    if kind:
        query["kind"] = kind
    if state:
        query["state"] = state
    elif open_only:
        query["state"] = {"$in": list(OPEN)}
    docs = db[MEASURES].find(query).sort([("raised_on", -1), ("_id", 1)]).limit(limit)
    return [measure_view(Measure.from_dict(d)) for d in docs]


def measure(db, measure_id: str) -> dict | None:
    doc = db[MEASURES].find_one({"_id": measure_id})
    return measure_view(Measure.from_dict(doc)) if doc else None
