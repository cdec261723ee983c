"""Read models of the targets area (目标进度): the progress toward the 2028 targets per 盟市 and scale, computed by
domain/targets.py from the register, with the yearly targets and the construction contracts."""
from __future__ import annotations

from datetime import date

from shared.regions import LEAGUE_NAMES
from supervision.adapters.repository import CONSTRUCTION_CONTRACTS, MINES, YEARLY_TARGETS
from supervision.domain import construction, targets
from supervision.domain.construction import ConstructionContract
from supervision.domain.register import COUNTED

MINE_FIELDS = {"league": 1, "scale": 1, "status": 1, "listed_on": 1, "register": 1}


def as_of(year: int, today: date) -> date:
    """The day a year's figures are taken on: today for this year (and later ones), 31 December for past ones."""
    return today if year >= today.year else date(year, 12, 31)


def row_view(row: targets.Row) -> dict:
    return {"league": row.league, "scale": row.scale, "scale_label": targets.SCALE_LABELS[row.scale],
            "managed": row.managed, "managed_label": targets.MANAGED_LABELS[row.managed],
            "licensed_producing": row.licensed_producing, "short_reserve": row.short_reserve, "base": row.base,
            "listed": row.listed, "listed_total": row.listed_total, "unregistered": row.unregistered,
            "share": targets.percent(row.share), "target": targets.percent(row.target), "needed": row.needed,
            "met": row.met, "yearly_target": row.yearly_target, "yearly_met": row.yearly_met}


def contract_view(c: ConstructionContract, today: date) -> dict:
    status = c.status(today)
    return {"contract_id": c.id, "league": c.league, "mine_id": c.mine_id, "mine_name": c.mine_name,
            "enterprise_name": c.enterprise_name, "scale": c.scale, "contract_no": c.contract_no,
            "signed_on": c.signed_on, "deadline": c.deadline, "liability": c.liability, "tasks": c.tasks,
            "progress": c.progress(), "status": status, "status_label": construction.STATUS_LABELS[status],
            "overdue_tasks": c.overdue_tasks(today)}


def contracts(db, leagues: list[str] | None, today: date) -> list[dict]:
    query = {} if leagues is None else {"league": {"$in": leagues}}
    order = {name: n for n, name in enumerate(LEAGUE_NAMES)}
    found = [ConstructionContract.from_dict(doc) for doc in db[CONSTRUCTION_CONTRACTS].find(query)]
    found.sort(key=lambda c: (order.get(c.league, len(order)), c.signed_on, c.id))
    return [contract_view(c, today) for c in found]


def progress(db, year: int, today: date, leagues: list[str] | None = None) -> dict:
    """The targets of `year` for `leagues` (None: every 盟市, in the region's official order)."""
    shown = list(LEAGUE_NAMES) if leagues is None else [n for n in LEAGUE_NAMES if n in leagues]
    day = as_of(year, today)
    standings = [targets.standing(doc["_id"], doc.get("league"), doc.get("scale"), doc.get("status"),
                                  doc.get("listed_on"), doc.get("register"), day)
                 for doc in db[MINES].find({"league": {"$in": shown}, "status": {"$in": list(COUNTED)}},
                                           MINE_FIELDS)]
    yearly_docs = {doc["league"]: doc for doc in db[YEARLY_TARGETS].find({"year": year, "league": {"$in": shown}})}
    rows = targets.tally(standings, shown, {league: doc["targets"] for league, doc in yearly_docs.items()})
    by_league: dict[str, list[ConstructionContract]] = {league: [] for league in shown}
    for doc in db[CONSTRUCTION_CONTRACTS].find({"league": {"$in": shown}}):
        by_league[doc["league"]].append(ConstructionContract.from_dict(doc))
    return {"year": year, "as_of": day.isoformat(), "target_year": targets.TARGET_YEAR,
            "rows": [row_view(r) for r in rows], "totals": [row_view(r) for r in targets.totals(rows)],
            "leagues": [{"league": league, "yearly_basis": (yearly_docs.get(league) or {}).get("basis"),
                         "yearly_set": league in yearly_docs,
                         "contracts": construction.summary(by_league[league], day)} for league in shown]}
