"""Domain → contract: the envelopes review_routing publishes (contracts/events/review_routing.*).

Task events go to the task's department topic `review_routing.tasks.<department>`, keyed by task id; case events
(case_routed, initial_review_decided) to `review_routing.case.events`, keyed by application id.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from review_routing.domain.case import CaseVersion, Decision, ReviewCase
from review_routing.domain.task import ReviewTask, TaskEvent
from shared.contracts import new_event

PRODUCER = "review_routing"
CASE_TOPIC = "review_routing.case.events"
TASK_TYPES = {
    "claimed": "review_routing.review_task_claimed",
    "unclaimed": "review_routing.review_task_unclaimed",
    "transferred": "review_routing.review_task_transferred",
    "opinion_recorded": "review_routing.review_opinion_recorded",
    "reminded": "review_routing.review_task_reminded",
    "overdue": "review_routing.review_task_overdue",
    "closed": "review_routing.review_task_closed",
}


def department_topic(department: str) -> str:
    return f"review_routing.tasks.{department}"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _task_common(task: ReviewTask) -> dict:
    return {"task_id": task.task_id, "application_id": task.application_id, "version_no": task.version_no,
            "department": task.department, "league": task.league}


def task_assigned(task: ReviewTask, aggregate_version: int, causation_id: str | None) -> dict:
    payload = {**_task_common(task), "county": task.county, "lead": task.lead,
               "indicators": list(task.indicators), "prerequisites": list(task.prerequisites),
               "checks": list(task.checks), "due_date": task.due_date.isoformat(), "mine": dict(task.mine),
               "attachments": [dict(a) for a in task.attachments]}
    if task.case_no:
        payload["case_no"] = task.case_no
    return new_event("review_routing.review_task_assigned", producer=PRODUCER, aggregate_type="review_task",
                     aggregate_id=task.task_id, aggregate_version=aggregate_version, payload=payload,
                     causation_id=causation_id, occurred_at=task.routed_at)


def case_routed(case: ReviewCase, version: CaseVersion, tasks: list[ReviewTask], aggregate_version: int,
                causation_id: str | None) -> dict:
    payload = {"application_id": case.application_id, "version_no": version.version_no, "league": case.league,
               "routed_at": iso(version.routed_at),
               "tasks": [{"task_id": t.task_id, "department": t.department, "lead": t.lead,
                          "indicators": list(t.indicators), "prerequisites": list(t.prerequisites),
                          "due_date": t.due_date.isoformat()} for t in tasks]}
    return new_event("review_routing.case_routed", producer=PRODUCER, aggregate_type="case",
                     aggregate_id=case.application_id, aggregate_version=aggregate_version, payload=payload,
                     causation_id=causation_id, occurred_at=version.routed_at)


def initial_review_decided(case: ReviewCase, version_no: int, decision: Decision, aggregate_version: int) -> dict:
    payload = {"application_id": case.application_id, "version_no": version_no, "decision": decision.decision,
               "reasons": [r.to_dict() for r in decision.reasons], "decided_by": decision.decided_by,
               "decided_at": iso(decision.decided_at), "league": case.league,
               "report": dict(decision.report) if decision.report is not None else None}
    return new_event("review_routing.initial_review_decided", producer=PRODUCER, aggregate_type="case",
                     aggregate_id=case.application_id, aggregate_version=aggregate_version, payload=payload,
                     occurred_at=decision.decided_at)


def _date(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def task_event(task: ReviewTask, event: TaskEvent, aggregate_version: int) -> dict:
    """The envelope of one task lifecycle event (claimed, opinion recorded, reminded, …)."""
    payload = _task_common(task)
    detail: Mapping = event.detail
    if event.kind == "claimed":
        payload.update(claimed_by=detail["claimed_by"], claimed_by_name=detail.get("claimed_by_name", ""),
                       claimed_at=iso(event.at))
    elif event.kind == "unclaimed":
        payload.update(released_by=detail["released_by"], released_at=iso(event.at))
    elif event.kind == "transferred":
        payload.update(from_user=detail["from_user"], to_user=detail["to_user"], to_name=detail.get("to_name", ""),
                       reason=detail["reason"], transferred_by=event.actor, transferred_at=iso(event.at))
    elif event.kind == "opinion_recorded":
        opinion = detail["opinion"]
        body = opinion.to_dict()
        payload.update(opinion_id=opinion.opinion_id, sequence=opinion.sequence, supersedes=opinion.supersedes,
                       decision=opinion.decision, lead=task.lead, given_by=opinion.given_by,
                       given_by_name=opinion.given_by_name, given_at=iso(opinion.given_at),
                       indicators=body["indicators"], prerequisites=body["prerequisites"], checks=body["checks"],
                       site_checks=body["site_checks"], comments=opinion.comments)
    elif event.kind == "reminded":
        reminder = detail["reminder"]
        payload.update(reminder_no=reminder.no, reminded_by=reminder.by, reminded_by_name=reminder.by_name,
                       reminded_at=iso(reminder.at), message=reminder.message, automatic=reminder.automatic,
                       due_date=task.due_date.isoformat(), claimed_by=task.claimed_by)
    elif event.kind == "overdue":
        payload.update(due_date=_date(detail["due_date"]), detected_at=iso(event.at),
                       days_overdue=int(detail["days_overdue"]), claimed_by=task.claimed_by)
    elif event.kind == "closed":
        payload.update(reason=detail["reason"], closed_at=iso(event.at), closed_by=event.actor)
    else:
        raise ValueError(f"unknown task event {event.kind}")
    return new_event(TASK_TYPES[event.kind], producer=PRODUCER, aggregate_type="review_task",
                     aggregate_id=task.task_id, aggregate_version=aggregate_version, payload=payload,
                     occurred_at=event.at)
