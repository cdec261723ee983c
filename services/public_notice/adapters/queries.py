"""Read models of the public_notice service, kept from listing decisions (outside any transaction)."""
from __future__ import annotations

import re

from pymongo.database import Database

GREEN_MINES = "green_mines"
NOTICES = "notices"
BULLETINS = "bulletins"


def green_mines(db: Database, league: str | None = None, name: str | None = None) -> list[dict]:
    """The green-mine list (名录): mines not removed, by 盟市 then name, optionally one 盟市 / a name part."""
    query: dict = {"status": {"$ne": "removed"}}
    if league:
        query["league"] = league
    if name:
        query["mine_name"] = {"$regex": re.escape(name)}
    return list(db[GREEN_MINES].find(query, {"_id": 0}).sort([("league", 1), ("mine_name", 1)]))


def published_notices(db: Database, limit: int = 100) -> list[dict]:
    """The published notices (公示), newest first."""
    return list(db[NOTICES].find({"published": True}, {"_id": 0}).sort("published_at", -1).limit(limit))


def bulletins(db: Database, limit: int = 200) -> list[dict]:
    """The published 通报, newest first."""
    return list(db[BULLETINS].find({}, {"_id": 0, "source_event": 0}).sort(
        [("published_at", -1), ("bulletin_id", -1)]).limit(limit))
