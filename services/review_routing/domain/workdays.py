"""Working days on the official calendar and the review's deadline policy: moved to ``shared.workdays`` (intake
promises the initial review's deadline on its receipt with the same calendar); re-exported here for the review
service's modules."""
from __future__ import annotations

from shared.workdays import BEIJING, DeadlinePolicy, WorkingCalendar, beijing_date, official_is_workday

__all__ = ["BEIJING", "beijing_date", "official_is_workday", "WorkingCalendar", "DeadlinePolicy"]
