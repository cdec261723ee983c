"""The targets area (目标进度, issue 13 item 6): the 盟市's yearly targets, entered by the region office, and the
green-mine construction contracts a 盟市 signs with 采矿权人 and follows (domain/targets.py, domain/construction.py).
The progress toward the 2028 targets is read from the register (adapters/target_queries.py). (see `areas.py` for an
area's shape)"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.clock import beijing_date
from shared.errors import FieldError, InvalidInput, NotFound, NotPermitted
from shared.regions import LEAGUE_NAMES
from supervision.domain.construction import ConstructionContract
from supervision.domain.targets import YearlyTarget
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork


@dataclass(frozen=True)
class SetYearlyTarget:
    """The region office enters a 盟市's yearly target (green mines by the end of the year, per scale)."""

    league: str
    year: int
    targets: dict = field(default_factory=dict)    # {"large": n, "medium": n, "small": n}; None: not set
    basis: str | None = None
    by: str = ""


@dataclass(frozen=True)
class SignConstructionContract:
    """A 盟市 (its bureau, or the region office) records a contract signed with a mine's 采矿权人."""

    mine_id: str
    data: dict
    area: str | None                 # the 盟市 the person acts for (None: the whole region)
    by: str = ""


@dataclass(frozen=True)
class RecordContractProgress:
    contract_id: str
    task_no: int
    progress: int
    on: str | None = None            # the day of the progress (default: today)
    note: str | None = None
    area: str | None = None
    by: str = ""


def _league(league: str) -> str:
    if league not in LEAGUE_NAMES:
        raise InvalidInput("盟市不正确", [FieldError("league", "不是自治区的盟市")])
    return league


def _within(area: str | None, league: str) -> None:
    if area is not None and area != league:
        raise NotPermitted(f"只能办理本盟市（{area}）的绿色矿山建设合同")


def set_yearly_target(cmd: SetYearlyTarget, uow: SupervisionUnitOfWork, *,
                      clock: Callable[[], datetime]) -> dict:
    league = _league(cmd.league)

    def work() -> dict:
        existing = uow.yearly_targets.get(YearlyTarget.key(league, cmd.year))
        entry = YearlyTarget.set(existing, league, cmd.year, cmd.targets, cmd.basis, cmd.by, clock())
        if entry is not None:
            uow.yearly_targets.save(entry)
        kept = entry or existing
        return {"league": kept.league, "year": kept.year, "targets": kept.targets, "basis": kept.basis,
                "changed": entry is not None}

    return uow.run(work)


def sign_construction_contract(cmd: SignConstructionContract, uow: SupervisionUnitOfWork, *,
                               clock: Callable[[], datetime]) -> str:
    def work() -> str:
        mine = uow.mines.get(cmd.mine_id)
        if mine is None:
            raise NotFound("监管名册中没有这座矿山", [FieldError("mine_id", "监管名册中没有这座矿山")])
        _within(cmd.area, mine.league)
        number = (cmd.data.get("contract_no") or "").strip()
        if number and uow.construction_contracts.find(mine_id=mine.id, contract_no=number):
            raise InvalidInput("合同已登记", [FieldError("contract_no", f"该矿山的合同 {number} 已登记")])
        contract = ConstructionContract.sign(f"gc-{uuid.uuid4().hex[:16]}", {
            "id": mine.id, "mine_name": mine.mine_name, "enterprise_name": mine.enterprise_name,
            "league": mine.league, "scale": mine.scale}, cmd.data, cmd.by, clock())
        uow.construction_contracts.save(contract)
        return contract.id

    return uow.run(work)


def record_contract_progress(cmd: RecordContractProgress, uow: SupervisionUnitOfWork, *,
                             clock: Callable[[], datetime]) -> bool:
    now = clock()
    try:
        on = date.fromisoformat(cmd.on) if cmd.on else beijing_date(now)
    except ValueError:
        raise InvalidInput("日期有误", [FieldError("on", "日期格式应为 YYYY-MM-DD")])
    if on > beijing_date(now):
        raise InvalidInput("日期有误", [FieldError("on", "进度日期不能晚于今天")])

    def work() -> bool:
        contract = uow.construction_contracts.get(cmd.contract_id)
        if contract is None:
            raise NotFound("找不到该建设合同")
        _within(cmd.area, contract.league)
        changed = contract.record_progress(cmd.task_no, cmd.progress, on, cmd.note, cmd.by, now)
        if changed:
            uow.construction_contracts.save(contract)
        return changed

    return uow.run(work)


COMMAND_HANDLERS = {SetYearlyTarget: set_yearly_target, SignConstructionContract: sign_construction_contract,
                    RecordContractProgress: record_contract_progress}
