"""Errors of the intake use cases, each mapping to one HTTP status (see entrypoints/http.py)."""
from __future__ import annotations

from collections.abc import Iterable

from intake.domain.errors import FieldError


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    """The record changed meanwhile, or the status does not allow the action (409)."""

    status = 409


class Unavailable(ServiceError):
    """A service we depend on (scoring) did not answer; nothing was changed (503)."""

    status = 503


class Invalid(ServiceError):
    """Field errors (422): ``errors`` maps a dotted field path to its Chinese messages."""

    status = 422

    def __init__(self, message: str, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(message)

    @classmethod
    def from_field_errors(cls, message: str, errors: Iterable[FieldError]) -> "Invalid":
        out: dict[str, list[str]] = {}
        for e in errors:
            out.setdefault(e.field or "(body)", []).append(e.message)
        return cls(message, out)
