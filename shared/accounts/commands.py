"""What may be asked of accounts (each handled by one function of `handlers.py`)."""
from __future__ import annotations

from dataclasses import dataclass

from shared.accounts.rules import Actor


@dataclass(frozen=True)
class CreateAccount:
    actor: Actor
    username: str
    role: str
    display_name: str = ""
    department: str | None = None
    area: str | None = None
    county: str | None = None
    enterprise: str | None = None
    institution: str | None = None     # evaluator: its third-party evaluation institution (register id)
    password: str | None = None        # None: a one-time password is made and returned once
    must_change: bool = True            # the new user sets their own password at the first sign-in
    email: str | None = None            # optional: notifications are also sent there


@dataclass(frozen=True)
class DisableAccount:
    actor: Actor
    username: str


@dataclass(frozen=True)
class EnableAccount:
    actor: Actor
    username: str


@dataclass(frozen=True)
class ResetPassword:
    actor: Actor
    username: str
    password: str | None = None        # None: a one-time password is made and returned once
    must_change: bool = True


@dataclass(frozen=True)
class AssignAccount:
    """Change an account's name, department, area and an evaluator's institution (None leaves a field as it is;
    "" clears the county)."""

    actor: Actor
    username: str
    display_name: str | None = None
    department: str | None = None
    area: str | None = None
    county: str | None = None
    institution: str | None = None
    email: str | None = None           # "" clears it


@dataclass(frozen=True)
class ChangeOwnPassword:
    actor: Actor
    current_password: str
    new_password: str


@dataclass(frozen=True)
class DeleteAccount:
    """Remove an account (the operator's command line only; the pages disable instead)."""

    actor: Actor
    username: str


@dataclass(frozen=True)
class EndSignIns:
    """End every session and token of an account, the account unchanged."""

    actor: Actor
    username: str
