"""The application's domain events other services hear of: the aggregate appends them to ``events`` when a
version is submitted, and the submission handler turns each into the contract event
``intake.application_submitted`` (``adapters/translators.py``) in the same transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["ApplicationSubmitted", "ApplicationResubmitted"]


@dataclass(frozen=True)
class ApplicationSubmitted:
    """First submission (version 1).  The translator reads ``application.version(version)`` for the payload."""

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
