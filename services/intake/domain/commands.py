"""What people and other services ask of intake, as small immutable commands (handled in ``service_layer``).

A command carries the acting ``principal`` (``shared.identity.Principal``) where a rule depends on who asks.
Fields left ``UNSET`` are not part of the request (``None`` is a value: "clear it")."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: A field the request did not carry.
UNSET: Any = _Unset()


# -- mines ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterMine:
    principal: Any
    data: Mapping


@dataclass(frozen=True)
class UpdateMine:
    principal: Any
    mine_id: str
    data: Mapping
    expected_version: int | None = None


# -- applications --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StartApplication:
    principal: Any
    mine_id: str
    assessment: Any = None
    records: Any = None
    declared_penalties: Any = UNSET
    catalog: str | None = None


@dataclass(frozen=True)
class EditDraft:
    """Replace parts of the working draft; ``record_patch`` sets single 检查记录 texts ({indicator: text})."""

    principal: Any
    application_id: str
    assessment: Any = UNSET
    records: Any = UNSET
    declared_penalties: Any = UNSET
    record_patch: Mapping | None = None
    expected_revision: int | None = None


@dataclass(frozen=True)
class AddAttachment:
    principal: Any
    application_id: str
    kind: str
    indicator: str | None
    stream: BinaryIO = field(repr=False)
    filename: str
    declared_type: str | None = None


@dataclass(frozen=True)
class RemoveAttachment:
    principal: Any
    application_id: str
    attachment_id: str


@dataclass(frozen=True)
class OpenAttachment:
    """Download a file of the draft or of any version (the download is audited)."""

    principal: Any
    application_id: str
    attachment_id: str


@dataclass(frozen=True)
class SubmitApplication:
    """Submit a draft, or resubmit after a return (退回补正)."""

    principal: Any
    application_id: str


# -- queries -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListMines:
    principal: Any


@dataclass(frozen=True)
class GetMine:
    principal: Any
    mine_id: str


@dataclass(frozen=True)
class ListApplications:
    principal: Any
    status: str | None = None
    mine_id: str | None = None


@dataclass(frozen=True)
class GetApplication:
    principal: Any
    application_id: str


@dataclass(frozen=True)
class GetVersion:
    principal: Any
    application_id: str
    number: int


@dataclass(frozen=True)
class GetAuditTrail:
    principal: Any
    application_id: str


@dataclass(frozen=True)
class GetReceipt:
    """The receipt (回执) of a submitted version (the latest when ``version`` is None)."""

    principal: Any
    application_id: str
    version: int | None = None


@dataclass(frozen=True)
class GetScoreSheet:
    principal: Any
    application_id: str
    version: int | None
    format: str


# -- operators -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportMine:
    """Register a mine under a fixed id unless it exists (demo data, migrations); ``actor`` names the source."""

    mine_id: str
    data: Mapping
    actor: str
    at: Any


@dataclass(frozen=True)
class ImportDraft:
    """Start a draft application under a fixed id for a mine that has none yet (demo data)."""

    application_id: str
    mine_id: str
    catalog: str
    draft: Mapping
    actor: str
    owner: str
    at: Any
