"""The areas of the public_notice service, each a module of commands and their handlers side by side:

- `bulletins`: 通报 of evaluation institutions' misconduct (from review_routing's findings);
- `publicity`: 公示 batches — the proposed cases, composing and publishing a batch, the window on the official
  calendar, opening and closing by itself;
- `objections`: 异议 — the real-name form, triage to departments, their findings, the office's conclusion;
- `listing`: the 名录 and the numbered 公告 (listing, removal, 通报), the public list and certificates;
- `list_import`: the list kept before the platform (earlier years' mines with their original announcements);
- `notifications.inbox`, `notifications.email`, `notifications.webhooks`: who is told what, in the app, by email
  and to subscribing systems (`notifications.dispatch` sends what is due, with retries);
- `measures`: supervision's 标注 and 移出名录 decisions applied to the list (marks shown and lifted, removals
  announced).

The shape of an area is `shared/areas.py`'s: `COMMAND_HANDLERS`, `EVENT_HANDLERS` and an optional `sweep`
(`sweep(uow, *, clock, calendar) -> int`: windows opening and closing, deadlines passing)."""
from __future__ import annotations

from shared import areas

AREAS = ("bulletins", "publicity", "objections", "listing", "list_import", "notifications.inbox",
         "notifications.email", "notifications.webhooks", "notifications.dispatch", "measures")


def modules():
    """The area modules, in the order of AREAS."""
    return areas.modules("public_notice.service_layer", AREAS)


def handlers():
    """(command handlers, event handlers) of every area, and `Sweep` running each area's sweep."""
    from public_notice.domain.commands import Sweep

    found = modules()
    commands, events = areas.handlers(found)
    return {Sweep: areas.sweeper(found), **commands}, events
