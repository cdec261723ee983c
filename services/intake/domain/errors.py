"""The named refusals of the intake domain, as kinds of the platform's errors (``shared.errors``).

Messages are Chinese and fit for the user.  Errors about input carry the fields at fault (``errors``);
``str(err)`` joins the summary and every field message.  What a kind means to a caller is decided once, by the
platform, never here."""
from __future__ import annotations

from collections.abc import Iterable

from shared import errors as platform
from shared.errors import FieldError

__all__ = [
    "FieldError",
    "MineInvalid",
    "InvalidTransition",
    "NotEditable",
    "SubmissionRefused",
    "InvalidApplicationData",
    "VersionFrozen",
]


class _WithErrors(platform.InvalidInput):
    summary = "输入有误"

    def __init__(self, errors: Iterable[FieldError], message: str | None = None):
        super().__init__(message or self.summary, errors)

    def __str__(self) -> str:
        return self.message + "：" + "；".join(e.message for e in self.errors)


class MineInvalid(_WithErrors):
    """The mine data has errors; ``errors`` lists all of them."""

    summary = "矿山信息有误"


class SubmissionRefused(_WithErrors):
    """Submission refused; ``errors`` lists everything still missing or wrong (materials, assessment, licences)."""

    summary = "申报材料尚不齐全，暂不能提交"


class InvalidApplicationData(_WithErrors):
    """A draft edit or an attachment was refused."""

    summary = "申报内容有误"


class InvalidTransition(platform.InvalidTransition):
    """The status machine does not allow ``action`` from ``status``."""

    def __init__(self, status: str, action: str, message: str):
        self.status = status
        self.action = action
        super().__init__(message)


class NotEditable(platform.InvalidTransition):
    """The draft can only be edited while the application is a draft or returned for correction."""

    def __init__(self, status: str, message: str):
        self.status = status
        super().__init__(message)


class VersionFrozen(platform.InvalidTransition):
    """A submitted version cannot change (its score report is written once)."""
