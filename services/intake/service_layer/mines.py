"""Handlers of the mine register: an enterprise registers and edits its own mines; the demo data and other imports
bring mines in.  Each change publishes ``intake.mine_recorded`` (the entry as it now stands) in its transaction; an
update that changes nothing writes nothing and publishes nothing."""
from __future__ import annotations

import uuid

from intake.domain.commands import ImportMine, RegisterMine, UpdateMine
from intake.domain.errors import MineInvalid
from intake.domain.mine import Mine
from shared.errors import Conflict, FieldError, InvalidInput, NotFound, NotPermitted

from . import access
from .common import Clock, MineRecord, actor_of, listing, today
from .unit_of_work import DuplicateMine, IntakeUnitOfWork

INVALID = "矿山信息有误，请按提示修改"


def register_mine(cmd: RegisterMine, uow: IntakeUnitOfWork, *, clock: Clock) -> MineRecord:
    principal = cmd.principal
    if principal.role != "enterprise":
        raise NotPermitted("只有矿山企业可以登记矿山")
    on = today(clock)
    mine = _read(principal, cmd.data, on, "mine-" + uuid.uuid4().hex[:12])
    now = clock()

    def work():
        doc = uow.mines.add(mine, principal.username, now)
        uow.audit.record(actor=actor_of(principal), action="mine_registered", subject_type="mine",
                         subject_id=mine.id, at=now, detail={"mine": mine.to_dict()})
        uow.publish_mine(mine, register_version=doc["version"], change="registered", recorded_on=on, at=now)
        return doc

    try:
        doc = uow.run(work)
    except DuplicateMine as exc:
        raise _duplicate(exc) from None
    return MineRecord(mine, doc, on)


def update_mine(cmd: UpdateMine, uow: IntakeUnitOfWork, *, clock: Clock) -> MineRecord:
    principal = cmd.principal
    current = uow.read(lambda: uow.mines.get(cmd.mine_id))
    if current is None:
        raise NotFound("找不到该矿山")
    mine, _doc = current
    access.check_read(principal, mine.credit_code, mine.league, "矿山")
    access.check_write(principal, mine.credit_code, "矿山")
    on = today(clock)
    updated = _read(principal, cmd.data, on, cmd.mine_id)
    now = clock()

    def work():
        before_mine, stored = uow.mines.get(cmd.mine_id)
        before, after = before_mine.to_dict(), updated.to_dict()
        if before == after:  # nothing to change (a retried request whose first attempt went through): no new version
            return stored
        if cmd.expected_version is not None and stored["version"] != cmd.expected_version:
            raise Conflict("矿山信息已在其他地方修改，请刷新后再编辑")
        saved = uow.mines.save(updated, stored, principal.username, now)
        changed = sorted(k for k in after if before.get(k) != after.get(k))
        uow.audit.record(actor=actor_of(principal), action="mine_updated", subject_type="mine",
                         subject_id=cmd.mine_id, at=now, detail={"changed": changed, "before": before, "after": after})
        uow.applications.follow_mine(cmd.mine_id, listing(updated))  # listing fields follow the register
        uow.publish_mine(updated, register_version=saved["version"], change="updated", recorded_on=on, at=now,
                         before=before_mine)
        return saved

    try:
        saved = uow.run(work)
    except DuplicateMine as exc:
        raise _duplicate(exc) from None
    return MineRecord(updated, saved, on)


def _read(principal, data, on, mine_id: str) -> Mine:
    """The mine from the submitted data, the enterprise defaulting to the principal's; only its own."""
    data = dict(data)
    enterprise = dict(data.get("enterprise") or {})
    if not enterprise.get("credit_code"):
        enterprise["credit_code"] = principal.enterprise
    if not enterprise.get("name") and principal.display_name and principal.display_name != principal.username:
        enterprise["name"] = principal.display_name
    data["enterprise"] = enterprise
    try:
        mine = Mine.create(data, on, id=mine_id)
    except MineInvalid as exc:
        raise MineInvalid(exc.errors, INVALID) from None
    if mine.credit_code != principal.enterprise:
        raise NotPermitted(f"只能登记本企业（统一社会信用代码 {principal.enterprise}）的矿山")
    return mine


def _duplicate(exc: DuplicateMine) -> InvalidInput:
    name = (exc.existing or {}).get("name")
    where = f"（已登记为“{name}”）" if name else ""
    return MineInvalid([FieldError("mining_licence.number",
                                    f"采矿许可证证号：该证号已登记{where}，同一矿山不能重复登记")], INVALID)


def import_mine(cmd: ImportMine, uow: IntakeUnitOfWork, *, clock: Clock) -> bool:
    """True when the mine was registered now, False when its id was already there."""
    on = today(clock)

    def work():
        if uow.mines.get(cmd.mine_id) is not None:
            return False
        mine = Mine.create(cmd.data, on, id=cmd.mine_id)
        doc = uow.mines.add(mine, cmd.actor, cmd.at)
        uow.audit.record(actor=actor_of(cmd.actor), action="mine_registered", subject_type="mine",
                         subject_id=cmd.mine_id, at=cmd.at, detail={"mine": mine.to_dict()})
        uow.publish_mine(mine, register_version=doc["version"], change="imported", recorded_on=on, at=cmd.at)
        return True

    return uow.run(work)
