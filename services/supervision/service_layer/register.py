"""The register area: the mines under supervision (domain/register.py), from the green-mine list
(`public_notice.mine_listed`) and intake's mine register (`intake.mine_recorded`). (see `areas.py` for an area's
shape)"""
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


def when_mine_recorded(envelope: dict, uow: SupervisionUnitOfWork, *, clock: Callable[[], datetime]) -> None:
    """`intake.mine_recorded` → the register entry's facts (kept when newer than those known; 重大变化 noted)."""
    payload = envelope["payload"]

    def work() -> None:
        mine = uow.mines.get(payload["mine_id"])
        if mine is None:
            uow.mines.save(SupervisedMine.from_record(payload, clock()))
        elif mine.record_register(payload, clock()):
            uow.mines.save(mine)

    uow.run(work)


EVENT_HANDLERS = {"public_notice.mine_listed": when_mine_listed, "intake.mine_recorded": when_mine_recorded}
