"""Handlers of the public_notice service: `handler(cmd, uow, *, dependencies)` for commands and
`when_<event>(envelope, uow, *, dependencies)` for the events it consumes (contracts/topics.yaml).

None yet: bootstrap's COMMAND_HANDLERS and EVENT_HANDLERS list them as they are written."""
from __future__ import annotations
