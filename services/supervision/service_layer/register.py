"""The register area: the mines under supervision (domain/register.py), from the green-mine list
(`public_notice.mine_listed`) and intake's mine register (`intake.mine_recorded`). A listing and a snapshot of the
same mine under different ids (the list kept before the platform, `hist-…`) meet in the listed entry: found by the
enterprise's credit code, matched by the rules of the domain. (see `areas.py` for an area's shape)"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from supervision.domain.register import SupervisedMine, code_variants
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork


def when_mine_listed(envelope: dict, uow: SupervisionUnitOfWork, *, clock: Callable[[], datetime]) -> None:
    """`public_notice.mine_listed` → the mine enters the register (once per 公告, however often it arrives)."""
    payload = envelope["payload"]

    def work() -> None:
        mine = uow.mines.get(payload["mine_id"])
        if mine is None:
            mine = SupervisedMine.from_listing(payload, clock())
            registered = _registered_same(uow, mine)
            if registered is not None and mine.absorb(registered, clock()):
                uow.mines.save(registered)
            uow.mines.save(mine)
        elif mine.record_listing(payload, clock()):
            uow.mines.save(mine)

    uow.run(work)


def _registered_same(uow: SupervisionUnitOfWork, listed: SupervisedMine) -> SupervisedMine | None:
    """The one registered-only entry (under intake's id) of the same mine as `listed`, if any (two: none, it is
    not clear which)."""
    if not code_variants(listed.credit_code):
        return None
    found = [m for m in uow.mines.find(credit_code=code_variants(listed.credit_code), status="registered")
             if m.id != listed.id and listed.same_mine_as(m.credit_code, m.mine_name)]
    return found[0] if len(found) == 1 else None


def _entry_for_record(uow: SupervisionUnitOfWork, payload: dict) -> SupervisedMine | None:
    """The entry a snapshot belongs to: under its id (or the listed entry it was merged into), else the listed
    entry that keeps this intake id, else the one listed entry of the same mine with no snapshot yet."""
    mine = uow.mines.get(payload["mine_id"])
    if mine is not None and mine.status == "merged":
        return uow.mines.get(mine.merged_into)
    if mine is not None:
        return mine
    kept = uow.mines.find(register_mine_id=payload["mine_id"], status=["listed", "removed"])
    if kept:
        return kept[0]
    codes = code_variants(payload["enterprise"].get("credit_code"))
    if not codes:
        return None
    found = [m for m in uow.mines.find(credit_code=codes, status=["listed", "removed"]) if m.takes_register(payload)]
    return found[0] if len(found) == 1 else None


def when_mine_recorded(envelope: dict, uow: SupervisionUnitOfWork, *, clock: Callable[[], datetime]) -> None:
    """`intake.mine_recorded` → the register entry's facts (kept when newer than those known; 重大变化 noted)."""
    payload = envelope["payload"]

    def work() -> None:
        mine = _entry_for_record(uow, payload)
        if mine is None:
            uow.mines.save(SupervisedMine.from_record(payload, clock()))
        elif mine.record_register(payload, clock()):
            uow.mines.save(mine)

    uow.run(work)


EVENT_HANDLERS = {"public_notice.mine_listed": when_mine_listed, "intake.mine_recorded": when_mine_recorded}
