"""What several of the review's handlers share: access to one task or case, audit entries."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from review_routing.domain.access import Actor, can_view_case, can_view_task
from review_routing.domain.case import ReviewCase
from review_routing.domain.errors import NotFound, NotPermitted
from review_routing.domain.task import ReviewTask
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.catalog import Catalog, CatalogError

Catalogs = Callable[[str], Catalog]


def department_name(catalogs: Catalogs, code: str, catalog_id: str = "nm-2025") -> str:
    try:
        return catalogs(catalog_id).department(code).name
    except (KeyError, CatalogError):
        return code


def audit_entry(actor: Actor | None, action: str, at: datetime, *, application_id: str | None = None,
                version_no: int | None = None, task_id: str | None = None, target: str | None = None,
                detail: dict | None = None) -> dict:
    """One audit entry: who (or the system), when, what, on which record."""
    return {
        "_id": uuid.uuid4().hex, "at": at, "action": action,
        "actor": actor.username if actor else "system", "actor_name": actor.name if actor else "系统",
        "role": actor.role if actor else "system", "department": actor.department if actor else None,
        "area": actor.area if actor else None,
        "application_id": application_id, "version_no": version_no, "task_id": task_id, "target": target,
        "detail": detail or {},
    }


def audit(uow: ReviewUnitOfWork, actor: Actor | None, action: str, at: datetime, **fields) -> None:
    uow.audit.add_many([audit_entry(actor, action, at, **fields)])


def readable_task(uow: ReviewUnitOfWork, actor: Actor, task_id: str,
                  refusal: str = "您无权查看或办理该审核任务(仅限本部门、本辖区)") -> ReviewTask:
    task = uow.tasks.get(task_id)
    if task is None:
        raise NotFound(f"没有审核任务 {task_id}")
    if not can_view_task(actor, task.department, task.league, task.county):
        raise NotPermitted(refusal)
    return task


def readable_case(uow: ReviewUnitOfWork, actor: Actor, application_id: str) -> ReviewCase:
    case = uow.cases.get(application_id)
    if case is None:
        raise NotFound(f"没有申报 {application_id} 的审核记录")
    if not can_view_case(actor, case.league):
        raise NotPermitted("您无权查看该申报的初审(仅限本盟市的自然资源局和自治区)")
    return case


def attachment_url(application_id: str, attachment_id: str) -> str:
    """Intake's download endpoint for an application's attachment (its files live in intake's GridFS)."""
    return f"/api/v1/applications/{quote(application_id, safe='')}/attachments/{quote(attachment_id, safe='')}"
