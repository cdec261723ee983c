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

Every method takes the transaction's session, so reads and writes of one command share one snapshot;
``MongoIntakeUnitOfWork`` binds the repositories to the transaction (``run``) or to no session (``read``).
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from intake.adapters.translators import contract_events, mine_recorded_event
from intake.domain.application import Application, ApplicationVersion
from intake.domain.mine import Mine
from intake.service_layer import unit_of_work as ports
from intake.service_layer.unit_of_work import DuplicateMine, Scope
from shared.clock import utcnow
from shared.logging import correlation_id
from shared.storage import ConcurrencyError, Transaction
from shared.unit_of_work import MongoUnitOfWork

MINES = "mines"
APPLICATIONS = "applications"
VERSIONS = "application_versions"
AUDIT = "audit_log"
CASE_COUNTERS = "case_counters"


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
    # the collection must exist before a transaction first increments a counter in it
    if CASE_COUNTERS not in db.list_collection_names():
        db.create_collection(CASE_COUNTERS)
    db[APPLICATIONS].create_index([("case_no", ASCENDING)], name="unique_case_no", unique=True,
                                  partialFilterExpression={"case_no": {"$type": "string"}})


def scope_filter(scope: Scope) -> dict:
    query = {}
    if scope.credit_code is not None:
        query["credit_code"] = scope.credit_code
    if scope.league is not None:
        query["league"] = scope.league
    return query


class MineRepository(ports.MineRepository):
    def __init__(self, db, session=None, tx: Transaction | None = None):
        self.coll = db[MINES]
        self.session = session
        self.tx = tx

    def get_document(self, mine_id: str) -> dict | None:
        return self.coll.find_one({"_id": mine_id}, session=self.session)

    def get(self, mine_id: str) -> tuple[Mine, dict] | None:
        doc = self.get_document(mine_id)
        if doc is None:
            return None
        return mine_from_document(doc), doc

    def by_licence_number(self, number: str) -> dict | None:
        return self.coll.find_one({"mining_licence.number": number}, session=self.session)

    def list(self, scope: Scope, limit: int = 500) -> list[tuple[Mine, dict]]:
        docs = self.coll.find(scope_filter(scope), session=self.session).sort("created_at", ASCENDING).limit(limit)
        return [(mine_from_document(d), d) for d in docs]

    def add(self, mine: Mine, actor: str, now: datetime) -> dict:
        other = self.by_licence_number(mine.mining_licence.number)
        if other is not None:
            raise DuplicateMine(other)
        doc = {**mine_to_document(mine), "created_at": now, "created_by": actor, "updated_at": now,
               "updated_by": actor}
        try:
            self.tx.save_versioned(MINES, doc, None)
        except DuplicateKeyError:
            raise DuplicateMine({}) from None
        return self.get_document(mine.id)

    def save(self, mine: Mine, previous: dict, actor: str, now: datetime) -> dict:
        other = self.by_licence_number(mine.mining_licence.number)
        if other is not None and other["_id"] != mine.id:
            raise DuplicateMine(other)
        doc = {**mine_to_document(mine), "created_at": previous["created_at"], "created_by": previous["created_by"],
               "updated_at": now, "updated_by": actor}
        self.tx.save_versioned(MINES, doc, previous["version"])
        return self.get_document(mine.id)


def mine_to_document(mine: Mine) -> dict:
    data = mine.to_dict()
    return {"_id": data.pop("id"), **data, "credit_code": mine.credit_code}


def mine_from_document(doc: dict) -> Mine:
    data = {k: v for k, v in doc.items() if k not in ("_id", "credit_code", "created_at", "created_by",
                                                       "updated_at", "updated_by", "version")}
    data["id"] = doc["_id"]
    return Mine.from_dict(data)


class ApplicationRepository(ports.ApplicationRepository):
    """Loads and saves the Application aggregate; remembers what it loaded to write only what changed."""

    def __init__(self, db, session=None, tx: Transaction | None = None):
        self.db = db
        self.coll = db[APPLICATIONS]
        self.versions = db[VERSIONS]
        self.session = session
        self.tx = tx
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

    def version(self, app_id: str, number: int) -> ApplicationVersion | None:
        doc = self.version_document(app_id, number)
        return None if doc is None else version_from_document(doc)

    def list(self, scope: Scope, status: str | None = None, mine_id: str | None = None, limit: int = 500
             ) -> list[dict]:
        query = scope_filter(scope)
        if status:
            query["status"] = status
        if mine_id:
            query["mine_id"] = mine_id
        return list(self.coll.find(query, {"draft.assessment": 0}, session=self.session)
                    .sort("created_at", DESCENDING).limit(limit))

    def follow_mine(self, mine_id: str, listing: dict[str, Any]) -> None:
        self.coll.update_many({"mine_id": mine_id}, {"$set": listing}, session=self.session)

    def open_for_mine(self, mine_id: str, closed: tuple[str, ...]) -> dict | None:
        return self.coll.find_one({"mine_id": mine_id, "status": {"$nin": list(closed)}}, session=self.session)

    def save(self, app: Application, listing: dict[str, Any]) -> int:
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
        new_version = self.tx.save_versioned(APPLICATIONS, doc, expected)
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


class CaseNumbers(ports.CaseNumbers):
    """``case_counters``: one document per 盟市 and year (``_id`` ``"150600-2026"``, ``seq``), incremented with
    ``$inc`` inside the submission's transaction.  Two submissions of one 盟市 at the same moment conflict on
    the counter document; the transaction of the later one is retried whole and takes the next number."""

    def __init__(self, db, session=None):
        self.coll = db[CASE_COUNTERS]
        self.session = session

    def next(self, key: str) -> int:
        doc = self.coll.find_one_and_update({"_id": key}, {"$inc": {"seq": 1}}, upsert=True,
                                            return_document=ReturnDocument.AFTER, session=self.session)
        return int(doc["seq"])


class AuditLog(ports.AuditLog):
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


class MongoIntakeUnitOfWork(MongoUnitOfWork, ports.IntakeUnitOfWork):
    """The intake repositories over one transaction of the intake database (or, in ``read``, over none)."""

    def bind(self, tx: Transaction) -> None:
        self.mines = MineRepository(tx.db, tx.session, tx)
        self.applications = ApplicationRepository(tx.db, tx.session, tx)
        self.case_numbers = CaseNumbers(tx.db, tx.session)
        self.audit = AuditLog(tx.db, tx.session)

    def publish_events(self, app: Application) -> None:
        for envelope in contract_events(app, app.pop_events()):
            self.publish(envelope)

    def publish_mine(self, mine, *, register_version, change, recorded_on, at, before=None) -> None:
        self.publish(mine_recorded_event(mine, register_version=register_version, change=change,
                                         recorded_on=recorded_on, at=at, before=before))
