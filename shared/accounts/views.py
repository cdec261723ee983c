"""What the account pages and the API read: the accounts and audit entries an actor may see, and their labels
(role, 部门 name, status, what a change did) in Chinese. Codes never reach a page."""
from __future__ import annotations

from functools import cache

from shared.accounts.rules import ACTIONS, ROLES, Actor, status_label
from shared.accounts.unit_of_work import AccountsUnitOfWork
from shared.errors import NotPermitted


@cache
def department_names() -> dict[str, str]:
    from shared.catalog import load_catalog

    return {d.code: d.name for d in load_catalog().departments}


def department_label(code: str | None) -> str:
    return department_names().get(code, code) if code else ""


def managed_scope(actor: Actor) -> dict:
    """The accounts an actor manages: every one (admin), the department reviewers of its 盟市 (bureau), the
    evaluators (region office)."""
    if actor.role == "admin":
        return {}
    if actor.role == "bureau" and actor.area:
        return {"role": "department_reviewer", "area": actor.area}
    if actor.role == "region_office":
        return {"role": "evaluator"}
    raise NotPermitted("只有系统管理员、盟市自然资源局或自治区自然资源厅可以管理账号")


def accounts_for(actor: Actor, uow: AccountsUnitOfWork) -> list[dict]:
    scope = managed_scope(actor)
    return uow.read(lambda: uow.users.find(**scope))


def account_for(actor: Actor, uow: AccountsUnitOfWork, username: str) -> dict:
    """One account the actor manages (NotFound, or NotPermitted for a bureau's neighbour's account)."""
    from shared.accounts.rules import may_manage
    from shared.errors import NotFound

    document = uow.read(lambda: uow.users.get(username))
    if document is None:
        raise NotFound(f"账号 {username} 不存在")
    may_manage(actor, document.get("role"), document.get("area"))
    return {k: v for k, v in document.items() if k != "password_hash"}


def audit_for(actor: Actor, uow: AccountsUnitOfWork, *, target: str | None = None, limit: int = 200) -> list[dict]:
    scope = managed_scope(actor)
    area = scope.get("area")
    entries = uow.read(lambda: uow.audit.recent(target=target, targets_area=area, limit=limit))
    if "role" in scope:   # a bureau reads what concerns its own 盟市's reviewers only, the region office evaluators
        entries = [e for e in entries if e.get("target_role") == scope["role"]]
    return entries


def account_row(document: dict) -> dict:
    """An account as people read it."""
    return {"username": document["_id"], "display_name": document.get("display_name") or document["_id"],
            "role": document.get("role"), "role_label": ROLES.get(document.get("role"), "未知角色"),
            "department": document.get("department"), "department_label": department_label(document.get("department")),
            "area": document.get("area") or "", "county": document.get("county") or "",
            "enterprise": document.get("enterprise") or "", "institution": document.get("institution") or "",
            "email": document.get("email") or "",
            "active": bool(document.get("active", True)),
            "status_label": status_label(bool(document.get("active", True))),
            "must_change": bool(document.get("must_change", False)),
            "created_at": document.get("created_at"), "changed_at": document.get("changed_at")}


_FIELD_LABELS = {"role": "角色", "display_name": "名称", "department": "部门", "area": "地区", "county": "旗县",
                 "enterprise": "统一社会信用代码", "institution": "所属评估机构", "email": "电子邮箱"}


def _value(name: str, value) -> str:
    if value in (None, ""):
        return "（无）"
    if name == "role":
        return ROLES.get(value, "未知角色")
    if name == "department":
        return department_label(value)
    return str(value)


def describe(entry: dict) -> str:
    """What an audit entry changed, in one Chinese line (never a password)."""
    changes = entry.get("changes") or {}
    action = entry.get("action")
    if action == "create":
        return "；".join(f"{_FIELD_LABELS[k]}：{_value(k, v)}" for k, v in changes.items() if k in _FIELD_LABELS)
    if action == "assign":
        return "；".join(f"{_FIELD_LABELS[k]}：{_value(k, v.get('from'))} → {_value(k, v.get('to'))}"
                        for k, v in changes.items() if k in _FIELD_LABELS)
    if action == "reset_password":
        how = "生成一次性密码" if changes.get("generated") else "管理员设定密码"
        return how + ("，须在下次登录时修改" if changes.get("must_change") else "")
    if action in ("disable", "enable"):
        return "状态：" + status_label(action == "enable") + ("，已结束其全部登录" if action == "disable" else "")
    if action == "change_password":
        return "本人修改密码，已结束其全部登录"
    if action == "delete":
        return "账号已删除，已结束其全部登录"
    if action == "sign_out":
        return f"结束登录 {changes.get('ended', 0)} 个"
    return ""


def audit_row(entry: dict) -> dict:
    return {"at": entry.get("at"), "actor": entry.get("actor"), "actor_name": entry.get("actor_name") or "",
            "action": entry.get("action"), "action_label": ACTIONS.get(entry.get("action"), "其他操作"),
            "target": entry.get("target"), "target_name": entry.get("target_name") or "",
            "target_role_label": ROLES.get(entry.get("target_role"), ""), "target_area": entry.get("target_area") or "",
            "detail": describe(entry)}
