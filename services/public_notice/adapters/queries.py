"""Read models of the public_notice service for the public pages and APIs, read outside any transaction: the
green-mine list (collection `listings`, the ListedMine aggregates), the announcements, and the old bulletins.

The list query uses one filter built once (`list_filter`), a projection of the public fields only (never the
history's actors), the indexes of `adapters/repository.py` INDEXES, and one `find` plus one count per page."""
from __future__ import annotations

import re
import threading

from pymongo.database import Database

LISTINGS = "listings"
LIST_STAMPS = "list_stamps"
ANNOUNCEMENTS = "announcements"
BULLETINS = "bulletins"
ON_LIST = ("listed", "marked")
SORT = [("league", 1), ("mine_name", 1), ("_id", 1)]
# What a row of the public list shows (and the API returns).
LIST_PROJECTION = {"_id": 1, "mine_name": 1, "enterprise_name": 1, "credit_code": 1, "league": 1, "county": 1,
                   "minerals": 1, "scale": 1, "listed_on": 1, "listed_year": 1, "status": 1, "mark_reason": 1,
                   "announcement_id": 1, "announcement_no": 1}
MINE_PROJECTION = {**LIST_PROJECTION, "removal": 1, "history.at": 1, "history.action": 1, "history.reason": 1,
                   "history.announcement_id": 1, "history.announcement_no": 1, "history.document_no": 1,
                   "total": 1, "batch_id": 1}


def list_filter(*, league: str | None = None, mineral: str | None = None, scale: str | None = None,
                year: int | None = None, status: str | None = None, q: str | None = None) -> dict:
    """The MongoDB filter of the public list: mines on the list (listed or marked, or one of them), by 盟市,
    矿种, 规模, listing year and a part of the mine's or the enterprise's name."""
    query: dict = {"status": status if status in ON_LIST else {"$in": list(ON_LIST)}}
    if league:
        query["league"] = league
    if mineral:
        query["minerals"] = mineral
    if scale:
        query["scale"] = scale
    if year:
        query["listed_year"] = int(year)
    if q:
        pattern = {"$regex": re.escape(q.strip())}
        query["$or"] = [{"mine_name": pattern}, {"enterprise_name": pattern}]
    return query


def _row(doc: dict) -> dict:
    doc = dict(doc)
    doc["mine_id"] = doc.pop("_id")
    return doc


def matches(row: dict, *, league=None, mineral=None, scale=None, year=None, status=None, q=None) -> bool:
    """`list_filter` on a row in memory (the same rules: the list's statuses, equality, a literal name part)."""
    if row.get("status") not in ((status,) if status in ON_LIST else ON_LIST):
        return False
    if (league and row.get("league") != league) or (scale and row.get("scale") != scale):
        return False
    if mineral and mineral not in (row.get("minerals") or ()):
        return False
    if year and row.get("listed_year") != int(year):
        return False
    if q:
        part = q.strip()
        return part in (row.get("mine_name") or "") or part in (row.get("enterprise_name") or "")
    return True


class ListCache:
    """The public list (a few thousand small rows) held in the web process, in the list's order, checked against
    the list's stamp (one read by id, `domain.listing.ListStamp`) on every use and reloaded when it changed.
    Without a stamp (nothing was ever listed through the service) there is no copy: every read asks the
    database. The stamp is read before the rows, so a copy is never newer-labelled than its data."""

    def __init__(self):
        self._lock = threading.Lock()
        self._stamp = None
        self._rows: list[dict] | None = None

    def rows(self, db: Database) -> list[dict] | None:
        doc = db[LIST_STAMPS].find_one({"_id": "list"}, {"changes": 1})
        if doc is None:
            return None
        stamp = doc.get("changes")
        if self._rows is not None and self._stamp == stamp:
            return self._rows
        with self._lock:
            if self._rows is None or self._stamp != stamp:
                self._rows = [_row(d) for d in db[LISTINGS].find({"status": {"$in": list(ON_LIST)}},
                                                                 LIST_PROJECTION).sort(SORT)]
                self._stamp = stamp
            return self._rows


def list_page(db: Database, *, page: int = 1, per_page: int = 20, cache: ListCache | None = None,
              **filters) -> tuple[list[dict], int]:
    """(one page of the list, how many match), from the cache when there is one."""
    rows = cache.rows(db) if cache is not None else None
    if rows is not None:
        found = [r for r in rows if matches(r, **filters)] if any(filters.values()) else rows
        return found[(page - 1) * per_page:page * per_page], len(found)
    query = list_filter(**filters)
    total = db[LISTINGS].count_documents(query)
    cursor = db[LISTINGS].find(query, LIST_PROJECTION).sort(SORT).skip((page - 1) * per_page).limit(per_page)
    return [_row(d) for d in cursor], total


def list_all(db: Database, cache: ListCache | None = None, **filters) -> list[dict]:
    """Every match (the exports)."""
    rows = cache.rows(db) if cache is not None else None
    if rows is not None:
        return [r for r in rows if matches(r, **filters)]
    return [_row(d) for d in db[LISTINGS].find(list_filter(**filters), LIST_PROJECTION).sort(SORT)]


def green_mines(db: Database, league: str | None = None, name: str | None = None) -> list[dict]:
    """The list (名录) by 盟市 or name part (kept for callers of the first version)."""
    return list_all(db, league=league, q=name)


def mine(db: Database, mine_id: str) -> dict | None:
    """One mine's public card and history (also a removed one: its page says why)."""
    doc = db[LISTINGS].find_one({"_id": mine_id}, MINE_PROJECTION)
    return _row(doc) if doc else None


def minerals(db: Database, cache: ListCache | None = None) -> list[str]:
    """The 矿种 of the list (the search form's choices)."""
    rows = cache.rows(db) if cache is not None else None
    if rows is not None:
        return sorted({m for r in rows for m in r.get("minerals") or () if m})
    return sorted(m for m in db[LISTINGS].distinct("minerals", {"status": {"$in": list(ON_LIST)}}) if m)


def years(db: Database, cache: ListCache | None = None) -> list[int]:
    """The listing years of the list, newest first."""
    rows = cache.rows(db) if cache is not None else None
    if rows is not None:
        return sorted({r["listed_year"] for r in rows if r.get("listed_year")}, reverse=True)
    return sorted((y for y in db[LISTINGS].distinct("listed_year", {"status": {"$in": list(ON_LIST)}}) if y),
                  reverse=True)


ANNOUNCEMENT_BRIEF = {"_id": 1, "kind": 1, "number": 1, "title": 1, "year": 1, "published_at": 1,
                      "published_on": 1, "item_count": 1, "issuer": 1}


def announcements(db: Database, *, kind: str | None = None, limit: int = 200) -> list[dict]:
    """The numbered announcements, newest first (brief)."""
    query = {"kind": kind} if kind else {}
    cursor = db[ANNOUNCEMENTS].find(query, ANNOUNCEMENT_BRIEF).sort([("published_at", -1), ("_id", -1)])
    return [_announcement(d) for d in cursor.limit(limit)]


def announcement(db: Database, announcement_id: str) -> dict | None:
    doc = db[ANNOUNCEMENTS].find_one({"_id": announcement_id},
                                     {"history": 0, "published_by": 0, "version": 0})
    return _announcement(doc) if doc else None


def _announcement(doc: dict) -> dict:
    from public_notice.domain.announcements import KIND_LABELS

    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    doc["kind_label"] = KIND_LABELS.get(doc.get("kind"), "")
    return doc


def bulletins(db: Database, limit: int = 200) -> list[dict]:
    """The published 通报, newest first."""
    return list(db[BULLETINS].find({}, {"_id": 0, "source_event": 0}).sort(
        [("published_at", -1), ("bulletin_id", -1)]).limit(limit))
