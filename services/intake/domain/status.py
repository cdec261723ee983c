"""The application's status machine as a table: statuses, actions and the only transitions between them."""
from __future__ import annotations

from .errors import InvalidTransition

__all__ = ["STATUSES", "ACTIONS", "TRANSITIONS", "EDITABLE_STATUSES", "CLOSED_STATUSES", "allowed_actions",
           "transition_error"]

#: Every status with its Chinese label.  Statuses are plain strings: a later stage (third-party evaluation, 公示 …)
#: adds a row here and its transitions below.
STATUSES: dict[str, str] = {
    "draft": "草稿",
    "submitted": "已提交",
    "routed": "审核中（已分派）",
    "returned": "退回补正",
    "resubmitted": "补正后已重新提交",
    "forwarded": "初审通过，已报自治区",
    "rejected": "不予通过",
    "listed": "已纳入绿色矿山名录",
    "not_listed": "未纳入绿色矿山名录",
    "removed": "已移出绿色矿山名录",
}

#: Every action with its Chinese label (used in messages and history).
ACTIONS: dict[str, str] = {
    "submit": "提交申报",
    "resubmit": "补正后重新提交",
    "route": "分派审核",
    "return": "退回补正",
    "forward": "报自治区",
    "reject": "不予通过",
    "list": "纳入名录",
    "not_list": "不予纳入名录",
    "remove": "移出名录",
}

#: (status, action) → new status.  The only way a status changes.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("returned", "resubmit"): "resubmitted",
    ("submitted", "route"): "routed",
    ("resubmitted", "route"): "routed",
    ("routed", "return"): "returned",
    ("routed", "forward"): "forwarded",
    ("routed", "reject"): "rejected",
    ("forwarded", "list"): "listed",
    ("forwarded", "not_list"): "not_listed",
    ("listed", "remove"): "removed",
}

#: The working draft can be edited (and submitted) only in these statuses.
EDITABLE_STATUSES = frozenset({"draft", "returned"})

#: An application in one of these statuses no longer blocks a new application for its mine.
CLOSED_STATUSES = ("rejected", "not_listed", "removed")


def allowed_actions(status: str) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == status]


def transition_error(status: str, action: str) -> InvalidTransition:
    label = STATUSES.get(status, status)
    allowed = [ACTIONS[a] for a in allowed_actions(status)]
    hint = f"（当前可进行：{'、'.join(allowed)}）" if allowed else "（当前状态下不能再进行任何操作）"
    return InvalidTransition(status, action, f"申报当前状态为“{label}”，不能{ACTIONS.get(action, action)}{hint}")
