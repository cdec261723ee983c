"""`Objection` (异议): a real-name objection filed during a 公示 window, its triage to the departments responsible,
their findings and the region office's conclusion. Pure: no I/O.

States: received (已受理，待分办) → triaged (核查中) → verified (核查完毕，待结论, every department's finding in) →
concluded (已办结: upheld / not_upheld; upheld with an action: return_to_region or refuse).

The objector's personal data (name, 居民身份证号码, phone, organisation, email) lives only in `objector`: never on
an event, a public page, the public lookup, a feed or a log line (`masked()` for logs). Only the region office and
reviewers of a department it was triaged to (of the mine's 盟市 or of 自治区) read it (`may_see_personal`).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from public_notice.domain import identity_numbers
from shared.errors import FieldError, InvalidInput, InvalidTransition, NotPermitted

STATUS_LABELS = {"received": "已受理，待分办", "triaged": "核查中", "verified": "核查完毕，待结论",
                 "concluded": "已办结"}
OUTCOMES = {"upheld": "异议成立", "not_upheld": "异议不成立"}
ACTIONS = {"return_to_region": "退回自治区审核环节重新审核", "refuse": "不予列入绿色矿山名录"}
FINDINGS = {"supported": "异议反映情况属实", "not_supported": "异议反映情况不属实"}
REGION = "自治区"
GROUNDS_MIN, GROUNDS_MAX = 10, 5000
NAME_MAX, ORG_MAX, TEXT_MAX, PLACE_MAX = 30, 100, 5000, 200
MAX_FILES = 5
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}$")
RECEIPT = re.compile(r"^YY(\d{4})-(\d{6})$")
CONSENT_TEXT = "本人承诺所提异议及所填信息真实，愿意承担相应法律责任（实名异议）"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def receipt_no(year: int, n: int) -> str:
    return f"YY{year}-{n:06d}"


def new_lookup_code() -> str:
    """12 characters from an alphabet without look-alikes, shown to the objector once."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def code_hash(code: str) -> str:
    return hashlib.sha256(("greenmine-objection-lookup:" + "".join(str(code).split()).upper()).encode()).hexdigest()


def identity_hash(id_number: str) -> str:
    """The key of the per-identity rate limit (never the number itself)."""
    return hashlib.sha256(("greenmine-objector:" + identity_numbers.normalise(id_number)).encode()).hexdigest()


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes"))


@dataclass(frozen=True)
class Filing:
    """A checked objection form."""

    batch_id: str
    application_id: str
    name: str
    id_number: str
    phone: str
    organisation: str
    email: str
    grounds: str
    indicators: tuple[int, ...]

    @property
    def objector(self) -> dict:
        return {"name": self.name, "id_number": self.id_number, "phone": self.phone,
                "organisation": self.organisation, "email": self.email}


def check_filing(form: Mapping[str, Any], *, today: date, indicator_numbers: Iterable[int]) -> Filing:
    """The form's fields checked; every problem names its field (InvalidInput → 422)."""
    errors: list[FieldError] = []
    known = set(indicator_numbers)
    batch_id, application_id = _text(form.get("batch_id")), _text(form.get("application_id"))
    if not batch_id:
        errors.append(FieldError("batch_id", "请选择公示批次"))
    if not application_id:
        errors.append(FieldError("application_id", "请选择被异议的矿山"))
    name = _text(form.get("name"))
    if not name:
        errors.append(FieldError("name", "请填写姓名（实名异议）"))
    elif len(name) > NAME_MAX or any(c.isdigit() for c in name):
        errors.append(FieldError("name", f"姓名应为不超过{NAME_MAX}个字的真实姓名"))
    id_number = identity_numbers.normalise(form.get("id_number") if isinstance(form.get("id_number"), str) else "")
    reason = identity_numbers.problem(id_number, today)
    if reason:
        errors.append(FieldError("id_number", reason))
    phone = "".join(_text(form.get("phone")).split()).removeprefix("+86")
    if not phone:
        errors.append(FieldError("phone", "请填写手机号码"))
    elif not MOBILE.match(phone):
        errors.append(FieldError("phone", "手机号码应为11位中国大陆手机号码"))
    organisation = _text(form.get("organisation"))
    if len(organisation) > ORG_MAX:
        errors.append(FieldError("organisation", f"工作单位不能超过{ORG_MAX}个字"))
    email = _text(form.get("email"))
    if email and not EMAIL.match(email):
        errors.append(FieldError("email", "电子邮箱格式不正确"))
    grounds = _text(form.get("grounds"))
    if len(grounds) < GROUNDS_MIN:
        errors.append(FieldError("grounds", f"请写明事实和理由，不少于{GROUNDS_MIN}个字"))
    elif len(grounds) > GROUNDS_MAX:
        errors.append(FieldError("grounds", f"事实和理由不能超过{GROUNDS_MAX}个字"))
    indicators: list[int] = []
    raw = form.get("indicators") or []
    if isinstance(raw, (str, int)):
        raw = [raw]
    if not isinstance(raw, list):
        errors.append(FieldError("indicators", "涉及的指标应为指标序号的列表"))
        raw = []
    for value in raw:
        try:
            no = int(value)
        except (TypeError, ValueError):
            no = None
        if no is None or isinstance(value, bool) or no not in known:
            errors.append(FieldError("indicators", f"附件1中没有第{value}项指标"))
        elif no not in indicators:
            indicators.append(no)
    if not _truthy(form.get("consent")):
        errors.append(FieldError("consent", "请确认所填信息真实（实名异议）"))
    if errors:
        raise InvalidInput("异议信息有误，请按提示修改", errors)
    return Filing(batch_id, application_id, name, id_number, phone, organisation, email, grounds,
                  tuple(sorted(indicators)))


def _dt(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _actor(principal) -> dict:
    return {"by": getattr(principal, "username", None) or "public",
            "by_name": getattr(principal, "display_name", "") or getattr(principal, "username", "") or "公众"}


@dataclass
class Objection:
    id: str
    receipt_no: str
    lookup_hash: str
    batch_id: str
    application_id: str
    review_id: str | None
    version_no: int | None
    mine_name: str
    enterprise_name: str
    league: str
    indicators: list[int]
    objector: dict
    id_hash: str
    grounds: str
    evidence: list[dict]
    filed_at: datetime
    status: str = "received"
    departments: list[str] = field(default_factory=list)
    due_date: date | None = None
    working_days: int | None = None
    findings: dict[str, dict] = field(default_factory=dict)
    overdue: bool = False
    conclusion: dict | None = None
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    # --- creation -----------------------------------------------------------------------------------------
    @classmethod
    def file(cls, objection_id: str, number: str, code: str, filing: Filing, entry: Mapping, evidence: list[dict],
             now: datetime) -> Objection:
        objection = cls(
            id=objection_id, receipt_no=number, lookup_hash=code_hash(code), batch_id=filing.batch_id,
            application_id=filing.application_id, review_id=entry.get("review_id"),
            version_no=entry.get("version_no"), mine_name=entry.get("mine_name") or "",
            enterprise_name=entry.get("enterprise_name") or "", league=entry.get("league") or "",
            indicators=list(filing.indicators), objector=filing.objector,
            id_hash=identity_hash(filing.id_number), grounds=filing.grounds, evidence=list(evidence), filed_at=now)
        objection.history.append({"at": now, "by": "public", "by_name": "实名异议人", "action": "filed",
                                  "files": len(evidence)})
        return objection

    # --- who may do what ----------------------------------------------------------------------------------
    def handles(self, principal) -> bool:
        """A department reviewer of a department it was triaged to, of the mine's 盟市 or of 自治区."""
        return (getattr(principal, "role", None) == "department_reviewer"
                and principal.department in self.departments
                and principal.area in (self.league, REGION))

    def may_read(self, principal) -> bool:
        return getattr(principal, "role", None) in ("region_office", "admin") or self.handles(principal)

    def may_see_personal(self, principal) -> bool:
        """The objector's data: the region office, and reviewers of the departments it was triaged to."""
        return getattr(principal, "role", None) == "region_office" or self.handles(principal)

    # --- transitions --------------------------------------------------------------------------------------
    def triage(self, principal, departments: Iterable[str], due_date: date, working_days: int,
               known_departments: Iterable[str], now: datetime) -> None:
        if getattr(principal, "role", None) != "region_office":
            raise NotPermitted("只有自治区自然资源厅可以分办异议")
        if self.status not in ("received", "triaged"):
            raise InvalidTransition(f"异议当前为“{STATUS_LABELS[self.status]}”，不能分办")
        if self.status == "triaged" and self.findings:
            raise InvalidTransition("已有部门提交核查意见，不能重新分办")
        known = set(known_departments)
        chosen: list[str] = []
        errors = []
        for code in departments:
            if code not in known:
                errors.append(FieldError("departments", f"没有部门代码 {code}"))
            elif code not in chosen:
                chosen.append(code)
        if not chosen and not errors:
            errors.append(FieldError("departments", "请至少选择一个负责核查的部门"))
        if errors:
            raise InvalidInput("分办信息有误", errors)
        self.departments, self.due_date, self.working_days = chosen, due_date, working_days
        self.status = "triaged"
        self.history.append({"at": now, **_actor(principal), "action": "triaged", "departments": list(chosen),
                             "due_date": due_date.isoformat(), "working_days": working_days})

    def record_finding(self, principal, finding: str, text: str, site_check: Mapping | None, today: date,
                       now: datetime, department: str | None = None) -> str:
        """The reviewer's department's finding; returns the department. All in → verified."""
        if self.status != "triaged":
            raise InvalidTransition(f"异议当前为“{STATUS_LABELS[self.status]}”，不能提交核查意见")
        if not self.handles(principal):
            raise NotPermitted("只有被分办部门的核查人员可以提交核查意见")
        department = principal.department
        if department in self.findings:
            raise InvalidTransition("本部门已提交核查意见")
        errors = []
        if finding not in FINDINGS:
            errors.append(FieldError("finding", "核查意见应为 supported（属实）或 not_supported（不属实）"))
        text = (text or "").strip()
        if not text:
            errors.append(FieldError("text", "请填写核查情况"))
        elif len(text) > TEXT_MAX:
            errors.append(FieldError("text", f"核查情况不能超过{TEXT_MAX}个字"))
        site = None
        if site_check:
            day = site_check.get("date")
            try:
                day = _d(day) if day else None
            except ValueError:
                day = None
                errors.append(FieldError("site_check.date", "现场核查日期格式应为 YYYY-MM-DD"))
            place, seen = _text(site_check.get("place")), _text(site_check.get("observed"))
            if day is None and not any(e.field == "site_check.date" for e in errors):
                errors.append(FieldError("site_check.date", "请填写现场核查日期"))
            elif day is not None and day > today:
                errors.append(FieldError("site_check.date", "现场核查日期不能晚于今天"))
            if not place:
                errors.append(FieldError("site_check.place", "请填写现场核查地点"))
            elif len(place) > PLACE_MAX:
                errors.append(FieldError("site_check.place", f"地点不能超过{PLACE_MAX}个字"))
            if not seen:
                errors.append(FieldError("site_check.observed", "请填写现场核查所见情况"))
            elif len(seen) > TEXT_MAX:
                errors.append(FieldError("site_check.observed", f"现场情况不能超过{TEXT_MAX}个字"))
            site = {"date": day.isoformat() if day else None, "place": place, "observed": seen}
        if errors:
            raise InvalidInput("核查意见有误", errors)
        actor = _actor(principal)
        self.findings[department] = {"finding": finding, "text": text, "site_check": site, "at": iso(now),
                                     **actor}
        self.history.append({"at": now, **actor, "action": "finding_recorded", "department": department,
                             "finding": finding})
        if all(d in self.findings for d in self.departments):
            self.status = "verified"
            self.history.append({"at": now, "by": "system", "by_name": "系统", "action": "verified"})
        return department

    def conclude(self, principal, outcome: str, reasons: str, reply: str, action: str | None,
                 now: datetime) -> None:
        if getattr(principal, "role", None) != "region_office":
            raise NotPermitted("只有自治区自然资源厅可以作出异议处理结论")
        if self.status != "verified":
            raise InvalidTransition(f"异议当前为“{STATUS_LABELS[self.status]}”，各部门核查意见齐全后方可作出结论")
        errors = []
        if outcome not in OUTCOMES:
            errors.append(FieldError("outcome", "结论应为 upheld（异议成立）或 not_upheld（异议不成立）"))
        reasons, reply = (reasons or "").strip(), (reply or "").strip()
        if not reasons:
            errors.append(FieldError("reasons", "请填写结论理由"))
        elif len(reasons) > TEXT_MAX:
            errors.append(FieldError("reasons", f"理由不能超过{TEXT_MAX}个字"))
        if not reply:
            errors.append(FieldError("reply", "请填写答复异议人的内容"))
        elif len(reply) > TEXT_MAX:
            errors.append(FieldError("reply", f"答复不能超过{TEXT_MAX}个字"))
        if outcome == "upheld" and action not in ACTIONS:
            errors.append(FieldError("action", "异议成立时请选择处理方式：return_to_region（退回自治区审核环节）或 "
                                               "refuse（不予列入）"))
        if outcome == "not_upheld" and action:
            errors.append(FieldError("action", "异议不成立时不选择处理方式"))
        if errors:
            raise InvalidInput("异议处理结论有误", errors)
        self.status = "concluded"
        self.conclusion = {"outcome": outcome, "action": action if outcome == "upheld" else None,
                           "reasons": reasons, "reply": reply, "at": iso(now), **_actor(principal)}
        self.history.append({"at": now, **_actor(principal), "action": "concluded", "outcome": outcome,
                             "decided_action": self.conclusion["action"]})

    def flag_overdue(self, today: date, now: datetime) -> bool:
        """Once: findings still missing after the due date."""
        if self.status != "triaged" or self.overdue or self.due_date is None or today <= self.due_date:
            return False
        self.overdue = True
        missing = [d for d in self.departments if d not in self.findings]
        self.history.append({"at": now, "by": "system", "by_name": "系统", "action": "overdue", "missing": missing})
        return True

    def viewed(self, principal, now: datetime) -> None:
        """Audited view of the personal data."""
        self.history.append({"at": now, **_actor(principal), "action": "personal_data_viewed"})

    # --- views ----------------------------------------------------------------------------------------------
    def masked(self) -> str:
        """For log lines: 张* 150102**********1X."""
        return f"{identity_numbers.mask_name(self.objector.get('name', ''))} " \
               f"{identity_numbers.mask(self.objector.get('id_number', ''))}"

    def public_view(self) -> dict:
        """What the public lookup shows: the status, the dates and, once concluded, the outcome and the reply."""
        out = {"receipt_no": self.receipt_no, "status": self.status, "status_label": STATUS_LABELS[self.status],
               "filed_at": iso(self.filed_at), "mine_name": self.mine_name,
               "due_date": self.due_date.isoformat() if self.due_date else None,
               "concluded_at": None, "outcome": None, "outcome_label": None, "reply": None}
        if self.conclusion:
            out.update(concluded_at=self.conclusion["at"], outcome=self.conclusion["outcome"],
                       outcome_label=OUTCOMES[self.conclusion["outcome"]], reply=self.conclusion["reply"])
        return out

    def code_matches(self, code: str) -> bool:
        return hmac.compare_digest(self.lookup_hash, code_hash(code or ""))

    def staff_view(self, principal) -> dict:
        out = {k: v for k, v in self.to_dict().items() if k not in ("lookup_hash", "id_hash", "objector", "_id")}
        out["id"] = self.id
        out["status_label"] = STATUS_LABELS[self.status]
        out["objector"] = dict(self.objector) if self.may_see_personal(principal) else None
        for entry in out["history"]:
            entry["at"] = iso(entry["at"]) if isinstance(entry["at"], datetime) else entry["at"]
        return out

    # --- storage ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"_id": self.id, "receipt_no": self.receipt_no, "lookup_hash": self.lookup_hash,
                "batch_id": self.batch_id, "application_id": self.application_id, "review_id": self.review_id,
                "version_no": self.version_no, "mine_name": self.mine_name, "enterprise_name": self.enterprise_name,
                "league": self.league, "indicators": list(self.indicators), "objector": dict(self.objector),
                "id_hash": self.id_hash, "grounds": self.grounds, "evidence": [dict(e) for e in self.evidence],
                "filed_at": self.filed_at, "status": self.status, "departments": list(self.departments),
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "working_days": self.working_days, "findings": {k: dict(v) for k, v in self.findings.items()},
                "overdue": self.overdue, "conclusion": dict(self.conclusion) if self.conclusion else None,
                "history": [dict(h) for h in self.history], "version": self.version}

    @classmethod
    def from_dict(cls, doc: Mapping) -> Objection:
        return cls(id=doc["_id"], receipt_no=doc["receipt_no"], lookup_hash=doc["lookup_hash"],
                   batch_id=doc["batch_id"], application_id=doc["application_id"], review_id=doc.get("review_id"),
                   version_no=doc.get("version_no"), mine_name=doc.get("mine_name", ""),
                   enterprise_name=doc.get("enterprise_name", ""), league=doc.get("league", ""),
                   indicators=list(doc.get("indicators") or []), objector=dict(doc.get("objector") or {}),
                   id_hash=doc.get("id_hash", ""), grounds=doc.get("grounds", ""),
                   evidence=[dict(e) for e in doc.get("evidence") or []], filed_at=_dt(doc["filed_at"]),
                   status=doc.get("status", "received"), departments=list(doc.get("departments") or []),
                   due_date=_d(doc.get("due_date")), working_days=doc.get("working_days"),
                   findings={k: dict(v) for k, v in (doc.get("findings") or {}).items()},
                   overdue=bool(doc.get("overdue")), conclusion=doc.get("conclusion"),
                   history=[{**h, "at": _dt(h["at"])} for h in doc.get("history") or []],
                   version=doc.get("version"))

