"""Domain errors of the review: every refusal names the field and says why, in Chinese."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def to_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


class ReviewError(Exception):
    """Base class. `message` is for people; `errors` lists field-level reasons (may be empty)."""

    status = 422

    def __init__(self, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])

    def error_map(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for error in self.errors:
            out.setdefault(error.field, []).append(error.message)
        return out


class InvalidInput(ReviewError):
    """The request carries data the rules refuse (422)."""


class InvalidTransition(ReviewError):
    """The task or case is not in a state that allows the action (409)."""

    status = 409


class NotPermitted(ReviewError):
    """The caller may not act on this task or case (403)."""

    status = 403


class RoutingError(ReviewError):
    """A submitted application cannot be routed (the event is dead-lettered with this reason)."""


class NotFound(ReviewError):
    """No such task, case, photo or attachment (404)."""

    status = 404


class Conflict(ReviewError):
    """Somebody else changed the task or case meanwhile (409): reload and try again."""

    status = 409


class Unavailable(ReviewError):
    """A service this step depends on did not answer (503)."""

    status = 503
