"""What the unit tests of the triggers area share: the in-memory unit of work, a clock set to a day, the bus with
the official calendar (`make_system`), and the events that put a mine in the register."""
from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

from unit.supervision.fakes import FakeSupervisionUnitOfWork

from shared.bus import MessageBus
from shared.config import REPO_ROOT
from shared.contracts import ContractRegistry
from shared.workdays import WorkingCalendar
from supervision.bootstrap import COMMAND_HANDLERS, EVENT_HANDLERS
from supervision.domain.commands import Sweep

EXAMPLES = REPO_ROOT / "contracts" / "examples"
LISTED = json.loads((EXAMPLES / "public_notice.mine_listed.v1.json").read_text("utf-8"))
RECORDED = json.loads((EXAMPLES / "intake.mine_recorded.v1.json").read_text("utf-8"))
REGISTRY = ContractRegistry([REPO_ROOT / "contracts"])


class Clock:
    def __init__(self):
        self.now = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)

    def on(self, day: date) -> Clock:
        self.now = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)     # 09:00 in Beijing
        return self

    def __call__(self):
        return self.now


def make_system():
    """(unit of work, bus, sweep(day) -> findings recorded). The whole `Sweep` runs: the measures area turns the
    `mark` and `propose_removal` findings into measures in the same round."""
    uow, clock = FakeSupervisionUnitOfWork(), Clock()
    bus = MessageBus(uow_factory=lambda: uow, command_handlers=COMMAND_HANDLERS, event_handlers=EVENT_HANDLERS,
                     dependencies={"clock": clock, "calendar": WorkingCalendar()})

    def sweep(day: date) -> int:
        clock.on(day)
        before = len(uow.findings.find())
        bus.handle(Sweep())
        return len(uow.findings.find()) - before

    return uow, bus, sweep


def recorded(version: int, on: str, mine_id: str = "mine-0001", licences: dict | None = None, **mine) -> dict:
    envelope = copy.deepcopy(RECORDED)
    envelope["event_id"] = f"00000000-0000-4000-8000-{version:012d}"
    payload = envelope["payload"]
    payload.update(mine_id=mine_id, register_version=version, recorded_on=on,
                   change="imported" if version == 1 else "updated")
    payload["mine"].update(mine)
    for kind, valid_to in (licences or {}).items():
        payload["licences"][kind]["valid_to"] = valid_to
    return envelope


def listed(mine_id: str = "mine-0001") -> dict:
    envelope = copy.deepcopy(LISTED)
    envelope["payload"].update(mine_id=mine_id, listed_on="2024-06-10")
    return envelope


def on_list(uow, bus, *snapshots, mine_id="mine-0001"):
    for envelope in (listed(mine_id), *snapshots):
        bus.handle_event(envelope, uow)
