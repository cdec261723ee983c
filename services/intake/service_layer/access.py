"""Who may read and write which mine and application.

- An enterprise (``principal.enterprise`` = its 统一社会信用代码) reads and edits only its own mines and
  applications.
- Officials read within their area: ``bureau`` and ``department_reviewer`` their 盟市 (or the whole region when
  their area is 自治区), ``region_office``, ``evaluator`` and ``admin`` everywhere. They never edit here.
- Anyone else is refused.

Records store the 盟市 as its ASCII code (``ordos``); principals carry the Chinese name (``鄂尔多斯市``).
"""
from __future__ import annotations

from shared import regions
from shared.errors import NotPermitted

from .unit_of_work import Scope

READERS = ("bureau", "department_reviewer", "region_office", "evaluator", "admin")


def league_name(code: str | None) -> str | None:
    league = regions.league_by_code(code) if code else None
    return league.name if league else code


def can_read(principal, credit_code: str, league_code: str | None) -> bool:
    if principal is None:
        return False
    if principal.role == "enterprise":
        return bool(principal.enterprise) and principal.enterprise == credit_code
    if principal.role in READERS:
        return principal.covers_area(league_name(league_code))
    return False


def check_read(principal, credit_code: str, league_code: str | None, what: str) -> None:
    if not can_read(principal, credit_code, league_code):
        if principal is not None and principal.role == "enterprise":
            raise NotPermitted(f"无权查看其他企业的{what}")
        raise NotPermitted(f"该{what}不在您的管辖范围内")


def check_write(principal, credit_code: str, what: str) -> None:
    if principal is None or principal.role != "enterprise":
        raise NotPermitted(f"只有矿山企业可以修改{what}")
    if principal.enterprise != credit_code:
        raise NotPermitted(f"无权修改其他企业的{what}")


def scope(principal) -> Scope | None:
    """The records the principal may list (None: nothing)."""
    if principal.role == "enterprise":
        return Scope(credit_code=principal.enterprise) if principal.enterprise else None
    if principal.role in READERS:
        if principal.covers_area("__everywhere__"):
            return Scope()
        league = regions.find_league(principal.area) if principal.area else None
        return Scope(league=league.code) if league else None
    return None
