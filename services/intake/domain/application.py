"""The ``Application`` aggregate (申报).

An application is made for one mine by its enterprise against one evaluation index (``catalog``, e.g. nm-2025).
While it is a draft (or returned for correction) the enterprise edits a working draft: the self-assessment in the
scoring contract's shape (contracts/scoring/assessment.v1.schema.json), a 检查记录 text per indicator, the declaration
of penalties within 3 years (which makes 附件2 一(三) required) and attachment references (materials of 附件2 一, and
evidence per indicator).  Submitting freezes the draft into a numbered ``ApplicationVersion`` (``values.py``);
later edits build a new draft on top, old versions stay readable and never change (except that a version's score
report is written once).  A return (退回补正) records reasons per indicator and lets the enterprise resubmit.

The status machine is the table of ``status.py``; anything not in it raises ``InvalidTransition`` with a Chinese
message.  Every step adds a ``HistoryEntry``; a submission adds an ``ApplicationSubmitted`` /
``ApplicationResubmitted`` event to ``self.events`` (``events.py``), which the submission handler publishes.  Time is
always a parameter (an aware ``datetime``); the domain never reads the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from . import materials as mat
from .draft_input import read_assessment, read_declared_penalties, read_records, reasons_problems
from .errors import FieldError, InvalidApplicationData, NotEditable, SubmissionRefused, VersionFrozen
from .events import ApplicationResubmitted, ApplicationSubmitted
from .identifiers import check_credit_code
from .plain import aware as _aware
from .plain import freeze, thaw, to_plain
from .plain import iso as _iso
from .plain import parse_dt as _parse_dt
from .status import (
    ACTIONS,
    EDITABLE_STATUSES,
    RETURN_STATUSES,
    STATUSES,
    TRANSITIONS,
    allowed_actions,
    transition_error,
)
from .values import (
    DRAFT_LOG_WINDOW,
    MAX_ATTACHMENTS,
    ApplicationVersion,
    AttachmentRef,
    HistoryEntry,
    ReturnRecord,
    evidence_by_indicator,
    merge_records,
)

__all__ = ["STATUSES", "ACTIONS", "TRANSITIONS", "EDITABLE_STATUSES", "DRAFT_LOG_WINDOW", "allowed_actions",
           "AttachmentRef", "HistoryEntry", "ReturnRecord", "ApplicationVersion", "Application",
           "ApplicationSubmitted", "ApplicationResubmitted", "to_plain", "freeze", "thaw"]

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
        case_no: str | None = None,
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
        self.case_no = case_no  # 办件编号, given on the first submission and kept by every version
        self.events: list = []  # ApplicationSubmitted / ApplicationResubmitted, drained by the handler

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
    ) -> Application:
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
        """The return being answered while the status is ``returned`` (or ``rectification``, the region's)."""
        return self.returns[-1] if self.status in RETURN_STATUSES and self.returns else None

    def allowed_actions(self) -> list[str]:
        return allowed_actions(self.status)

    def evidence_for(self, indicator: str) -> list[AttachmentRef]:
        return [a for a in self.attachments if a.indicator == indicator]

    def evaluate_materials(self, checklist: mat.MaterialsChecklist | None = None) -> mat.ChecklistResult:
        """The materials checklist over the draft's attachments (penalties undeclared count as none)."""
        return (checklist or mat.MaterialsChecklist()).evaluate(bool(self.declared_penalties), self.attachments)

    def assessment_with_records(self) -> dict:
        """The draft as it is scored and submitted: 检查记录 and, per scored entry, its evidence (缺少支撑材料或
        证明材料不得分)."""
        return merge_records(self.assessment, self.records, evidence_by_indicator(self.attachments))

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
            changes["assessment"] = read_assessment(assessment, self.catalog, errors)
        if records is not _UNSET:
            changes["records"] = read_records(records, errors)
        if declared_penalties is not _UNSET:
            changes["declared_penalties"] = read_declared_penalties(declared_penalties, errors)
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
        records = read_records(records, errors)
        if errors:
            raise InvalidApplicationData(errors)
        self.records = records
        self._log(at, actor, "record_updated", {"indicator": indicator})

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
            problems.append(FieldError("status", str(transition_error(self.status, "submit"))))
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
        if self.status in RETURN_STATUSES and not self.has_unsubmitted_changes():
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
        case_no: str | Callable[[], str] | None = None,
    ) -> ApplicationVersion:
        """Freeze the draft as the next version (submit from draft, resubmit from returned).

        ``case_no``: the 办件编号 for a first submission (``case_numbers.py``), or a function allocating it,
        called only once the submission is accepted; an application that already has one keeps it (a
        resubmission never gets a new number).

        Raises ``InvalidTransition`` in any other status and ``SubmissionRefused`` (all problems listed) when
        something is missing; nothing changes in either case.
        """
        _aware(at)
        action = "resubmit" if self.status in RETURN_STATUSES else "submit"
        if (self.status, action) not in TRANSITIONS:
            raise transition_error(self.status, "submit")
        problems = self.check_can_submit(materials_checklist, list(assessment_errors), list(mine_problems))
        if problems:
            raise SubmissionRefused(problems)
        if case_no is not None and self.case_no is not None:
            raise ValueError(f"application {self.id} already has case number {self.case_no}")
        if callable(case_no):
            case_no = case_no()
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
            evidence_rule=True,
        )
        self.versions.append(version)
        if self.case_no is None and case_no is not None:
            self.case_no = case_no
        self._move(action, at, actor, {"version": version.number, **({"case_no": self.case_no}
                                                                      if self.case_no else {})})
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
        return True

    # -- review outcomes (from other services' events) ---------------------------------------------------------

    def mark_routed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        """The review routing service has created the department tasks (已分派，审核中)."""
        self._move("route", at, actor, dict(detail or {}))

    def return_for_correction(self, at: datetime, actor: str, reasons: Mapping[str, str], comment: str = "") -> None:
        """退回补正 with reasons per indicator (keys "1"–"50", "P1"–"P5", or "materials.<kind>")."""
        _aware(at)
        errors = reasons_problems(reasons, require=True)
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
        errors = reasons_problems(reasons, require=False)
        if not reasons and not (comment or "").strip():
            errors.append(FieldError("comment", "不予通过：须说明理由"))
        if errors:
            raise InvalidApplicationData(errors)
        self._move("reject", at, actor, {"reasons": {k: v.strip() for k, v in reasons.items()},
                                         "comment": comment or ""})

    # -- the region stage (review_routing's region events) ------------------------------------------------------

    def mark_commissioned(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        """The region office commissioned a third-party evaluation institution (自治区评估中)."""
        self._move("commission", at, actor, dict(detail or {}))

    def propose(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        """The region decided: evaluation and checks passed, the mine goes to the public notice (拟公示)."""
        self._move("propose", at, actor, dict(detail or {}))

    def rectify(self, at: datetime, actor: str, reasons: Mapping[str, str], comment: str = "") -> None:
        """退回整改 by the region, with reasons per indicator (answered like a 退回补正: edit and resubmit)."""
        _aware(at)
        errors = reasons_problems(reasons, require=True)
        if errors:
            raise InvalidApplicationData(errors)
        clean = {k: v.strip() for k, v in reasons.items()}
        version = self.latest_version.number if self.versions else 0
        self._move("rectify", at, actor, {"version": version, "reasons": clean, "comment": comment or ""})
        self.returns.append(ReturnRecord(version, at, actor, freeze(clean), comment or ""))

    def region_reject(self, at: datetime, actor: str, reasons: Mapping[str, str] | None = None,
                      comment: str = "") -> None:
        """不予通过 by the region: at least a comment or one reason."""
        _aware(at)
        reasons = dict(reasons or {})
        errors = reasons_problems(reasons, require=False)
        if not reasons and not (comment or "").strip():
            errors.append(FieldError("comment", "不予通过：须说明理由"))
        if errors:
            raise InvalidApplicationData(errors)
        self._move("region_reject", at, actor, {"reasons": {k: v.strip() for k, v in reasons.items()},
                                                "comment": comment or ""})

    def mark_listed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        self._move("list", at, actor, dict(detail or {}))

    def mark_not_listed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        self._move("not_list", at, actor, dict(detail or {}))

    def mark_removed(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        self._move("remove", at, actor, dict(detail or {}))

    # -- the public notice (public_notice's listing events) -----------------------------------------------------

    def publicise(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        """公示 opened for the mine (the batch and its window in the detail)."""
        self._move("publicise", at, actor, dict(detail or {}))

    def return_after_objection(self, at: datetime, actor: str, detail: Mapping | None = None) -> None:
        """An objection was upheld and the case goes back to the region, which decides again (自治区评估中)."""
        self._move("objection_return", at, actor, dict(detail or {}))

    def note(self, at: datetime, actor: str, action: str, detail: Mapping | None = None) -> None:
        """A step on the case's history that changes no status (an objection filed or not upheld)."""
        _aware(at)
        self._log(at, actor, action, dict(detail or {}))

    # -- internals ---------------------------------------------------------------------------------------------

    def pop_events(self) -> list:
        """The domain events since the last call (the handler publishes them with the change)."""
        events, self.events = self.events, []
        return events

    def can(self, action: str) -> bool:
        return (self.status, action) in TRANSITIONS

    def _move(self, action: str, at: datetime, actor: str, detail: dict) -> None:
        _aware(at)
        key = (self.status, action)
        if key not in TRANSITIONS:
            raise transition_error(self.status, action)
        before, after = self.status, TRANSITIONS[key]
        self.status = after
        self._log(at, actor, action, {"from": before, "to": after, **detail})

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
            "case_no": self.case_no,
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
    def from_dict(cls, d: Mapping) -> Application:
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
            case_no=d.get("case_no"),
        )


def _as_assessment_error(e: object) -> FieldError:
    if isinstance(e, FieldError):
        field, message = e.field, e.message
    elif isinstance(e, Mapping):
        field, message = str(e.get("field") or ""), str(e.get("message") or "")
    else:
        field, message = "", str(e)
    return FieldError(f"assessment.{field}" if field else "assessment", f"自评估：{message}")
