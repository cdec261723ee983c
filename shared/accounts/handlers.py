"""Account handlers: `handler(cmd, uow, **deps)`. Each checks the input and the actor's right first, then
changes the account and records the audit entry in one `uow.run`. Passwords are hashed by the `hash_password`
dependency and never stored or audited in clear; a generated one-time password is returned once."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.accounts.commands import (
    AssignAccount,
    ChangeOwnPassword,
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    EndSignIns,
    ResetPassword,
)
from shared.accounts.rules import (
    Actor,
    account_problems,
    check_password,
    default_area,
    email_problems,
    may_manage,
    normal_email,
    not_self,
    password_problems,
)
from shared.accounts.unit_of_work import AccountsUnitOfWork, duplicate
from shared.errors import FieldError, InvalidInput, NotFound
from shared.regions import find_county


@dataclass(frozen=True)
class Outcome:
    """What a change left: the account (without its password hash), a one-time password made for it (shown
    once), and how many sign-ins it ended."""

    account: dict
    one_time_password: str | None = None
    ended_sign_ins: int = 0
    changes: dict = field(default_factory=dict)


def public_view(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "password_hash"}


def _audit(uow: AccountsUnitOfWork, *, at, actor: Actor, action: str, target: dict, changes: dict) -> None:
    uow.audit.add({"at": at, "actor": actor.username, "actor_name": actor.label, "actor_role": actor.role,
                   "action": action, "target": target["_id"], "target_name": target.get("display_name") or "",
                   "target_role": target.get("role"), "target_area": target.get("area"), "changes": changes})


def _existing(uow: AccountsUnitOfWork, username: str) -> dict:
    document = uow.users.get(username)
    if document is None:
        raise NotFound(f"账号 {username} 不存在")
    return document


def _county_problems(area: str | None, county: str | None) -> list[FieldError]:
    if not county:
        return []
    found = find_county(area, county)
    if found is None:
        return [FieldError("county", f"旗县须为{area or '所选盟市'}的旗县级行政区")]
    return []


def create_account(cmd: CreateAccount, uow: AccountsUnitOfWork, *, clock, hash_password, new_password) -> Outcome:
    username = (cmd.username or "").strip()
    display_name = (cmd.display_name or "").strip()
    area = default_area(cmd.role, cmd.area)
    if cmd.actor.role == "bureau" and cmd.role == "department_reviewer" and not area:
        area = cmd.actor.area           # a bureau's reviewers are of its own 盟市
    errors = account_problems(username=username, role=cmd.role, display_name=display_name,
                              department=cmd.department or None, area=area, enterprise=cmd.enterprise or None,
                              institution=(cmd.institution or "").strip() or None)
    errors += _county_problems(area, cmd.county)
    errors += email_problems(normal_email(cmd.email))
    if cmd.password is not None:
        errors += [FieldError("password", p) for p in password_problems(cmd.password, username)]
    if errors:
        raise InvalidInput("账号信息有误，请按提示修改", errors)
    may_manage(cmd.actor, cmd.role, area)
    one_time = None if cmd.password is not None else new_password()
    now = clock()
    document = {"_id": username, "password_hash": hash_password(cmd.password or one_time), "role": cmd.role,
                "department": cmd.department or None, "area": area, "county": cmd.county or None,
                "enterprise": cmd.enterprise or None, "institution": (cmd.institution or "").strip() or None,
                "display_name": display_name or username, "active": True,
                "must_change": bool(cmd.must_change), "epoch": 0, "created_at": now, "created_by": cmd.actor.username,
                "email": normal_email(cmd.email)}
    changes = {k: document[k] for k in ("role", "display_name", "department", "area", "county", "enterprise",
                                        "institution", "email") if document[k]}

    def work():
        if uow.users.get(username) is not None:
            raise duplicate(username)
        uow.users.add(document)
        _audit(uow, at=now, actor=cmd.actor, action="create", target=document, changes=changes)

    uow.run(work)
    return Outcome(public_view(document), one_time_password=one_time, changes=changes)


def _set_active(cmd, uow: AccountsUnitOfWork, clock, active: bool) -> Outcome:
    target = uow.read(lambda: _existing(uow, cmd.username))
    may_manage(cmd.actor, target["role"], target.get("area"))
    if not active:
        not_self(cmd.actor, cmd.username, "停用")
    now = clock()

    def work():
        current = _existing(uow, cmd.username)
        uow.users.update(cmd.username, {"active": active, "changed_at": now})
        ended = uow.users.end_sign_ins(cmd.username)
        _audit(uow, at=now, actor=cmd.actor, action="enable" if active else "disable", target=current,
               changes={"active": active})
        return ended

    ended = uow.run(work)
    return Outcome(public_view({**target, "active": active}), ended_sign_ins=ended)


def disable_account(cmd: DisableAccount, uow: AccountsUnitOfWork, *, clock) -> Outcome:
    return _set_active(cmd, uow, clock, False)


def enable_account(cmd: EnableAccount, uow: AccountsUnitOfWork, *, clock) -> Outcome:
    return _set_active(cmd, uow, clock, True)


def reset_password(cmd: ResetPassword, uow: AccountsUnitOfWork, *, clock, hash_password, new_password) -> Outcome:
    target = uow.read(lambda: _existing(uow, cmd.username))
    may_manage(cmd.actor, target["role"], target.get("area"))
    not_self(cmd.actor, cmd.username, "重置")
    if cmd.password is not None:
        check_password(cmd.password, cmd.username)
    one_time = None if cmd.password is not None else new_password()
    password_hash = hash_password(cmd.password or one_time)
    now = clock()

    def work():
        current = _existing(uow, cmd.username)
        uow.users.update(cmd.username, {"password_hash": password_hash, "must_change": bool(cmd.must_change),
                                        "changed_at": now})
        ended = uow.users.end_sign_ins(cmd.username)
        _audit(uow, at=now, actor=cmd.actor, action="reset_password", target=current,
               changes={"must_change": bool(cmd.must_change), "generated": one_time is not None})
        return ended

    ended = uow.run(work)
    return Outcome(public_view({**target, "must_change": bool(cmd.must_change)}), one_time_password=one_time,
                   ended_sign_ins=ended)


def assign_account(cmd: AssignAccount, uow: AccountsUnitOfWork, *, clock) -> Outcome:
    target = uow.read(lambda: _existing(uow, cmd.username))
    may_manage(cmd.actor, target["role"], target.get("area"))
    after = dict(target)
    if cmd.display_name is not None:
        after["display_name"] = cmd.display_name.strip()
    if cmd.department is not None:
        after["department"] = cmd.department or None
    if cmd.area is not None:
        if cmd.area != target.get("area"):
            after["county"] = None      # a county belongs to the 盟市 it was chosen in
        after["area"] = cmd.area
    if cmd.county is not None:
        after["county"] = cmd.county.strip() or None
    if cmd.institution is not None:
        after["institution"] = cmd.institution.strip() or None
    if cmd.email is not None:
        after["email"] = normal_email(cmd.email)
    errors = account_problems(username=target["_id"], role=target["role"], display_name=after.get("display_name"),
                              department=after.get("department"), area=after.get("area"),
                              enterprise=after.get("enterprise"), institution=after.get("institution"))
    errors += _county_problems(after.get("area"), after.get("county"))
    errors += email_problems(after.get("email"))
    if after.get("display_name") == "":
        errors.append(FieldError("display_name", "名称不能为空"))
    if errors:
        raise InvalidInput("账号信息有误，请按提示修改", errors)
    may_manage(cmd.actor, after["role"], after.get("area"))   # a bureau cannot move a reviewer to another 盟市
    fields = ("display_name", "department", "area", "county", "institution", "email")
    changes = {k: {"from": target.get(k), "to": after.get(k)} for k in fields if target.get(k) != after.get(k)}
    if not changes:
        return Outcome(public_view(target))
    now = clock()
    scope_changed = any(k in changes for k in ("department", "area", "county", "institution"))

    def work():
        current = _existing(uow, cmd.username)
        uow.users.update(cmd.username, {**{k: after.get(k) for k in changes}, "changed_at": now})
        # A sign-in carries the department, area and institution it was made with: a changed scope signs in anew.
        ended = uow.users.end_sign_ins(cmd.username) if scope_changed else 0
        _audit(uow, at=now, actor=cmd.actor, action="assign", target={**current, **after}, changes=changes)
        return ended

    ended = uow.run(work)
    return Outcome(public_view(after), ended_sign_ins=ended, changes=changes)


def change_own_password(cmd: ChangeOwnPassword, uow: AccountsUnitOfWork, *, clock, hash_password,
                        verify_password) -> Outcome:
    target = uow.read(lambda: uow.users.get(cmd.actor.username))
    if target is None or not target.get("active", True):
        raise NotFound("账号不存在或已停用")
    errors = []
    if not verify_password(target["password_hash"], cmd.current_password or ""):
        errors.append(FieldError("current_password", "当前密码不正确"))
    errors += [FieldError("new_password", p) for p in password_problems(cmd.new_password, target["_id"])]
    if cmd.new_password and cmd.new_password == cmd.current_password:
        errors.append(FieldError("new_password", "新密码不能与当前密码相同"))
    if errors:
        raise InvalidInput("密码未修改，请按提示修改", errors)
    password_hash = hash_password(cmd.new_password)
    now = clock()

    def work():
        current = _existing(uow, target["_id"])
        uow.users.update(target["_id"], {"password_hash": password_hash, "must_change": False, "changed_at": now})
        ended = uow.users.end_sign_ins(target["_id"])
        _audit(uow, at=now, actor=cmd.actor, action="change_password", target=current, changes={})
        return ended

    ended = uow.run(work)
    return Outcome(public_view({**target, "must_change": False}), ended_sign_ins=ended)


def delete_account(cmd: DeleteAccount, uow: AccountsUnitOfWork, *, clock) -> Outcome:
    target = uow.read(lambda: _existing(uow, cmd.username))
    may_manage(cmd.actor, target["role"], target.get("area"))
    not_self(cmd.actor, cmd.username, "删除")
    now = clock()

    def work():
        current = _existing(uow, cmd.username)
        uow.users.delete(cmd.username)
        ended = uow.users.end_sign_ins(cmd.username)
        _audit(uow, at=now, actor=cmd.actor, action="delete", target=current, changes={})
        return ended

    ended = uow.run(work)
    return Outcome(public_view(target), ended_sign_ins=ended)


def end_sign_ins(cmd: EndSignIns, uow: AccountsUnitOfWork, *, clock) -> Outcome:
    target = uow.read(lambda: _existing(uow, cmd.username))
    may_manage(cmd.actor, target["role"], target.get("area"))
    now = clock()

    def work():
        current = _existing(uow, cmd.username)
        uow.users.update(cmd.username, {"changed_at": now})      # the epoch moves: a sign-in in flight ends too
        ended = uow.users.end_sign_ins(cmd.username)
        _audit(uow, at=now, actor=cmd.actor, action="sign_out", target=current, changes={"ended": ended})
        return ended

    ended = uow.run(work)
    return Outcome(public_view(target), ended_sign_ins=ended)


COMMAND_HANDLERS = {
    CreateAccount: create_account,
    DisableAccount: disable_account,
    EnableAccount: enable_account,
    ResetPassword: reset_password,
    AssignAccount: assign_account,
    ChangeOwnPassword: change_own_password,
    DeleteAccount: delete_account,
    EndSignIns: end_sign_ins,
}
