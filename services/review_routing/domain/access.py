"""Who may see and do what in the review. Pure rules over an `Actor` (the signed-in principal's facts).

* department_reviewer — its own department's tasks, in its area (自治区 = every 盟市; a 盟市; optionally one
  旗县 below it). Works them: claim, release, transfer, opinion.
* bureau (盟市自然资源局) — its 盟市: sees every task and case there (to countersign it needs them side by side),
  works the lead natural-resources task, reminds (催办) any task, and decides the case.
* region_office (自治区自然资源厅 / 协调机制办公室) — reads everything, acts on nothing.
Everybody else: nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

REGION = "自治区"


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    display_name: str = ""
    department: str | None = None
    area: str | None = None
    county: str | None = None
    institution: str | None = None     # an evaluator's third-party evaluation institution (its id)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def covers(self, league: str | None, county: str | None = None) -> bool:
        if self.role == "region_office":
            return True
        if self.area == REGION:
            return True
        if league is None or self.area != league:
            return False
        return not (self.county and county and self.county != county)


def can_read_all(actor: Actor) -> bool:
    return actor.role == "region_office"


def can_view_task(actor: Actor, department: str, league: str, county: str | None = None) -> bool:
    if actor.role == "region_office":
        return True
    if actor.role == "bureau":
        return actor.covers(league, county)
    if actor.role == "department_reviewer":
        return actor.department == department and actor.covers(league, county)
    return False


def can_work_task(actor: Actor, department: str, lead: bool, league: str, county: str | None = None) -> bool:
    """Claim, release, transfer, give an opinion."""
    if actor.role == "department_reviewer":
        return actor.department == department and actor.covers(league, county)
    if actor.role == "bureau":
        return lead and actor.covers(league, county)
    return False


def can_remind(actor: Actor, league: str) -> bool:
    return actor.role == "bureau" and actor.covers(league)


def can_view_case(actor: Actor, league: str) -> bool:
    return actor.role == "region_office" or (actor.role == "bureau" and actor.covers(league))


def can_decide(actor: Actor, league: str) -> bool:
    return actor.role == "bureau" and actor.covers(league)


def can_view_queue(actor: Actor, department: str) -> bool:
    """A department's queue: its own reviewers, the bureau for its lead queue, the region office for all."""
    if actor.role == "region_office":
        return True
    if actor.role == "department_reviewer":
        return actor.department == department
    if actor.role == "bureau":
        return department == "natural_resources"
    return False
