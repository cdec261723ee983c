"""Events from Kafka: submitted applications become a case and one task per department (published on the
department topics, and put in the department queues in the same transaction), and scored self-assessments are
kept beside the case.

The batching consumer hands several envelopes of a chunk to one call (`route_submissions`), all in the chunk's
transaction: one read and one bulk write per collection, whatever the chunk's size. The single-envelope form is
what the consumer falls back to when a chunk fails.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from review_routing.adapters import events
from review_routing.domain.case import ReviewCase
from review_routing.domain.errors import RoutingError
from review_routing.domain.task import ReviewTask
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar
from review_routing.service_layer.common import Catalogs, audit_entry
from review_routing.service_layer.department_queues import project_task_events
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.catalog import CatalogError
from shared.logging import correlation_id
from shared.messaging import PermanentFailure

log = logging.getLogger(__name__)

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
        task_events: list[dict] = []      # for the department queues, projected once for the chunk
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
                    _supersede(uow, application_id, routed.superseded, new_tasks, task_events, now)
                new_tasks.extend(routed.tasks)
                case.version = (case.version or 0) + 1
                for task in routed.tasks:
                    task.version = 1
                    task_events.append(events.task_assigned(task, 1, envelope["event_id"]))
                    uow.publish(task_events[-1], topic=events.department_topic(task.department))
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
        project_task_events(task_events, uow, assume_new_assignments=True)

    uow.run(work)


def _supersede(uow: ReviewUnitOfWork, application_id: str, version_no: int, pending: list[ReviewTask],
               task_events: list[dict], now: datetime) -> None:
    """Close the tasks of a version still under review when a newer version arrives."""
    in_chunk = [t for t in pending if t.application_id == application_id and t.version_no == version_no]
    for task in in_chunk or uow.tasks.of_case(application_id, version_no):
        event = task.finalise("superseded", now, "system")
        # Not stored yet (routed in this chunk): it is inserted finalised, at version 1.
        version = 1 if in_chunk else uow.tasks.save(task)
        if event is not None:
            task_events.append(events.task_event(task, event, version))
            uow.publish(task_events[-1], topic=events.department_topic(task.department))


def record_self_assessment(envelope: dict, uow: ReviewUnitOfWork) -> None:
    """Keep the enterprise's self-assessment report beside the case (shown next to the re-score)."""
    payload = envelope["payload"]
    subject = payload["subject"]
    if payload["stage"] != "self_assessment" or subject["kind"] != "application":
        return
    uow.run(lambda: uow.self_reports.put(subject["id"], subject["version_no"], payload["report"],
                                         envelope["occurred_at"]))
