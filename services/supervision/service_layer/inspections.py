"""The inspections area: 双随机、一公开 (domain/inspections.py). The region office keeps the inspector pool, sets and
publishes each year's plan and draws the mines and inspectors; each department records the result of its tasks.
Events on `supervision.case.events`: `supervision.inspection_plan_published`, `supervision.inspections_drawn`,
`supervision.inspection_result_recorded` (public_notice tells the departments and the enterprises concerned).
(see `areas.py` for an area's shape)"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from shared.catalog import load_catalog
from shared.clock import beijing_date
from shared.contracts import new_event
from shared.errors import NotFound, NotPermitted
from shared.regions import LEAGUE_NAMES
from supervision.domain import inspections as rules
from supervision.domain.inspections import Inspection, InspectionPlan, Inspector
from supervision.service_layer.unit_of_work import SupervisionUnitOfWork

PRODUCER = "supervision"
Clock = Callable[[], datetime]


@cache
def department_names() -> dict[str, str]:
    return {d.code: d.name for d in load_catalog("nm-2025").departments}


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AddInspector:
    actor: object
    name: str
    department: str
    league: str


@dataclass(frozen=True)
class SetInspectorActive:
    actor: object
    inspector_id: str
    active: bool


@dataclass(frozen=True)
class SetPlan:
    actor: object
    year: int
    ratios: dict


@dataclass(frozen=True)
class PublishPlan:
    actor: object
    year: int


@dataclass(frozen=True)
class DrawInspections:
    actor: object
    year: int
    entered_value: str


@dataclass(frozen=True)
class RecordResult:
    actor: object
    inspection_id: str
    department: str
    outcome: str
    inspected_on: date
    problems: str | None = None
    suggest_measure: bool = False
    situation: str | None = None


def _office(actor) -> str:
    if getattr(actor, "role", None) != "region_office":
        raise NotPermitted("只有自治区协调机制办公室可以管理双随机抽查")
    return actor.username


def _event(event_type: str, aggregate_type: str, aggregate, payload: dict, at: datetime) -> dict:
    return new_event(f"supervision.{event_type}", producer=PRODUCER, aggregate_type=aggregate_type,
                     aggregate_id=aggregate.id, aggregate_version=aggregate.version, payload=payload, occurred_at=at)


def _view(aggregate) -> dict:
    """What a handler answers: the stored document with its version."""
    return {**aggregate.to_dict(), "version": aggregate.version}


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# -- the pool ---------------------------------------------------------------------------------------------------
def add_inspector(cmd: AddInspector, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    by = _office(cmd.actor)
    inspector = Inspector.new(f"inspector-{uuid.uuid4().hex[:12]}", cmd.name, cmd.department, cmd.league,
                              leagues=LEAGUE_NAMES, by=by, at=clock())
    uow.run(lambda: uow.inspectors.save(inspector))
    return _view(inspector)


def set_inspector_active(cmd: SetInspectorActive, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    by = _office(cmd.actor)

    def work():
        inspector = uow.inspectors.get(cmd.inspector_id)
        if inspector is None:
            raise NotFound("没有这名检查人员")
        if inspector.set_active(cmd.active, by=by, at=clock()):
            uow.inspectors.save(inspector)
        return _view(inspector)

    return uow.run(work)


# -- the plan ---------------------------------------------------------------------------------------------------
def set_plan(cmd: SetPlan, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    by = _office(cmd.actor)

    def work():
        plan = uow.inspection_plans.get(rules.plan_id(rules.check_year(cmd.year)))
        if plan is None:
            plan = InspectionPlan.new(cmd.year, cmd.ratios, leagues=LEAGUE_NAMES, by=by, at=clock())
            uow.inspection_plans.save(plan)
        elif plan.set_ratios(cmd.ratios, leagues=LEAGUE_NAMES, by=by, at=clock()):
            uow.inspection_plans.save(plan)
        return _view(plan)

    return uow.run(work)


def _plan(uow: SupervisionUnitOfWork, year: int) -> InspectionPlan:
    plan = uow.inspection_plans.get(rules.plan_id(rules.check_year(year)))
    if plan is None:
        raise NotFound(f"{year}年度尚未制定抽查计划")
    return plan


def publish_plan(cmd: PublishPlan, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    by = _office(cmd.actor)

    def work():
        plan, now = _plan(uow, cmd.year), clock()
        if plan.publish(by=by, at=now):
            uow.inspection_plans.save(plan)
            uow.publish(_event("inspection_plan_published", "inspection_plan", plan, {
                "plan_id": plan.id, "year": plan.year,
                "ratios": [{"league": league, "ratio": ratio} for league, ratio in plan.ratios.items()],
                "published_at": _stamp(now), "url": f"/api/v1/supervision/inspections/plans/{plan.year}"}, now))
        return _view(plan)

    return uow.run(work)


# -- the draw ---------------------------------------------------------------------------------------------------
def _mine_facts(mine) -> dict:
    return {"mine_id": mine.id, "mine_name": mine.mine_name, "enterprise_name": mine.enterprise_name,
            "credit_code": mine.credit_code, "league": mine.league, "county": mine.county}


def draw_inspections(cmd: DrawInspections, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    """Draw the year's mines and inspectors once; the same value again answers the same record (a replay), another
    value is refused."""
    by = _office(cmd.actor)

    def work():
        plan, now = _plan(uow, cmd.year), clock()
        if plan.same_draw(cmd.entered_value):
            return _view(plan)
        listed = uow.mines.find(status="listed", league=list(plan.ratios))
        by_league: dict[str, list[str]] = {}
        for mine in listed:
            by_league.setdefault(mine.league, []).append(mine.id)
        pool: dict[str, list[dict]] = {}
        for inspector in uow.inspectors.find(active=True, league=list(plan.ratios)):
            pool.setdefault(inspector.league, []).append(
                {"id": inspector.id, "name": inspector.name, "department": inspector.department})
        record = rules.draw_inspections(plan.ratios, by_league, pool, cmd.entered_value,
                                        department_names=department_names())
        plan.record_draw(record, by=by, at=now)
        uow.inspection_plans.save(plan)
        mines = {m.id: m for m in listed}
        drawn = []
        for league in record["leagues"]:
            people = {p["id"]: p for p in league["pool"]}
            for assignment in league["assignments"]:
                inspection = Inspection.new(plan, _mine_facts(mines[assignment["mine_id"]]),
                                            [people[i] for i in assignment["inspectors"]],
                                            drawn_on=beijing_date(now), by=by, at=now)
                uow.inspections.save(inspection)
                drawn.append(inspection)
        uow.publish(_event("inspections_drawn", "inspection_plan", plan, {
            "plan_id": plan.id, "year": plan.year, "algorithm": record["algorithm"],
            "entered_value": record["entered_value"], "drawn_at": _stamp(now),
            "leagues": [{"league": lg["league"], "ratio": lg["ratio"], "population_size": len(lg["population"]),
                         "k": lg["k"], "seed": lg["seed"]} for lg in record["leagues"]],
            "inspections": [{"inspection_id": i.id, "mine_id": i.mine_id, "mine_name": i.mine_name,
                             "league": i.league, "county": i.county,
                             "enterprise": {"name": i.enterprise_name, "credit_code": i.credit_code},
                             "departments": i.departments} for i in drawn],
            "url": f"/api/v1/supervision/inspections/plans/{plan.year}"}, now))
        return _view(plan)

    return uow.run(work)


# -- the results ------------------------------------------------------------------------------------------------
def record_result(cmd: RecordResult, uow: SupervisionUnitOfWork, *, clock: Clock) -> dict:
    def work():
        inspection = uow.inspections.get(cmd.inspection_id)
        if inspection is None:
            raise NotFound("没有这项检查任务")
        rules.may_record(cmd.actor, inspection, cmd.department)
        now = clock()
        if inspection.record(cmd.department, outcome=cmd.outcome, problems=cmd.problems,
                             suggest_measure=cmd.suggest_measure, situation=cmd.situation,
                             inspected_on=cmd.inspected_on, today=beijing_date(now), by=cmd.actor.username, at=now):
            uow.inspections.save(inspection)
            result = inspection.part(cmd.department)["result"]
            uow.publish(_event("inspection_result_recorded", "inspection", inspection, {
                "inspection_id": inspection.id, "plan_id": inspection.plan_id, "year": inspection.year,
                "mine_id": inspection.mine_id, "mine_name": inspection.mine_name, "league": inspection.league,
                "enterprise": {"name": inspection.enterprise_name, "credit_code": inspection.credit_code},
                "department": cmd.department, "outcome": result["outcome"],
                "outcome_label": rules.OUTCOMES[result["outcome"]], "problems": result["problems"],
                "suggest_measure": result["suggest_measure"], "situation": result["situation"],
                "inspected_on": result["inspected_on"], "recorded_at": _stamp(now),
                "completed": inspection.status == "completed", "inspection_outcome": inspection.outcome}, now))
        return _view(inspection)

    return uow.run(work)


COMMAND_HANDLERS = {AddInspector: add_inspector, SetInspectorActive: set_inspector_active, SetPlan: set_plan,
                    PublishPlan: publish_plan, DrawInspections: draw_inspections, RecordResult: record_result}
