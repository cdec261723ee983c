"""The overdue sweep (run by the consumer process every GREENMINE_REVIEW_SWEEP_SECONDS): on working days,
flag tasks past their due date and send the automatic reminders (see ReviewTask.flag_overdue)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from review_routing.domain.commands import SweepOverdue
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar, beijing_date
from review_routing.service_layer.common import audit
from review_routing.service_layer.department_queues import publish_events_of_task
from review_routing.service_layer.region.commissions import expire_commissions
from review_routing.service_layer.region.reviews import sweep_region
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.storage import ConcurrencyError

log = logging.getLogger(__name__)


def sweep_overdue(cmd: SweepOverdue, uow: ReviewUnitOfWork, *, clock: Callable[[], datetime],
                  calendar: WorkingCalendar, policy: DeadlinePolicy) -> int:
    """Flag overdue tasks and send automatic reminders, one transaction per task. Returns the events sent."""
    now = clock()
    today = beijing_date(now)
    if not calendar.is_workday(today):
        return 0
    sent = 0
    for task_id in uow.run(lambda: uow.tasks.pending_due_before(today.isoformat())):
        def work(task_id=task_id) -> int:
            task = uow.tasks.get(task_id)
            if task is None:
                return 0
            happened = task.flag_overdue(calendar, policy, today, now)
            if not happened:
                return 0
            version = uow.tasks.save(task)
            publish_events_of_task(uow, task, happened, version)
            audit(uow, None, "task_overdue", now, application_id=task.application_id,
                  version_no=task.version_no, task_id=task.task_id,
                  detail={"due_date": task.due_date.isoformat(), "events": [e.kind for e in happened]})
            return len(happened)

        try:
            sent += uow.run(work)
        except ConcurrencyError:
            log.info("task %s changed during the overdue sweep; next sweep retries", task_id)
    try:
        sent += expire_commissions(uow, now, calendar, policy)
        sent += sweep_region(uow, now, calendar, policy)
    except ConcurrencyError:
        log.info("a region review changed during the overdue sweep; next sweep retries")
    return sent
