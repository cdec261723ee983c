"""The department queues (read model `queue`), written in the same transaction as the task change that
publishes the event on the department's topic.

Every task event (assigned, claimed, transferred, opinion, reminded, overdue, closed) is published on
`review_routing.tasks.<department>` for whoever listens there (public_notice's notifications, a department's
own system) and projected here, at once, by the same pure `project_queue`. Until issue 14 this service consumed
its own department topics to build the queue: a second hop through the relay and Kafka, an inbox claim per
event and a second transaction, which together were a third of what the embedded database did per routed
application and half of the latency from submission to queue (docs/capacity.md). Now a reviewer also sees a
claim or an opinion in the queue the moment it is saved.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from review_routing.adapters import events
from review_routing.domain.task import ReviewTask, TaskEvent
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork


def publish_task_events(uow: ReviewUnitOfWork, envelopes: list[dict], *, new_tasks: bool = False) -> None:
    """Publish task events on their departments' topics and bring the queue up to date with them, in the
    unit of work's transaction. `new_tasks`: the assigned tasks were created in this transaction (routing)."""
    if not envelopes:
        return
    for envelope in envelopes:
        uow.publish(envelope, topic=events.department_topic(envelope["payload"]["department"]))
    project_task_events(envelopes, uow, assume_new_assignments=new_tasks)


def publish_events_of_task(uow: ReviewUnitOfWork, task: ReviewTask, happened: Iterable[TaskEvent],
                           version: int) -> None:
    """What happened to one task (at its stored `version`), published and projected."""
    publish_task_events(uow, [events.task_event(task, event, version) for event in happened])


def project_task_events(envelopes: list[dict], uow: ReviewUnitOfWork, *,
                        assume_new_assignments: bool = False) -> None:
    """Project several task events: one read and one bulk write.

    With `assume_new_assignments` (routing, whose tasks were created in this very transaction) the queue
    entries of assigned tasks are not looked up but inserted; an entry that existed would fail the insert
    and with it the transaction."""
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
