"""绿色矿山建设合同 (正文 二（二）): the contract a 盟市 signs with a 采矿权人
“明确绿色矿山建设任务、进度、时限、要求及违约责任”. Its tasks each have a due date and a progress (0–100 %); a task
past its due date and unfinished, or the contract past its deadline and unfinished, is a breach (违约). Pure: no
I/O."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from shared.errors import FieldError, InvalidInput
from shared.stored import StoredDataclass

STATUS_LABELS = {"in_progress": "履行中", "completed": "已完成", "breached": "违约（逾期未完成）"}
MAX_TASKS = 30


def _day(value, name: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        pass
    errors.append(FieldError(name, "日期格式应为 YYYY-MM-DD"))
    return None


def _text(value, name: str, label: str, errors: list[FieldError], limit: int = 500) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors.append(FieldError(name, f"请填写{label}"))
        return None
    if len(text) > limit:
        errors.append(FieldError(name, f"{label}不能超过 {limit} 字"))
    return text


@dataclass
class ConstructionContract(StoredDataclass):
    id: str
    league: str
    mine_id: str
    mine_name: str
    enterprise_name: str
    scale: str | None
    contract_no: str
    signed_on: str
    deadline: str
    liability: str                              # 违约责任
    tasks: list[dict]                           # {no, text, due_on, progress, updated_on, note}
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def sign(cls, id: str, mine: Mapping, data: Mapping, by: str, at) -> ConstructionContract:
        """A contract signed with the 采矿权人 of `mine` (the register's entry: id, mine_name, enterprise_name,
        league, scale); `data`: contract_no, signed_on, deadline, liability, tasks [{text, due_on}]."""
        errors: list[FieldError] = []
        number = _text(data.get("contract_no"), "contract_no", "合同编号", errors, 100)
        liability = _text(data.get("liability"), "liability", "违约责任", errors)
        signed, deadline = _day(data.get("signed_on"), "signed_on", errors), _day(data.get("deadline"), "deadline",
                                                                                  errors)
        if signed and deadline and deadline < signed:
            errors.append(FieldError("deadline", "完成时限不能早于签订日期"))
        tasks = list(data.get("tasks") or [])
        if not tasks:
            errors.append(FieldError("tasks", "请至少填写一项建设任务"))
        if len(tasks) > MAX_TASKS:
            errors.append(FieldError("tasks", f"建设任务不超过 {MAX_TASKS} 项"))
        kept = []
        for n, task in enumerate(tasks[:MAX_TASKS], 1):
            text = _text(task.get("text"), f"tasks.{n - 1}.text", "任务内容", errors)
            due = _day(task.get("due_on"), f"tasks.{n - 1}.due_on", errors)
            if due and signed and due < signed:
                errors.append(FieldError(f"tasks.{n - 1}.due_on", "任务时限不能早于签订日期"))
            if due and deadline and due > deadline:
                errors.append(FieldError(f"tasks.{n - 1}.due_on", "任务时限不能晚于合同完成时限"))
            kept.append({"no": n, "text": text, "due_on": task.get("due_on"), "progress": 0, "updated_on": None,
                         "note": None})
        if errors:
            raise InvalidInput("建设合同填写有误", errors)
        contract = cls(id=id, league=mine["league"], mine_id=mine["id"], mine_name=mine["mine_name"],
                       enterprise_name=mine["enterprise_name"], scale=mine.get("scale"), contract_no=number,
                       signed_on=data["signed_on"], deadline=data["deadline"], liability=liability, tasks=kept)
        contract.history.append({"at": at, "by": by, "action": "signed"})
        return contract

    def record_progress(self, task_no: int, progress, on: date, note: str | None, by: str, at) -> bool:
        """A task's progress as of `on`; False when it is what is already recorded."""
        task = next((t for t in self.tasks if t["no"] == task_no), None)
        if task is None:
            raise InvalidInput("没有这项任务", [FieldError("task_no", f"合同只有第 1–{len(self.tasks)} 项任务")])
        if not isinstance(progress, int) or isinstance(progress, bool) or not 0 <= progress <= 100:
            raise InvalidInput("进度有误", [FieldError("progress", "进度应为 0–100 的整数（百分比）")])
        if on < date.fromisoformat(self.signed_on):
            raise InvalidInput("日期有误", [FieldError("on", "进度日期不能早于合同签订日期")])
        if task["progress"] == progress and task["note"] == note:
            return False
        self.history.append({"at": at, "by": by, "action": "progress", "task_no": task_no,
                             "before": task["progress"], "after": progress, "on": on.isoformat(), "note": note})
        task.update(progress=progress, updated_on=on.isoformat(), note=note)
        return True

    # -- what it stands at ---------------------------------------------------------------------------------------
    @property
    def completed(self) -> bool:
        return all(t["progress"] == 100 for t in self.tasks)

    def overdue_tasks(self, today: date) -> list[int]:
        """The tasks past their due date and unfinished."""
        return [t["no"] for t in self.tasks if t["progress"] < 100 and date.fromisoformat(t["due_on"]) < today]

    def status(self, today: date) -> str:
        if self.completed:
            return "completed"
        if date.fromisoformat(self.deadline) < today or self.overdue_tasks(today):
            return "breached"
        return "in_progress"

    def progress(self) -> int:
        """The mean progress of its tasks, rounded down."""
        return sum(t["progress"] for t in self.tasks) // len(self.tasks)


def summary(contracts: Sequence[ConstructionContract], today: date) -> dict[str, int]:
    """How many contracts signed by `today`, completed, in progress and breached."""
    signed = [c for c in contracts if date.fromisoformat(c.signed_on) <= today]
    statuses = [c.status(today) for c in signed]
    return {"signed": len(signed), "completed": statuses.count("completed"),
            "in_progress": statuses.count("in_progress"), "breached": statuses.count("breached")}
