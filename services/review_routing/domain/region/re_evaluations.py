"""`ReEvaluation`: a listed green mine whose 矿区范围, 开采方式, 开采矿种 or 开采规模 changed, to be checked on site
by the region stage (附件2 三: "组织实地核查，明确其是否符合绿色矿山标准").

Opened from supervision's `supervision.re_evaluation_requested` (one per request id: a replay, or the same request
under another event id, opens nothing new), due `RE_EVALUATION_DAYS` working days after the day it was opened
(official calendar, Beijing date). The region office records the outcome once: the mine still meets the standard,
or it does not (with the reason), and the date of the on-site check. Recording the same outcome again answers the
stored one; a different outcome once concluded is refused. Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from review_routing.domain.errors import Conflict, FieldError, InvalidInput
from review_routing.domain.task import _dt
from shared import text as texts

#: The notice gives no length for the re-evaluation; as the on-site evaluation of a first listing: four weeks.
RE_EVALUATION_DAYS = 20
FIELDS = {"area": "矿区范围", "method": "开采方式", "minerals": "开采矿种", "scale": "开采规模"}
STATUSES = {"open": "待实地核查", "concluded": "已核查"}
RESULTS = {"meets": "仍符合绿色矿山标准", "fails": "不符合绿色矿山标准"}
MAX_REASON = 2000


def _day(value) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass
class ReEvaluation:
    request_id: str
    mine_id: str
    mine_name: str
    enterprise: Mapping[str, Any]
    league: str
    county: str | None
    changes: tuple[Mapping[str, str], ...]
    requested_on: date
    reason: str
    listed_announcement_no: str | None
    opened_at: datetime
    due_date: date
    status: str = "open"
    outcome: Mapping[str, Any] | None = None
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @property
    def id(self) -> str:
        return self.request_id

    # -- opening ---------------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, payload: Mapping[str, Any], *, at: datetime, today: date, calendar) -> ReEvaluation:
        """From the request's payload (`supervision.re_evaluation_requested` v1), due in working days from today."""
        changes = tuple({"field": c["field"], "label": FIELDS.get(c["field"], c["field"]),
                         "changed_on": c["changed_on"], "before": c["before"], "after": c["after"]}
                        for c in payload["changes"])
        enterprise = payload.get("enterprise") or {}
        return cls(request_id=payload["request_id"], mine_id=payload["mine_id"], mine_name=payload["mine_name"],
                   enterprise={"name": enterprise.get("name"), "credit_code": enterprise.get("credit_code")},
                   league=payload["league"], county=payload.get("county"), changes=changes,
                   requested_on=_day(payload["requested_on"]), reason=payload["reason"],
                   listed_announcement_no=payload.get("listed_announcement_no"), opened_at=at,
                   due_date=calendar.add_working_days(today, RE_EVALUATION_DAYS),
                   history=[{"at": at, "by": "supervision", "by_name": "系统（动态监管）", "action": "opened",
                             "text": payload["reason"]}])

    # -- the outcome -----------------------------------------------------------------------------------------------
    def overdue(self, today: date) -> bool:
        return self.status == "open" and today > self.due_date

    def record_outcome(self, *, result: str, reason: str | None, checked_on, by: str, by_name: str, at: datetime,
                       today: date) -> bool:
        """Record the on-site check's outcome; False when exactly this outcome is already recorded."""
        result, reason, checked = self._checked(result, reason, checked_on, today)
        if self.status == "concluded":
            same = self.outcome["result"] == result and self.outcome["checked_on"] == checked.isoformat() and (
                self.outcome.get("reason") or "") == (reason or "")
            if same:
                return False
            raise Conflict(f"该复核评估已于 {self.outcome['checked_on']} 记录核查结论"
                           f"（{RESULTS[self.outcome['result']]}），不能更改")
        self.status = "concluded"
        self.outcome = {"result": result, "result_label": RESULTS[result], "reason": reason,
                        "checked_on": checked.isoformat(), "recorded_by": by, "recorded_by_name": by_name,
                        "recorded_at": at}
        self.history.append({"at": at, "by": by, "by_name": by_name, "action": "concluded",
                             "text": RESULTS[result] + (f"：{reason}" if reason else "")})
        return True

    def _checked(self, result, reason, checked_on, today: date) -> tuple[str, str | None, date]:
        errors = []
        if result not in RESULTS:
            errors.append(FieldError("result", "核查结论：应为 meets（仍符合绿色矿山标准）"
                                               "或 fails（不符合绿色矿山标准）"))
        text = " ".join(texts.normalize(reason).split()) if isinstance(reason, str) else ""
        unsafe = texts.problem(text) if text else None
        if unsafe:
            errors.append(FieldError("reason", f"理由：{unsafe}"))
        elif result == "fails" and not text:
            errors.append(FieldError("reason", "不符合的理由：核查结论为“不符合绿色矿山标准”时须写明理由"))
        elif len(text) > MAX_REASON:
            errors.append(FieldError("reason", f"理由：过长（最多{MAX_REASON}个字，当前{len(text)}个）"))
        checked = None
        try:
            checked = _day(checked_on) if checked_on not in (None, "") else None
        except ValueError:
            errors.append(FieldError("checked_on", f"实地核查日期：“{checked_on}”不是有效日期（如 2026-09-15）"))
        else:
            if checked is None:
                errors.append(FieldError("checked_on", "实地核查日期：请填写实地核查的日期"))
            elif checked > today:
                errors.append(FieldError("checked_on", f"实地核查日期：{checked.isoformat()} 晚于今天"))
            elif checked < self.requested_on:
                errors.append(FieldError("checked_on", f"实地核查日期：{checked.isoformat()} 早于复核请求日期 "
                                                       f"{self.requested_on.isoformat()}"))
        if errors:
            raise InvalidInput("核查结论有误，请按提示修改", errors)
        return result, text or None, checked

    # -- storage ---------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"_id": self.request_id, "mine_id": self.mine_id, "mine_name": self.mine_name,
                "enterprise": dict(self.enterprise), "league": self.league, "county": self.county,
                "changes": [dict(c) for c in self.changes], "requested_on": self.requested_on.isoformat(),
                "reason": self.reason, "listed_announcement_no": self.listed_announcement_no,
                "opened_at": self.opened_at, "due_date": self.due_date.isoformat(), "status": self.status,
                "outcome": None if self.outcome is None else dict(self.outcome),
                "history": [dict(h) for h in self.history]}

    @classmethod
    def from_dict(cls, d: Mapping) -> ReEvaluation:
        outcome = d.get("outcome")
        if outcome is not None:
            outcome = {**outcome, "recorded_at": _dt(outcome["recorded_at"])}
        return cls(request_id=d["_id"], mine_id=d["mine_id"], mine_name=d["mine_name"],
                   enterprise=dict(d.get("enterprise") or {}), league=d["league"], county=d.get("county"),
                   changes=tuple(dict(c) for c in d.get("changes") or ()), requested_on=_day(d["requested_on"]),
                   reason=d["reason"], listed_announcement_no=d.get("listed_announcement_no"),
                   opened_at=_dt(d["opened_at"]), due_date=_day(d["due_date"]), status=d.get("status", "open"),
                   outcome=outcome, history=[{**h, "at": _dt(h["at"])} for h in d.get("history") or ()],
                   version=d.get("version"))
