"""The message bus: one way for every entrypoint to reach a handler.

Commands are small frozen dataclasses (`domain/commands.py`), each handled by ONE plain function
`handler(cmd, uow, **dependencies)`; events from Kafka are contract envelopes, each type handled by one
function `handler(envelope, uow, **dependencies)` (or several, run in order in one unit of work: the areas of a
service that react to it). A handler names the other things it needs (a clock, the catalog, the scoring
client, …) as keyword parameters, and the bus passes them from the composition root
(`bootstrap.py`) by name, so a handler's signature says what it depends on and a test passes fakes the same
way. Entrypoints (HTTP views, the consumer, CLI commands) only build commands and read results.

The bus builds a fresh unit of work per command (`uow_factory()`); for an event it joins the consumer's open
transaction (`uow_for(tx)`), where the inbox claim of that event already is.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from shared.storage import Transaction
from shared.unit_of_work import UnitOfWork

CommandHandler = Callable[..., Any]


def _inject(handler: Callable, dependencies: Mapping[str, Any]) -> Callable:
    """`handler` with the dependencies its signature names (beyond its first two parameters) bound by name."""
    parameters = list(inspect.signature(handler).parameters.values())[2:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):   # `**dependencies`: every one
        bound = dict(dependencies)
    else:
        missing = [p.name for p in parameters if p.name not in dependencies and p.default is inspect.Parameter.empty]
        if missing:
            raise TypeError(f"{handler.__name__} needs {', '.join(missing)}, which bootstrap does not provide")
        bound = {p.name: dependencies[p.name] for p in parameters if p.name in dependencies}

    def call(message, uow):
        return handler(message, uow, **bound)

    call.__name__ = handler.__name__
    call.__doc__ = handler.__doc__
    return call


def _every(handlers, dependencies: Mapping[str, Any]) -> Callable:
    """One handler, or several (a tuple/list: each area of a service that reacts to the event), run in order in
    the same unit of work."""
    if not isinstance(handlers, list | tuple):
        return _inject(handlers, dependencies)
    calls = [_inject(h, dependencies) for h in handlers]

    def call(message, uow):
        for each in calls:
            each(message, uow)

    call.__name__ = "+".join(c.__name__ for c in calls)
    return call


class MessageBus:
    """Routes commands (by class) and events (by contract type) to their handlers."""

    def __init__(self, *, uow_factory: Callable[[], UnitOfWork],
                 command_handlers: Mapping[type, CommandHandler],
                 event_handlers: Mapping[str, CommandHandler] | None = None,
                 dependencies: Mapping[str, Any] | None = None,
                 uow_for: Callable[[Transaction], UnitOfWork] | None = None):
        self.uow_factory = uow_factory
        self.uow_for = uow_for
        self.dependencies = dict(dependencies or {})
        self.command_handlers = {cls: _inject(h, self.dependencies) for cls, h in command_handlers.items()}
        self.event_handlers = {t: _every(h, self.dependencies) for t, h in (event_handlers or {}).items()}

    def handle(self, command, uow: UnitOfWork | None = None):
        """Run the command's handler with a fresh unit of work (or the one given) and return its result."""
        try:
            handler = self.command_handlers[type(command)]
        except KeyError:
            raise LookupError(f"no handler for {type(command).__name__}") from None
        return handler(command, uow if uow is not None else self.uow_factory())

    def handle_event(self, envelope: dict, uow: UnitOfWork) -> None:
        handler = self.event_handlers.get(envelope["type"])
        if handler is not None:
            handler(envelope, uow)

    def consumer_handlers(self) -> dict[str, Callable[[dict, Transaction], None]]:
        """The event handlers as the platform consumer calls them, `(envelope, tx)`, each joining the
        consumer's transaction through `uow_for(tx)`."""
        if self.uow_for is None:
            raise RuntimeError("this bus was built without uow_for: it cannot join a consumer's transaction")
        uow_for = self.uow_for

        def adapt(handler):
            def handle(envelope: dict, tx: Transaction) -> None:
                handler(envelope, uow_for(tx))

            handle.__name__ = handler.__name__
            return handle

        return {event_type: adapt(h) for event_type, h in self.event_handlers.items()}
