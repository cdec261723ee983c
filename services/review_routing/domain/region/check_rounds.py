"""`CheckRound`: one round of 资料核查 (document check with the departments concerned) and 按比例实地抽查 (spot
checks on site of a proportion of the evaluated mines), opened by the region office over evaluated cases.

    open ──draw the cases (public draw)──► each case: every department part recorded,
         ──draw the inspectors per department (public draw, after recusals)      and, if drawn, its spot check
    a case is finished once the cases were drawn, each of its parts is recorded and (if drawn) its spot check is in;
    the round is finished when every case is.

* A part per department of the case (the departments the initial review routed the case version to): passed, or a
  problem with its note. The case's document check passes when every part passed.
* The spot check is a scored assessment (scoring, stage `spot_check`) compared with the evaluator's: it contradicts
  the evaluation when the verdict changes (达标 ↔ 不达标), or the total differs by more than the round's threshold
  (points), or (when both are known) one indicator's score does. A contradiction flags the case and puts the
  institution's evaluation under review.
Pure: no I/O.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from review_routing.domain.access import Actor
from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition
from review_routing.domain.task import _dt

PART_STATUSES = {"pending": "待核查", "passed": "通过", "problem": "有问题"}
ROUND_STATUSES = {"open": "核查进行中", "finished": "核查完毕"}
VERDICT_LABELS = {"qualified": "达标", "not_qualified": "不达标", "ineligible": "不具备评价条件"}
DEFAULT_THRESHOLD = Decimal("5")
MAX_THRESHOLD = Decimal("100")
MAX_CASES = 500
MAX_NOTE = 2000
MAX_TITLE = 200


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def parse_ratio(value) -> Decimal:
    ratio = _decimal(value)
    if ratio is None or not (Decimal(0) < ratio <= Decimal(1)):
        raise InvalidInput("抽查比例有误", [FieldError("ratio", "抽查比例应大于 0 且不超过 1（如 0.3 表示 30%）")])
    return ratio


def parse_threshold(value) -> Decimal:
    if value is None or value == "":
        return DEFAULT_THRESHOLD
    threshold = _decimal(value)
    if threshold is None or not (Decimal(0) <= threshold <= MAX_THRESHOLD):
        raise InvalidInput("分差阈值有误", [FieldError("threshold", f"分差阈值应为 0 至 {MAX_THRESHOLD} 分")])
    return threshold


def verdict_label(verdict: str | None) -> str:
    return VERDICT_LABELS.get(verdict or "", "未知")


def contradiction(evaluation: Mapping, spot: Mapping, threshold: Decimal,
                  evaluator_indicators: Mapping | None = None, spot_indicators: Mapping | None = None) -> str | None:
    """Why the spot check contradicts the evaluator (None when it does not). `evaluation`/`spot`: {total, verdict};
    the indicator maps (indicator no → score), when both are known, are compared one by one as well."""
    reasons = []
    if (evaluation.get("verdict") == "qualified") != (spot.get("verdict") == "qualified"):
        reasons.append(f"评估结论为{verdict_label(evaluation.get('verdict'))}，抽查结论为{verdict_label(spot.get('verdict'))}")
    ev_total, spot_total = _decimal(evaluation.get("total")), _decimal(spot.get("total"))
    if ev_total is not None and spot_total is not None and abs(ev_total - spot_total) > threshold:
        reasons.append(f"总分相差 {abs(ev_total - spot_total)} 分（评估 {ev_total} 分，抽查 {spot_total} 分，"
                       f"阈值 {threshold} 分）")
    if evaluator_indicators and spot_indicators:
        gaps = []
        for no in sorted({str(k) for k in evaluator_indicators} & {str(k) for k in spot_indicators}, key=_no_key):
            a = _decimal(_score_of(evaluator_indicators.get(no, evaluator_indicators.get(_int(no)))))
            b = _decimal(_score_of(spot_indicators.get(no, spot_indicators.get(_int(no)))))
            if a is not None and b is not None and abs(a - b) > threshold:
                gaps.append(f"第{no}项相差 {abs(a - b)} 分")
        if gaps:
            reasons.append("单项" + "、".join(gaps[:10]) + ("等" if len(gaps) > 10 else ""))
    return "实地抽查与评估结论不一致：" + "；".join(reasons) if reasons else None


def _score_of(value):
    return value.get("score") if isinstance(value, Mapping) else value


def _int(text: str):
    try:
        return int(text)
    except ValueError:
        return text


def _no_key(text: str):
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


@dataclass
class CheckRound:
    round_id: str
    title: str
    ratio: str
    threshold: str
    opened_at: datetime
    opened_by: str
    opened_by_name: str
    cases: list[dict]                    # in the order listed (the draw's population order)
    status: str = "open"
    case_draw_id: str | None = None
    drawn: tuple[str, ...] | None = None             # the review ids drawn for a spot check (None: not drawn yet)
    inspector_draws: dict[str, str] = field(default_factory=dict)        # department → draw id
    inspectors: dict[str, list[dict]] = field(default_factory=dict)      # department → [{username, name}]
    under_review: list[dict] = field(default_factory=list)   # {review_id, institution_id, institution_name, text, at}
    department_names: dict[str, str] = field(default_factory=dict)      # code → Chinese name (for the texts)
    finished_at: datetime | None = None
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @property
    def id(self) -> str:
        return self.round_id

    @property
    def status_label(self) -> str:
        return ROUND_STATUSES[self.status]

    @property
    def review_ids(self) -> list[str]:
        return [c["review_id"] for c in self.cases]

    @property
    def departments(self) -> list[str]:
        """Every department with a part in the round, in first-seen order."""
        seen: list[str] = []
        for c in self.cases:
            for d in c["departments"]:
                if d not in seen:
                    seen.append(d)
        return seen

    def department_name(self, code: str) -> str:
        return self.department_names.get(code) or code

    def case(self, review_id: str) -> dict:
        for c in self.cases:
            if c["review_id"] == review_id:
                return c
        raise InvalidTransition(f"案件 {review_id} 不在核查批次 {self.round_id} 中")

    # -- opening --------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, *, reviews: Iterable, departments_of: Mapping[str, Iterable[str]], ratio, threshold,
             title: str | None, actor: Actor, at: datetime, round_id: str | None = None,
             department_names: Mapping[str, str] | None = None) -> CheckRound:
        """Open a round over evaluated RegionReviews (each moved to `in_check` by the caller with
        `check_started`). `departments_of`: review id → the departments with a part of its document check."""
        errors = []
        try:
            parsed_ratio = parse_ratio(ratio)
        except InvalidInput as e:
            errors += e.errors
            parsed_ratio = None
        try:
            parsed_threshold = parse_threshold(threshold)
        except InvalidInput as e:
            errors += e.errors
            parsed_threshold = None
        title = (title or "").strip()
        if len(title) > MAX_TITLE:
            errors.append(FieldError("title", f"批次名称最多 {MAX_TITLE} 字"))
        reviews = list(reviews)
        if not reviews:
            errors.append(FieldError("review_ids", "没有评估报告已提交、待核查的案件"))
        elif len(reviews) > MAX_CASES:
            errors.append(FieldError("review_ids", f"一个批次最多 {MAX_CASES} 件"))
        for r in reviews:
            if r.status != "evaluated":
                errors.append(FieldError("review_ids", f"案件 {r.case_no or r.id} 当前为“{r.status_label}”，"
                                                       "只有评估报告已提交、待核查的案件可以纳入核查批次"))
            elif not list(departments_of.get(r.id) or ()):
                errors.append(FieldError("review_ids",
                                         f"案件 {r.case_no or r.id} 没有初审的审核部门，无法分派资料核查"))
        if errors:
            raise InvalidInput("核查批次有误", errors)
        rid = round_id or f"chk-{uuid.uuid4().hex[:12]}"
        cases = []
        for r in reviews:
            departments = list(dict.fromkeys(departments_of[r.id]))
            ev = r.evaluation or {}
            cases.append({
                "review_id": r.id, "application_id": r.application_id, "version_no": r.version_no,
                "case_no": r.case_no, "league": r.league, "county": r.mine.get("county"),
                "mine_name": r.mine.get("name") or "", "enterprise_name": r.enterprise.get("name") or "",
                "enterprise_id": r.enterprise.get("id"), "catalog_id": r.catalog_id,
                "institution": dict(r.institution) if r.institution else None,
                "evaluation": {"evaluation_id": ev.get("evaluation_id"), "assessment_id": ev.get("assessment_id"),
                               "total": None if ev.get("total") is None else str(ev.get("total")),
                               "verdict": ev.get("verdict")},
                "departments": departments,
                "parts": {d: {"status": "pending", "note": None, "by": None, "by_name": None, "at": None}
                          for d in departments},
                "spot": None, "finished_at": None, "passed": None, "contradiction": None})
        rnd = cls(round_id=rid, title=title or f"资料核查与实地抽查批次（{len(cases)} 件）", ratio=str(parsed_ratio),
                  threshold=str(parsed_threshold), opened_at=at, opened_by=actor.username,
                  opened_by_name=actor.name, cases=cases, department_names=dict(department_names or {}))
        rnd._log(at, "opened", actor.username, f"开启核查批次：{len(cases)} 件，抽查比例 {parsed_ratio}，"
                                               f"分差阈值 {parsed_threshold} 分")
        return rnd

    # -- the draws ------------------------------------------------------------------------------------------
    def cases_drawn(self, draw_id: str, selected: Iterable[str], by: str, at: datetime) -> None:
        if self.case_draw_id is not None:
            raise InvalidTransition("本批次的实地抽查矿山已抽取，不能重新抽取")
        selected = tuple(selected)
        unknown = set(selected) - set(self.review_ids)
        if unknown:
            raise InvalidTransition(f"抽取结果含有不在本批次的案件：{'、'.join(sorted(unknown))}")
        self.case_draw_id = draw_id
        self.drawn = selected
        self._log(at, "cases_drawn", by,
                  f"公开抽取实地抽查矿山：{len(selected)} / {len(self.cases)} 件（抽取记录 {draw_id}）")

    def inspectors_drawn(self, department: str, draw_id: str, people: Iterable[Mapping], by: str,
                         at: datetime) -> None:
        if department not in self.departments:
            raise InvalidInput("部门有误", [FieldError("department", "本批次没有该部门的核查")])
        if department in self.inspector_draws:
            raise InvalidTransition("该部门的抽查人员已抽取，不能重新抽取")
        self.inspector_draws[department] = draw_id
        self.inspectors[department] = [{"username": p["username"], "name": p.get("name") or p["username"]}
                                       for p in people]
        self._log(at, "inspectors_drawn", by, f"公开抽取{self.department_name(department)}抽查人员 "
                                              f"{len(self.inspectors[department])} 名（抽取记录 {draw_id}）")

    def selected(self, review_id: str) -> bool:
        return self.drawn is not None and review_id in self.drawn

    # -- the document check ---------------------------------------------------------------------------------
    def record_part(self, review_id: str, department: str, passed: bool, note: str | None, actor: Actor,
                    at: datetime) -> bool:
        """Record (or, while the case is open, correct) one department's part; False when it is already so."""
        case = self.case(review_id)
        if department not in case["parts"]:
            raise InvalidInput("部门有误", [FieldError("department", "该案件的资料核查没有这个部门")])
        note = (note or "").strip() or None
        if not isinstance(passed, bool):
            raise InvalidInput("核查结论有误", [FieldError("passed", "请选择通过或有问题")])
        if not passed and not note:
            raise InvalidInput("请写明问题", [FieldError("note", "资料核查有问题的，须写明问题")])
        if note and len(note) > MAX_NOTE:
            raise InvalidInput("核查意见过长", [FieldError("note", f"核查意见最多 {MAX_NOTE} 字")])
        part = case["parts"][department]
        status = "passed" if passed else "problem"
        if part["status"] == status and part["note"] == note:
            return False
        if case["finished_at"]:
            raise InvalidTransition("该案件的核查已完成，不能再修改核查意见")
        part.update(status=status, note=note, by=actor.username, by_name=actor.name, at=at.isoformat())
        self._log(at, "part_recorded", actor.username,
                  f"{case['case_no'] or review_id}：{self.department_name(department)}资料核查{PART_STATUSES[status]}")
        return True

    # -- the spot check -------------------------------------------------------------------------------------
    def spot_check_allowed(self, review_id: str) -> None:
        case = self.case(review_id)
        if self.drawn is None:
            raise InvalidTransition("请先公开抽取实地抽查的矿山")
        if review_id not in self.drawn:
            raise InvalidTransition("该案件未被抽中实地抽查")
        if not self.inspector_draws:
            raise InvalidTransition("请先公开抽取抽查人员")
        if case["spot"] is not None:
            raise InvalidTransition("该案件的实地抽查结果已录入")

    def record_spot_check(self, review_id: str, *, assessment_id: str, total, verdict: str, note: str | None,
                          evaluator_indicators: Mapping | None, spot_indicators: Mapping | None, actor: Actor,
                          at: datetime) -> str | None:
        """Record the spot-check assessment of a drawn case; the contradiction's text (None if none)."""
        self.spot_check_allowed(review_id)
        case = self.case(review_id)
        text = contradiction(case["evaluation"], {"total": total, "verdict": verdict}, Decimal(self.threshold),
                             evaluator_indicators, spot_indicators)
        case["spot"] = {"assessment_id": assessment_id, "total": None if total is None else str(total),
                        "verdict": verdict, "note": (note or "").strip() or None, "contradiction": text,
                        "inspectors": [p for d in case["departments"] for p in self.inspectors.get(d, [])],
                        "by": actor.username, "by_name": actor.name, "at": at.isoformat()}
        case["contradiction"] = text
        self._log(at, "spot_checked", actor.username,
                  f"{case['case_no'] or review_id}：实地抽查得分 {total}（{verdict_label(verdict)}）"
                  + (f"；{text}" if text else ""))
        if text and case["institution"]:
            self.under_review.append({"review_id": review_id, "institution_id": case["institution"]["id"],
                                      "institution_name": case["institution"].get("name"), "text": text,
                                      "at": at.isoformat()})
        return text

    # -- finishing ------------------------------------------------------------------------------------------
    def ready(self, review_id: str) -> bool:
        case = self.case(review_id)
        return (not case["finished_at"] and self.drawn is not None
                and all(p["status"] != "pending" for p in case["parts"].values())
                and (review_id not in self.drawn or case["spot"] is not None))

    def finish_case(self, review_id: str, at: datetime) -> dict:
        """The case's check result (for `RegionReview.check_finished`); the round finishes with its last case."""
        if not self.ready(review_id):
            raise InvalidTransition("该案件的资料核查或实地抽查尚未完成")
        case = self.case(review_id)
        case["passed"] = all(p["status"] == "passed" for p in case["parts"].values())
        case["finished_at"] = at.isoformat()
        spot = case["spot"] or {}
        if all(c["finished_at"] for c in self.cases):
            self.status = "finished"
            self.finished_at = at
            self._log(at, "finished", "system", "本批次资料核查与实地抽查全部完成")
        return {"round_id": self.round_id, "passed": case["passed"], "spot_checked": review_id in (self.drawn or ()),
                "contradiction": case["contradiction"], "spot_assessment_id": spot.get("assessment_id"),
                "spot_total": spot.get("total"), "spot_verdict": spot.get("verdict"),
                "problems": [{"department": d, "note": p["note"]} for d, p in case["parts"].items()
                             if p["status"] == "problem"],
                "finished_at": at.isoformat()}

    # -- internals ------------------------------------------------------------------------------------------
    def _log(self, at: datetime, action: str, by: str, text: str) -> None:
        self.history.append({"at": at.isoformat(), "action": action, "by": by, "text": text})

    def to_dict(self) -> dict:
        return {"_id": self.round_id, "title": self.title, "ratio": self.ratio, "threshold": self.threshold,
                "opened_at": self.opened_at, "opened_by": self.opened_by, "opened_by_name": self.opened_by_name,
                "cases": [dict(c) for c in self.cases], "review_ids": self.review_ids,
                "departments": self.departments, "status": self.status, "case_draw_id": self.case_draw_id,
                "drawn": None if self.drawn is None else list(self.drawn),
                "inspector_draws": dict(self.inspector_draws),
                "inspectors": {d: list(p) for d, p in self.inspectors.items()},
                "under_review": list(self.under_review), "department_names": dict(self.department_names),
                "finished_at": self.finished_at,
                "history": list(self.history)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckRound:
        return cls(round_id=d["_id"], title=d.get("title", ""), ratio=d["ratio"], threshold=d["threshold"],
                   opened_at=_dt(d["opened_at"]), opened_by=d.get("opened_by", ""),
                   opened_by_name=d.get("opened_by_name", ""), cases=[dict(c) for c in d.get("cases") or []],
                   status=d.get("status", "open"), case_draw_id=d.get("case_draw_id"),
                   drawn=None if d.get("drawn") is None else tuple(d["drawn"]),
                   inspector_draws=dict(d.get("inspector_draws") or {}),
                   inspectors={k: list(v) for k, v in (d.get("inspectors") or {}).items()},
                   under_review=list(d.get("under_review") or []),
                   department_names=dict(d.get("department_names") or {}),
                   finished_at=_dt(d["finished_at"]) if d.get("finished_at") else None,
                   history=list(d.get("history") or []), version=d.get("version"))
