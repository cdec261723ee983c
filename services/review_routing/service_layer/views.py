"""What the pages and the API read: a department's queue, one task, the colleagues a task can go to, the
lead bureau's cases, the audit log. Reads run in one snapshot (`uow.run`) and change nothing."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from review_routing.domain.access import can_remind, can_view_queue, can_work_task
from review_routing.domain.case import VERSION_STATUSES
from review_routing.domain.commands import ListCases, ListColleagues, ShowAuditLog, ShowQueue, ShowTask
from review_routing.domain.errors import FieldError, InvalidInput, NotFound, NotPermitted
from review_routing.domain.task import STATUSES
from review_routing.domain.workdays import WorkingCalendar, beijing_date
from review_routing.service_layer.common import Catalogs, department_name, readable_case, readable_task
from review_routing.service_layer.presenters import opinion_view, photo_view, queue_item, task_view
from review_routing.service_layer.unit_of_work import QueueQuery, ReviewUnitOfWork
from shared.contracts import DEPARTMENT_CODES
from shared.regions import canonical_league

Clock = Callable[[], datetime]
QUEUE_STATUSES = tuple(STATUSES)


def _league_asked(actor, asked: str, refusal: str) -> str:
    """The 盟市 a filter names, which must be within the actor's area."""
    league = canonical_league(asked)
    if league is None:
        raise InvalidInput("筛选条件有误", [FieldError("league", f"无法识别盟市 {asked}")])
    if not actor.covers(league):
        raise NotPermitted(refusal)
    return league


def show_queue(cmd: ShowQueue, uow: ReviewUnitOfWork, *, clock: Clock, calendar: WorkingCalendar,
               catalogs: Catalogs) -> dict:
    actor, department = cmd.actor, cmd.department
    if department not in DEPARTMENT_CODES:
        raise NotFound(f"没有部门 {department}")
    if not can_view_queue(actor, department):
        raise NotPermitted("只能查看本部门的审核队列")
    if cmd.league:
        league = _league_asked(actor, cmd.league, f"只能查看本辖区({actor.area})的审核任务")
    elif actor.role != "region_office" and actor.area and actor.area != "自治区":
        league = actor.area
    else:
        league = None
    for status in cmd.status:
        if status not in QUEUE_STATUSES:
            raise InvalidInput("筛选条件有误", [FieldError("status", "状态应为 " + "、".join(QUEUE_STATUSES))])
    today = beijing_date(clock())
    statuses = tuple(cmd.status) or None
    if cmd.overdue is True:
        statuses = tuple(s for s in ("open", "claimed") if not cmd.status or s in cmd.status)
    mine = cmd.mine.strip() if cmd.mine else None
    query = QueueQuery(department=department, league=league, county=actor.county or None, statuses=statuses,
                       due_until=cmd.due_before.isoformat() if cmd.due_before else None,
                       due_from=cmd.due_after.isoformat() if cmd.due_after else None,
                       due_before=today.isoformat() if cmd.overdue is True else None, mine=mine or None)
    docs = uow.run(lambda: uow.queue.search(query))
    items = [with_reminder(queue_item(d, today, calendar), d, actor) for d in docs]
    if cmd.overdue is False:
        items = [i for i in items if not i["overdue"]]
    items.sort(key=lambda i: (i["reminded"] is None, not i["overdue"], i["status"] not in ("open", "claimed"),
                              i["due_date"]))
    return {"department": department, "department_name": department_name(catalogs, department),
            "today": today.isoformat(), "total": len(items), "overdue": sum(1 for i in items if i["overdue"]),
            "items": items[cmd.offset:cmd.offset + cmd.limit]}


def with_reminder(item: dict, doc: dict, actor) -> dict:
    """The queue item with its 办件编号 and the reminder (催办) that reaches `actor`: on a pending task the
    assignee's, on an unclaimed one every reviewer's of the department and area (whose queue holds it)."""
    reminder = doc.get("last_reminder")
    reaches = bool(reminder) and item["status"] in ("open", "claimed") and (
        item["claimed_by"] is None or item["claimed_by"] == actor.username)
    return {**item, "case_no": doc.get("case_no"), "claimed_by_name": doc.get("claimed_by_name"),
            "reminded": dict(reminder) if reaches else None}


def show_task(cmd: ShowTask, uow: ReviewUnitOfWork, *, clock: Clock, calendar: WorkingCalendar,
              catalogs: Catalogs) -> dict:
    actor = cmd.actor

    def read():
        task = readable_task(uow, actor, cmd.task_id, "您无权查看该审核任务(仅限本部门、本辖区)")
        photos = uow.photos.of_task(task.task_id)
        earlier = returned = None
        if task.version_no > 1:
            earlier = uow.tasks.previous(task.application_id, task.department, task.version_no)
            returned = uow.cases.decision_reasons(task.application_id, task.version_no - 1)
        return task, photos, earlier, returned or []

    task, photos, earlier, returned_reasons = uow.run(read)
    catalog = catalogs(task.catalog)
    previous = None
    if earlier is not None:
        previous = {"task_id": earlier.task_id, "version_no": earlier.version_no,
                    "opinions": [opinion_view(o, catalog) for o in reversed(earlier.opinions)]}
    can_work = can_work_task(actor, task.department, task.lead, task.league, task.county)
    return task_view(task, catalog, beijing_date(clock()), calendar, photos=[photo_view(d) for d in photos],
                     previous=previous, returned_reasons=returned_reasons,
                     department_name=department_name(catalogs, task.department),
                     permissions={"work": can_work and not task.final,
                                  "remind": can_remind(actor, task.league) and task.pending,
                                  "claimed_by_me": task.claimed_by == actor.username})


def list_colleagues(cmd: ListColleagues, uow: ReviewUnitOfWork, *, directory) -> list[dict]:
    """Who this task can be transferred to."""
    actor = cmd.actor
    task = uow.run(lambda: readable_task(uow, actor, cmd.task_id, "您无权查看该审核任务(仅限本部门、本辖区)"))
    if not can_work_task(actor, task.department, task.lead, task.league, task.county):
        raise NotPermitted("您无权办理该审核任务")
    people = directory.all() if directory else []
    return [{"username": p.username, "name": p.name} for p in people
            if p.username != actor.username and p.username != task.claimed_by
            and can_work_task(p, task.department, task.lead, task.league, task.county)]


def list_cases(cmd: ListCases, uow: ReviewUnitOfWork, *, clock: Clock) -> list[dict]:
    actor = cmd.actor
    if actor.role not in ("bureau", "region_office"):
        raise NotPermitted("只有盟市自然资源局和自治区可以查看申报的初审")
    if cmd.league:
        league = _league_asked(actor, cmd.league, f"只能查看本盟市({actor.area})的申报")
    else:
        league = actor.area if actor.role == "bureau" else None
    if cmd.status and cmd.status not in VERSION_STATUSES:
        raise InvalidInput("筛选条件有误", [FieldError("status", "状态应为 " + "、".join(VERSION_STATUSES))])
    today = beijing_date(clock())

    def read():
        out = []
        for doc in uow.cases.summaries(league, cmd.status or None):
            latest = doc["versions"][-1]
            tasks = uow.tasks.of_case(doc["_id"], latest["version_no"])
            out.append({
                "application_id": doc["_id"], "case_no": doc.get("case_no"), "league": doc["league"],
                "county": doc.get("county", ""),
                "mine": doc.get("mine", {}).get("name", ""), "enterprise": doc.get("enterprise", {}).get("name", ""),
                "version_no": latest["version_no"], "status": latest["status"],
                "status_label": VERSION_STATUSES[latest["status"]], "tasks": len(tasks),
                "agreed": sum(1 for t in tasks if t.current_opinion and t.current_opinion.decision == "agree"),
                "with_opinion": sum(1 for t in tasks if t.opinions),
                "overdue": sum(1 for t in tasks if t.is_overdue(today)),
                "routed_at": latest["routed_at"]})
        return out

    return uow.run(read)


def show_audit_log(cmd: ShowAuditLog, uow: ReviewUnitOfWork) -> list[dict]:
    if not cmd.task_id and not cmd.application_id:
        raise InvalidInput("请指定申报或任务", [FieldError("application_id", "必填项缺失")])

    def read():
        if cmd.task_id:
            readable_task(uow, cmd.actor, cmd.task_id, "您无权查看该审核任务(仅限本部门、本辖区)")
            return uow.audit.entries(task_id=cmd.task_id)
        readable_case(uow, cmd.actor, cmd.application_id)
        return uow.audit.entries(application_id=cmd.application_id)

    out = []
    for entry in uow.run(read):
        entry = dict(entry)
        entry["id"] = entry.pop("_id")
        entry["at"] = entry["at"].isoformat()
        out.append(entry)
    return out
