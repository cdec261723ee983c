"""The areas of the public_notice service, each a module of commands and their handlers side by side:

- `bulletins`: 通报 of evaluation institutions' misconduct (from review_routing's findings);
- `publicity`: 公示 batches — the proposed cases, composing and publishing a batch, the window on the official
  calendar, opening and closing by itself;
- `objections`: 异议 — the real-name form, triage to departments, their findings, the office's conclusion;
- `listing`: the 名录 and the numbered 公告 (listing, removal, 通报), the public list and certificates;
- `list_import`: the list kept before the platform (earlier years' mines with their original announcements);
- `notifications.inbox`, `notifications.email`, `notifications.webhooks`: who is told what, in the app, by email
  and to subscribing systems (`notifications.dispatch` sends what is due, with retries).

Each area module offers `COMMAND_HANDLERS` (command class → handler) and `EVENT_HANDLERS` (event type →
`when_<event>(envelope, uow, **dependencies)`), and may offer `sweep(uow, *, clock, calendar) -> int` (the daily
work that happens by itself: windows opening and closing, deadlines passing), run by the consumer's sweep thread.
Several areas may handle one event type: the bus runs each area's handler, in the order of AREAS, in the same
transaction (`shared.bus`)."""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from types import ModuleType

AREAS = ("bulletins", "publicity", "objections", "listing", "list_import", "notifications.inbox",
         "notifications.email", "notifications.webhooks", "notifications.dispatch")


def modules() -> list[ModuleType]:
    """The area modules, in the order of AREAS."""
    return [import_module(f"public_notice.service_layer.{area}") for area in AREAS]


def handlers() -> tuple[dict[type, Callable], dict[str, Callable | tuple[Callable, ...]]]:
    """(command handlers, event handlers) of every area; an event handled by several areas runs each in turn."""
    from public_notice.domain.commands import Sweep

    commands: dict[type, Callable] = {Sweep: run_sweeps}
    by_event: dict[str, list[Callable]] = {}
    for module in modules():
        commands.update(getattr(module, "COMMAND_HANDLERS", {}))
        for event_type, handler in getattr(module, "EVENT_HANDLERS", {}).items():
            by_event.setdefault(event_type, []).append(handler)
    return commands, {event_type: tuple(fns) if len(fns) > 1 else fns[0] for event_type, fns in by_event.items()}


def sweeps() -> list[Callable]:
    return [module.sweep for module in modules() if hasattr(module, "sweep")]


def run_sweeps(cmd, uow, *, clock, calendar) -> int:
    """The `Sweep` command: each area's sweep in turn, each in its own transactions (one area's failure does not
    stop the others: it is logged and tried again next round). Returns how many things changed."""
    import logging

    changed = 0
    for sweep in sweeps():
        try:
            changed += sweep(uow, clock=clock, calendar=calendar) or 0
        except Exception:
            logging.getLogger(__name__).exception("sweep %s.%s failed", sweep.__module__, sweep.__name__)
    return changed
