"""What people and the clock ask of the review: one small frozen dataclass per use case, handled by one
function of `service_layer` through the bus (`bootstrap.bootstrap()`).

Changes are named imperatively (`ClaimTask`); the reads the pages and the API need are commands too
(`ShowQueue`), so every entrypoint reaches the service the same way. `actor` is who asks
(`domain.access.Actor`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from review_routing.domain.access import Actor


# --- task actions ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimTask:
    actor: Actor
    task_id: str


@dataclass(frozen=True)
class UnclaimTask:
    actor: Actor
    task_id: str


@dataclass(frozen=True)
class TransferTask:
    actor: Actor
    task_id: str
    to_user: str
    reason: str = ""


@dataclass(frozen=True)
class RemindTask:
    actor: Actor
    task_id: str
    message: str = ""


@dataclass(frozen=True)
class GiveOpinion:
    """`body`: the opinion with its values typed (see domain.opinion.parse_opinion)."""
    actor: Actor
    task_id: str
    body: Mapping[str, Any]


@dataclass(frozen=True)
class UploadPhoto:
    actor: Actor
    task_id: str
    filename: str
    content_type: str | None
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class OpenPhoto:
    actor: Actor
    photo_id: str


@dataclass(frozen=True)
class ViewEvidence:
    actor: Actor
    task_id: str
    attachment_id: str
    inline: bool = False            # PDF / JPEG / PNG in the browser's viewer instead of a download


@dataclass(frozen=True)
class ViewCaseEvidence:
    actor: Actor
    application_id: str
    version_no: int
    attachment_id: str
    inline: bool = False


# --- the lead bureau's decision -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DecideCase:
    """forward / return / reject a case version (`version_no` None: the latest)."""
    actor: Actor
    application_id: str
    decision: str | None
    version_no: int | None = None
    reasons: tuple[Mapping[str, Any], ...] | None = None


# --- the clock ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepOverdue:
    """Flag overdue tasks and send the automatic reminders (on working days)."""


# --- reads ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShowQueue:
    actor: Actor
    department: str
    status: tuple[str, ...] = ()
    due_before: date | None = None
    due_after: date | None = None
    league: str | None = None
    mine: str | None = None
    overdue: bool | None = None
    limit: int = 200
    offset: int = 0


@dataclass(frozen=True)
class ShowTask:
    actor: Actor
    task_id: str


@dataclass(frozen=True)
class ListColleagues:
    actor: Actor
    task_id: str


@dataclass(frozen=True)
class ListCases:
    actor: Actor
    league: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class ShowCase:
    """The countersign view; `rescore` asks scoring for the re-score of the version under review."""
    actor: Actor
    application_id: str
    rescore: bool = True


@dataclass(frozen=True)
class ShowAuditLog:
    actor: Actor
    application_id: str | None = None
    task_id: str | None = None


# --- printable sheets -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrintOpinionSheet:
    """部门审核意见表 of a task (its current opinion)."""
    actor: Actor
    task_id: str


@dataclass(frozen=True)
class PrintCountersignSheet:
    """会签单 of a case version (`version_no` None: the latest)."""
    actor: Actor
    application_id: str
    version_no: int | None = None


@dataclass(frozen=True)
class PrintDecision:
    """初审意见 of a decided case version (`version_no` None: the latest)."""
    actor: Actor
    application_id: str
    version_no: int | None = None
