"""`EvaluationInstitution`: the region office's register of third-party evaluation institutions (第三方评估机构),
with their staff, declared conflicts of interest, misconduct findings and the bans that follow them.

* Identity: 统一社会信用代码 (GB 32100-2015: format and check character, `shared.accounts.rules.credit_code_problems`).
* Conflicts of interest (e.g. the institution consulted for the enterprise): an institution is not eligible to be
  commissioned for a case of an enterprise it declared a conflict with (by credit code or enterprise id).
* Misconduct (正文 二(四)): "对经核实存在将所承担评估工作转让或外包、泄露矿山企业秘密、串通企业弄虚作假、
  评估结论严重失实等违规行为的第三方评估机构和评估人员予以通报，3年内不再采信其绿色矿山评估服务".
  A finding (against the institution or one of its staff) bans the institution for three years from the date
  found: no commissioning, and any report it submits in that time is refused with the reason.
* The three years are counted as the Civil Code counts periods (民法典 第二百零一、二百零二条): the day found is not
  counted; the last day is the corresponding day three years later, or the month's last day when that month has no
  corresponding day (found 2024-02-29 → banned through 2027-02-28). The ban covers found_on … banned_until.
Pure: no I/O.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition, NotFound
from review_routing.domain.task import _dt
from shared import text as texts
from shared.accounts.rules import credit_code_problems, normalise_credit_code
from shared.periods import add_years
from shared.workdays import beijing_date

# 正文 二(四), in the notice's words.
MISCONDUCT = {
    "transfer_or_outsource": "将所承担评估工作转让或外包",
    "leak_secrets": "泄露矿山企业秘密",
    "collusion_fraud": "串通企业弄虚作假",
    "seriously_false_conclusion": "评估结论严重失实",
}
CONFLICT_KINDS = {"consulting": "咨询服务", "technical_service": "技术服务", "equity": "股权关联", "other": "其他"}
STATUS_LABELS = {"active": "正常", "banned": "禁入期内"}
BAN_YEARS = 3
MAX_NAME = 100
MAX_TEXT = 2000
MAX_STAFF = 200
MAX_CONFLICTS = 200
PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}$")
DOCUMENT_NO_MAX = 64


def ban_end(found_on: date) -> date:
    """The last day of the three-year ban that starts on `found_on` (inclusive)."""
    return add_years(found_on, BAN_YEARS)


def _fmt(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Contact:
    person: str
    phone: str
    email: str = ""
    address: str = ""

    def to_dict(self) -> dict:
        return {"person": self.person, "phone": self.phone, "email": self.email, "address": self.address}


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    name: str
    title: str                          # 职称, e.g. 高级工程师
    id_hint: str = ""                   # optional: what tells namesakes apart for recusal (e.g. 证书编号)

    def to_dict(self) -> dict:
        return {"staff_id": self.staff_id, "name": self.name, "title": self.title, "id_hint": self.id_hint}


@dataclass(frozen=True)
class Conflict:
    conflict_id: str
    kind: str
    credit_code: str = ""
    enterprise_id: str = ""
    enterprise_name: str = ""
    note: str = ""
    declared_at: str = ""               # ISO datetime

    @property
    def kind_label(self) -> str:
        return CONFLICT_KINDS.get(self.kind, "其他")

    def concerns(self, enterprise: Mapping) -> bool:
        code = normalise_credit_code(str(enterprise.get("credit_code") or ""))
        ident = str(enterprise.get("id") or enterprise.get("enterprise_id") or "")
        return bool((self.credit_code and code == self.credit_code)
                    or (self.enterprise_id and ident == self.enterprise_id))

    def to_dict(self) -> dict:
        return {"conflict_id": self.conflict_id, "kind": self.kind, "kind_label": self.kind_label,
                "credit_code": self.credit_code, "enterprise_id": self.enterprise_id,
                "enterprise_name": self.enterprise_name, "note": self.note, "declared_at": self.declared_at}


@dataclass
class EvaluationInstitution:
    institution_id: str
    name: str
    credit_code: str
    contact: Contact
    staff: list[StaffMember] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)   # {finding_id, kind, kind_label, facts, found_on,
    #                                                     banned_until, document_no, staff_id, person, recorded_by,
    #                                                     recorded_by_name, recorded_at}
    registered_at: datetime | None = None
    registered_by: str = ""
    history: list[dict] = field(default_factory=list)     # {at, action, by, text}
    version: int | None = None

    # -- identity and status --------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.institution_id

    @property
    def banned_until(self) -> date | None:
        """The last day of the longest ban (None: never banned)."""
        ends = [date.fromisoformat(f["banned_until"]) for f in self.findings]
        return max(ends) if ends else None

    def ban_on(self, on: date) -> dict | None:
        """The finding whose ban covers `on` (the one that lasts longest), or None."""
        covering = [f for f in self.findings
                    if date.fromisoformat(f["found_on"]) <= on <= date.fromisoformat(f["banned_until"])]
        return max(covering, key=lambda f: f["banned_until"]) if covering else None

    def is_banned(self, on: date) -> bool:
        return self.ban_on(on) is not None

    def status_on(self, on: date) -> str:
        return "banned" if self.is_banned(on) else "active"

    def status_label_on(self, on: date) -> str:
        ban = self.ban_on(on)
        return f"禁入期内（至{_fmt(date.fromisoformat(ban['banned_until']))}）" if ban else STATUS_LABELS["active"]

    def refusal_on(self, on: date) -> str | None:
        """Why the institution's work is not accepted on `on` (a report it submits is refused), or None."""
        ban = self.ban_on(on)
        if ban is None:
            return None
        whom = f"（评估人员{ban['person']}）" if ban.get("person") else ""
        return (f"{self.name}{whom}因{ban['kind_label']}被通报，"
                f"自{_fmt(date.fromisoformat(ban['found_on']))}起3年内不再采信其绿色矿山评估服务"
                f"（禁入至{_fmt(date.fromisoformat(ban['banned_until']))}）")

    def conflict_with(self, enterprise: Mapping) -> Conflict | None:
        return next((c for c in self.conflicts if c.concerns(enterprise)), None)

    def eligible_for(self, enterprise: Mapping, on: date) -> str | None:
        """None when the institution may be commissioned for a case of `enterprise` ({id?, name, credit_code}) on
        `on`; else the reason in Chinese (banned, or a declared conflict of interest)."""
        refusal = self.refusal_on(on)
        if refusal:
            return refusal
        conflict = self.conflict_with(enterprise)
        if conflict:
            whom = enterprise.get("name") or conflict.enterprise_name or conflict.credit_code or conflict.enterprise_id
            note = f"：{conflict.note}" if conflict.note else ""
            return f"{self.name}申报与{whom}存在利益冲突（{conflict.kind_label}{note}），应当回避"
        return None

    def staff_member(self, staff_id: str) -> StaffMember | None:
        return next((s for s in self.staff if s.staff_id == staff_id), None)

    def person_banned(self, staff_id: str, on: date) -> bool:
        """Whether a finding names this person and its ban covers `on`."""
        return any(f.get("staff_id") == staff_id
                   and date.fromisoformat(f["found_on"]) <= on <= date.fromisoformat(f["banned_until"])
                   for f in self.findings)

    def summary(self) -> dict:
        """What a commission or a draw records about the institution: {id, name}."""
        return {"id": self.institution_id, "name": self.name}

    # -- the register ---------------------------------------------------------------------------------------
    @classmethod
    def register(cls, *, name: str, credit_code: str, contact: Mapping, staff: Iterable[Mapping] = (),
                 conflicts: Iterable[Mapping] = (), by: str, at: datetime,
                 institution_id: str | None = None) -> EvaluationInstitution:
        errors: list[FieldError] = []
        clean_name = _text(name, "name", "机构名称", MAX_NAME, errors, required=True)
        code = normalise_credit_code(credit_code or "")
        errors += [FieldError("credit_code", p) for p in credit_code_problems(code)]
        parsed_contact = _contact(contact, errors)
        parsed_staff = _staff(staff, [], errors)
        parsed_conflicts = _conflicts(conflicts, [], at, errors)
        if errors:
            raise InvalidInput("评估机构信息有误，请按提示修改", errors)
        inst = cls(institution_id=institution_id or new_institution_id(), name=clean_name, credit_code=code,
                   contact=parsed_contact, staff=parsed_staff, conflicts=parsed_conflicts, registered_at=at,
                   registered_by=by)
        inst._log(at, "registered", by, f"登记评估机构{clean_name}")
        return inst

    def edit(self, *, by: str, at: datetime, name: str | None = None, contact: Mapping | None = None,
             staff: Iterable[Mapping] | None = None, conflicts: Iterable[Mapping] | None = None) -> list[str]:
        """Replace the given parts (None leaves a part as it is); what changed, as field names. Staff keep their
        ids (an entry with a known `staff_id` is that person), conflicts their ids and declaration times."""
        errors: list[FieldError] = []
        changes = {}
        if name is not None:
            clean = _text(name, "name", "机构名称", MAX_NAME, errors, required=True)
            if clean != self.name:
                changes["name"] = clean
        if contact is not None:
            parsed = _contact(contact, errors)
            if parsed != self.contact:
                changes["contact"] = parsed
        if staff is not None:
            parsed_staff = _staff(staff, self.staff, errors)
            if parsed_staff != self.staff:
                changes["staff"] = parsed_staff
        if conflicts is not None:
            parsed_conflicts = _conflicts(conflicts, self.conflicts, at, errors)
            if parsed_conflicts != self.conflicts:
                changes["conflicts"] = parsed_conflicts
        if errors:
            raise InvalidInput("评估机构信息有误，请按提示修改", errors)
        labels = {"name": "名称", "contact": "联系方式", "staff": "评估人员", "conflicts": "利益冲突申报"}
        for key, value in changes.items():
            setattr(self, key, value)
        if changes:
            self._log(at, "edited", by, "修改" + "、".join(labels[k] for k in changes))
        return list(changes)

    # -- misconduct -----------------------------------------------------------------------------------------
    def record_finding(self, *, kind: str, facts: str, found_on: date | str | None, by: str, by_name: str,
                       at: datetime, document_no: str | None = None, staff_id: str | None = None,
                       person: str | None = None) -> dict:
        """A verified misconduct finding (against the institution, or one of its staff by `staff_id`, or a person
        named in `person`): the institution is banned for three years from `found_on`."""
        errors: list[FieldError] = []
        if kind not in MISCONDUCT:
            errors.append(FieldError("kind", "请选择违规情形：" + "、".join(MISCONDUCT.values())))
        clean_facts = _text(facts, "facts", "违规事实", MAX_TEXT, errors, required=True)
        day = _day(found_on, "found_on", "认定日期", errors)
        if day is not None and day > beijing_date(at):
            errors.append(FieldError("found_on", "认定日期不能晚于今天"))
        doc_no = _text(document_no or "", "document_no", "文号", DOCUMENT_NO_MAX, errors)
        name = None
        if staff_id:
            member = self.staff_member(staff_id)
            if member is None:
                errors.append(FieldError("staff_id", "该机构没有这名评估人员"))
            else:
                name = member.name
        elif person:
            name = _text(person, "person", "评估人员姓名", MAX_NAME, errors) or None
        if errors:
            raise InvalidInput("违规认定有误，请按提示修改", errors)
        if any(f["kind"] == kind and f["found_on"] == day.isoformat() and f.get("staff_id") == (staff_id or None)
               and f.get("person") == name and f["facts"] == clean_facts for f in self.findings):
            raise InvalidTransition("同一违规认定已经记录")
        finding = {"finding_id": "fnd-" + uuid.uuid4().hex[:12], "kind": kind, "kind_label": MISCONDUCT[kind],
                   "facts": clean_facts, "found_on": day.isoformat(), "banned_until": ban_end(day).isoformat(),
                   "document_no": doc_no or None, "staff_id": staff_id or None, "person": name,
                   "recorded_by": by, "recorded_by_name": by_name, "recorded_at": at.isoformat()}
        self.findings.append(finding)
        whom = f"（评估人员{name}）" if name else ""
        self._log(at, "misconduct_found", by,
                  f"认定{whom}{MISCONDUCT[kind]}，禁入至{_fmt(ban_end(day))}")
        return finding

    def finding(self, finding_id: str) -> dict:
        found = next((f for f in self.findings if f["finding_id"] == finding_id), None)
        if found is None:
            raise NotFound(f"没有违规认定 {finding_id}")
        return found

    # -- internals ------------------------------------------------------------------------------------------
    def _log(self, at: datetime, action: str, by: str, text: str) -> None:
        self.history.append({"at": at.isoformat(), "action": action, "by": by, "text": text})

    # -- persistence ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        until = self.banned_until
        return {"_id": self.institution_id, "name": self.name, "credit_code": self.credit_code,
                "contact": self.contact.to_dict(), "staff": [s.to_dict() for s in self.staff],
                "conflicts": [c.to_dict() for c in self.conflicts], "findings": [dict(f) for f in self.findings],
                "banned_until": until.isoformat() if until else None,
                "registered_at": self.registered_at, "registered_by": self.registered_by,
                "history": list(self.history)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvaluationInstitution:
        contact = d.get("contact") or {}
        return cls(
            institution_id=d["_id"], name=d["name"], credit_code=d["credit_code"],
            contact=Contact(person=contact.get("person", ""), phone=contact.get("phone", ""),
                            email=contact.get("email", ""), address=contact.get("address", "")),
            staff=[StaffMember(staff_id=s["staff_id"], name=s["name"], title=s.get("title", ""),
                               id_hint=s.get("id_hint", "")) for s in d.get("staff") or []],
            conflicts=[Conflict(conflict_id=c["conflict_id"], kind=c["kind"], credit_code=c.get("credit_code", ""),
                                enterprise_id=c.get("enterprise_id", ""),
                                enterprise_name=c.get("enterprise_name", ""), note=c.get("note", ""),
                                declared_at=c.get("declared_at", "")) for c in d.get("conflicts") or []],
            findings=[dict(f) for f in d.get("findings") or []],
            registered_at=_dt(d["registered_at"]) if d.get("registered_at") else None,
            registered_by=d.get("registered_by", ""), history=list(d.get("history") or []), version=d.get("version"))


def new_institution_id() -> str:
    return "inst-" + uuid.uuid4().hex[:12]


# -- parsing (every problem at once, each naming its field) ---------------------------------------------------
def _text(value, field_name: str, label: str, limit: int, errors: list[FieldError], *, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.append(FieldError(field_name, f"请填写{label}"))
    elif len(text) > limit:
        errors.append(FieldError(field_name, f"{label}最多{limit}字"))
    elif text and texts.problem(text):
        errors.append(FieldError(field_name, texts.problem(text)))
    return text


def _day(value, field_name: str, label: str, errors: list[FieldError]) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.append(FieldError(field_name, f"请填写{label}（YYYY-MM-DD）"))
        return None


def _contact(raw: Mapping | None, errors: list[FieldError]) -> Contact:
    raw = raw or {}
    person = _text(raw.get("person"), "contact.person", "联系人", 50, errors, required=True)
    phone = _text(raw.get("phone"), "contact.phone", "联系电话", 20, errors, required=True)
    if phone and not PHONE.match(phone):
        errors.append(FieldError("contact.phone", "联系电话只能含数字、空格和 + - ( )，5至20位"))
    email = _text(raw.get("email"), "contact.email", "电子邮箱", 254, errors)
    if email and not EMAIL.match(email):
        errors.append(FieldError("contact.email", "电子邮箱格式不正确"))
    address = _text(raw.get("address"), "contact.address", "地址", 200, errors)
    return Contact(person=person, phone=phone, email=email, address=address)


def _staff(raw: Iterable[Mapping], current: list[StaffMember], errors: list[FieldError]) -> list[StaffMember]:
    items = list(raw or [])
    if len(items) > MAX_STAFF:
        errors.append(FieldError("staff", f"评估人员最多{MAX_STAFF}名"))
        return list(current)
    known = {s.staff_id for s in current}
    parsed, seen = [], set()
    for i, item in enumerate(items):
        name = _text(item.get("name"), f"staff[{i}].name", "姓名", 50, errors, required=True)
        title = _text(item.get("title"), f"staff[{i}].title", "职称", 50, errors, required=True)
        hint = _text(item.get("id_hint"), f"staff[{i}].id_hint", "证件或证书编号", 64, errors)
        staff_id = str(item.get("staff_id") or "").strip()
        if staff_id and staff_id not in known:
            errors.append(FieldError(f"staff[{i}].staff_id", "该机构没有这名评估人员"))
        staff_id = staff_id or "st-" + uuid.uuid4().hex[:10]
        if staff_id in seen:
            errors.append(FieldError(f"staff[{i}].staff_id", "同一评估人员重复列出"))
        seen.add(staff_id)
        parsed.append(StaffMember(staff_id=staff_id, name=name, title=title, id_hint=hint))
    return parsed


def _conflicts(raw: Iterable[Mapping], current: list[Conflict], at: datetime,
               errors: list[FieldError]) -> list[Conflict]:
    items = list(raw or [])
    if len(items) > MAX_CONFLICTS:
        errors.append(FieldError("conflicts", f"利益冲突申报最多{MAX_CONFLICTS}条"))
        return list(current)
    known = {c.conflict_id: c for c in current}
    parsed = []
    for i, item in enumerate(items):
        kind = str(item.get("kind") or "")
        if kind not in CONFLICT_KINDS:
            errors.append(FieldError(f"conflicts[{i}].kind",
                                     "请选择利益冲突类型：" + "、".join(CONFLICT_KINDS.values())))
        code = normalise_credit_code(str(item.get("credit_code") or ""))
        if code:
            errors += [FieldError(f"conflicts[{i}].credit_code", p) for p in credit_code_problems(code)]
        enterprise_id = _text(item.get("enterprise_id"), f"conflicts[{i}].enterprise_id", "企业编号", 64, errors)
        if not code and not enterprise_id:
            errors.append(FieldError(f"conflicts[{i}].credit_code", "请填写企业的统一社会信用代码（或企业编号）"))
        enterprise_name = _text(item.get("enterprise_name"), f"conflicts[{i}].enterprise_name", "企业名称",
                                MAX_NAME, errors)
        note = _text(item.get("note"), f"conflicts[{i}].note", "说明", 500, errors)
        conflict_id = str(item.get("conflict_id") or "").strip()
        previous = known.get(conflict_id)
        if conflict_id and previous is None:
            errors.append(FieldError(f"conflicts[{i}].conflict_id", "没有这条利益冲突申报"))
        parsed.append(Conflict(conflict_id=conflict_id or "cf-" + uuid.uuid4().hex[:10], kind=kind,
                               credit_code=code, enterprise_id=enterprise_id, enterprise_name=enterprise_name,
                               note=note, declared_at=previous.declared_at if previous else at.isoformat()))
    return parsed
