"""MongoDB storage of the review service (database `<prefix>_review_routing`).

| collection | holds |
|---|---|
| `cases` | one ReviewCase per application: versions, routed tasks, decisions |
| `tasks` | ReviewTask documents (the write model: state machine, opinions, reminders, transfers) |
| `queue` | the department queues: a read model built from the department topics by the consumer |
| `audit` | who did or saw what, when: insert-only (nothing here updates or deletes an entry) |
| `photos` | registered site-check photos (their bytes live in the GridFS bucket `site_photos`) |
| `self_reports` | the enterprise's self-assessment reports (scoring.assessment_scored, stage self_assessment) |

Every write goes through a `shared.storage.Transaction` (`tx`), so a change, its audit entry and its events are
stored together or not at all. Documents carry a `version` for optimistic concurrency.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Iterable

from pymongo import ASCENDING, DESCENDING

from review_routing.domain.access import Actor
from review_routing.domain.case import ReviewCase
from review_routing.domain.task import ReviewTask

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


# --- cases and tasks -------------------------------------------------------------------------------------------
def load_case(tx, application_id: str) -> ReviewCase | None:
    doc = tx.db[CASES].find_one({"_id": application_id}, session=tx.session)
    return ReviewCase.from_dict(doc) if doc else None


def save_case(tx, case: ReviewCase) -> int:
    case.version = tx.save_versioned(CASES, case.to_dict(), case.version)
    return case.version


def load_task(tx, task_id: str) -> ReviewTask | None:
    doc = tx.db[TASKS].find_one({"_id": task_id}, session=tx.session)
    return ReviewTask.from_dict(doc) if doc else None


def save_task(tx, task: ReviewTask) -> int:
    task.version = tx.save_versioned(TASKS, task.to_dict(), task.version)
    return task.version


def insert_tasks(tx, tasks: Iterable[ReviewTask]) -> None:
    docs = []
    for task in tasks:
        task.version = 1
        docs.append({**task.to_dict(), "version": 1})
    if docs:
        tx.db[TASKS].insert_many(docs, ordered=True, session=tx.session)


def tasks_of(tx, application_id: str, version_no: int | None = None) -> list[ReviewTask]:
    query: dict[str, Any] = {"application_id": application_id}
    if version_no is not None:
        query["version_no"] = version_no
    docs = tx.db[TASKS].find(query, session=tx.session).sort([("version_no", 1), ("_id", 1)])
    return [ReviewTask.from_dict(d) for d in docs]


# --- audit -----------------------------------------------------------------------------------------------------
def audit_doc(actor: Actor | None, action: str, at: datetime, *, application_id: str | None = None,
              version_no: int | None = None, task_id: str | None = None, target: str | None = None,
              detail: dict | None = None) -> dict:
    return {
        "_id": uuid.uuid4().hex, "at": at, "action": action,
        "actor": actor.username if actor else "system", "actor_name": actor.name if actor else "系统",
        "role": actor.role if actor else "system", "department": actor.department if actor else None,
        "area": actor.area if actor else None,
        "application_id": application_id, "version_no": version_no, "task_id": task_id, "target": target,
        "detail": detail or {},
    }


def audit(tx, actor: Actor | None, action: str, at: datetime, **fields) -> str:
    """Append one audit entry (who, when, what). There is no update or delete for these."""
    doc = audit_doc(actor, action, at, **fields)
    tx.db[AUDIT].insert_one(doc, session=tx.session)
    return doc["_id"]


def audit_entries(db, *, application_id: str | None = None, task_id: str | None = None,
                  limit: int = 500) -> list[dict]:
    query: dict[str, Any] = {}
    if application_id:
        query["application_id"] = application_id
    if task_id:
        query["task_id"] = task_id
    return list(db[AUDIT].find(query).sort([("at", DESCENDING), ("_id", ASCENDING)]).limit(limit))
