"""Where an application stands on the programme's way, as the enterprise follows it on its case page:
提交 → 部门审核 → 初审决定 → 自治区评估 → 公示 → 公告.

Derived from the application's status only (the status follows the events intake consumes); the date by which the
current step is due is given by the caller (the initial review's deadline, ``receipt.py``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["STEPS", "Step", "progress", "DONE", "CURRENT", "PENDING", "STOPPED"]

STEPS: tuple[tuple[str, str], ...] = (
    ("submit", "提交"),
    ("review", "部门审核"),
    ("decision", "初审决定"),
    ("evaluation", "自治区评估"),
    ("notice", "公示"),
    ("announcement", "公告"),
)

DONE, CURRENT, PENDING, STOPPED = "done", "current", "pending", "stopped"
STATE_LABELS = {DONE: "已完成", CURRENT: "进行中", PENDING: "未开始", STOPPED: "已终止"}

# status → (index of the step in progress, its note, whether the way ends there)
_AT: dict[str, tuple[int, str, bool]] = {
    "draft": (0, "填写自评估、上传材料后提交", False),
    "returned": (0, "退回补正：按退回意见修改后重新提交", False),
    "submitted": (1, "已提交，等待盟市自然资源局分派各部门审核", False),
    "resubmitted": (1, "补正后已重新提交，等待分派复核", False),
    "routed": (1, "各部门审核中（资料核查和实地核查）", False),
    "forwarded": (3, "初审通过，已报自治区自然资源厅评估", False),
    "under_evaluation": (3, "自治区评估中：已委托第三方评估机构开展现场评估", False),
    "proposed": (4, "自治区评估通过，拟公示", False),
    "rectification": (0, "自治区退回整改：按整改意见修改后重新提交", False),
    "rejected": (2, "初审不予通过", True),
    "not_listed": (4, "未纳入绿色矿山名录", True),
    "listed": (6, "已纳入绿色矿山名录", False),
    "removed": (6, "已移出绿色矿山名录", False),
    "publicised": (4, "公示中：公示期内接受社会监督", False),
}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str
    note: str = ""
    due: date | None = None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def progress(status: str, review_due: date | None = None) -> list[Step]:
    """The six steps with their state; the current one carries the note, and while the initial review runs
    the 初审决定 step carries ``review_due`` (the date it is due by)."""
    at, note, ends = _AT.get(status, (0, "", False))
    reviewing = status in ("submitted", "resubmitted", "routed")
    steps = []
    for i, (key, label) in enumerate(STEPS):
        if i < at:
            state, step_note, due = DONE, "", None
        elif i == at:
            state, step_note, due = (STOPPED if ends else CURRENT), note, None
        else:
            state, step_note, due = PENDING, "", None
        if reviewing and key == "decision":
            due = review_due
        steps.append(Step(key, label, state, step_note, due))
    if status in ("listed", "removed"):
        steps[-1] = Step(steps[-1].key, steps[-1].label, DONE, note)
    return steps
