"""The area shape of a service's service layer (public_notice, supervision): a service is a list of areas, each a
module of commands and their handlers side by side.

An area module offers `COMMAND_HANDLERS` (command class → handler) and `EVENT_HANDLERS` (event type →
`when_<event>(envelope, uow, **dependencies)`), and may offer `sweep(uow, **dependencies) -> int` (the daily work
that happens by itself: windows opening and closing, deadlines passing, the supervision triggers), run by the
consumer's sweep thread through the service's `Sweep` command. Several areas may handle one event type: the bus
runs each area's handler, in the order of the areas, in the same transaction (`shared.bus`)."""
from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Sequence
from importlib import import_module
from types import ModuleType

log = logging.getLogger(__name__)


def modules(package: str, areas: Sequence[str]) -> list[ModuleType]:
    """The area modules `package.<area>`, in the order given."""
    return [import_module(f"{package}.{area}") for area in areas]


def handlers(modules: Sequence[ModuleType]) -> tuple[dict[type, Callable], dict[str, Callable | tuple]]:
    """(command handlers, event handlers) of every area; an event handled by several areas runs each in turn."""
    commands: dict[type, Callable] = {}
    by_event: dict[str, list[Callable]] = {}
    for module in modules:
        commands.update(getattr(module, "COMMAND_HANDLERS", {}))
        for event_type, handler in getattr(module, "EVENT_HANDLERS", {}).items():
            by_event.setdefault(event_type, []).append(handler)
    return commands, {event_type: tuple(fns) if len(fns) > 1 else fns[0] for event_type, fns in by_event.items()}


def sweeper(modules: Sequence[ModuleType]) -> Callable:
    """The handler of a service's `Sweep` command: each area's `sweep` in turn, each in its own transactions (one
    area's failure does not stop the others: it is logged and tried again next round), given the dependencies it
    names. Returns how many things changed."""
    sweeps = [module.sweep for module in modules if hasattr(module, "sweep")]

    def run_sweeps(cmd, uow, **dependencies) -> int:
        changed = 0
        for sweep in sweeps:
            wanted = inspect.signature(sweep).parameters
            try:
                changed += sweep(uow, **{k: v for k, v in dependencies.items() if k in wanted}) or 0
            except Exception:
                log.exception("sweep %s.%s failed", sweep.__module__, sweep.__name__)
        return changed

    return run_sweeps


def sweep_forever(bus, command: object, stop: threading.Event, interval_s: float) -> None:
    """The consumer's sweep thread: `command` through the bus at once, then every `interval_s` until `stop`."""
    while True:
        try:
            changed = bus.handle(command)
            if changed:
                log.info("sweep changed %d records", changed)
        except Exception:  # the database may be away for a while; try again next round
            log.exception("sweep failed")
        if stop.wait(interval_s):
            return
