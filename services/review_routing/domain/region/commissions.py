"""`Commission` (委托): the region office commissions a third-party evaluation institution for one forwarded case.

    awaiting_acceptance ──accept (both pledges signed, by the due date)──► accepted
            │ decline (reason; a conflict of interest is learnt by the register)
            ├──────────────────────────────────────────────────────────────► declined
            │ not accepted by the due date (the sweep)
            └──────────────────────────────────────────────────────────────► expired
    accepted ──decline (recusal: a conflict discovered before the report)──► declined

* The institution is proposed by a published draw (`DrawRecord`, purpose "institutions") among the eligible ones;
  the office may choose another eligible institution than the draw's first only with a reason, which is recorded.
* Acceptance (正文 二(四)): within `DeadlinePolicy.accept_days` working days, the institution signs both pledges —
  the truthfulness pledge (签署真实性承诺) and the pledge to charge the mine nothing (严禁向矿山企业收取评估费用) —
  in the words of `contracts/vocabularies/pledges.yaml` filled for this commission. Stored: the signer (name, title,
  account), the server's time, the texts' version, the exact text signed and its SHA-256.
* A replayed acceptance changes nothing (the handler answers with the acceptance already stored).
Pure: no I/O beyond reading the pledge vocabulary once.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import yaml

from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition
from review_routing.domain.task import _dt
from shared.config import contracts_path
from shared.workdays import DeadlinePolicy, WorkingCalendar, beijing_date

STATUSES = {
    "awaiting_acceptance": "待评估机构接受",
    "accepted": "已接受（评估中）",
    "declined": "评估机构已拒绝或回避",
    "expired": "逾期未接受",
}
OPEN = ("awaiting_acceptance", "accepted")
MAX_TEXT = 1000
MAX_NAME = 50
ENDED_LABELS = {"declined": "评估机构拒绝委托", "expired": "逾期未接受委托"}


# -- the pledges ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pledge:
    code: str
    title: str
    template: str

    def text_for(self, facts: Mapping[str, str]) -> str:
        return self.template.format(**{k: facts.get(k) or "" for k in ("institution", "enterprise", "mine",
                                                                           "case_no")})


@dataclass(frozen=True)
class PledgeSet:
    version: str
    source: str
    pledges: tuple[Pledge, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.pledges)

    def texts_for(self, facts: Mapping[str, str]) -> list[dict]:
        """The texts to sign for one commission: {code, title, version, text, sha256}."""
        return [{"code": p.code, "title": p.title, "version": self.version, "text": (text := p.text_for(facts)),
                 "sha256": sha256(text)} for p in self.pledges]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_pledges(data: Mapping) -> PledgeSet:
    return PledgeSet(version=str(data["version"]), source=str(data.get("source") or ""),
                     pledges=tuple(Pledge(str(p["code"]), str(p["title"]), str(p["text"]))
                                   for p in data["pledges"]))


@cache
def load_pledges() -> PledgeSet:
    """The pledge texts in force (`contracts/vocabularies/pledges.yaml`)."""
    return parse_pledges(yaml.safe_load(contracts_path("vocabularies", "pledges.yaml").read_text(encoding="utf-8")))


# -- the commission ------------------------------------------------------------------------------------------------
@dataclass
class Commission:
    commission_id: str
    review_id: str
    application_id: str
    version_no: int
    league: str
    case_no: str | None
    enterprise: Mapping[str, Any]            # {id, name, credit_code}
    mine: Mapping[str, Any]                  # {mine_id, name}
    institution: Mapping[str, Any]           # {id, name}
    draw_id: str
    proposed_institution: Mapping[str, Any]  # the draw's first {id, name}
    choice_reason: str | None                # why another than the draw's first (None: the first was chosen)
    note: str
    commissioned_at: datetime
    commissioned_by: str
    commissioned_by_name: str
    due_date: date                           # accept by (inclusive), working days from the commissioning day
    status: str = "awaiting_acceptance"
    acceptance: Mapping[str, Any] | None = None   # {signer_name, signer_title, signed_by, signed_at,
    #                                               pledges: [{code, title, version, text, sha256}]}
    ended: Mapping[str, Any] | None = None        # {outcome, reason, conflict, at, by, by_name}
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    # -- identity ---------------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.commission_id

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def is_overdue(self, today: date) -> bool:
        return self.status == "awaiting_acceptance" and today > self.due_date

    def facts(self) -> dict:
        """What fills the pledge texts."""
        return {"institution": self.institution.get("name") or "", "enterprise": self.enterprise.get("name") or "",
                "mine": self.mine.get("name") or "", "case_no": self.case_no or self.application_id}

    # -- commissioning ------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, *, review, institution: Mapping, draw, reason: str | None, note: str | None, by: str,
               by_name: str, at: datetime, calendar: WorkingCalendar, policy: DeadlinePolicy) -> Commission:
        """A commission of `institution` ({id, name}) for `review` (a RegionReview awaiting commission), chosen
        from `draw` (a DrawRecord of purpose "institutions" covering the case). The caller has checked that the
        institution is eligible today."""
        errors: list[FieldError] = []
        if draw.purpose != "institutions":
            errors.append(FieldError("draw_id", "该抽取记录不是评估机构抽取"))
        elif review.id not in (draw.context.get("review_ids") or ()):
            errors.append(FieldError("draw_id",
                                     f"该抽取记录不包括案件 {review.case_no or review.id}，请为该案件重新抽取"))
        elif institution["id"] not in draw.population:
            errors.append(FieldError("institution_id", "该机构不在本次抽取的符合条件机构范围内"))
        first = draw.selected[0] if draw.selected else None
        clean_reason = _text(reason, "reason", "选择理由", MAX_TEXT, errors)
        if first is not None and institution["id"] != first and not clean_reason:
            errors.append(FieldError("reason", "选择抽取结果第一位以外的评估机构，须说明理由"))
        clean_note = _text(note, "note", "委托说明", MAX_TEXT, errors)
        if errors:
            raise InvalidInput("委托信息有误，请按提示修改", errors)
        if review.status != "awaiting_commission":
            raise InvalidTransition(f"案件 {review.case_no or review.id} 当前为“{review.status_label}”，不能委托")
        day = beijing_date(at)
        commission = cls(
            commission_id=new_commission_id(), review_id=review.id, application_id=review.application_id,
            version_no=review.version_no, league=review.league, case_no=review.case_no,
            enterprise={"id": review.enterprise.get("id"), "name": review.enterprise.get("name") or "",
                        "credit_code": review.enterprise.get("credit_code")},
            mine={"mine_id": review.mine.get("mine_id"), "name": review.mine.get("name") or ""},
            institution={"id": institution["id"], "name": institution["name"]}, draw_id=draw.draw_id,
            proposed_institution={"id": first, "name": (draw.labels or {}).get(first, first)} if first else {},
            choice_reason=clean_reason if first is not None and institution["id"] != first else None,
            note=clean_note, commissioned_at=at, commissioned_by=by, commissioned_by_name=by_name,
            due_date=calendar.add_working_days(day, policy.accept_days))
        text = f"委托{institution['name']}开展第三方评估，接受期限 {commission.due_date.isoformat()}"
        if commission.choice_reason:
            text += f"（未选抽取结果第一位，理由：{commission.choice_reason}）"
        commission._log(at, "commissioned", by, text, by_name)
        return commission

    # -- acceptance ---------------------------------------------------------------------------------------------
    def accept(self, *, pledges: Iterable[Mapping], signer_name: str, signer_title: str, by: str, at: datetime,
               pledge_set: PledgeSet, by_name: str = "") -> dict:
        """Sign both pledges and accept (by the due date). Returns the acceptance stored."""
        if self.status != "awaiting_acceptance":
            raise InvalidTransition(f"该委托当前为“{self.status_label}”，不能接受")
        if beijing_date(at) > self.due_date:
            raise InvalidTransition(f"已超过接受委托的期限（{self.due_date.isoformat()}），不能再接受")
        errors: list[FieldError] = []
        given = list(pledges or [])
        by_code: dict[str, Mapping] = {}
        for i, item in enumerate(given):
            code = str((item or {}).get("code") or "")
            if code not in pledge_set.codes:
                errors.append(FieldError(f"pledges[{i}].code", "没有这项承诺"))
            elif code in by_code:
                errors.append(FieldError(f"pledges[{i}].code", "同一承诺重复提交"))
            else:
                by_code[code] = item
        for p in pledge_set.pledges:
            item = by_code.get(p.code)
            if item is None or item.get("accepted") is not True:
                errors.append(FieldError(f"pledges.{p.code}", f"须阅读并签署“{p.title}”"))
        name = _text(signer_name, "signer_name", "签署人姓名", MAX_NAME, errors, required=True)
        title = _text(signer_title, "signer_title", "签署人职务", MAX_NAME, errors, required=True)
        if errors:
            raise InvalidInput("接受委托须签署两项承诺并填写签署人", errors)
        signed = pledge_set.texts_for(self.facts())
        self.acceptance = {"signer_name": name, "signer_title": title, "signed_by": by, "signed_at": at.isoformat(),
                           "pledges": signed}
        self.status = "accepted"
        self._log(at, "accepted", by, f"{name}（{title}）代表{self.institution['name']}接受委托，签署"
                                      + "、".join(f"“{p['title']}”" for p in signed), by_name or name)
        return dict(self.acceptance)

    # -- the end of a commission ---------------------------------------------------------------------------------
    def decline(self, *, reason: str, conflict: bool, by: str, by_name: str, at: datetime) -> None:
        """The institution declines, or recuses itself (a conflict of interest discovered), before its report."""
        if self.status not in OPEN:
            raise InvalidTransition(f"该委托当前为“{self.status_label}”，不能拒绝或回避")
        errors: list[FieldError] = []
        clean = _text(reason, "reason", "拒绝或回避的理由", MAX_TEXT, errors, required=True)
        if errors:
            raise InvalidInput("请说明拒绝或回避的理由", errors)
        self._end("declined", clean, bool(conflict), by, by_name, at)
        kind = "申报利益冲突并回避" if conflict else "拒绝委托"
        self._log(at, "declined", by, f"{self.institution['name']}{kind}：{clean}", by_name)

    def expire(self, today: date, at: datetime) -> bool:
        """Not accepted by the due date: the commission lapses (True once)."""
        if not self.is_overdue(today):
            return False
        reason = f"未在期限（{self.due_date.isoformat()}）内接受委托"
        self._end("expired", reason, False, "system", "系统", at)
        self._log(at, "expired", "system", reason, "系统")
        return True

    def _end(self, outcome: str, reason: str, conflict: bool, by: str, by_name: str, at: datetime) -> None:
        self.status = outcome
        self.ended = {"outcome": outcome, "reason": reason, "conflict": conflict, "at": at.isoformat(), "by": by,
                      "by_name": by_name}

    # -- internals ----------------------------------------------------------------------------------------------
    def _log(self, at: datetime, action: str, by: str, text: str, by_name: str = "") -> None:
        self.history.append({"at": at.isoformat(), "action": action, "by": by, "by_name": by_name or by,
                             "text": text})

    # -- persistence --------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "_id": self.commission_id, "review_id": self.review_id, "application_id": self.application_id,
            "version_no": self.version_no, "league": self.league, "case_no": self.case_no,
            "enterprise": dict(self.enterprise), "mine": dict(self.mine), "institution": dict(self.institution),
            "draw_id": self.draw_id, "proposed_institution": dict(self.proposed_institution),
            "choice_reason": self.choice_reason, "note": self.note, "commissioned_at": self.commissioned_at,
            "commissioned_by": self.commissioned_by, "commissioned_by_name": self.commissioned_by_name,
            "due_date": self.due_date.isoformat(), "status": self.status,
            "acceptance": dict(self.acceptance) if self.acceptance else None,
            "ended": dict(self.ended) if self.ended else None, "history": list(self.history),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Commission:
        return cls(
            commission_id=d["_id"], review_id=d["review_id"], application_id=d["application_id"],
            version_no=d["version_no"], league=d.get("league", ""), case_no=d.get("case_no"),
            enterprise=d.get("enterprise") or {}, mine=d.get("mine") or {}, institution=d["institution"],
            draw_id=d.get("draw_id", ""), proposed_institution=d.get("proposed_institution") or {},
            choice_reason=d.get("choice_reason"), note=d.get("note") or "",
            commissioned_at=_dt(d["commissioned_at"]), commissioned_by=d.get("commissioned_by", ""),
            commissioned_by_name=d.get("commissioned_by_name", ""), due_date=date.fromisoformat(d["due_date"]),
            status=d["status"], acceptance=d.get("acceptance"), ended=d.get("ended"),
            history=list(d.get("history") or []), version=d.get("version"))


def new_commission_id() -> str:
    return "com-" + uuid.uuid4().hex[:12]


def _text(value, field_name: str, label: str, limit: int, errors: list[FieldError], *,
          required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.append(FieldError(field_name, f"请填写{label}"))
    elif len(text) > limit:
        errors.append(FieldError(field_name, f"{label}最多{limit}字"))
    return text
