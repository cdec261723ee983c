"""Domain errors of the review: every refusal names the field and says why, in Chinese.

The classes are `shared.errors`' (mapped to HTTP once by `shared.web`, permanent failures for the consumer);
the review adds only the names it needs."""
from __future__ import annotations

from shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    Unavailable,
)

__all__ = ["FieldError", "DomainError", "InvalidInput", "InvalidTransition", "NotPermitted", "NotFound",
           "Conflict", "Unavailable", "RoutingError"]


class RoutingError(InvalidInput):
    """A submitted application cannot be routed (the event is dead-lettered with this reason)."""
