"""The application's status machine as a table: statuses, actions and the only transitions between them."""
from __future__ import annotations

from .errors import InvalidTransition

__all__ = ["STATUSES", "ACTIONS", "TRANSITIONS", "EDITABLE_STATUSES", "RETURN_STATUSES", "CLOSED_STATUSES",
           "allowed_actions", "transition_error"]

#: Every status with its Chinese label.  Statuses are plain strings: a later stage (third-party evaluation, 公示 …)
#: adds a row here and its transitions below.
STATUSES: dict[str, str] = {
    "draft": "草稿",
    "submitted": "已提交",
    "routed": "审核中（已分派）",
    "returned": "退回补正",
    "resubmitted": "补正后已重新提交",
    "forwarded": "初审通过，已报自治区",
    "under_evaluation": "自治区评估中（已委托第三方评估机构）",
    "proposed": "拟公示",
    "rectification": "退回整改",
    "rejected": "不予通过",
    "listed": "已纳入绿色矿山名录",
    "not_listed": "未纳入绿色矿山名录",
    "removed": "已移出绿色矿山名录",
    # the public notice (public_notice's listing events)
    "publicised": "公示中",
}

#: Every action with its Chinese label (used in messages and history).
ACTIONS: dict[str, str] = {
    "submit": "提交申报",
    "resubmit": "补正后重新提交",
    "route": "分派审核",
    "return": "退回补正",
    "forward": "报自治区",
    "reject": "不予通过",
    "commission": "自治区委托第三方评估机构",
    "propose": "自治区评估通过，拟公示",
    "rectify": "自治区退回整改",
    "region_reject": "自治区不予通过",
    "list": "纳入名录",
    "not_list": "不予纳入名录",
    "remove": "移出名录",
    "publicise": "公示",
    "objection_return": "公示期异议成立，退回自治区重新评估",
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
    # The region stage (review_routing's region events): the third-party evaluation, then the region decision
    # (which may overtake the commission's event: they travel under different keys).
    ("forwarded", "commission"): "under_evaluation",
    ("forwarded", "propose"): "proposed",
    ("under_evaluation", "propose"): "proposed",
    ("forwarded", "rectify"): "rectification",
    ("under_evaluation", "rectify"): "rectification",
    ("forwarded", "region_reject"): "rejected",
    ("under_evaluation", "region_reject"): "rejected",
    ("rectification", "resubmit"): "resubmitted",
    ("forwarded", "list"): "listed",
    ("forwarded", "not_list"): "not_listed",
    ("proposed", "list"): "listed",
    ("proposed", "not_list"): "not_listed",
    ("listed", "remove"): "removed",
    # The public notice (public_notice.listing.events): 公示, an upheld objection's outcome, the listing.  The batch,
    # the objections and the listing travel under different keys, so a later step may overtake 公示's own event.
    ("proposed", "publicise"): "publicised",
    ("publicised", "list"): "listed",
    ("publicised", "not_list"): "not_listed",
    ("proposed", "objection_return"): "under_evaluation",
    ("publicised", "objection_return"): "under_evaluation",
}

#: The working draft can be edited (and submitted) only in these statuses.
EDITABLE_STATUSES = frozenset({"draft", "returned", "rectification"})

#: Statuses in which the enterprise answers a return (退回补正 at the initial review, 退回整改 by the region): the
#: reasons are the current return's, and submitting is a resubmission.
RETURN_STATUSES = ("returned", "rectification")

#: An application in one of these statuses no longer blocks a new application for its mine.
CLOSED_STATUSES = ("rejected", "not_listed", "removed")


def allowed_actions(status: str) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == status]


def transition_error(status: str, action: str) -> InvalidTransition:
    label = STATUSES.get(status, status)
    allowed = [ACTIONS[a] for a in allowed_actions(status)]
    hint = f"（当前可进行：{'、'.join(allowed)}）" if allowed else "（当前状态下不能再进行任何操作）"
    return InvalidTransition(status, action, f"申报当前状态为“{label}”，不能{ACTIONS.get(action, action)}{hint}")
