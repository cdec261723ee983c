"""Events from Kafka: submitted applications become a case and one task per department (published on the
department topics), scored self-assessments are kept beside the case, and the department topics build the
queue read model.

The batching consumer hands several envelopes of a chunk to one call (`route_submissions`,
`project_task_events`), all in the chunk's transaction: one read and one bulk write per collection, whatever
the chunk's size. The single-envelope forms are what the consumer falls back to when a chunk fails.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from review_routing.adapters import events
from review_routing.domain.case import ReviewCase
from review_routing.domain.errors import RoutingError
from review_routing.domain.task import ReviewTask
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar
from review_routing.service_layer.common import Catalogs, audit_entry
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.catalog import CatalogError
from shared.logging import correlation_id
from shared.messaging import PermanentFailure

log = logging.getLogger(__name__)

TASK_EVENT_TYPES = ("review_routing.review_task_assigned", *events.TASK_TYPES.values())


def route_submission(envelope: dict, uow: ReviewUnitOfWork, *, catalogs: Catalogs, calendar: WorkingCalendar,
                     policy: DeadlinePolicy, clock: Callable[[], datetime]) -> None:
    """Route a submitted (or resubmitted) version: one task per department, published to its topic."""
    route_submissions([envelope], uow, catalogs=catalogs, calendar=calendar, policy=policy, clock=clock)


def route_submissions(envelopes: list[dict], uow: ReviewUnitOfWork, *, catalogs: Catalogs,
                      calendar: WorkingCalendar, policy: DeadlinePolicy, clock: Callable[[], datetime]) -> None:
    """Route several submissions in one transaction (in order), with a handful of round trips."""
    def work():
        now = clock()
        ids = list(dict.fromkeys(e["payload"]["application_id"] for e in envelopes))
        cases = uow.cases.get_many(ids)
        stored_versions = {app: case.version for app, case in cases.items()}
        new_tasks: list[ReviewTask] = []
        audits: list[dict] = []
        for envelope in envelopes:
            payload = envelope["payload"]
            application_id = payload["application_id"]
            try:
                catalog = catalogs(payload["catalog"])
            except CatalogError as exc:
                raise PermanentFailure(f"评价指标 {payload['catalog']} 不可用:{exc}") from exc
            case = cases.get(application_id)
            try:
                if case is None:
                    case = cases[application_id] = ReviewCase.open(payload)
                routed = case.receive(payload, catalog, calendar, policy, now)
            except RoutingError as exc:
                detail = ";".join(f"{e.field}: {e.message}" for e in exc.errors)
                raise PermanentFailure(f"{exc.message}:{detail}") from exc
            if routed is None:
                log.info("application %s v%s already routed; nothing to do", application_id, payload["version_no"])
                continue
            token = correlation_id.set(envelope["correlation_id"])
            try:
                if routed.superseded is not None:
                    _supersede(uow, application_id, routed.superseded, new_tasks, now)
                new_tasks.extend(routed.tasks)
                case.version = (case.version or 0) + 1
                for task in routed.tasks:
                    task.version = 1
                    uow.publish(events.task_assigned(task, 1, envelope["event_id"]),
                                topic=events.department_topic(task.department))
                uow.publish(events.case_routed(case, routed.version, list(routed.tasks), case.version,
                                               envelope["event_id"]))
            finally:
                correlation_id.reset(token)
            audits.append(audit_entry(None, "case_routed", now, application_id=application_id,
                                      version_no=routed.version.version_no,
                                      detail={"event_id": envelope["event_id"],
                                              "departments": list(routed.routing.departments),
                                              "warnings": list(routed.version.warnings)}))
        uow.tasks.add_many(new_tasks)
        inserts = []
        for application_id, case in cases.items():
            before = stored_versions.get(application_id)
            if case.version == before or case.version is None:
                continue
            if before is None:
                inserts.append(case)
            else:
                uow.cases.replace(case, before)
        uow.cases.add_many(inserts)
        uow.audit.add_many(audits)

    uow.run(work)


def _supersede(uow: ReviewUnitOfWork, application_id: str, version_no: int, pending: list[ReviewTask],
               now: datetime) -> None:
    """Close the tasks of a version still under review when a newer version arrives."""
    in_chunk = [t for t in pending if t.application_id == application_id and t.version_no == version_no]
    for task in in_chunk or uow.tasks.of_case(application_id, version_no):
        event = task.finalise("superseded", now, "system")
        # Not stored yet (routed in this chunk): it is inserted finalised, at version 1.
        version = 1 if in_chunk else uow.tasks.save(task)
        if event is not None:
            uow.publish(events.task_event(task, event, version), topic=events.department_topic(task.department))


def record_self_assessment(envelope: dict, uow: ReviewUnitOfWork) -> None:
    """Keep the enterprise's self-assessment report beside the case (shown next to the re-score)."""
    payload = envelope["payload"]
    subject = payload["subject"]
    if payload["stage"] != "self_assessment" or subject["kind"] != "application":
        return
    uow.run(lambda: uow.self_reports.put(subject["id"], subject["version_no"], payload["report"],
                                         envelope["occurred_at"]))


# --- the department queues (read model) -----------------------------------------------------------------------
def project_task_event(envelope: dict, uow: ReviewUnitOfWork) -> None:
    """The department queue read model, built from the department topics."""
    project_task_events([envelope], uow)


def project_task_events(envelopes: list[dict], uow: ReviewUnitOfWork, *,
                        assume_new_assignments: bool = False) -> None:
    """Project several department-topic events: one read and one bulk write.

    With `assume_new_assignments` (the batching consumer's fast path) the queue entries of assigned tasks
    are not looked up but inserted: a task is assigned once, and an entry that exists already (a replayed
    topic) makes the insert fail, the chunk roll back, and the consumer handle its records one at a time
    through this function without the assumption."""
    def work():
        new_tasks = {e["payload"]["task_id"] for e in envelopes
                     if assume_new_assignments and e["type"] == "review_routing.review_task_assigned"}
        ids = [i for i in dict.fromkeys(e["payload"]["task_id"] for e in envelopes) if i not in new_tasks]
        docs = uow.queue.get_many(ids)
        stored = set(docs)
        changed = {}
        for envelope in envelopes:
            task_id = envelope["payload"]["task_id"]
            updated = project_queue(docs.get(task_id), envelope)
            if updated is not None:
                docs[task_id] = changed[task_id] = updated
        # New entries (the usual case: a task was just assigned) are inserted, much cheaper than an upsert.
        uow.queue.add_many([doc for task_id, doc in changed.items() if task_id not in stored])
        uow.queue.replace_many([doc for task_id, doc in changed.items() if task_id in stored])

    uow.run(work)


EMPTY_QUEUE_STATE = {"status": "open", "claimed_by": None, "reminders": 0, "last_reminded_at": None,
                     "overdue_flagged": False, "decision": None, "opinions": 0, "closed_reason": None,
                     "last_reminder": None}


def project_queue(doc: Mapping | None, envelope: dict) -> dict | None:
    """The queue entry after one department-topic event (None: unchanged). Pure and idempotent: a task's
    events are in order on one partition, and an event older than what the entry shows changes nothing."""
    payload = envelope["payload"]
    kind = envelope["type"].removeprefix("review_routing.")
    version = envelope["aggregate_version"]
    base = {"_id": payload["task_id"], "application_id": payload["application_id"],
            "version_no": payload["version_no"], "department": payload["department"], "league": payload["league"]}
    if kind == "review_task_assigned":
        mine = payload.get("mine") or {}
        base.update(county=payload.get("county", ""), lead=payload["lead"], mine_id=mine.get("mine_id", ""),
                    mine_name=mine.get("name", ""), indicators=len(payload["indicators"]),
                    prerequisites=len(payload["prerequisites"]), checks=len(payload["checks"]),
                    evidence=len(payload.get("attachments") or ()), due_date=payload["due_date"],
                    assigned_at=envelope["occurred_at"], case_no=payload.get("case_no"))
        if doc is None:
            return {**base, **EMPTY_QUEUE_STATE, "event_version": version, "updated_at": envelope["occurred_at"]}
        # A later event of the task got here first: fill in the facts, keep its status.
        return None if all(doc.get(k) == v for k, v in base.items()) else {**doc, **base}
    if kind == "review_task_claimed":
        changes = {"status": "claimed", "claimed_by": payload["claimed_by"],
                   "claimed_by_name": payload.get("claimed_by_name") or None}
    elif kind == "review_task_unclaimed":
        changes = {"status": "open", "claimed_by": None, "claimed_by_name": None}
    elif kind == "review_task_transferred":
        changes = {"status": "claimed", "claimed_by": payload["to_user"],
                   "claimed_by_name": payload.get("to_name") or None}
    elif kind == "review_opinion_recorded":
        changes = {"status": "opinion_given", "decision": payload["decision"], "opinions": payload["sequence"],
                   "claimed_by": payload["given_by"], "claimed_by_name": payload.get("given_by_name") or None,
                   "opinion_at": payload["given_at"]}
    elif kind == "review_task_reminded":
        # The last reminder as its reader meets it: the assignee's (claimed_by), or, on an unclaimed task, every
        # reviewer of the department and area whose queue holds the entry (to_user None).
        changes = {"reminders": payload["reminder_no"], "last_reminded_at": payload["reminded_at"],
                   "last_reminder": {"no": payload["reminder_no"], "message": payload["message"],
                                     "by_name": payload.get("reminded_by_name") or payload["reminded_by"],
                                     "at": payload["reminded_at"], "automatic": payload["automatic"],
                                     "to_user": payload.get("claimed_by")}}
    elif kind == "review_task_overdue":
        changes = {"overdue_flagged": True}
    elif kind == "review_task_closed":
        changes = {"status": "closed", "closed_reason": payload["reason"]}
    else:
        return None
    if doc is not None and doc.get("event_version", 0) > version:
        return None
    if doc is not None and all(doc.get(k) == v for k, v in changes.items()) and doc.get("event_version") == version:
        return None                                  # the same event again (several share one task version)
    start = dict(doc) if doc is not None else {**base, **EMPTY_QUEUE_STATE}
    return {**start, **changes, "event_version": version, "updated_at": envelope["occurred_at"]}
