"""Field errors and the named domain errors of the intake service (messages in Chinese, for the user)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "FieldError",
    "DomainError",
    "MineInvalid",
    "InvalidTransition",
    "NotEditable",
    "SubmissionRefused",
    "InvalidApplicationData",
    "VersionFrozen",
]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: ``field`` is a dotted path (``mining_licence.valid_to``, ``minerals[1].other``)."""

    field: str
    message: str

    def to_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    """Base of the intake domain's errors; ``str(err)`` is a Chinese message fit for the user."""


class _WithErrors(DomainError):
    def __init__(self, errors: Iterable[FieldError], summary: str):
        self.errors = list(errors)
        super().__init__(summary + "：" + "；".join(e.message for e in self.errors))

    def to_list(self) -> list[dict]:
        return [e.to_dict() for e in self.errors]


class MineInvalid(_WithErrors):
    """The mine data has errors; ``errors`` lists all of them."""

    def __init__(self, errors: Iterable[FieldError]):
        super().__init__(errors, "矿山信息有误")


class SubmissionRefused(_WithErrors):
    """Submission refused; ``errors`` lists everything still missing or wrong (materials, assessment, licences)."""

    def __init__(self, errors: Iterable[FieldError]):
        super().__init__(errors, "申报材料尚不齐全，暂不能提交")


class InvalidApplicationData(_WithErrors):
    """A draft edit or an attachment was refused."""

    def __init__(self, errors: Iterable[FieldError]):
        super().__init__(errors, "申报内容有误")


class InvalidTransition(DomainError):
    """The status machine does not allow ``action`` from ``status``."""

    def __init__(self, status: str, action: str, message: str):
        self.status = status
        self.action = action
        super().__init__(message)


class NotEditable(DomainError):
    """The draft can only be edited while the application is a draft or returned for correction."""

    def __init__(self, status: str, message: str):
        self.status = status
        super().__init__(message)


class VersionFrozen(DomainError):
    """A submitted version cannot change (its score report is written once)."""
