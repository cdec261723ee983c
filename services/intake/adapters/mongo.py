"""MongoDB repositories of the intake service: mines, applications with their frozen versions, the audit log.

Collections (database ``<prefix>_intake``):

- ``mines``: one document per mine (``Mine.to_dict()`` plus ``credit_code``, ``league``, ``created_*``,
  ``updated_*`` and the storage ``version`` that ``Transaction.save_versioned`` guards).
- ``applications``: the aggregate without its versions (``Application.to_dict()`` minus ``versions``) plus the
  listing fields (``league``, ``mine_name``, ``enterprise_name``, ``versions_count``) and the storage ``version``.
- ``application_versions``: one document per submitted version, ``_id = "<application id>:<n>"``, inserted once
  and never replaced; only its ``score_report`` is written, once, while it is still null.  Old versions stay
  readable for ever, whatever happens to the application later.
- ``audit_log``: append-only (who, when, what) for every change and every attachment download.
- GridFS bucket ``attachments`` (see ``files.py``).

Every method takes the transaction's session, so reads and writes of one command share one snapshot.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from intake.domain.application import Application, ApplicationVersion
from intake.domain.mine import Mine
from shared.logging import correlation_id
from shared.storage import ConcurrencyError, Transaction

MINES = "mines"
APPLICATIONS = "applications"
VERSIONS = "application_versions"
AUDIT = "audit_log"


def ensure_indexes(db) -> None:
    db[MINES].create_index([("credit_code", ASCENDING), ("created_at", ASCENDING)], name="by_enterprise")
    db[MINES].create_index([("league", ASCENDING)], name="by_league")
    db[MINES].create_index([("mining_licence.number", ASCENDING)], name="unique_mining_licence", unique=True)
    db[APPLICATIONS].create_index([("credit_code", ASCENDING), ("created_at", DESCENDING)], name="by_enterprise")
    db[APPLICATIONS].create_index([("league", ASCENDING), ("status", ASCENDING)], name="by_league_status")
    db[APPLICATIONS].create_index([("mine_id", ASCENDING)], name="by_mine")
    db[VERSIONS].create_index([("application_id", ASCENDING), ("number", ASCENDING)], name="by_application",
                              unique=True)
    db[AUDIT].create_index([("subject.id", ASCENDING), ("at", ASCENDING)], name="by_subject")
    db[AUDIT].create_index([("at", ASCENDING)], name="by_time")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DuplicateMine(Exception):
    """A mine with the same 采矿许可证证号 is already registered."""

    def __init__(self, existing: dict):
        self.existing = existing
        super().__init__(existing.get("_id"))


class MineRepository:
    def __init__(self, db, session=None):
        self.coll = db[MINES]
        self.session = session

    def get_document(self, mine_id: str) -> dict | None:
        return self.coll.find_one({"_id": mine_id}, session=self.session)

    def get(self, mine_id: str) -> tuple[Mine, dict] | None:
        doc = self.get_document(mine_id)
        if doc is None:
            return None
        return mine_from_document(doc), doc

    def by_licence_number(self, number: str) -> dict | None:
        return self.coll.find_one({"mining_licence.number": number}, session=self.session)

    def list(self, query: dict, limit: int = 500) -> list[dict]:
        return list(self.coll.find(query, session=self.session).sort("created_at", ASCENDING).limit(limit))

    def add(self, tx: Transaction, mine: Mine, actor: str, now: datetime) -> dict:
        other = self.by_licence_number(mine.mining_licence.number)
        if other is not None:
            raise DuplicateMine(other)
        doc = {**mine_to_document(mine), "created_at": now, "created_by": actor, "updated_at": now,
               "updated_by": actor}
        try:
            tx.save_versioned(MINES, doc, None)
        except DuplicateKeyError:
            raise DuplicateMine({}) from None
        return self.get_document(mine.id)

    def save(self, tx: Transaction, mine: Mine, previous: dict, actor: str, now: datetime) -> dict:
        other = self.by_licence_number(mine.mining_licence.number)
        if other is not None and other["_id"] != mine.id:
            raise DuplicateMine(other)
        doc = {**mine_to_document(mine), "created_at": previous["created_at"], "created_by": previous["created_by"],
               "updated_at": now, "updated_by": actor}
        tx.save_versioned(MINES, doc, previous["version"])
        return self.get_document(mine.id)


def mine_to_document(mine: Mine) -> dict:
    data = mine.to_dict()
    return {"_id": data.pop("id"), **data, "credit_code": mine.credit_code}


def mine_from_document(doc: dict) -> Mine:
    data = {k: v for k, v in doc.items() if k not in ("_id", "credit_code", "created_at", "created_by",
                                                       "updated_at", "updated_by", "version")}
    data["id"] = doc["_id"]
    return Mine.from_dict(data)


class ApplicationRepository:
    """Loads and saves the Application aggregate; remembers what it loaded to write only what changed."""

    def __init__(self, db, session=None):
        self.db = db
        self.coll = db[APPLICATIONS]
        self.versions = db[VERSIONS]
        self.session = session
        self._loaded: dict[str, tuple[int, dict[int, dict]]] = {}

    def get_document(self, app_id: str) -> dict | None:
        return self.coll.find_one({"_id": app_id}, session=self.session)

    def version_documents(self, app_id: str) -> list[dict]:
        return list(self.versions.find({"application_id": app_id}, session=self.session).sort("number", ASCENDING))

    def version_document(self, app_id: str, number: int) -> dict | None:
        return self.versions.find_one({"_id": f"{app_id}:{number}"}, session=self.session)

    def get(self, app_id: str) -> tuple[Application, dict] | None:
        doc = self.get_document(app_id)
        if doc is None:
            return None
        versions = self.version_documents(app_id)
        app = application_from_documents(doc, versions)
        self._loaded[app_id] = (doc["version"], {v["number"]: v for v in versions})
        return app, doc

    def list(self, query: dict, limit: int = 500) -> list[dict]:
        return list(self.coll.find(query, {"draft.assessment": 0}, session=self.session)
                    .sort("created_at", DESCENDING).limit(limit))

    def open_for_mine(self, mine_id: str, closed: tuple[str, ...]) -> dict | None:
        return self.coll.find_one({"mine_id": mine_id, "status": {"$nin": list(closed)}}, session=self.session)

    def save(self, tx: Transaction, app: Application, listing: dict[str, Any]) -> int:
        """Insert or update the application; new versions are inserted, a version's report written once."""
        data = app.to_dict()
        versions = data.pop("versions")
        doc = {"_id": data.pop("id"), **data, **listing, "versions_count": len(versions)}
        expected, stored = self._loaded.get(app.id, (None, {}))
        for v in versions:
            number = v["number"]
            old = stored.get(number)
            if old is None:
                self.versions.insert_one({"_id": f"{app.id}:{number}", "application_id": app.id, **v},
                                         session=self.session)
            elif old.get("score_report") is None and v.get("score_report") is not None:
                result = self.versions.update_one({"_id": old["_id"], "score_report": None},
                                                  {"$set": {"score_report": v["score_report"]}},
                                                  session=self.session)
                if result.matched_count != 1:
                    raise ConcurrencyError(f"{VERSIONS}/{old['_id']} was scored meanwhile")
        new_version = tx.save_versioned(APPLICATIONS, doc, expected)
        self._loaded[app.id] = (new_version, {v["number"]: {"_id": f"{app.id}:{v['number']}", **v}
                                              for v in versions})
        return new_version


def application_from_documents(doc: dict, versions: list[dict]) -> Application:
    data = {k: v for k, v in doc.items() if k not in ("_id", "version", "league", "mine_name", "enterprise_name",
                                                       "versions_count", "county")}
    data["id"] = doc["_id"]
    data["versions"] = [{k: v for k, v in d.items() if k not in ("_id", "application_id")} for d in versions]
    return Application.from_dict(data)


def version_from_document(doc: dict) -> ApplicationVersion:
    return ApplicationVersion.from_dict({k: v for k, v in doc.items() if k not in ("_id", "application_id")})


class AuditLog:
    """Append-only: inserted in the same transaction as the change it records, never updated or deleted."""

    def __init__(self, db, session=None):
        self.coll = db[AUDIT]
        self.session = session

    def record(self, *, actor: dict, action: str, subject_type: str, subject_id: str, detail: dict | None = None,
               at: datetime | None = None) -> None:
        self.coll.insert_one({
            "_id": str(uuid.uuid4()),
            "at": at or utcnow(),
            "actor": actor,
            "action": action,
            "subject": {"type": subject_type, "id": subject_id},
            "detail": detail or {},
            "correlation_id": correlation_id.get(),
        }, session=self.session)

    def for_subject(self, subject_id: str, limit: int = 1000) -> list[dict]:
        return list(self.coll.find({"subject.id": subject_id}, session=self.session)
                    .sort("at", ASCENDING).limit(limit))


def actor_of(principal) -> dict:
    """The audit log's "who": a signed-in principal, or a system component by name."""
    if isinstance(principal, str):
        return {"username": principal, "role": "system"}
    out = {"username": principal.username, "role": principal.role}
    for key in ("enterprise", "area", "department"):
        value = getattr(principal, key, None)
        if value:
            out[key] = value
    return out
