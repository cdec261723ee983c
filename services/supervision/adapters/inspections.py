"""Read models of the inspections area (双随机、一公开) for its pages and API: the pool, the plans with their draw and
results (the public view: no usernames), and a department's tasks."""
from __future__ import annotations

from shared.regions import LEAGUE_NAMES
from supervision.adapters.repository import INSPECTION_PLANS, INSPECTIONS, INSPECTORS
from supervision.domain.inspections import INSPECTION_STATUS, OUTCOMES, PLAN_STATUS

LEAGUE_ORDER = {name: n for n, name in enumerate(LEAGUE_NAMES)}


def _league_key(doc: dict) -> tuple:
    return LEAGUE_ORDER.get(doc.get("league"), len(LEAGUE_ORDER)), doc.get("mine_name") or doc.get("name") or "", \
        doc["_id"]


def pool(db, names: dict[str, str]) -> list[dict]:
    """Every inspector, by 盟市, department and name."""
    rows = sorted(db[INSPECTORS].find(), key=lambda d: (LEAGUE_ORDER.get(d["league"], 99), d["department"],
                                                         d["name"], d["_id"]))
    return [{"inspector_id": d["_id"], "name": d["name"], "department": d["department"],
             "department_name": names.get(d["department"], d["department"]), "league": d["league"],
             "active": d["active"]} for d in rows]


def _part(part: dict, names: dict[str, str]) -> dict:
    result = part.get("result")
    return {"department": part["department"], "department_name": names.get(part["department"], part["department"]),
            "inspector_id": part["inspector_id"], "inspector_name": part["inspector_name"],
            "result": None if result is None else {
                "outcome": result["outcome"], "outcome_label": OUTCOMES[result["outcome"]],
                "problems": result["problems"], "suggest_measure": result["suggest_measure"],
                "situation": result["situation"], "inspected_on": result["inspected_on"]}}


def _inspection(doc: dict, names: dict[str, str], *, public: bool = False) -> dict:
    """An inspection; for the public a part's result shows once every department has recorded (the results are
    published as a whole, not while the inspection is under way)."""
    parts = [_part(p, names) for p in doc["parts"]]
    if public and doc["status"] != "completed":
        parts = [{**p, "result": None} for p in parts]
    return {"inspection_id": doc["_id"], "year": doc["year"], "mine_id": doc["mine_id"],
            "mine_name": doc["mine_name"], "enterprise_name": doc["enterprise_name"], "league": doc["league"],
            "county": doc.get("county"), "status": doc["status"], "status_label": INSPECTION_STATUS[doc["status"]],
            "outcome": doc.get("outcome"), "outcome_label": OUTCOMES.get(doc.get("outcome"), "检查中"),
            "parts": parts}


def _plan(doc: dict) -> dict:
    return {"plan_id": doc["_id"], "year": doc["year"], "status": doc["status"],
            "status_label": PLAN_STATUS[doc["status"]],
            "ratios": [{"league": league, "ratio": ratio} for league, ratio in doc["ratios"].items()],
            "published_at": doc.get("published_at"), "drawn_at": doc.get("drawn_at")}


def plans(db, *, published_only: bool = True) -> list[dict]:
    """The plans, newest year first (the public sees the published ones)."""
    query = {"status": {"$ne": "draft"}} if published_only else {}
    return [_plan(d) for d in db[INSPECTION_PLANS].find(query).sort("year", -1)]


def plan(db, year: int, names: dict[str, str], *, published_only: bool = True) -> dict | None:
    """One year's plan, its draw record (every input, to recompute it) and its inspections with their results."""
    doc = db[INSPECTION_PLANS].find_one({"_id": f"plan-{year}"})
    if doc is None or (published_only and doc["status"] == "draft"):
        return None
    rows = sorted(db[INSPECTIONS].find({"year": year}), key=_league_key)
    return {**_plan(doc), "draw": doc.get("draw"),
            "inspections": [_inspection(d, names, public=published_only) for d in rows]}


def tasks(db, names: dict[str, str], *, department: str | None, leagues: list[str] | None,
          year: int | None = None) -> list[dict]:
    """The inspections a department has a part in (None: every department), within `leagues` (None: all)."""
    query: dict = {}
    if department is not None:
        query["parts.department"] = department
    if leagues is not None:
        query["league"] = {"$in": leagues}
    if year is not None:
        query["year"] = year
    rows = sorted(db[INSPECTIONS].find(query), key=lambda d: (-d["year"], *_league_key(d)))
    return [_inspection(d, names) for d in rows]


def inspection(db, inspection_id: str, names: dict[str, str]) -> dict | None:
    doc = db[INSPECTIONS].find_one({"_id": inspection_id})
    return None if doc is None else _inspection(doc, names)
