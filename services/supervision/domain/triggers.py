"""The daily sweep's rules (issue 13 item 4): from what the register knows of a listed mine, the findings due on a
day — each citing its situation of `contracts/supervision/situations.yaml` and carrying an idempotency key.

A finding, once due, stays due on every later day with the same key: the sweep may run any number of times, on any
later day (after a holiday, after an outage), and the service raises each key once. A new fact (a renewed licence's
new expiry, a second stoppage, another change) is a new key. The service runs the sweep on the official calendar's
working days (`sweep_days`): what falls due on a holiday is raised on the next working day.

Dates count as 民法典 counts periods (shared.periods): stopped since 2025-02-28 → one year on 2026-02-28; listed as
abnormal on 2025-08-31 → six months end 2026-02-28, and it must have been removed by then.
Pure: no I/O."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.periods import add_months, add_years

WARNING_DAYS = 30                    # a licence's expiry is announced this many days before
BACKWARD = "落后"                     # 矿产资源开发利用水平 grade of 移出 10
LICENCE_LABELS = {"mining": "采矿许可证", "safety": "安全生产许可证", "business": "营业执照"}
CHANGE_LABELS = {"area": "矿区范围", "method": "开采方式", "minerals": "开采矿种", "scale": "开采规模"}
WARN, MARK, PROPOSE_REMOVAL, RE_EVALUATE = "warn", "mark", "propose_removal", "request_re_evaluation"


@dataclass(frozen=True)
class Licence:
    kind: str                        # mining | safety | business
    number: str
    valid_to: date | None            # None: 长期 (only a 营业执照)
    revoked_on: date | None = None


@dataclass(frozen=True)
class MajorChange:
    """A change of 矿区范围, 开采方式, 开采矿种 or 开采规模 seen in the mine register (附件2 三, 四(一)2)."""
    field: str                       # area | method | minerals | scale
    changed_on: date
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class MineFacts:
    """What the register knows of one listed mine for the sweep."""
    mine_id: str
    licences: tuple[Licence, ...] = ()
    stopped_on: date | None = None             # production stopped since (None: producing)
    abnormal_listed_on: date | None = None     # on the 矿业权人勘查开采信息公示异常名录 since
    abnormal_removed_on: date | None = None    # taken off it
    utilisation_grades: Mapping[int, str] = field(default_factory=dict)   # year → 矿产资源开发利用水平
    changes: tuple[MajorChange, ...] = ()


@dataclass(frozen=True)
class Finding:
    key: str                  # raised once per key
    action: str               # warn | mark | propose_removal | request_re_evaluation
    situation: str | None     # the situation it cites ("remove.1"); None for a warning
    due_on: date              # the first day it is due
    reason: str               # for people (public once a mark or removal is announced)


def sweep(facts: MineFacts, today: date) -> list[Finding]:
    """The findings due on `today`, in a stable order, keys unique."""
    return [f for f in _candidates(facts) if f.due_on <= today]


def _candidates(facts: MineFacts) -> Iterator[Finding]:
    mine = facts.mine_id
    for licence in facts.licences:
        label = f"{LICENCE_LABELS.get(licence.kind, licence.kind)}（{licence.number}）"
        if licence.revoked_on is not None:
            revoked = f"{licence.kind}:{licence.number}:{licence.revoked_on.isoformat()}"
            yield Finding(f"{mine}:remove.1:revoked:{revoked}", PROPOSE_REMOVAL, "remove.1",
                          licence.revoked_on, f"{label}于{_day(licence.revoked_on)}被吊销")
        if licence.valid_to is None:
            continue
        expiry = f"{licence.kind}:{licence.number}:{licence.valid_to.isoformat()}"
        yield Finding(f"{mine}:licence-warning:{expiry}", WARN, None, licence.valid_to - timedelta(WARNING_DAYS),
                      f"{label}将于{_day(licence.valid_to)}到期，请及时办理延续")
        yield Finding(f"{mine}:remove.1:{expiry}", PROPOSE_REMOVAL, "remove.1", licence.valid_to + timedelta(1),
                      f"{label}已于{_day(licence.valid_to)}到期，未及时延续")
    if facts.stopped_on is not None:
        since = facts.stopped_on
        yield Finding(f"{mine}:mark.1:{since.isoformat()}", MARK, "mark.1", add_years(since, 1),
                      f"矿山自{_day(since)}停产，已满1年")
        yield Finding(f"{mine}:remove.3:{since.isoformat()}", PROPOSE_REMOVAL, "remove.3",
                      add_years(since, 3) + timedelta(1), f"矿山自{_day(since)}停产，已超过3年（停产原因须核实）")
    if facts.abnormal_listed_on is not None:
        listed, deadline = facts.abnormal_listed_on, add_months(facts.abnormal_listed_on, 6)
        removed = facts.abnormal_removed_on
        if removed is None or removed > deadline:
            yield Finding(f"{mine}:remove.9:{listed.isoformat()}", PROPOSE_REMOVAL, "remove.9",
                          deadline + timedelta(1),
                          f"采矿权人于{_day(listed)}被列入矿业权人勘查开采信息公示异常名录，未在6个月内（{_day(deadline)}前）移出")
    for year in sorted(facts.utilisation_grades):
        if facts.utilisation_grades[year] == BACKWARD and facts.utilisation_grades.get(year - 1) == BACKWARD:
            # Known once the year's grading is published: due from the first day after that year.
            yield Finding(f"{mine}:remove.10:{year}", PROPOSE_REMOVAL, "remove.10", date(year + 1, 1, 1),
                          f"矿产资源开发利用水平{year - 1}年、{year}年连续被划定为落后档次")
    for change in facts.changes:
        what = CHANGE_LABELS.get(change.field, change.field)
        detail = f"{what}于{_day(change.changed_on)}发生变更" + (
            f"（{change.before} → {change.after}）" if change.before or change.after else "")
        base = f"{change.field}:{change.changed_on.isoformat()}:{change.before}:{change.after}"
        yield Finding(f"{mine}:mark.2:{base}", MARK, "mark.2", change.changed_on, detail)
        yield Finding(f"{mine}:re-evaluation:{base}", RE_EVALUATE, "mark.2", change.changed_on,
                      detail + "，须组织实地核查，明确其是否符合绿色矿山标准")


def sweep_days(start: date, end: date, is_workday: Callable[[date], bool]) -> list[date]:
    """The days from `start` to `end` (inclusive) the sweep runs: the official calendar's working days."""
    return [start + timedelta(n) for n in range((end - start).days + 1) if is_workday(start + timedelta(n))]


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"
