"""Value objects of an application: attachment references, history entries, returns and submitted versions.

All frozen; their content is deeply read-only (``plain.freeze``) and ``to_dict``/``from_dict`` round-trip plain
JSON values."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import materials as mat
from .errors import FieldError
from .plain import aware as _aware
from .plain import freeze, thaw, to_plain
from .plain import iso as _iso
from .plain import parse_dt as _parse_dt

__all__ = ["AttachmentRef", "HistoryEntry", "ReturnRecord", "ApplicationVersion", "merge_records",
           "evidence_by_indicator", "INDICATOR_KEY", "indicator_label",
           "RECORD_MAX_LENGTH", "REASON_MAX_LENGTH", "MAX_ATTACHMENTS", "DRAFT_LOG_WINDOW"]

INDICATOR_KEY = re.compile(r"P[1-9][0-9]?|[1-9][0-9]?")
RECORD_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 2000
MAX_ATTACHMENTS = 500
#: Consecutive draft edits by one person within this window share one history entry (autosave).
DRAFT_LOG_WINDOW = timedelta(minutes=30)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def indicator_label(key: str) -> str:
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
            isinstance(self.indicator, str) and INDICATOR_KEY.fullmatch(self.indicator)
        ):
            errs.append(FieldError("attachment.indicator",
                                   f"所属指标：“{self.indicator}”不是指标编号（1–50 或 P1–P5）"))
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
    def from_dict(cls, d: Mapping) -> AttachmentRef:
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
    def from_dict(cls, d: Mapping) -> HistoryEntry:
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
    def from_dict(cls, d: Mapping) -> ReturnRecord:
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
    # Submitted under 缺少支撑材料或证明材料不得分 (issue 11): its assessment carries each entry's `evidence`.
    # Versions submitted before keep being read without it, so their scores never change.
    evidence_rule: bool = False

    def evidence_for(self, indicator: str) -> list[AttachmentRef]:
        return [a for a in self.attachments if a.indicator == indicator]

    def assessment_with_records(self) -> dict:
        """The assessment with each indicator's 检查记录 copied into its entry (``record``) and, for a version
        submitted under the evidence rule, its evidence (``evidence``), for scoring/printing."""
        evidence = evidence_by_indicator(self.attachments) if self.evidence_rule else None
        return merge_records(thaw(self.assessment), thaw(self.records), evidence)

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
            **({"evidence_rule": True} if self.evidence_rule else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> ApplicationVersion:
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
            evidence_rule=bool(d.get("evidence_rule", False)),
        )


def evidence_by_indicator(attachments) -> dict[str, list[str]]:
    """Indicator number ("1"–"50") → the ids of the evidence files attached to it, in upload order."""
    out: dict[str, list[str]] = {}
    for a in attachments:
        if a.kind == mat.EVIDENCE and a.indicator and not a.indicator.startswith("P"):
            out.setdefault(a.indicator, []).append(a.id)
    return out


def merge_records(assessment: dict | None, records: dict, evidence: Mapping | None = None) -> dict:
    """The assessment with the 检查记录 in each entry (``record``); with `evidence` (indicator → attachment
    ids), every scored entry also says which files support it (``evidence``, possibly empty: the scoring
    engine then counts a claimed score as 0). Not-applicable entries need none."""
    out = dict(assessment or {})
    indicators = {k: dict(v) if isinstance(v, Mapping) else v for k, v in (out.get("indicators") or {}).items()}
    for key, text in records.items():
        if isinstance(indicators.get(key), dict) and text:
            indicators[key]["record"] = text
    if evidence is not None:
        for key, entry in indicators.items():
            if isinstance(entry, dict) and entry.get("not_applicable") is not True:
                entry["evidence"] = list(evidence.get(key, ()))
    if indicators or "indicators" in out:
        out["indicators"] = indicators
    return out
