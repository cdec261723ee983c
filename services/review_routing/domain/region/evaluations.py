"""`Evaluation`: the commissioned institution's on-site evaluation of one case version (附件2 三: 第三方评估机构
现场评估), a draft until its report is submitted.

* One per accepted commission: id `<commission_id>.eval`.
* Per applicable indicator: the institution's score in the scoring contract's entry shape
  (contracts/scoring/assessment.v1.schema.json: `score` | `findings` | `deductions` | `items`, or
  `not_applicable` with its `reason`), and its 核查记录 (who: inspectors of the institution's staff; where; when:
  a date not in the future; what was seen). Images (JPEG/PNG, bytes in the file store) tied to an indicator or
  general. Per prerequisite (P1–P5): met or not, with a note (required when not met).
* A draft is saved piece by piece (the form saves as it goes): each piece given is checked as it comes; what the
  whole needs is checked at submission (`submission_problems`):
  - every applicable indicator and every prerequisite judged;
  - "评估机构给分须附核查记录": an entry that can score above 0 needs its 核查记录;
  - a binding (约束性) indicator judged 不涉及 needs its reason and its 核查记录 (the evaluator confirms it on site;
    the region decision then checks that the initial review confirmed it too, see `review.py`).
* Submission: refused (Conflict) with the reason when the institution is banned (`refusal`); the scoring
  service's record id, total and verdict are kept with the report.
Pure: no I/O.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from review_routing.domain.errors import Conflict, FieldError, InvalidInput, InvalidTransition, NotFound
from review_routing.domain.task import _dt
from shared import text as texts
from shared.decimals import plain

STATUSES = {"draft": "现场评估中（草稿）", "submitted": "评估报告已提交"}
ENTRY_KINDS = ("score", "findings", "deductions", "items")
ENTRY_FIELDS = (*ENTRY_KINDS, "not_applicable", "reason")
RECORD_FIELDS = ("inspectors", "location", "date", "observations")
MAX_TEXT = 2000
MAX_LOCATION = 200
MAX_INSPECTORS = 20
MAX_FINDINGS = 10_000
MAX_IMAGES = 200
MAX_CAPTION = 200
ITEM_KEY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
RECORD_NEEDED = "评估机构给分须附核查记录（核查人员、地点、日期、查看的内容）"


def evaluation_id(commission_id: str) -> str:
    return f"{commission_id}.eval"


def commission_of(eval_id: str) -> str:
    return eval_id[:-len(".eval")] if eval_id.endswith(".eval") else eval_id


def split_names(raw) -> list[str]:
    """Inspectors as a list, given as a list or as one text separated by 、，, ; or spaces."""
    if raw is None:
        return []
    if isinstance(raw, str):
        for sep in ("，", ",", "；", ";", " ", "\u3000"):
            raw = raw.replace(sep, "、")
        raw = raw.split("、")
    if not isinstance(raw, list | tuple):
        return [str(raw)]
    return [str(n).strip() for n in raw if str(n).strip()]


def record_text(record: Mapping) -> str:
    """The 核查记录 as one line, as it is written into the scoring contract's `record` (and the score sheet)."""
    return (f"核查人员：{'、'.join(record.get('inspectors') or [])}；核查地点：{record.get('location', '')}；"
            f"核查日期：{record.get('date', '')}；查看的内容：{record.get('observations', '')}")


def needs_record(entry: Mapping) -> bool:
    """Whether an entry can give the indicator a score above 0 (so it needs its 核查记录)."""
    if entry.get("not_applicable"):
        return False
    if "score" in entry:
        return Decimal(str(entry["score"])) > 0
    if "items" in entry:
        return any(bool(v) for v in (entry["items"] or {}).values())
    return True   # findings / deductions: what is left after the deductions is above 0 unless all is deducted


@dataclass
class Evaluation:
    commission_id: str
    review_id: str
    application_id: str
    version_no: int
    league: str
    catalog_id: str
    institution: Mapping[str, Any]                 # {id, name}
    applicable: tuple[int, ...]                    # the indicators of the mine's branch and mining method
    binding: tuple[int, ...]
    points: Mapping[str, str]                      # indicator no → standard points
    prerequisite_codes: tuple[str, ...]
    entries: dict[str, dict] = field(default_factory=dict)        # no → scoring entry
    records: dict[str, dict] = field(default_factory=dict)        # no → {inspectors, location, date, observations}
    prerequisites: dict[str, dict] = field(default_factory=dict)  # P1 → {met, note}
    images: list[dict] = field(default_factory=list)   # {image_id, indicator, caption, filename, content_type,
    #                                       size, sha256, file_id, uploaded_by, uploaded_by_name, uploaded_at}
    status: str = "draft"
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""
    submitted: Mapping[str, Any] | None = None     # {at, by, by_name, assessment_id, total, verdict, verdict_label}
    report: Mapping[str, Any] | None = None        # scoring's report of the submitted assessment
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    # -- identity -------------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return evaluation_id(self.commission_id)

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def is_draft(self) -> bool:
        return self.status == "draft"

    @property
    def not_applicable(self) -> list[int]:
        return sorted(int(no) for no, e in self.entries.items() if e.get("not_applicable"))

    @classmethod
    def start(cls, *, commission_id: str, review_id: str, application_id: str, version_no: int, league: str,
              catalog_id: str, institution: Mapping, applicable: Iterable[int], binding: Iterable[int],
              points: Mapping[int, Decimal | str], prerequisite_codes: Iterable[str], at: datetime,
              by: str) -> Evaluation:
        applicable = tuple(sorted(set(applicable)))
        ev = cls(commission_id=commission_id, review_id=review_id, application_id=application_id,
                 version_no=version_no, league=league, catalog_id=catalog_id,
                 institution={"id": institution["id"], "name": institution["name"]}, applicable=applicable,
                 binding=tuple(sorted(set(binding) & set(applicable))),
                 points={str(no): plain(Decimal(str(points[no]))) for no in applicable},
                 prerequisite_codes=tuple(prerequisite_codes), created_at=at, created_by=by, updated_at=at,
                 updated_by=by)
        ev._log(at, "started", by, "开始现场评估")
        return ev

    # -- the draft ------------------------------------------------------------------------------------------
    def update(self, changes: Mapping, *, staff: Iterable[str], today: date, at: datetime, by: str) -> dict:
        """Apply a partial change: `{"indicators": {no: {entry fields…, "record": {…} | null} | null},
        "prerequisites": {code: {"met", "note"} | null}}` (null clears). All or nothing; bad pieces are refused
        with their fields named. Returns what changed: {indicators: [nos], prerequisites: [codes]} (nothing when the
        same is saved again)."""
        self._require_draft()
        if not isinstance(changes, Mapping):
            raise InvalidInput("评估内容有误", [FieldError("(body)", "应为对象")])
        staff = {texts.normalize(s) for s in staff}
        errors: list[FieldError] = []
        entries, records, prerequisites = dict(self.entries), dict(self.records), dict(self.prerequisites)
        changed_ind, changed_pre = [], []
        raw_ind = changes.get("indicators") or {}
        raw_pre = changes.get("prerequisites") or {}
        if not isinstance(raw_ind, Mapping):
            errors.append(FieldError("indicators", "应为“指标序号 → 评分与核查记录”的对象"))
            raw_ind = {}
        if not isinstance(raw_pre, Mapping):
            errors.append(FieldError("prerequisites", "应为“先决条件编号 → 是否满足”的对象"))
            raw_pre = {}
        for key, item in raw_ind.items():
            key = str(key)
            where = f"indicators.{key}"
            if not (key.isascii() and key.isdigit()) or int(key) not in self.applicable:
                errors.append(FieldError(where, f"第{key}项不是该矿山适用的指标"))
                continue
            if item is None:
                entries.pop(key, None)
                records.pop(key, None)
                changed_ind.append(int(key))
                continue
            if not isinstance(item, Mapping):
                errors.append(FieldError(where, "应为对象（评分与核查记录）"))
                continue
            unknown = sorted(set(item) - set(ENTRY_FIELDS) - {"record"})
            if unknown:
                errors.append(FieldError(where, f"不认识的字段：{'、'.join(unknown)}"))
                continue
            if any(k in item for k in ENTRY_FIELDS):
                entry = self._entry(key, item, errors)
                if entry is not None:
                    entries[key] = entry
            if "record" in item:
                if item["record"] is None:
                    records.pop(key, None)
                else:
                    record = _record(where + ".record", item["record"], staff, today, errors)
                    if record is not None:
                        records[key] = record
            changed_ind.append(int(key))
        for code, value in raw_pre.items():
            code = str(code)
            where = f"prerequisites.{code}"
            if code not in self.prerequisite_codes:
                errors.append(FieldError(where, f"没有先决条件 {code}"))
                continue
            if value is None:
                prerequisites.pop(code, None)
            else:
                finding = _prerequisite(where, value, errors)
                if finding is not None:
                    prerequisites[code] = finding
            changed_pre.append(code)
        if errors:
            raise InvalidInput("评估内容有误，未保存", errors)
        # what really changed (a replayed save changes nothing)
        changed_ind = [n for n in changed_ind if (entries.get(str(n)), records.get(str(n)))
                       != (self.entries.get(str(n)), self.records.get(str(n)))]
        changed_pre = [c for c in changed_pre if prerequisites.get(c) != self.prerequisites.get(c)]
        if not changed_ind and not changed_pre:
            return {"indicators": [], "prerequisites": []}
        self.entries, self.records, self.prerequisites = entries, records, prerequisites
        self.updated_at, self.updated_by = at, by
        return {"indicators": sorted(set(changed_ind)), "prerequisites": sorted(set(changed_pre))}

    def _entry(self, key: str, item: Mapping, errors: list[FieldError]) -> dict | None:
        where = f"indicators.{key}"
        before = len(errors)
        if item.get("not_applicable") is True:
            others = [k for k in ENTRY_KINDS if k in item]
            if others:
                errors.append(FieldError(where, "判定不涉及时不能同时给分"))
            reason = _text(item.get("reason"), f"{where}.reason", MAX_TEXT, errors, required=True,
                           missing="判定不涉及须写明判定依据和理由")
            return None if len(errors) > before else {"not_applicable": True, "reason": reason}
        if item.get("not_applicable") not in (None, False):
            errors.append(FieldError(f"{where}.not_applicable", "应为 true 或 false"))
            return None
        if item.get("reason") not in (None, ""):
            errors.append(FieldError(f"{where}.reason", "理由仅用于不涉及项；给分的依据请写入核查记录"))
        kinds = [k for k in ENTRY_KINDS if k in item]
        if len(kinds) != 1:
            errors.append(FieldError(where, "请给出得分（score、findings、deductions、items 之一）或判定不涉及"))
            return None
        kind = kinds[0]
        value = item[kind]
        if kind == "score":
            points = Decimal(self.points[key])
            try:
                score = Decimal(str(value)) if not isinstance(value, bool) and value not in (None, "") else None
            except InvalidOperation:
                score = None
            if score is None or not score.is_finite():
                errors.append(FieldError(f"{where}.score", "得分应为数字"))
            elif score < 0 or score > points:
                errors.append(FieldError(f"{where}.score", f"得分应在 0 至 {plain(points)} 分之间"))
            elif score.as_tuple().exponent < -2:
                errors.append(FieldError(f"{where}.score", "得分最多保留两位小数"))
            else:
                return None if len(errors) > before else {"score": plain(score)}
            return None
        if kind == "findings":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FINDINGS:
                errors.append(FieldError(f"{where}.findings", "不符合处数应为不小于 0 的整数"))
                return None
            return None if len(errors) > before else {"findings": value}
        if kind == "deductions":
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value) \
                    or len(set(value)) != len(value):
                errors.append(FieldError(f"{where}.deductions", "应为扣分条件编号的列表（不重复）"))
                return None
            return None if len(errors) > before else {"deductions": list(value)}
        if not isinstance(value, Mapping) or not all(
                isinstance(v, bool) or (isinstance(v, int) and 0 <= v <= MAX_FINDINGS) for v in value.values()) \
                or not all(isinstance(k, str) and ITEM_KEY.match(k) for k in value):
            errors.append(FieldError(f"{where}.items", "应为“加分子项编号 → 是否达到（或件数）”的对象"))
            return None
        return None if len(errors) > before else {"items": {str(k): v for k, v in value.items()}}

    def add_image(self, image: Mapping, at: datetime, by: str) -> None:
        self._require_draft()
        indicator = image.get("indicator")
        if indicator is not None and indicator not in self.applicable:
            raise InvalidInput("图片不能上传", [FieldError("indicator", f"第{indicator}项不是该矿山适用的指标")])
        if len(self.images) >= MAX_IMAGES:
            raise InvalidInput("图片不能上传", [FieldError("photo", f"每份评估最多 {MAX_IMAGES} 张图片")])
        self.images.append(dict(image))
        self.updated_at, self.updated_by = at, by

    def image(self, image_id: str) -> dict:
        for image in self.images:
            if image["image_id"] == image_id:
                return image
        raise NotFound("该评估没有这张图片")

    def remove_image(self, image_id: str, at: datetime, by: str) -> dict:
        self._require_draft()
        image = self.image(image_id)
        self.images = [i for i in self.images if i["image_id"] != image_id]
        self.updated_at, self.updated_by = at, by
        return image

    # -- submission -----------------------------------------------------------------------------------------
    def submission_problems(self) -> list[FieldError]:
        """What must still be done before the report can be submitted ([] when it can)."""
        problems = []
        for no in self.applicable:
            key = str(no)
            entry = self.entries.get(key)
            if entry is None:
                problems.append(FieldError(f"indicators.{key}", f"第{no}项尚未评分"))
                continue
            if key in self.records:
                continue
            if entry.get("not_applicable") and no in self.binding:
                problems.append(FieldError(f"indicators.{key}.record",
                                           f"第{no}项为约束性指标，判定不涉及须附现场核查记录"))
            elif needs_record(entry):
                problems.append(FieldError(f"indicators.{key}.record", f"第{no}项：{RECORD_NEEDED}"))
        for code in self.prerequisite_codes:
            if code not in self.prerequisites:
                problems.append(FieldError(f"prerequisites.{code}", f"先决条件{code}尚未判定"))
        return problems

    def check_submittable(self, refusal: str | None) -> None:
        """Raise why the report cannot be submitted now: not a draft, the institution banned (`refusal`), or
        something not done."""
        self._require_draft()
        if refusal:
            raise Conflict(f"评估报告不予采信：{refusal}", [FieldError("institution", refusal)])
        problems = self.submission_problems()
        if problems:
            raise InvalidInput("评估尚未完成，不能提交评估报告", problems)

    def assessment(self, mine: Mapping) -> dict:
        """The scoring contract's assessment (stage third-party evaluation) of the draft, for the mine profile
        `mine` ({industry_group, mining_method, industry_variant?})."""
        indicators = {}
        for key, entry in self.entries.items():
            item = dict(entry)
            if key in self.records:
                item["record"] = record_text(self.records[key])
            indicators[key] = item
        return {"catalog": self.catalog_id,
                "mine": {k: mine[k] for k in ("industry_group", "mining_method", "industry_variant")
                         if mine.get(k) is not None},
                "prerequisites": {code: bool(p["met"]) for code, p in self.prerequisites.items()},
                "indicators": indicators}

    def submit(self, result: Mapping, *, refusal: str | None, at: datetime, by: str, by_name: str) -> None:
        """`result`: scoring's record of the assessment: {assessment_id, total, verdict, verdict_label, report}."""
        self.check_submittable(refusal)
        report = dict(result.get("report") or {})
        self.status = "submitted"
        self.report = report
        self.submitted = {"at": at.isoformat(), "by": by, "by_name": by_name,
                          "assessment_id": result["assessment_id"], "total": str(report.get("total")),
                          "verdict": report.get("verdict"), "verdict_label": report.get("verdict_label")}
        self.updated_at, self.updated_by = at, by
        self._log(at, "submitted", by, f"提交评估报告（总分 {report.get('total')}，{report.get('verdict_label', '')}）")

    def summary(self) -> dict:
        """What the RegionReview keeps of the submitted report."""
        s = self.submitted or {}
        return {"evaluation_id": self.id, "assessment_id": s.get("assessment_id"), "total": s.get("total"),
                "verdict": s.get("verdict"), "not_applicable": self.not_applicable}

    # -- internals ------------------------------------------------------------------------------------------
    def _require_draft(self) -> None:
        if self.status != "draft":
            raise InvalidTransition("评估报告已提交，不能再修改")

    def _log(self, at: datetime, action: str, by: str, text: str) -> None:
        self.history.append({"at": at.isoformat(), "action": action, "by": by, "text": text})

    # -- persistence ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "_id": self.id, "commission_id": self.commission_id, "review_id": self.review_id,
            "application_id": self.application_id, "version_no": self.version_no, "league": self.league,
            "catalog_id": self.catalog_id, "institution": dict(self.institution), "applicable": list(self.applicable),
            "binding": list(self.binding), "points": dict(self.points),
            "prerequisite_codes": list(self.prerequisite_codes), "entries": dict(self.entries),
            "records": dict(self.records), "prerequisites": dict(self.prerequisites), "images": list(self.images),
            "status": self.status, "created_at": self.created_at, "created_by": self.created_by,
            "updated_at": self.updated_at, "updated_by": self.updated_by, "submitted": self.submitted,
            "report": self.report, "history": list(self.history),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Evaluation:
        return cls(
            commission_id=d["commission_id"], review_id=d["review_id"], application_id=d["application_id"],
            version_no=d["version_no"], league=d.get("league", ""), catalog_id=d["catalog_id"],
            institution=d.get("institution") or {}, applicable=tuple(d.get("applicable") or ()),
            binding=tuple(d.get("binding") or ()), points=dict(d.get("points") or {}),
            prerequisite_codes=tuple(d.get("prerequisite_codes") or ()), entries=dict(d.get("entries") or {}),
            records=dict(d.get("records") or {}), prerequisites=dict(d.get("prerequisites") or {}),
            images=list(d.get("images") or []), status=d.get("status", "draft"),
            created_at=_dt(d["created_at"]) if d.get("created_at") else None, created_by=d.get("created_by", ""),
            updated_at=_dt(d["updated_at"]) if d.get("updated_at") else None, updated_by=d.get("updated_by", ""),
            submitted=d.get("submitted"), report=d.get("report"), history=list(d.get("history") or []),
            version=d.get("version"))


# -- pieces ---------------------------------------------------------------------------------------------------------
def _text(value, where: str, limit: int, errors: list[FieldError], *, required: bool, missing: str = "必填",
          multiline: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        errors.append(FieldError(where, "应为文字"))
        return ""
    text = texts.normalize((value or "").strip())
    if required and not text:
        errors.append(FieldError(where, missing))
    elif len(text) > limit:
        errors.append(FieldError(where, f"最多 {limit} 字"))
    elif (problem := texts.problem(text, allow_newlines=multiline)):
        errors.append(FieldError(where, problem))
    return text


def _record(where: str, raw, staff: set[str], today: date, errors: list[FieldError]) -> dict | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(where, "核查记录应为对象（核查人员、地点、日期、查看的内容）"))
        return None
    before = len(errors)
    unknown = sorted(set(raw) - set(RECORD_FIELDS))
    if unknown:
        errors.append(FieldError(where, f"不认识的字段：{'、'.join(unknown)}"))
    inspectors = [texts.normalize(n) for n in split_names(raw.get("inspectors"))]
    if not inspectors:
        errors.append(FieldError(f"{where}.inspectors", "请填写核查人员（本机构登记的评估人员）"))
    elif len(inspectors) > MAX_INSPECTORS:
        errors.append(FieldError(f"{where}.inspectors", f"核查人员最多 {MAX_INSPECTORS} 人"))
    else:
        strangers = [n for n in inspectors if n not in staff]
        if strangers:
            errors.append(FieldError(f"{where}.inspectors",
                                     f"{'、'.join(strangers)}不是本机构登记的评估人员"))
    location = _text(raw.get("location"), f"{where}.location", MAX_LOCATION, errors, required=True,
                     missing="请填写核查地点")
    day = None
    raw_day = raw.get("date")
    try:
        day = date.fromisoformat(str(raw_day)) if raw_day not in (None, "") else None
    except ValueError:
        errors.append(FieldError(f"{where}.date", "核查日期应为 YYYY-MM-DD"))
    else:
        if day is None:
            errors.append(FieldError(f"{where}.date", "请填写核查日期"))
        elif day > today:
            errors.append(FieldError(f"{where}.date", f"核查日期不能晚于今天（{today.isoformat()}）"))
    observations = _text(raw.get("observations"), f"{where}.observations", MAX_TEXT, errors, required=True,
                         missing="请填写查看的内容和发现", multiline=True)
    if len(errors) > before:
        return None
    return {"inspectors": list(dict.fromkeys(inspectors)), "location": location, "date": day.isoformat(),
            "observations": observations}


def _prerequisite(where: str, raw, errors: list[FieldError]) -> dict | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("met"), bool):
        errors.append(FieldError(f"{where}.met", "请判定是否满足（true / false）"))
        return None
    before = len(errors)
    note = _text(raw.get("note"), f"{where}.note", MAX_TEXT, errors, required=not raw["met"],
                 missing="不满足时须写明情况", multiline=True)
    return None if len(errors) > before else {"met": raw["met"], "note": note}
