"""Deadlines in working days on the Chinese official calendar (法定节假日 and 调休 make-up working days), for every
service that counts or promises them: review_routing sets its tasks' due dates with it, intake promises the initial
review's deadline on its receipt (回执) with the same calendar and the same step lengths.

The calendar comes from the `chinese_calendar` package (pinned; it publishes each year's State Council
arrangement). For a year the installed package has no data for yet, the calendar falls back to Monday–Friday
and says so (`estimated`), so a deadline near the turn of a year is never refused; updating the package
corrects later computations. Time zone: 北京时间 (UTC+8, no daylight saving).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from shared.clock import BEIJING
from shared.clock import beijing_date as _beijing_date

__all__ = ["BEIJING", "beijing_date", "official_is_workday", "WorkingCalendar", "DeadlinePolicy",
           "DEADLINE_VARIABLES", "deadline_policy"]


def beijing_date(at: datetime) -> date:
    """The calendar date in Beijing of an aware datetime (a naive one is refused: deadlines depend on it)."""
    if at.tzinfo is None:
        raise ValueError("需要带时区的时间")
    return _beijing_date(at)


@lru_cache(maxsize=4096)
def official_is_workday(day: date) -> bool | None:
    """True/False from the official calendar, None when the installed calendar has no data for the year."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days. `lookup(day)` answers True/False or None (unknown year: Monday–Friday is assumed)."""
    lookup: Callable[[date], bool | None] = official_is_workday

    def is_workday(self, day: date) -> bool:
        known = self.lookup(day)
        return day.weekday() < 5 if known is None else known

    def is_estimated(self, day: date) -> bool:
        return self.lookup(day) is None

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself not counted); `start` when days == 0."""
        if days < 0:
            raise ValueError("工作日数不能为负")
        current, left = start, days
        while left:
            current += timedelta(days=1)
            if self.is_workday(current):
                left -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def estimated_between(self, start: date, end: date) -> bool:
        """Whether any day in (start, end] lies in a year without official data."""
        return any(self.is_estimated(date(year, 1, 1)) for year in range(start.year, end.year + 1))


@dataclass(frozen=True)
class DeadlinePolicy:
    """Working days allowed per step (bootstrap reads them from the environment, see docs/review-routing.md)."""
    department_days: int = 10      # a department's review of a first submission
    lead_days: int = 15            # the lead bureau's own task (资料核查 + 实地核查 of the whole case)
    recheck_days: int = 5          # any task of a resubmitted version (复核补正材料)
    decision_days: int = 5         # the countersign decision, counted from the last department opinion
    remind_every_days: int = 3     # automatic 催办 of an overdue task, repeated every N working days
    # The region stage (附件2 三), each step counted from the day the previous one ended:
    commission_days: int = 5       # the region office commissions an institution after the case is forwarded
    accept_days: int = 3           # the institution accepts (and signs both pledges) or declines
    evaluation_days: int = 20      # the on-site evaluation and its report
    check_days: int = 15           # the document check and spot check (资料核查, 按比例实地抽查) of a round
    region_decision_days: int = 5  # the region decision once evaluation and checks are done

    def region_step_days(self, step: str) -> int:
        """Working days of one region-stage step (`commission`, `accept`, `evaluation`, `check`, `decision`)."""
        return {"commission": self.commission_days, "accept": self.accept_days,
                "evaluation": self.evaluation_days, "check": self.check_days,
                "decision": self.region_decision_days}[step]

    def task_days(self, lead: bool, resubmission: bool) -> int:
        if resubmission:
            return self.recheck_days
        return self.lead_days if lead else self.department_days

    def task_due(self, calendar: WorkingCalendar, routed_on: date, lead: bool, resubmission: bool) -> date:
        return calendar.add_working_days(routed_on, self.task_days(lead, resubmission))

    def decision_due(self, calendar: WorkingCalendar, last_opinion_on: date) -> date:
        return calendar.add_working_days(last_opinion_on, self.decision_days)

    def initial_review_days(self, resubmission: bool) -> int:
        """The working days the initial review (初审) may take from the day a version is submitted: the longest
        task (the lead bureau's, or the recheck of a resubmitted version) and then the countersign decision."""
        return self.task_days(lead=True, resubmission=resubmission) + self.decision_days

    def initial_review_due(self, calendar: WorkingCalendar, submitted_on: date, resubmission: bool) -> date:
        """The date by which the initial review decides, promised on the receipt (回执) of a submission."""
        return calendar.add_working_days(submitted_on, self.initial_review_days(resubmission))


#: The environment variables of the step lengths (working days, 1–365), read by every service that counts them.
DEADLINE_VARIABLES = {
    "department_days": "GREENMINE_REVIEW_DEPARTMENT_DAYS", "lead_days": "GREENMINE_REVIEW_LEAD_DAYS",
    "recheck_days": "GREENMINE_REVIEW_RECHECK_DAYS", "decision_days": "GREENMINE_REVIEW_DECISION_DAYS",
    "remind_every_days": "GREENMINE_REVIEW_REMIND_EVERY_DAYS",
    "commission_days": "GREENMINE_REGION_COMMISSION_DAYS", "accept_days": "GREENMINE_REGION_ACCEPT_DAYS",
    "evaluation_days": "GREENMINE_REGION_EVALUATION_DAYS", "check_days": "GREENMINE_REGION_CHECK_DAYS",
    "region_decision_days": "GREENMINE_REGION_DECISION_DAYS"}


def deadline_policy(env: Mapping[str, str] | None = None) -> DeadlinePolicy:
    """The step lengths from the environment (defaults where a variable is unset); a bad value is refused."""
    env = os.environ if env is None else env
    values = {}
    for name, variable in DEADLINE_VARIABLES.items():
        raw = env.get(variable)
        if raw in (None, ""):
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"环境变量 {variable} 应为整数（工作日数），实为 {raw!r}") from None
        if value < 1 or value > 365:
            raise ValueError(f"环境变量 {variable} 应在 1 至 365 个工作日之间，实为 {value}")
        values[name] = value
    return DeadlinePolicy(**values)
