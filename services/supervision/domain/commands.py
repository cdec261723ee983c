"""Commands of the supervision service: small frozen dataclasses named imperatively, one handler each
(see docs/conventions.md). The areas' own commands live beside their handlers (`service_layer/<area>.py`);
here are the service-wide ones."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sweep:
    """Do what happens by itself at its time (each area's `sweep`): the daily triggers, deadlines passing.
    Idempotent: a repeated sweep changes nothing."""
