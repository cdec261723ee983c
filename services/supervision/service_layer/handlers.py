"""Handlers of the supervision service: `handler(cmd, uow, *, dependencies)` for commands and
`when_<event>(envelope, uow, *, dependencies)` for the events it consumes (contracts/topics.yaml); bootstrap's
COMMAND_HANDLERS and EVENT_HANDLERS list them."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from supervision.domain.register import SupervisedMine
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork


def when_mine_listed(envelope: dict, uow: SupervisionUnitOfWork, *, clock: Callable[[], datetime]) -> None:
    """`public_notice.mine_listed` → the mine enters the register (once per 公告, however often it arrives)."""
    payload = envelope["payload"]

    def work() -> None:
        mine = uow.mines.get(payload["mine_id"])
        if mine is None:
            uow.mines.save(SupervisedMine.from_listing(payload, clock()))
        elif mine.record_listing(payload, clock()):
            uow.mines.save(mine)

    uow.run(work)
