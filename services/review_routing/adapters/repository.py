"""MongoDB storage of the review service (database `<prefix>_review_routing`): the repositories of
`service_layer.unit_of_work`, each bound to one transaction (`tx`).

| collection | holds |
|---|---|
| `cases` | one ReviewCase per application: versions, routed tasks, decisions |
| `tasks` | ReviewTask documents (the write model: state machine, opinions, reminders, transfers) |
| `queue` | the department queues: a read model built from the department topics by the consumer |
| `audit` | who did or saw what, when: insert-only (nothing here updates or deletes an entry) |
| `photos` | registered site-check photos (their bytes live in the GridFS bucket `site_photos`) |
| `self_reports` | the enterprise's self-assessment reports (scoring.assessment_scored, stage self_assessment) |

Every read and write passes the transaction's session, so a change, its audit entry and its events are stored
together or not at all. Documents carry a `version` for optimistic concurrency.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne

from review_routing.domain.case import ReviewCase
from review_routing.domain.task import ReviewTask
from review_routing.service_layer.unit_of_work import (
    AuditLog,
    CaseRepository,
    PhotoRepository,
    QueueQuery,
    QueueRepository,
    SelfReports,
    TaskRepository,
)
from shared.storage import ConcurrencyError, Transaction

CASES, TASKS, QUEUE, AUDIT, PHOTOS, SELF_REPORTS = "cases", "tasks", "queue", "audit", "photos", "self_reports"
PHOTO_BUCKET = "site_photos"


def ensure_indexes(db) -> None:
    db[TASKS].create_index([("application_id", ASCENDING), ("version_no", ASCENDING)], name="by_case")
    db[TASKS].create_index([("status", ASCENDING), ("due_date", ASCENDING)], name="pending_by_due")
    db[CASES].create_index([("league", ASCENDING), ("status", ASCENDING)], name="by_league")
    db[QUEUE].create_index([("department", ASCENDING), ("league", ASCENDING), ("due_date", ASCENDING)],
                           name="department_queue")
    db[QUEUE].create_index([("application_id", ASCENDING)], name="by_application")
    db[AUDIT].create_index([("application_id", ASCENDING), ("at", DESCENDING)], name="by_case")
    db[AUDIT].create_index([("task_id", ASCENDING), ("at", DESCENDING)], name="by_task")
    db[PHOTOS].create_index([("task_id", ASCENDING)], name="by_task")


class _Repository:
    collection = ""

    def __init__(self, tx: Transaction):
        self.tx = tx
        self.coll = tx.db[self.collection]
        self.session = tx.session


class MongoCaseRepository(_Repository, CaseRepository):
    collection = CASES

    def get(self, application_id: str) -> ReviewCase | None:
        doc = self.coll.find_one({"_id": application_id}, session=self.session)
        return ReviewCase.from_dict(doc) if doc else None

    def get_many(self, application_ids: Iterable[str]) -> dict[str, ReviewCase]:
        return {d["_id"]: ReviewCase.from_dict(d)
                for d in self.coll.find({"_id": {"$in": list(application_ids)}}, session=self.session)}

    def add_many(self, cases: list[ReviewCase]) -> None:
        if cases:
            self.coll.insert_many([{**c.to_dict(), "version": c.version} for c in cases], ordered=True,
                                  session=self.session)

    def replace(self, case: ReviewCase, expected_version: int) -> None:
        result = self.coll.replace_one({"_id": case.application_id, "version": expected_version},
                                       {**case.to_dict(), "version": case.version}, session=self.session)
        if result.matched_count != 1:
            raise ConcurrencyError(f"cases/{case.application_id} changed since version {expected_version}")

    def save(self, case: ReviewCase) -> int:
        case.version = self.tx.save_versioned(CASES, case.to_dict(), case.version)
        return case.version

    def summaries(self, league: str | None, status: str | None) -> list[dict]:
        query: dict[str, Any] = {}
        if league:
            query["league"] = league
        if status:
            query["status"] = status
        return list(self.coll.find(query, {"versions.assessment": 0}, session=self.session).sort("_id", 1))

    def decision_reasons(self, application_id: str, version_no: int) -> list[dict]:
        doc = self.coll.find_one({"_id": application_id}, {"versions.assessment": 0}, session=self.session)
        for version in (doc or {}).get("versions", []):
            if version["version_no"] == version_no and version.get("decision"):
                return version["decision"].get("reasons", [])
        return []


class MongoTaskRepository(_Repository, TaskRepository):
    collection = TASKS

    def get(self, task_id: str) -> ReviewTask | None:
        doc = self.coll.find_one({"_id": task_id}, session=self.session)
        return ReviewTask.from_dict(doc) if doc else None

    def of_case(self, application_id: str, version_no: int | None = None) -> list[ReviewTask]:
        query: dict[str, Any] = {"application_id": application_id}
        if version_no is not None:
            query["version_no"] = version_no
        docs = self.coll.find(query, session=self.session).sort([("version_no", 1), ("_id", 1)])
        return [ReviewTask.from_dict(d) for d in docs]

    def add_many(self, tasks: list[ReviewTask]) -> None:
        if tasks:
            self.coll.insert_many([{**t.to_dict(), "version": t.version} for t in tasks], ordered=True,
                                  session=self.session)

    def save(self, task: ReviewTask) -> int:
        task.version = self.tx.save_versioned(TASKS, task.to_dict(), task.version)
        return task.version

    def previous(self, application_id: str, department: str, version_no: int) -> ReviewTask | None:
        doc = self.coll.find_one({"application_id": application_id, "department": department,
                                  "version_no": {"$lt": version_no}}, sort=[("version_no", -1)],
                                 session=self.session)
        return ReviewTask.from_dict(doc) if doc else None

    def pending_due_before(self, day: str) -> list[str]:
        return [d["_id"] for d in self.coll.find(
            {"status": {"$in": ["open", "claimed"]}, "outcome": None, "due_date": {"$lt": day}}, {"_id": 1},
            session=self.session)]


class MongoQueueRepository(_Repository, QueueRepository):
    collection = QUEUE

    def get_many(self, task_ids: Iterable[str]) -> dict[str, dict]:
        ids = list(task_ids)
        if not ids:
            return {}
        return {d["_id"]: d for d in self.coll.find({"_id": {"$in": ids}}, session=self.session)}

    def add_many(self, entries: list[dict]) -> None:
        if entries:
            self.coll.insert_many(entries, ordered=True, session=self.session)

    def replace_many(self, entries: list[dict]) -> None:
        if entries:
            self.coll.bulk_write([ReplaceOne({"_id": e["_id"]}, e) for e in entries], ordered=True,
                                 session=self.session)

    def search(self, query: QueueQuery) -> list[dict]:
        return list(self.coll.find(queue_filter(query), session=self.session).sort([("due_date", 1), ("_id", 1)]))


def queue_filter(query: QueueQuery) -> dict:
    """The MongoDB filter of a queue query."""
    out: dict[str, Any] = {"department": query.department}
    if query.league:
        out["league"] = query.league
    if query.county:
        out["county"] = query.county
    if query.statuses is not None:
        out["status"] = {"$in": list(query.statuses)}
    due: dict[str, str] = {}
    if query.due_until:
        due["$lte"] = query.due_until
    if query.due_from:
        due["$gte"] = query.due_from
    if query.due_before:
        due["$lt"] = query.due_before
    if due:
        out["due_date"] = due
    if query.mine:
        out["$or"] = [{"mine_id": query.mine}, {"mine_name": {"$regex": re.escape(query.mine)}},
                      {"application_id": query.mine}]
    return out


class MongoAuditLog(_Repository, AuditLog):
    collection = AUDIT

    def add_many(self, entries: list[dict]) -> None:
        if len(entries) == 1:
            self.coll.insert_one(entries[0], session=self.session)
        elif entries:
            self.coll.insert_many(entries, ordered=True, session=self.session)

    def entries(self, *, application_id: str | None = None, task_id: str | None = None,
                limit: int = 500) -> list[dict]:
        query: dict[str, Any] = {}
        if application_id:
            query["application_id"] = application_id
        if task_id:
            query["task_id"] = task_id
        return list(self.coll.find(query, session=self.session)
                    .sort([("at", DESCENDING), ("_id", ASCENDING)]).limit(limit))


class MongoPhotoRepository(_Repository, PhotoRepository):
    collection = PHOTOS

    def get(self, photo_id: str) -> dict | None:
        return self.coll.find_one({"_id": photo_id}, session=self.session)

    def of_task(self, task_id: str) -> list[dict]:
        return list(self.coll.find({"task_id": task_id}, session=self.session).sort("uploaded_at", 1))

    def ids_of_task(self, task_id: str) -> set[str]:
        return {d["_id"] for d in self.coll.find({"task_id": task_id}, {"_id": 1}, session=self.session)}

    def count_of_task(self, task_id: str) -> int:
        return self.coll.count_documents({"task_id": task_id}, session=self.session)

    def add(self, photo: dict) -> None:
        self.coll.insert_one(photo, session=self.session)


class MongoSelfReports(_Repository, SelfReports):
    collection = SELF_REPORTS

    def put(self, application_id: str, version_no: int, report: dict, scored_at: str) -> None:
        key = f"{application_id}.v{version_no}"
        self.coll.replace_one({"_id": key}, {"_id": key, "application_id": application_id, "version_no": version_no,
                                             "report": report, "scored_at": scored_at},
                              upsert=True, session=self.session)

    def get(self, application_id: str, version_no: int) -> dict | None:
        doc = self.coll.find_one({"_id": f"{application_id}.v{version_no}"}, session=self.session)
        return doc["report"] if doc else None
