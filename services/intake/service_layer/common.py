"""What several intake handlers share: loading an application with its mine under the access rules, the
listing fields an application copies from its mine, the mine's problems that block a submission, and today's
date in Beijing (licences and production dates are calendar dates in China)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from intake.domain.application import Application
from intake.domain.errors import FieldError
from intake.domain.mine import INDUSTRY_GROUPS, MINING_METHODS, Mine
from intake.domain.plain import to_plain
from intake.domain.receipt import receipt_of
from intake.domain.status import STATUSES
from shared.clock import beijing_date
from shared.errors import NotFound

from . import access
from .unit_of_work import IntakeUnitOfWork

#: The evaluation index an application is made against unless it names another.
DEFAULT_CATALOG = "nm-2025"
Clock = Callable[[], datetime]
Catalogs = Callable[[str], Any]


@dataclass(frozen=True)
class MineRecord:
    """A mine as the handlers answer it: the aggregate, its stored document and the day it was read on."""

    mine: Mine
    doc: dict
    today: date


@dataclass
class Loaded:
    """An application as the handlers answer it, with what its views need (its mine, catalog, problems)."""

    app: Application
    doc: dict
    mine: Mine | None
    mine_doc: dict | None
    catalog: Any = None
    mine_problems: list[FieldError] = field(default_factory=list)
    review_due: date | None = None  # while the initial review runs: the date its decision is due by
    review_due_estimated: bool = False


def today(clock: Clock) -> date:
    return beijing_date(clock())


def load(uow: IntakeUnitOfWork, principal, app_id: str, *, write: bool = False) -> Loaded:
    """The application and its mine, if the principal may read (and, with ``write``, edit) it."""
    found = uow.applications.get(app_id)
    if found is None:
        raise NotFound("找不到该申报")
    app, doc = found
    access.check_read(principal, app.credit_code, doc.get("league"), "申报")
    if write:
        access.check_write(principal, app.credit_code, "申报")
    mine_found = uow.mines.get(app.mine_id)
    mine, mine_doc = mine_found if mine_found else (None, None)
    return Loaded(app, doc, mine, mine_doc)


def for_view(loaded: Loaded, catalogs: Catalogs, clock: Clock) -> Loaded:
    """``loaded`` with its catalog and the mine's problems today (what its views show)."""
    loaded.catalog = catalogs(loaded.app.catalog)
    loaded.mine_problems = mine_problems(loaded.app, loaded.mine, today(clock))
    return loaded


#: The statuses in which the initial review runs (its deadline is shown).
REVIEWING = ("submitted", "resubmitted", "routed")


def with_review_due(loaded: Loaded, calendar, deadlines) -> Loaded:
    """``loaded`` with the date the initial review's decision is due by, while it runs (as the receipt says)."""
    app = loaded.app
    if app.status in REVIEWING and app.latest_version is not None:
        r = receipt_of(app.id, app.case_no, app.latest_version, calendar=calendar, policy=deadlines)
        loaded.review_due, loaded.review_due_estimated = r.review_due, r.review_due_estimated
    return loaded


def mine_problems(app: Application, mine: Mine | None, on: date) -> list[FieldError]:
    if mine is None:
        return [FieldError("mine", "矿山：登记信息已不存在")]
    problems = list(mine.submission_problems(on))
    given = (app.assessment or {}).get("mine") or {}
    if given.get("industry_group") not in (None, mine.industry_group):
        problems.append(FieldError("assessment.mine.industry_group",
                                   f"自评估：矿山行业分支已改为{INDUSTRY_GROUPS[mine.industry_group][:3]}，"
                                   "请按新的分支重新填写自评估"))
    if given.get("mining_method") not in (None, mine.mining_method):
        problems.append(FieldError("assessment.mine.mining_method",
                                   f"自评估：矿山开采方式已改为“{MINING_METHODS[mine.mining_method]}”，"
                                   "请按新的开采方式重新填写自评估"))
    return problems


def listing(mine: Mine | None) -> dict:
    """The fields an application's listing copies from its mine."""
    if mine is None:
        return {}
    return {"league": mine.league, "county": mine.county, "mine_name": mine.name,
            "enterprise_name": mine.enterprise.name}


def listing_from(doc: dict) -> dict:
    return {k: doc[k] for k in ("league", "county", "mine_name", "enterprise_name") if k in doc}


def after(loaded: Loaded) -> Loaded:
    """The aggregate as the transaction left it (no second read): listing fields refreshed from the mine."""
    loaded.app.events.clear()
    return Loaded(loaded.app, {**loaded.doc, **listing(loaded.mine)}, loaded.mine, loaded.mine_doc)


def status_label(status: str) -> str:
    return STATUSES.get(status, status)


def not_editable(app: Application) -> str:
    return f"申报当前状态为“{app.status_label}”，不能修改；只有草稿或退回补正的申报可以修改"


def actor_of(principal) -> dict:
    """The audit log's "who": a signed-in principal, or a system component by name."""
    if isinstance(principal, str):
        return {"username": principal, "role": "system"}
    out = {"username": principal.username, "role": principal.role}
    for key in ("enterprise", "area", "department"):
        value = getattr(principal, key, None)
        if value:
            out[key] = value
    return out


def jsonable(value):
    """A plain copy for the audit log; what cannot be made plain is kept as its text."""
    try:
        return to_plain(value)
    except ValueError:
        return str(value)
