"""Read models of the supervision service for pages and the API (no aggregate loading)."""
from __future__ import annotations

from shared.regions import LEAGUE_NAMES
from supervision.adapters.repository import MINES
from supervision.domain.register import PRODUCTION_LABELS, SCALE_LABELS, STATUS_LABELS

FIELDS = ("mine_name", "enterprise_name", "credit_code", "league", "county", "minerals", "scale", "status",
          "listed_on", "announcement_no", "source", "register")
LEAGUE_ORDER = {name: n for n, name in enumerate(LEAGUE_NAMES)}    # the region's official order


def register(db, leagues: list[str] | None = None) -> list[dict]:
    """The mines on the list (在库), 盟市 in the region's official order, then by name, with what intake's register
    says of them; `leagues` (None: every 盟市) bounds what a bureau sees."""
    query = {"status": "listed"} if leagues is None else {"status": "listed", "league": {"$in": leagues}}
    rows = sorted(db[MINES].find(query, {name: 1 for name in FIELDS}),
                  key=lambda d: (LEAGUE_ORDER.get(d.get("league"), len(LEAGUE_ORDER)), d.get("mine_name") or "",
                                 d["_id"]))
    return [_row(doc) for doc in rows]


def _row(doc: dict) -> dict:
    facts = doc.get("register") or {}
    licences = facts.get("licences") or {}
    return {"mine_id": doc["_id"], **{name: doc.get(name) for name in FIELDS if name != "register"},
            "scale_label": SCALE_LABELS.get(doc.get("scale"), doc.get("scale") or ""),
            "status_label": STATUS_LABELS.get(doc.get("status"), doc.get("status")),
            "production_status": facts.get("production_status"),
            "production_status_label": PRODUCTION_LABELS.get(facts.get("production_status"), "未登记"),
            "stopped_since": facts.get("stopped_since"),
            "remaining_reserve_years": facts.get("remaining_reserve_years"),
            "licences_valid_to": {kind: lic.get("valid_to") for kind, lic in licences.items()}}
