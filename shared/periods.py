"""Periods counted in years and months, as 民法典第二百零三条 counts them: a period ends on the corresponding day of
the last year or month; when that month has no such day, on its last day (29 February + 1 year → 28 February;
31 August + 6 months → 28 or 29 February). Used for licence validity, bans, stoppages and the 6-month rule."""
from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The corresponding day `months` later (earlier when negative); the month's last day when there is none."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    """The corresponding day `years` later; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)
