"""The errors every service's domain and service layer raise, and nothing about HTTP.

A refusal carries a message for people (Chinese) and, where it is about input, the fields at fault. Each
class means one thing to the caller; `shared.web` maps the classes to HTTP statuses once for every app, the
consumer treats them as permanent failures, and the CLI prints them and exits 2. Services subclass these to
give a refusal its domain name (`SubmissionRefused(InvalidInput)`), never to change what it means.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FieldError", "DomainError", "InvalidInput", "InvalidTransition", "NotPermitted", "NotFound",
           "Conflict", "Unavailable", "TooManyAttempts", "error_map"]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: `field` is a dotted path (``mining_licence.valid_to``, ``minerals[1].other``);
    ``(body)`` names the request as a whole."""

    field: str
    message: str

    def to_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


def error_map(errors: Iterable[FieldError]) -> dict[str, list[str]]:
    """Field path → its messages, in order (the shape of every 422 body's `errors`)."""
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(error.field or "(body)", []).append(error.message)
    return out


class DomainError(Exception):
    """Base class. `message` is for people; `errors` lists field-level reasons (may be empty)."""

    def __init__(self, message: str, errors: Iterable[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])

    def error_map(self) -> dict[str, list[str]]:
        return error_map(self.errors)

    def to_list(self) -> list[dict]:
        return [e.to_dict() for e in self.errors]


class InvalidInput(DomainError):
    """The input carries data the rules refuse; `errors` names each field and why."""


class InvalidTransition(DomainError):
    """The record is not in a state that allows the action (a submitted version, a closed task)."""


class NotPermitted(DomainError):
    """The caller may not act on this record."""


class NotFound(DomainError):
    """No such record (or none the caller may know of)."""


class Conflict(DomainError):
    """Somebody else changed the record meanwhile, or it exists already: reload and try again."""


class Unavailable(DomainError):
    """A service this step depends on did not answer; nothing was changed."""


class TooManyAttempts(DomainError):
    """The caller tried too often in a while (a rate limit): nothing was done; `retry_after` is how many whole
    seconds to wait before trying again (at least 1)."""

    def __init__(self, message: str, retry_after: float, errors: Iterable[FieldError] | None = None):
        super().__init__(message, errors)
        self.retry_after = max(1, math.ceil(retry_after))
