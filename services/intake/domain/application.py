"""The ``Application`` aggregate (申报) and its status machine.

An application is made for one mine by its enterprise against one evaluation index (``catalog``, e.g. nm-2025).
While it is a draft (or returned for correction) the enterprise edits a working draft: the self-assessment in the
scoring contract's shape (contracts/scoring/assessment.v1.schema.json), a 检查记录 text per indicator, the declaration
of penalties within 3 years (which makes 附件2 一(三) required) and attachment references (materials of 附件2 一, and
evidence per indicator).  Submitting freezes the draft into a numbered ``ApplicationVersion``; later edits build a
new draft on top, old versions stay readable and never change (except that a version's score report is written
once).  A return (退回补正) records reasons per indicator and lets the enterprise resubmit a new version.

The status machine is a table (``TRANSITIONS``); anything not in it raises ``InvalidTransition`` with a Chinese
message.  Every step adds a ``HistoryEntry`` and the steps other services care about add a domain event to
``self.events`` (an adapter drains them and translates them to contract events).  Time is always a parameter (an
aware ``datetime``); the domain never reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

from . import materials as mat
from .errors import (
    FieldError,
    InvalidApplicationData,
    InvalidTransition,
    NotEditable,
    SubmissionRefused,
    VersionFrozen,
)
from .identifiers import check_credit_code

__all__ = [
    "STATUSES",
    "ACTIONS",
    "TRANSITIONS",
    "EDITABLE_STATUSES",
    "allowed_actions",
    "AttachmentRef",
    "HistoryEntry",
    "ReturnRecord",
    "ApplicationVersion",
    "Application",
    "ApplicationCreated",
    "ApplicationSubmitted",
    "ApplicationResubmitted",
    "ApplicationStatusChanged",
    "ScoreReportRecorded",
    "to_plain",
    "freeze",
    "thaw",
]

# ---------------------------------------------------------------------------------------------------------------
# The status machine
# ---------------------------------------------------------------------------------------------------------------

#: Every status with its Chinese label.  Statuses are plain strings: a later stage (third-party evaluation, 公示 …)
#: adds a row here and its transitions below.
STATUSES: dict[str, str] = {
    "draft": "草稿",
    "submitted": "已提交",
    "routed": "审核中（已分派）",
    "returned": "退回补正",
    "resubmitted": "补正后已重新提交",
    "forwarded": "初审通过，已报自治区",
    "rejected": "不予通过",
    "listed": "已纳入绿色矿山名录",
    "not_listed": "未纳入绿色矿山名录",
    "removed": "已移出绿色矿山名录",
}

#: Every action with its Chinese label (used in messages and history).
ACTIONS: dict[str, str] = {
    "submit": "提交申报",
    "resubmit": "补正后重新提交",
    "route": "分派审核",
    "return": "退回补正",
    "forward": "报自治区",
    "reject": "不予通过",
    "list": "纳入名录",
    "not_list": "不予纳入名录",
    "remove": "移出名录",
}

#: (status, action) → new status.  The only way a status changes.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("returned", "resubmit"): "resubmitted",
    ("submitted", "route"): "routed",
    ("resubmitted", "route"): "routed",
    ("routed", "return"): "returned",
    ("routed", "forward"): "forwarded",
    ("routed", "reject"): "rejected",
    ("forwarded", "list"): "listed",
    ("forwarded", "not_list"): "not_listed",
    ("listed", "remove"): "removed",
}

#: The working draft can be edited (and submitted) only in these statuses.
EDITABLE_STATUSES = frozenset({"draft", "returned"})


def allowed_actions(status: str) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == status]


def _transition_error(status: str, action: str) -> InvalidTransition:
    label = STATUSES.get(status, status)
    allowed = [ACTIONS[a] for a in allowed_actions(status)]
    hint = f"（当前可进行：{'、'.join(allowed)}）" if allowed else "（当前状态下不能再进行任何操作）"
    return InvalidTransition(status, action, f"申报当前状态为“{label}”，不能{ACTIONS.get(action, action)}{hint}")


# ---------------------------------------------------------------------------------------------------------------
# Plain, frozen values
# ---------------------------------------------------------------------------------------------------------------


def to_plain(value: object, path: str = "") -> object:
    """A JSON-compatible copy: dicts with string keys, lists, str, int, bool, None.  ``Decimal`` and ``float``
    become decimal strings (the scoring contract accepts scores as ``"1.5"``), so nothing inexact is stored.
    Raises ``ValueError`` naming the path of anything else."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{path or '值'}不是有限数字")
        return str(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{path or '值'}不是有限数字")
        return str(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{path or '对象'}的键应为文字")
            out[k] = to_plain(v, f"{path}.{k}" if path else k)
        return out
    if isinstance(value, (list, tuple)):
        return [to_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"{path or '值'}的类型不受支持")


def freeze(value: object) -> object:
    """Deeply read-only view of a plain value (mappings → MappingProxyType, lists → tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: object) -> object:
    """The plain (mutable, JSON-compatible) copy of a frozen value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def _aware(at: object, what: str = "at") -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    return at


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse_dt(value: object) -> datetime | None:
    if value is None:
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return _aware(dt, "timestamp")


_INDICATOR_KEY = re.compile(r"P[1-9][0-9]?|[1-9][0-9]?")
RECORD_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 2000
MAX_ATTACHMENTS = 500
#: Consecutive draft edits by one person within this window share one history entry (autosave).
DRAFT_LOG_WINDOW = timedelta(minutes=30)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _indicator_label(key: str) -> str:
    return f"先决条件{key}" if key.startswith("P") else f"第{key}项指标"


# ---------------------------------------------------------------------------------------------------------------
# Value objects
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentRef:
    """A stored file as the application refers to it (the bytes live in GridFS, under ``id``)."""

    id: str
    kind: str  # a code of materials.KINDS
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    indicator: str | None = None  # "1"–"50" or "P1"–"P5" for evidence of one indicator

    def problems(self) -> list[FieldError]:
        errs = []
        if not isinstance(self.id, str) or not self.id.strip():
            errs.append(FieldError("attachment.id", "附件标识不能为空"))
        if mat.kind_by_code(self.kind) is None:
            errs.append(FieldError("attachment.kind", f"附件类型：未知的材料类型“{self.kind}”"))
        else:
            for p in mat.check_upload(self.kind, self.content_type, self.size, self.filename):
                errs.append(FieldError("attachment.file", f"附件：{p}"))
        if not isinstance(self.filename, str) or not self.filename.strip() or len(self.filename) > 255:
            errs.append(FieldError("attachment.filename", "附件文件名：不能为空且不超过255个字符"))
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            errs.append(FieldError("attachment.sha256", "附件校验和：应为64位小写十六进制SHA-256"))
        if self.indicator is not None and not (
            isinstance(self.indicator, str) and _INDICATOR_KEY.fullmatch(self.indicator)
        ):
            errs.append(FieldError("attachment.indicator", f"所属指标：“{self.indicator}”不是指标编号（1–50 或 P1–P5）"))
        if self.kind == mat.EVIDENCE and self.indicator is None:
            errs.append(FieldError("attachment.indicator", "所属指标：指标佐证材料须注明所属指标"))
        try:
            _aware(self.uploaded_at, "uploaded_at")
        except ValueError:
            errs.append(FieldError("attachment.uploaded_at", "上传时间：应为带时区的时间"))
        return errs

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": _iso(self.uploaded_at),
            "indicator": self.indicator,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "AttachmentRef":
        return cls(
            id=d["id"],
            kind=d["kind"],
            filename=d["filename"],
            content_type=d["content_type"],
            size=int(d["size"]),
            sha256=d["sha256"],
            uploaded_at=_parse_dt(d["uploaded_at"]),
            indicator=d.get("indicator"),
        )


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    detail: Mapping  # frozen plain mapping

    def to_dict(self) -> dict:
        return {"at": _iso(self.at), "actor": self.actor, "action": self.action, "detail": thaw(self.detail)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "HistoryEntry":
        return cls(_parse_dt(d["at"]), d["actor"], d["action"], freeze(to_plain(d.get("detail") or {})))


@dataclass(frozen=True)
class ReturnRecord:
    """A 退回补正: the version it answers, the reasons per indicator (or material kind), a general comment."""

    version: int
    at: datetime
    actor: str
    reasons: Mapping  # key ("9", "P4", "materials.mining_licence" …) → reason text
    comment: str

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "at": _iso(self.at),
            "actor": self.actor,
            "reasons": thaw(self.reasons),
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "ReturnRecord":
        return cls(int(d["version"]), _parse_dt(d["at"]), d["actor"], freeze(dict(d.get("reasons") or {})),
                   d.get("comment") or "")


@dataclass(frozen=True)
class ApplicationVersion:
    """A submitted, frozen version.  Its content is deeply read-only; ``to_dict`` gives plain copies."""

    number: int
    submitted_at: datetime
    submitted_by: str
    assessment: Mapping
    records: Mapping
    declared_penalties: bool
    attachments: tuple[AttachmentRef, ...]
    mine: Mapping | None = None  # snapshot of the mine as submitted (Mine.to_dict())
    score_report: Mapping | None = None  # the scoring engine's report of this version, written once

    def evidence_for(self, indicator: str) -> list[AttachmentRef]:
        return [a for a in self.attachments if a.indicator == indicator]

    def assessment_with_records(self) -> dict:
        """The assessment with each indicator's 检查记录 copied into its entry (``record``), for scoring/printing."""
        return _merge_records(thaw(self.assessment), thaw(self.records))

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "submitted_at": _iso(self.submitted_at),
            "submitted_by": self.submitted_by,
            "assessment": thaw(self.assessment),
            "records": thaw(self.records),
            "declared_penalties": self.declared_penalties,
            "attachments": [a.to_dict() for a in self.attachments],
            "mine": thaw(self.mine),
            "score_report": thaw(self.score_report),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "ApplicationVersion":
        return cls(
            number=int(d["number"]),
            submitted_at=_parse_dt(d["submitted_at"]),
            submitted_by=d["submitted_by"],
            assessment=freeze(to_plain(d["assessment"])),
            records=freeze(to_plain(d.get("records") or {})),
            declared_penalties=bool(d["declared_penalties"]),
            attachments=tuple(AttachmentRef.from_dict(a) for a in d.get("attachments") or ()),
            mine=freeze(to_plain(d["mine"])) if d.get("mine") is not None else None,
            score_report=freeze(to_plain(d["score_report"])) if d.get("score_report") is not None else None,
        )


def _merge_records(assessment: dict | None, records: dict) -> dict:
    out = dict(assessment or {})
    indicators = {k: dict(v) for k, v in (out.get("indicators") or {}).items()}
    for key, text in records.items():
        if key in indicators and text:
            indicators[key]["record"] = text
    if indicators or "indicators" in out:
        out["indicators"] = indicators
    return out


# ---------------------------------------------------------------------------------------------------------------
# Domain events
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationCreated:
    application_id: str
    mine_id: str
    credit_code: str
    catalog: str
    at: datetime
    actor: str


@dataclass(frozen=True)
class ApplicationSubmitted:
    """First submission (version 1).  The adapter reads ``application.version(version)`` for the payload."""

    application_id: str
    mine_id: str
    credit_code: str
    catalog: str
    version: int
    at: datetime
    actor: str


@dataclass(frozen=True)
class ApplicationResubmitted:
    """A new version answering a return (退回补正)."""

    application_id: str
    mine_id: str
    credit_code: str
    catalog: str
    version: int
    previous_version: int
    at: datetime
    actor: str


@dataclass(frozen=True)
class ApplicationStatusChanged:
    """Any other transition (routed, returned, forwarded, rejected, listed …); ``detail`` carries reasons."""

    application_id: str
    action: str
    from_status: str
    to_status: str
    version: int | None
    at: datetime
    actor: str
    detail: Mapping


@dataclass(frozen=True)
class ScoreReportRecorded:
    application_id: str
    version: int
    verdict: str | None
    at: datetime


# ---------------------------------------------------------------------------------------------------------------
# The aggregate
# ---------------------------------------------------------------------------------------------------------------

_UNSET = object()


class Application:
    def __init__(
        self,
        id: str,
        mine_id: str,
        credit_code: str,
        catalog: str,
        *,
        status: str = "draft",
        assessment: Mapping | None = None,
        records: Mapping | None = None,
        declared_penalties: bool | None = None,
        attachments: Iterable[AttachmentRef] = (),
        versions: Iterable[ApplicationVersion] = (),
        returns: Iterable[ReturnRecord] = (),
        history: Iterable[HistoryEntry] = (),
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        revision: int = 0,
    ):
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self.id = id
        self.mine_id = mine_id
        self.credit_code = credit_code
        self.catalog = catalog
        self.status = status
        # the working draft
        self.assessment: dict | None = None if assessment is None else to_plain(assessment)
        self.records: dict[str, str] = dict(records or {})
        self.declared_penalties = declared_penalties
        self.attachments: list[AttachmentRef] = list(attachments)
        # the record
        self.versions: list[ApplicationVersion] = list(versions)
        self.returns: list[ReturnRecord] = list(returns)
        self.history: list[HistoryEntry] = list(history)
        self.created_at = created_at
        self.updated_at = updated_at
        self.revision = revision  # +1 on every change: the adapter's optimistic-concurrency check
        self.events: list = []

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.status} v{len(self.versions)}>"

    # -- creation ----------------------------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        id: str,
        mine_id: str,
        credit_code: str,
        catalog: str,
        at: datetime,
        actor: str,
        assessment: Mapping | None = None,
    ) -> "Application":
        """A new draft application of ``credit_code``'s enterprise for mine ``mine_id``."""
        _aware(at)
        errors = []
        if not isinstance(id, str) or not id.strip():
            errors.append(FieldError("id", "申报编号：不能为空"))
        if not isinstance(mine_id, str) or not mine_id.strip():
            errors.append(FieldError("mine_id", "矿山：未选择"))
        code, problems = check_credit_code(credit_code)
        errors += [FieldError("credit_code", f"统一社会信用代码：{p}") for p in problems]
        if not isinstance(catalog, str) or not catalog.strip():
            errors.append(FieldError("catalog", "评价指标版本：不能为空"))
        if errors:
            raise InvalidApplicationData(errors)
        app = cls(id, mine_id, code, catalog, created_at=at, updated_at=at)
        app._log(at, actor, "created", {"mine_id": mine_id, "catalog": catalog})
        app.events.append(ApplicationCreated(id, mine_id, code, catalog, at, actor))
        if assessment is not None:
            app.update_draft(at, actor, assessment=assessment)
        return app

    # -- reading -----------------------------------------------------------------------------------------------

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def latest_version(self) -> ApplicationVersion | None:
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> ApplicationVersion:
        for v in self.versions:
            if v.number == number:
                return v
        raise KeyError(f"申报没有第{number}版")

    @property
    def current_return(self) -> ReturnRecord | None:
        """The return being answered while the status is ``returned``."""
        return self.returns[-1] if self.status == "returned" and self.returns else None

    def allowed_actions(self) -> list[str]:
        return allowed_actions(self.status)

    def evidence_for(self, indicator: str) -> list[AttachmentRef]:
        return [a for a in self.attachments if a.indicator == indicator]

    def evaluate_materials(self, checklist: mat.MaterialsChecklist | None = None) -> mat.ChecklistResult:
        """The materials checklist over the draft's attachments (penalties undeclared count as none)."""
        return (checklist or mat.MaterialsChecklist()).evaluate(bool(self.declared_penalties), self.attachments)

    def assessment_with_records(self) -> dict:
        return _merge_records(self.assessment, self.records)

    def _draft_content(self) -> tuple:
        return (
            self.assessment,
            dict(self.records),
            self.declared_penalties,
            [a.to_dict() for a in self.attachments],
        )

    def has_unsubmitted_changes(self) -> bool:
        v = self.latest_version
        if v is None:
            return True
        return self._draft_content() != (
            thaw(v.assessment), thaw(v.records), v.declared_penalties, [a.to_dict() for a in v.attachments],
        )

    # -- draft editing -----------------------------------------------------------------------------------------

    def _check_editable(self) -> None:
        if not self.is_editable:
            raise NotEditable(
                self.status,
                f"申报当前状态为“{self.status_label}”，不能修改；只有草稿或退回补正的申报可以修改",
            )

    def update_draft(
        self,
        at: datetime,
        actor: str,
        *,
        assessment: object = _UNSET,
        records: object = _UNSET,
        declared_penalties: object = _UNSET,
    ) -> None:
        """Replace the given parts of the working draft (all checked first; nothing changes on an error)."""
        _aware(at)
        self._check_editable()
        errors: list[FieldError] = []
        changes: dict = {}
        if assessment is not _UNSET:
            changes["assessment"] = self._read_assessment(assessment, errors)
        if records is not _UNSET:
            changes["records"] = self._read_records(records, errors)
        if declared_penalties is not _UNSET:
            if declared_penalties is not None and not isinstance(declared_penalties, bool):
                errors.append(FieldError("declared_penalties", "近3年行政处罚声明：应为“是”或“否”"))
            changes["declared_penalties"] = declared_penalties
        if errors:
            raise InvalidApplicationData(errors)
        if not changes:
            return
        for k, v in changes.items():
            setattr(self, k, v)
        last = self.history[-1] if self.history else None
        if (last is not None and last.action == "draft_updated" and last.actor == actor
                and timedelta(0) <= at - last.at <= DRAFT_LOG_WINDOW):
            # Autosave edits a draft every few seconds: one history entry per editing session, not per save.
            fields = sorted(set(last.detail.get("fields") or ()) | set(changes))
            since = last.detail.get("since") or _iso(last.at)
            self.history[-1] = HistoryEntry(at, actor, "draft_updated", freeze({"fields": fields, "since": since}))
            self.updated_at = at
            self.revision += 1
        else:
            self._log(at, actor, "draft_updated", {"fields": sorted(changes)})

    def set_record(self, indicator: str, text: str, at: datetime, actor: str) -> None:
        """Set (or, with empty text, clear) one indicator's 检查记录."""
        _aware(at)
        self._check_editable()
        records = dict(self.records)
        if text is None or (isinstance(text, str) and not text.strip()):
            records.pop(indicator, None)
        else:
            records[indicator] = text
        errors: list[FieldError] = []
        records = self._read_records(records, errors)
        if errors:
            raise InvalidApplicationData(errors)
        self.records = records
        self._log(at, actor, "record_updated", {"indicator": indicator})

    def _read_assessment(self, assessment: object, errors: list[FieldError]) -> dict | None:
        if assessment is None:
            return None
        if not isinstance(assessment, Mapping):
            errors.append(FieldError("assessment", "自评估：格式不正确，应为一个对象"))
            return None
        try:
            plain = to_plain(assessment)
        except ValueError as exc:
            errors.append(FieldError("assessment", f"自评估：{exc}"))
            return None
        cat = plain.get("catalog")
        if cat is not None and cat != self.catalog:
            errors.append(FieldError("assessment.catalog", f"自评估：评价指标版本应为“{self.catalog}”，不是“{cat}”"))
        plain.setdefault("catalog", self.catalog)
        return plain

    def _read_records(self, records: object, errors: list[FieldError]) -> dict[str, str]:
        if records is None:
            return {}
        if not isinstance(records, Mapping):
            errors.append(FieldError("records", "检查记录：格式不正确"))
            return {}
        out = {}
        for key, text in records.items():
            path = f"records.{key}"
            if not isinstance(key, str) or not _INDICATOR_KEY.fullmatch(key):
                errors.append(FieldError(path, f"检查记录：“{key}”不是指标编号（1–50 或 P1–P5）"))
                continue
            if not isinstance(text, str):
                errors.append(FieldError(path, f"{_indicator_label(key)}检查记录：应为文字"))
                continue
            if len(text) > RECORD_MAX_LENGTH:
                errors.append(FieldError(
                    path, f"{_indicator_label(key)}检查记录：过长（最多{RECORD_MAX_LENGTH}字，可在自评报告中详述）"))
                continue
            if text.strip():
                out[key] = text
        return out

    def add_attachment(self, ref: AttachmentRef, at: datetime, actor: str) -> None:
        _aware(at)
        self._check_editable()
        errors = ref.problems()
        if any(a.id == ref.id for a in self.attachments):
            errors.append(FieldError("attachment.id", "附件已存在"))
        if len(self.attachments) >= MAX_ATTACHMENTS:
            errors.append(FieldError("attachments", f"附件数量不能超过{MAX_ATTACHMENTS}个"))
        if errors:
            raise InvalidApplicationData(errors)
        self.attachments.append(ref)
        self._log(at, actor, "attachment_added",
                  {"attachment": ref.id, "kind": ref.kind, "indicator": ref.indicator, "filename": ref.filename})

    def remove_attachment(self, attachment_id: str, at: datetime, actor: str) -> AttachmentRef:
        """Remove from the draft.  Versions keep their references, so the file must stay stored while any
        version refers to it."""
        _aware(at)
        self._check_editable()
        for i, a in enumerate(self.attachments):
            if a.id == attachment_id:
                del self.attachments[i]
                self._log(at, actor, "attachment_removed", {"attachment": a.id, "kind": a.kind})
                return a
        raise InvalidApplicationData([FieldError("attachment.id", "附件不存在")])

    def is_referenced_by_a_version(self, attachment_id: str) -> bool:
        return any(a.id == attachment_id for v in self.versions for a in v.attachments)

    # -- submission --------------------------------------------------------------------------------------------

    def check_can_submit(
        self,
        materials_checklist: Iterable[object] | None = None,
        assessment_errors: Iterable[object] = (),
        mine_problems: Iterable[FieldError] = (),
    ) -> list[FieldError]:
        """Everything that stops a submission now, as a list (empty = may submit).

        ``materials_checklist``: the evaluated checklist (``evaluate_materials()`` by default); ``assessment_errors``:
        the scoring engine's errors for the draft assessment (FieldError, ``{field, message}`` dicts or strings);
        ``mine_problems``: ``Mine.submission_problems(today)``.
        """
        problems: list[FieldError] = []
        if not self.is_editable:
            problems.append(FieldError("status", str(_transition_error(self.status, "submit"))))
        if not self.assessment or not self.assessment.get("indicators"):
            problems.append(FieldError("assessment", "自评估：尚未填写"))
        for e in assessment_errors:
            problems.append(_as_assessment_error(e))
        if self.declared_penalties is None:
            problems.append(FieldError(
                "declared_penalties", "近3年行政处罚声明：请声明截至申报之日前3年是否受到行政处罚"))
        checklist = self.evaluate_materials() if materials_checklist is None else materials_checklist
        for entry in checklist:
            status = entry.get("status") if isinstance(entry, Mapping) else entry.status
            if status == mat.MISSING:
                kind = entry.get("kind") if isinstance(entry, Mapping) else entry.kind
                label = entry.get("label") if isinstance(entry, Mapping) else entry.label
                mk = mat.kind_by_code(kind)
                item = mat.ITEMS[mk.item][:3] if mk and mk.item else ""
                problems.append(FieldError(f"materials.{kind}", f"申报材料{item}：缺少“{label}”"))
        problems.extend(mine_problems)
        if self.status == "returned" and not self.has_unsubmitted_changes():
            problems.append(FieldError("draft", "补正：与上一版本相比没有任何修改，请按退回意见补正后再提交"))
        return problems

    def submit(
        self,
        at: datetime,
        actor: str,
        materials_checklist: Iterable[object] | None = None,
        assessment_errors: Iterable[object] = (),
        mine_problems: Iterable[FieldError] = (),
        mine_snapshot: Mapping | None = None,
    ) -> ApplicationVersion:
        """Freeze the draft as the next version (submit from draft, resubmit from returned).

        Raises ``InvalidTransition`` in any other status and ``SubmissionRefused`` (all problems listed) when
        something is missing; nothing changes in either case.
        """
        _aware(at)
        action = "resubmit" if self.status == "returned" else "submit"
        if (self.status, action) not in TRANSITIONS:
            raise _transition_error(self.status, "submit")
        problems = self.check_can_submit(materials_checklist, list(assessment_errors), list(mine_problems))
        if problems:
            raise SubmissionRefused(problems)
        previous = self.latest_version
        version = ApplicationVersion(
            number=len(self.versions) + 1,
            submitted_at=at,
            submitted_by=actor,
            assessment=freeze(self.assessment),
            records=freeze(dict(self.records)),
            declared_penalties=bool(self.declared_penalties),
            attachments=tuple(self.attachments),
            mine=None if mine_snapshot is None else freeze(to_plain(mine_snapshot)),
        )
        self.versions.append(version)
        self._move(action, at, actor, {"version": version.number})
        if action == "submit":
            self.events.append(ApplicationSubmitted(
                self.id, self.mine_id, self.credit_code, self.catalog, version.number, at, actor))
        else:
            self.events.append(ApplicationResubmitted(
                self.id, self.mine_id, self.credit_code, self.catalog, version.number, previous.number, at, actor))
        return version

    def record_score_report(self, version_number: int, report: Mapping, at: datetime, actor: str = "scoring") -> bool:
        """Attach the scoring engine's report to a version, once.  Replaying the same report changes nothing
        (returns False); a different report for an already-scored version raises ``VersionFrozen``."""
        _aware(at)
        version = self.version(version_number)
        plain = to_plain(report)
        if version.score_report is not None:
            if thaw(version.score_report) == plain:
                return False
            raise VersionFrozen(f"第{version_number}版已有评分结果，不能更改")
        i = self.versions.index(version)
        self.versions[i] = replace(version, score_report=freeze(plain))
        verdict = plain.get("verdict") if isinstance(plain, dict) else None
        self._log(at, actor, "score_recorded", {"version": version_number, "verdict": verdict,
                                                "total": plain.get("total") if isinstance(plain, dict) else None})
        self.events.append(ScoreReportRecorded(self.id, version_number, verdict, at))
        return True

    # -- review outcomes (from other services' events) ---------------------------------------------------------

    def mark_routed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        """The review routing service has created the department tasks (已分派，审核中)."""
        self._move("route", at, actor, dict(detail or {}))

    def return_for_correction(self, at: datetime, actor: str, reasons: Mapping[str, str], comment: str = "") -> None:
        """退回补正 with reasons per indicator (keys "1"–"50", "P1"–"P5", or "materials.<kind>")."""
        _aware(at)
        errors = self._read_reasons(reasons, require=True)
        if errors:
            raise InvalidApplicationData(errors)
        clean = {k: v.strip() for k, v in reasons.items()}
        version = self.latest_version.number if self.versions else 0
        detail = {"version": version, "reasons": clean, "comment": comment or ""}
        self._move("return", at, actor, detail)
        self.returns.append(ReturnRecord(version, at, actor, freeze(clean), comment or ""))

    def forward(self, at: datetime, actor: str, comment: str = "") -> None:
        """初审通过，报自治区自然资源厅."""
        self._move("forward", at, actor, {"comment": comment or ""})

    def reject(self, at: datetime, actor: str, reasons: Mapping[str, str] | None = None, comment: str = "") -> None:
        """不予通过: at least a comment or one reason."""
        _aware(at)
        reasons = dict(reasons or {})
        errors = self._read_reasons(reasons, require=False)
        if not reasons and not (comment or "").strip():
            errors.append(FieldError("comment", "不予通过：须说明理由"))
        if errors:
            raise InvalidApplicationData(errors)
        self._move("reject", at, actor, {"reasons": {k: v.strip() for k, v in reasons.items()},
                                         "comment": comment or ""})

    def mark_listed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        self._move("list", at, actor, dict(detail or {}))

    def mark_not_listed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        self._move("not_list", at, actor, dict(detail or {}))

    def mark_removed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        self._move("remove", at, actor, dict(detail or {}))

    def _read_reasons(self, reasons: object, require: bool) -> list[FieldError]:
        if not isinstance(reasons, Mapping):
            return [FieldError("reasons", "退回理由：格式不正确")]
        errors = []
        if require and not reasons:
            errors.append(FieldError("reasons", "退回理由：请至少就一项指标或材料说明退回理由"))
        for key, text in reasons.items():
            if not isinstance(key, str) or not (
                _INDICATOR_KEY.fullmatch(key) or (key.startswith("materials.") and mat.kind_by_code(key[10:]))
                or key == "general"
            ):
                errors.append(FieldError(f"reasons.{key}", f"退回理由：“{key}”不是指标编号或材料类型"))
            elif not isinstance(text, str) or not text.strip():
                errors.append(FieldError(f"reasons.{key}", "退回理由：理由不能为空"))
            elif len(text) > REASON_MAX_LENGTH:
                errors.append(FieldError(f"reasons.{key}", f"退回理由：过长（最多{REASON_MAX_LENGTH}字）"))
        return errors

    # -- internals ---------------------------------------------------------------------------------------------

    def can(self, action: str) -> bool:
        return (self.status, action) in TRANSITIONS

    def _move(self, action: str, at: datetime, actor: str, detail: dict) -> None:
        _aware(at)
        key = (self.status, action)
        if key not in TRANSITIONS:
            raise _transition_error(self.status, action)
        before, after = self.status, TRANSITIONS[key]
        self.status = after
        self._log(at, actor, action, {"from": before, "to": after, **detail})
        if action not in ("submit", "resubmit"):
            self.events.append(ApplicationStatusChanged(
                self.id, action, before, after, self.latest_version.number if self.versions else None, at, actor,
                freeze(to_plain(detail)),
            ))

    def _log(self, at: datetime, actor: str, action: str, detail: dict) -> None:
        self.history.append(HistoryEntry(at, actor, action, freeze(to_plain(detail))))
        self.updated_at = at
        self.revision += 1

    # -- persistence -------------------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "mine_id": self.mine_id,
            "credit_code": self.credit_code,
            "catalog": self.catalog,
            "status": self.status,
            "revision": self.revision,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "draft": {
                "assessment": thaw(self.assessment),
                "records": dict(self.records),
                "declared_penalties": self.declared_penalties,
                "attachments": [a.to_dict() for a in self.attachments],
            },
            "versions": [v.to_dict() for v in self.versions],
            "returns": [r.to_dict() for r in self.returns],
            "history": [h.to_dict() for h in self.history],
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "Application":
        draft = d.get("draft") or {}
        return cls(
            d["id"],
            d["mine_id"],
            d["credit_code"],
            d["catalog"],
            status=d["status"],
            assessment=draft.get("assessment"),
            records=draft.get("records") or {},
            declared_penalties=draft.get("declared_penalties"),
            attachments=[AttachmentRef.from_dict(a) for a in draft.get("attachments") or ()],
            versions=[ApplicationVersion.from_dict(v) for v in d.get("versions") or ()],
            returns=[ReturnRecord.from_dict(r) for r in d.get("returns") or ()],
            history=[HistoryEntry.from_dict(h) for h in d.get("history") or ()],
            created_at=_parse_dt(d.get("created_at")),
            updated_at=_parse_dt(d.get("updated_at")),
            revision=int(d.get("revision") or 0),
        )


def _as_assessment_error(e: object) -> FieldError:
    if isinstance(e, FieldError):
        field, message = e.field, e.message
    elif isinstance(e, Mapping):
        field, message = str(e.get("field") or ""), str(e.get("message") or "")
    else:
        field, message = "", str(e)
    return FieldError(f"assessment.{field}" if field else "assessment", f"自评估：{message}")
