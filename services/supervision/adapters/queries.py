"""Read models of the supervision service for pages and the API (no aggregate loading)."""
from __future__ import annotations

from shared.regions import LEAGUE_NAMES
from supervision.adapters.repository import MINES
from supervision.domain.register import SCALE_LABELS, STATUS_LABELS

FIELDS = ("mine_name", "enterprise_name", "credit_code", "league", "county", "minerals", "scale", "status",
          "listed_on", "announcement_no", "source")
LEAGUE_ORDER = {name: n for n, name in enumerate(LEAGUE_NAMES)}    # the region's official order


def register(db, leagues: list[str] | None = None) -> list[dict]:
    """The register's mines, 盟市 in the region's official order, then by name; `leagues` (None: every 盟市) bounds
    what a bureau sees."""
    query = {} if leagues is None else {"league": {"$in": leagues}}
    rows = sorted(db[MINES].find(query, {name: 1 for name in FIELDS}),
                  key=lambda d: (LEAGUE_ORDER.get(d.get("league"), len(LEAGUE_ORDER)), d.get("mine_name") or "",
                                 d["_id"]))
    return [{"mine_id": doc["_id"], **{name: doc.get(name) for name in FIELDS},
             "scale_label": SCALE_LABELS.get(doc.get("scale"), doc.get("scale") or ""),
             "status_label": STATUS_LABELS.get(doc.get("status"), doc.get("status"))} for doc in rows]
