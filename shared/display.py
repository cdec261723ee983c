"""What people read: times in Beijing time and internal codes as their Chinese labels.

Stored times stay aware UTC (`shared.clock`); every time shown to a person goes through `local_time` (a Jinja
filter in every app, `shared.web`). Codes (departments, material kinds, services) never reach a page: the
labels come from the contracts (the index's 附件3 departments, `contracts/vocabularies/`).
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from shared.clock import beijing_time

# The services as a timeline actor: a person reads "系统" and what it did, not a process name.
SERVICE_LABELS = {
    "intake": "申报受理系统",
    "review_routing": "审核分派系统",
    "scoring": "评分系统",
    "public_notice": "公示公告系统",
    "supervision": "监督管理系统",
    "portal": "系统",
    "system": "系统",
}


def _moment(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def local_time(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment (aware or naive UTC datetime, or its ISO text) as Beijing time; dates and text that is
    not a moment are shown as they are, nothing at all as ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = _moment(value)
    if moment is None:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return beijing_time(moment).strftime(fmt)


def local_seconds(value) -> str:
    return local_time(value, "%Y-%m-%d %H:%M:%S")


def actor_label(actor: str | None, name: str | None = None) -> str:
    """Who did something, as a person reads it: a person's name, or the system that did it (评分系统)."""
    if name and name != actor:
        return name
    if not actor:
        return "系统"
    return SERVICE_LABELS.get(actor, actor)


def register(app) -> None:
    """Make the filters available to every template of `app`."""
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_seconds"] = local_seconds
    app.jinja_env.filters["actor_label"] = actor_label
