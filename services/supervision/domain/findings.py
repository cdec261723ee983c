"""What the daily sweep found (issue 13 item 4): `SweepFinding`, one per finding key of `domain/triggers.py`, raised
once however often the sweep runs; and the new mines' deadline (正文 二(二)).

A finding is recorded `open` with its action, the situation it cites, the reason, the day it fell due and the day
the sweep found it. `mark` and `propose_removal` findings become measures (`measure_id`, set when a measure is opened
from it); a `warn` finding tells the enterprise (`supervision.warning_issued`), a `request_re_evaluation` finding
asks the region stage (`supervision.re_evaluation_requested`).

New mines (正文 二(二): 新建矿山正式投产后1—2年内应通过绿色矿山评估核查): a mine of intake's register with a
production start date and not on the list is tracked until it is listed; it may apply from one year after the start
(附件1 先决条件: 新建矿山正式投产满1年) and is due two years after it. Reminders (warnings): the day it may apply and
REMIND_DAYS before it is due. Mines whose two years ended before the notice was issued are not new under it.
Pure: no I/O."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shared.periods import add_years
from shared.stored import StoredDataclass
from supervision.domain import triggers

NOTICE_ISSUED = date(2025, 6, 11)      # 内政办发〔2025〕24号
REMIND_DAYS = 90
STATUSES = {"open": "待处理", "measure": "已转监管事项", "closed": "已办结"}
ACTIONS = {triggers.WARN: "预警提醒", triggers.MARK: "标注", triggers.PROPOSE_REMOVAL: "移出名录建议",
           triggers.RE_EVALUATE: "复核评估请求"}
KINDS = {"trigger": "自动触发", "new_mine": "新建矿山评估期限"}
MEASURES = {"mark": "标注", "rectify": "限期整改", "remove": "移出名录"}


def situation_label(situation: str | None) -> str:
    """'remove.1' → '移出名录第1种情形' (as people read it); '' for none."""
    if not situation:
        return ""
    measure, _, no = situation.partition(".")
    return f"{MEASURES.get(measure, measure)}第{no}种情形"


def digest(key: str, size: int = 16) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:size]


def finding_id(key: str) -> str:
    return "finding-" + digest(key, 24)


def request_id(key: str) -> str:
    """The re-evaluation request's id (contract supervision.re_evaluation_requested): from the finding key."""
    return "reeval-" + digest(key)


def warning_id(key: str) -> str:
    return "warning-" + digest(key)


@dataclass
class SweepFinding(StoredDataclass):
    id: str
    key: str
    kind: str                   # trigger | new_mine
    mine_id: str
    mine_name: str
    enterprise_name: str
    credit_code: str | None
    league: str
    county: str | None
    action: str                 # warn | mark | propose_removal | request_re_evaluation
    situation: str | None       # e.g. remove.1; None for a warning
    reason: str
    due_on: str                 # ISO date it fell due
    found_on: str               # ISO date the sweep found it
    deadline: str | None = None  # what a warning is about: the licence's expiry, the new mine's due date
    status: str = "open"
    measure_id: str | None = None
    event_id: str | None = None  # the event it published (warn, request_re_evaluation)
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def found(cls, finding: triggers.Finding, mine, *, kind: str, today: date, at: datetime,
              deadline: date | None = None) -> SweepFinding:
        """`mine`: the register entry (SupervisedMine) the finding is about."""
        return cls(id=finding_id(finding.key), key=finding.key, kind=kind, mine_id=mine.id, mine_name=mine.mine_name,
                   enterprise_name=mine.enterprise_name, credit_code=mine.credit_code, league=mine.league,
                   county=mine.county, action=finding.action, situation=finding.situation, reason=finding.reason,
                   due_on=finding.due_on.isoformat(), found_on=today.isoformat(),
                   deadline=deadline.isoformat() if deadline else None,
                   history=[{"at": at, "by": "sweep", "action": "found", "on": today.isoformat()}])

    @property
    def becomes_measure(self) -> bool:
        return self.action in (triggers.MARK, triggers.PROPOSE_REMOVAL)

    def turned_into(self, measure_id: str, at: datetime) -> None:
        """The measure opened from it (area measures): the finding is handled there."""
        self.status, self.measure_id = "measure", measure_id
        self.history.append({"at": at, "by": "sweep", "action": "measure_opened", "measure_id": measure_id})

    def close(self, at: datetime, note: str) -> None:
        self.status = "closed"
        self.history.append({"at": at, "by": "sweep", "action": "closed", "note": note})

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


def unique(findings) -> list[triggers.Finding]:
    """Each key once (a fact given twice by several readings is one finding), in the order first seen."""
    return list({f.key: f for f in findings}.values())


def warning_deadline(finding: triggers.Finding) -> date:
    """The licence expiry a licence warning announces (it falls due WARNING_DAYS before it)."""
    return finding.due_on + timedelta(triggers.WARNING_DAYS)


# -- new mines -----------------------------------------------------------------------------------------------------
def new_mine_window(started_on: date) -> tuple[date, date]:
    """(may apply from, must pass by) for a mine that started production on `started_on`."""
    return add_years(started_on, 1), add_years(started_on, 2)


def is_new_mine(started_on: date | None) -> bool:
    return started_on is not None and new_mine_window(started_on)[1] >= NOTICE_ISSUED


def new_mine_findings(mine_id: str, started_on: date, today: date) -> list[triggers.Finding]:
    """The reminders due on `today` for a new mine not yet on the list (each key once, stays due)."""
    if not is_new_mine(started_on):
        return []
    opens, due = new_mine_window(started_on)
    deadline = f"{due.year}年{due.month}月{due.day}日"
    start = f"{started_on.year}年{started_on.month}月{started_on.day}日"
    candidates = [
        triggers.Finding(f"{mine_id}:new-mine:{started_on.isoformat()}:opens", triggers.WARN, None, opens,
                         f"矿山于{start}正式投产，已满1年，可申报绿色矿山；按规定应于{deadline}前通过绿色矿山评估核查"),
        triggers.Finding(f"{mine_id}:new-mine:{started_on.isoformat()}:due-soon", triggers.WARN, None,
                         due - timedelta(REMIND_DAYS),
                         f"矿山于{start}正式投产，应于{deadline}前通过绿色矿山评估核查，期限将至，请抓紧申报"),
    ]
    return [f for f in candidates if f.due_on <= today]
