"""Opinions (审核意见): a department's verdict on its task, per-indicator opinions and scores, the findings on
prerequisites and (lead task) on the seven initial-review checks, site-check records (检查记录) and comments.

An opinion is never edited. A newer opinion on the same task supersedes it (`supersedes` names the one it
replaces); both stay on record.

An opinion judges EVERY item of its task (an empty "同意" is not an opinion):

* every prerequisite: met or not (a note when unmet);
* every indicator: a `verdict` —
  - `agree` 认可自评: the enterprise's self-assessment stands (no score, no N/A); not for an item the enterprise
    declared 不涉及 (that needs `not_applicable` with its basis, or a score);
  - `score` 给分: a score 0 ≤ score ≤ points (2 decimals); a note (`opinion`) when it differs from the
    enterprise's claimed score;
  - `not_applicable` 确认不涉及: the basis (`reason`) is required; no score;
  - `problem` 有问题: the note (`opinion`) is required, a score may go with it; an opinion with a problem cannot
    be "同意";
* the lead task: the seven checks (all passed for "同意"), as before.

Only `score` (and `problem` with a score) and `not_applicable` carry an entry for the re-score
(`IndicatorOpinion.gives_entry`); `agree` keeps the self-assessment. Opinions recorded before verdicts existed
read theirs from what they carry (a score, an N/A judgement, or nothing: `agree`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from review_routing.domain.errors import FieldError, InvalidInput
from shared.decimals import plain

DECISIONS = {"agree": "同意", "return": "退回补正", "disagree": "不同意"}
VERDICTS = {"agree": "认可自评", "score": "给分", "not_applicable": "确认不涉及", "problem": "有问题"}
MAX_TEXT = 2000
MAX_COMMENTS = 5000
MAX_INSPECTORS = 20
MAX_PHOTOS = 30
MAX_SITE_CHECKS = 10
TWO_PLACES = Decimal("0.01")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class IndicatorOpinion:
    indicator: int
    opinion: str = ""
    score: Decimal | None = None
    not_applicable: bool = False
    reason: str = ""            # 不涉及项的判定依据和理由
    record: str = ""            # 检查记录
    verdict: str = ""           # agree | score | not_applicable | problem ("" → read from the rest)

    def __post_init__(self):
        if not self.verdict:
            object.__setattr__(self, "verdict", "not_applicable" if self.not_applicable else
                               "score" if self.score is not None else "agree")

    @property
    def verdict_label(self) -> str:
        return VERDICTS.get(self.verdict, "")

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"indicator": self.indicator, "verdict": self.verdict, "opinion": self.opinion}
        if self.score is not None:
            out["score"] = plain(self.score)
        if self.not_applicable:
            out["not_applicable"] = True
            out["reason"] = self.reason
        if self.record:
            out["record"] = self.record
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> IndicatorOpinion:
        return cls(indicator=int(d["indicator"]), opinion=d.get("opinion", ""),
                   score=Decimal(d["score"]) if d.get("score") is not None else None,
                   not_applicable=bool(d.get("not_applicable", False)), reason=d.get("reason", ""),
                   record=d.get("record", ""), verdict=d.get("verdict") or "")

    @property
    def gives_entry(self) -> bool:
        """Whether this opinion carries an assessment entry (a score or an N/A judgement)."""
        return self.score is not None or self.not_applicable


@dataclass(frozen=True)
class PrerequisiteFinding:
    prerequisite: str
    met: bool
    note: str = ""

    def to_dict(self) -> dict:
        return {"prerequisite": self.prerequisite, "met": self.met, "note": self.note}

    @classmethod
    def from_dict(cls, d: Mapping) -> PrerequisiteFinding:
        return cls(d["prerequisite"], bool(d["met"]), d.get("note", ""))


@dataclass(frozen=True)
class CheckFinding:
    check: str
    passed: bool
    note: str = ""

    def to_dict(self) -> dict:
        return {"check": self.check, "passed": self.passed, "note": self.note}

    @classmethod
    def from_dict(cls, d: Mapping) -> CheckFinding:
        return cls(d["check"], bool(d["passed"]), d.get("note", ""))


@dataclass(frozen=True)
class SiteCheck:
    """检查记录 of a site check: which staff went to which site on which day and what they saw (说明二(五))."""
    inspectors: tuple[str, ...]
    location: str
    checked_on: date
    observations: str
    photos: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"inspectors": list(self.inspectors), "location": self.location,
                "checked_on": self.checked_on.isoformat(), "observations": self.observations,
                "photos": list(self.photos)}

    @classmethod
    def from_dict(cls, d: Mapping) -> SiteCheck:
        return cls(tuple(d["inspectors"]), d["location"], date.fromisoformat(d["checked_on"]),
                   d["observations"], tuple(d.get("photos", ())))

    @property
    def summary(self) -> str:
        return f"{self.checked_on.isoformat()} {'、'.join(self.inspectors)}到{self.location}查看：{self.observations}"


@dataclass(frozen=True)
class Opinion:
    opinion_id: str
    sequence: int
    decision: str
    given_by: str
    given_by_name: str
    given_at: datetime
    indicators: tuple[IndicatorOpinion, ...] = ()
    prerequisites: tuple[PrerequisiteFinding, ...] = ()
    checks: tuple[CheckFinding, ...] = ()
    site_checks: tuple[SiteCheck, ...] = ()
    comments: str = ""
    supersedes: str | None = None

    @property
    def decision_label(self) -> str:
        return DECISIONS[self.decision]

    def indicator(self, no: int) -> IndicatorOpinion | None:
        return next((i for i in self.indicators if i.indicator == no), None)

    def prerequisite(self, code: str) -> PrerequisiteFinding | None:
        return next((p for p in self.prerequisites if p.prerequisite == code), None)

    @property
    def photos(self) -> tuple[str, ...]:
        return tuple(p for s in self.site_checks for p in s.photos)

    def to_dict(self) -> dict:
        return {"opinion_id": self.opinion_id, "sequence": self.sequence, "decision": self.decision,
                "given_by": self.given_by, "given_by_name": self.given_by_name,
                "given_at": self.given_at.isoformat(),
                "indicators": [i.to_dict() for i in self.indicators],
                "prerequisites": [p.to_dict() for p in self.prerequisites],
                "checks": [c.to_dict() for c in self.checks],
                "site_checks": [s.to_dict() for s in self.site_checks],
                "comments": self.comments, "supersedes": self.supersedes}

    @classmethod
    def from_dict(cls, d: Mapping) -> Opinion:
        return cls(opinion_id=d["opinion_id"], sequence=int(d["sequence"]), decision=d["decision"],
                   given_by=d["given_by"], given_by_name=d.get("given_by_name", d["given_by"]),
                   given_at=_datetime(d["given_at"]),
                   indicators=tuple(IndicatorOpinion.from_dict(i) for i in d.get("indicators", ())),
                   prerequisites=tuple(PrerequisiteFinding.from_dict(p) for p in d.get("prerequisites", ())),
                   checks=tuple(CheckFinding.from_dict(c) for c in d.get("checks", ())),
                   site_checks=tuple(SiteCheck.from_dict(s) for s in d.get("site_checks", ())),
                   comments=d.get("comments", ""), supersedes=d.get("supersedes"))


def _datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@dataclass
class _Errors:
    items: list[FieldError] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(FieldError(where, message))


def _check_score(value: Decimal, points: Decimal, where: str, errors: _Errors) -> Decimal | None:
    if value < 0:
        errors.add(where, "得分不能为负数")
    elif value > points:
        errors.add(where, f"得分不能超过该项标准分 {plain(points)} 分")
    elif value != value.quantize(TWO_PLACES):
        errors.add(where, "得分最多保留两位小数")
    else:
        return value
    return None


def _limited(value: str | None, where: str, label: str, limit: int, errors: _Errors, required: bool = False) -> str:
    text = _text(value)
    if required and not text:
        errors.add(where, f"请填写{label}")
    if len(text) > limit:
        errors.add(where, f"{label}不能超过 {limit} 字")
    return text


def _claimed_score(claim: Mapping | None) -> Decimal | None:
    """The score the enterprise claimed for an indicator (its self-assessment entry), when it states one."""
    if not claim or claim.get("not_applicable") or claim.get("score") is None:
        return None
    try:
        return Decimal(str(claim["score"]))
    except (ArithmeticError, ValueError):
        return None


def indicator_title(no: int, names: Mapping[int, str]) -> str:
    name = names.get(no)
    return f"第 {no} 项 {name}" if name else f"第 {no} 项"


def prerequisite_title(code: str, names: Mapping[str, str]) -> str:
    name = names.get(code)
    return f"先决条件 {code} {name}" if name else f"先决条件 {code}"


def parse_opinion(data: Mapping, *, indicator_points: Mapping[int, Decimal], prerequisites: Iterable[str],
                  checks: Iterable[str], lead: bool, photo_ids: Iterable[str], today: date, opinion_id: str,
                  sequence: int, given_by: str, given_by_name: str, given_at: datetime,
                  supersedes: str | None, claims: Mapping[str, Mapping] | None = None,
                  declared_not_applicable: Iterable[int] = (), indicator_names: Mapping[int, str] | None = None,
                  prerequisite_names: Mapping[str, str] | None = None) -> Opinion:
    """Check an opinion against its task and the rules; raises InvalidInput listing every problem.

    `data` has the shape of the opinion body with its values typed (the HTTP schema, `entrypoints/schemas.py`,
    owns the shape: known keys, JSON types, integers, exact decimals, dates). These are the rules: what the
    task covers, what must be said, what goes together. `claims` are the enterprise's self-assessment entries
    of the task's indicators (by indicator number as text), `declared_not_applicable` the indicators it declared
    不涉及; the names make the messages readable ("第 12 项 …：请给出判定")."""
    errors = _Errors()
    claims = claims or {}
    names = indicator_names or {}
    prerequisite_names = prerequisite_names or {}
    declared_na = set(declared_not_applicable)
    decision = data.get("decision")
    if decision not in DECISIONS:
        errors.add("decision", "审核结论应为同意、退回补正或不同意之一，请选择")
    comments = _limited(data.get("comments"), "comments", "审核意见说明", MAX_COMMENTS, errors)

    own_prerequisites, own_checks, available_photos = list(prerequisites), list(checks), set(photo_ids)
    indicators: list[IndicatorOpinion] = []
    seen: set[int] = set()
    for n, raw in enumerate(data.get("indicators") or ()):
        where = f"indicators[{n}]"
        no = raw.get("indicator")
        if no is None:
            errors.add(f"{where}.indicator", "应为指标编号（整数）")
            continue
        if no not in indicator_points:
            errors.add(f"{where}.indicator", f"第 {no} 项指标不在本部门的审核任务中")
            continue
        if no in seen:
            errors.add(f"{where}.indicator", f"第 {no} 项指标重复填写")
            continue
        seen.add(no)
        title = indicator_title(no, names)
        opinion = _limited(raw.get("opinion"), f"{where}.opinion", "意见", MAX_TEXT, errors)
        record = _limited(raw.get("record"), f"{where}.record", "检查记录", MAX_TEXT, errors)
        not_applicable = bool(raw.get("not_applicable", False))
        verdict = raw.get("verdict") or ("not_applicable" if not_applicable else
                                         "score" if raw.get("score") is not None else None)
        if verdict is None:
            errors.add(f"{where}.verdict", f"{title}：请给出判定")
            continue
        if verdict not in VERDICTS:
            errors.add(f"{where}.verdict", "判定应为 agree（认可自评）、score（给分）、not_applicable（确认不涉及）"
                                           "或 problem（有问题）")
            continue
        if not_applicable and verdict != "not_applicable":
            errors.add(f"{where}.not_applicable", f"{title}：判定为“{VERDICTS[verdict]}”时不能同时判定为不涉及")
        not_applicable = verdict == "not_applicable"
        reason = _limited(raw.get("reason"), f"{where}.reason", "不涉及的判定依据和理由", MAX_TEXT, errors,
                          required=not_applicable)
        if reason and not not_applicable:
            errors.add(f"{where}.reason", "只有判定为不涉及项时才填写判定依据")
        score = None
        if raw.get("score") is not None:
            if not_applicable:
                errors.add(f"{where}.score", "判定为不涉及项的指标不能同时给分")
            elif verdict == "agree":
                errors.add(f"{where}.score", f"{title}：认可自评时不另给分；给分请选择“给分”")
            else:
                score = _check_score(raw["score"], indicator_points[no], f"{where}.score", errors)
        elif verdict == "score":
            errors.add(f"{where}.score", f"{title}：请填写得分")
        if verdict == "agree" and no in declared_na:
            errors.add(f"{where}.verdict", f"{title}：企业判定为不涉及，请确认不涉及并写明判定依据，或给分")
        if verdict == "problem" and not opinion:
            errors.add(f"{where}.opinion", f"{title}：请写明发现的问题")
        if verdict == "score" and score is not None and not opinion:
            claimed = _claimed_score(claims.get(str(no)))
            if claimed is None or claimed != score:
                claim_text = f"企业自评 {plain(claimed)} 分" if claimed is not None else "企业未自评该分数"
                errors.add(f"{where}.opinion", f"{title}：给分与企业自评不同（{claim_text}），请写明理由")
        indicators.append(IndicatorOpinion(no, opinion, score, not_applicable, reason if not_applicable else "",
                                           record, verdict))
    missing_indicators = [no for no in indicator_points if no not in seen]
    for no in sorted(missing_indicators):
        errors.add("indicators", f"{indicator_title(no, names)}：请给出判定")

    findings: list[PrerequisiteFinding] = []
    seen_prerequisites: set[str] = set()
    for n, raw in enumerate(data.get("prerequisites") or ()):
        where = f"prerequisites[{n}]"
        code = raw.get("prerequisite")
        if code not in own_prerequisites:
            errors.add(f"{where}.prerequisite", f"先决条件 {code} 不在本部门的审核任务中")
            continue
        if code in seen_prerequisites:
            errors.add(f"{where}.prerequisite", f"先决条件 {code} 重复填写")
            continue
        seen_prerequisites.add(code)
        if raw.get("met") is None:
            errors.add(f"{where}.met", f"{prerequisite_title(code, prerequisite_names)}：请判定是否满足")
            continue
        note = _limited(raw.get("note"), f"{where}.note", "说明", MAX_TEXT, errors, required=not raw["met"])
        findings.append(PrerequisiteFinding(code, raw["met"], note))
    for code in own_prerequisites:
        if code not in seen_prerequisites:
            errors.add("prerequisites", f"{prerequisite_title(code, prerequisite_names)}：请判定是否满足")

    check_findings: list[CheckFinding] = []
    raw_checks = list(data.get("checks") or ())
    if raw_checks and not lead:
        errors.add("checks", "初审七项内容由牵头的盟市自然资源局填写")
        raw_checks = []
    for n, raw in enumerate(raw_checks):
        where = f"checks[{n}]"
        code = raw.get("check")
        if code not in own_checks:
            errors.add(f"{where}.check", f"没有初审内容 {code}")
            continue
        if any(c.check == code for c in check_findings):
            errors.add(f"{where}.check", f"初审内容 {code} 重复填写")
            continue
        if raw.get("passed") is None:
            errors.add(f"{where}.passed", "请选择是否通过")
            continue
        note = _limited(raw.get("note"), f"{where}.note", "说明", MAX_TEXT, errors, required=not raw["passed"])
        check_findings.append(CheckFinding(code, raw["passed"], note))

    site_checks: list[SiteCheck] = []
    raw_sites = list(data.get("site_checks") or ())
    if len(raw_sites) > MAX_SITE_CHECKS:
        errors.add("site_checks", f"一次最多填写 {MAX_SITE_CHECKS} 条现场检查记录")
    used_photos: set[str] = set()
    for n, raw in enumerate(raw_sites[:MAX_SITE_CHECKS]):
        where = f"site_checks[{n}]"
        inspectors_raw = raw.get("inspectors") or ()
        if isinstance(inspectors_raw, str):          # typed as one line: 张工、李工
            inspectors_raw = re.split(r"[、,，;；\s]+", inspectors_raw)
        inspectors = tuple(_text(p) for p in inspectors_raw if _text(p))
        if not inspectors:
            errors.add(f"{where}.inspectors", "请填写参加现场检查的工作人员")
        elif len(inspectors) > MAX_INSPECTORS or any(len(p) > 50 for p in inspectors):
            errors.add(f"{where}.inspectors", f"工作人员最多 {MAX_INSPECTORS} 人，每个姓名不超过 50 字")
        location = _limited(raw.get("location"), f"{where}.location", "检查地点（现场）", 200, errors, required=True)
        observations = _limited(raw.get("observations"), f"{where}.observations", "查看的内容和发现", MAX_TEXT,
                                errors, required=True)
        checked_on = raw.get("checked_on")
        if checked_on is None:
            errors.add(f"{where}.checked_on", "检查日期格式应为 YYYY-MM-DD")
        elif checked_on > today:
            errors.add(f"{where}.checked_on", "检查日期不能晚于今天")
        photos = list(raw.get("photos") or ())
        if len(photos) > MAX_PHOTOS:
            errors.add(f"{where}.photos", f"每条记录最多 {MAX_PHOTOS} 张照片")
        for photo in photos:
            if photo not in available_photos:
                errors.add(f"{where}.photos", f"照片 {photo} 不是本任务上传的现场照片")
            elif photo in used_photos:
                errors.add(f"{where}.photos", f"照片 {photo} 重复引用")
            used_photos.add(photo)
        if checked_on is not None:
            site_checks.append(SiteCheck(inspectors, location, checked_on, observations, tuple(photos)))
    if decision == "agree":
        for finding in findings:
            if not finding.met:
                errors.add("decision", f"先决条件 {finding.prerequisite} 判定为不满足，审核结论不能为“同意”")
        for finding in check_findings:
            if not finding.passed:
                errors.add("decision", f"初审内容 {finding.check} 未通过，审核结论不能为“同意”")
        for item in indicators:
            if item.verdict == "problem":
                errors.add("decision", f"{indicator_title(item.indicator, names)}判定为有问题，审核结论不能为“同意”")
        if lead:
            missing = [c for c in own_checks if c not in {f.check for f in check_findings}]
            if missing:
                errors.add("checks", f"牵头审核结论为“同意”时，须逐项填写初审内容：缺少 {'、'.join(missing)}")
    elif decision in ("return", "disagree"):
        said = comments or any(i.opinion for i in indicators) or any(
            f.note for f in (*findings, *check_findings))
        if not said:
            errors.add("comments", f"审核结论为“{DECISIONS[decision]}”时，请写明理由（总体意见或逐项意见）")

    if errors.items:
        raise InvalidInput("审核意见有误，请按提示修改", errors.items)
    return Opinion(opinion_id=opinion_id, sequence=sequence, decision=decision, given_by=given_by,
                   given_by_name=given_by_name, given_at=given_at, indicators=tuple(indicators),
                   prerequisites=tuple(findings), checks=tuple(check_findings), site_checks=tuple(site_checks),
                   comments=comments, supersedes=supersedes)
