"""Time as the platform keeps it: stored and compared in UTC, shown and counted in Beijing time (UTC+8).

Deadlines in working days and "today" are Beijing dates (the notice's days are China's); every stored
timestamp is aware UTC."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    return datetime.now(UTC)


def beijing_date(moment: datetime) -> date:
    """The calendar date in Beijing at `moment` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).date()


def beijing_time(moment: datetime) -> datetime:
    """`moment` in Beijing time, for showing to people."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)
