"""The case through the region stage: opened when the bureau forwards it, the region office's queue and case
view, the region decision, reminders (催办), flags, and the overdue sweep of each step.

The other areas (commissions, evaluations, check rounds) move a `RegionReview` through its steps in their own
transactions with `save_review`; the events of the review itself are published here."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from review_routing.adapters.events import iso
from review_routing.domain.access import Actor
from review_routing.domain.errors import FieldError, InvalidInput, NotFound, NotPermitted
from review_routing.domain.region.review import (
    DECIDABLE,
    OUTCOME_LABELS,
    STATUSES,
    STEP_LABELS,
    RegionReview,
    review_id,
)
from review_routing.service_layer.common import Catalogs, audit
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.contracts import new_event
from shared.workdays import DeadlinePolicy, WorkingCalendar, beijing_date

TOPIC = "review_routing.region.events"
PRODUCER = "review_routing"
Clock = Callable[[], datetime]
REGION_ROLES = ("region_office",)
MAX_MESSAGE = 500


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShowRegionQueue:
    actor: Actor
    status: tuple[str, ...] = ()
    league: str | None = None
    overdue: bool | None = None


@dataclass(frozen=True)
class ShowRegionReview:
    actor: Actor
    review_id: str


@dataclass(frozen=True)
class DecideRegionReview:
    actor: Actor
    review_id: str
    decision: str
    reasons: tuple[Mapping, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RemindRegionStep:
    actor: Actor
    review_id: str
    message: str


@dataclass(frozen=True)
class ClearRegionFlag:
    actor: Actor
    review_id: str
    code: str
    reason: str


# -- access -----------------------------------------------------------------------------------------------------
def can_read(actor: Actor, review: RegionReview) -> bool:
    """The region office reads every case; a bureau those of its 盟市 (to follow them); an evaluator those
    commissioned to its institution."""
    if actor.role in ("region_office", "admin"):
        return True
    if actor.role == "bureau":
        return actor.covers(review.league)
    if actor.role == "evaluator":
        return bool(actor.institution) and (review.institution or {}).get("id") == actor.institution
    return False


def readable_review(uow: ReviewUnitOfWork, actor: Actor, rid: str) -> RegionReview:
    review = uow.region_reviews.get(rid)
    if review is None:
        raise NotFound(f"没有自治区评估环节的案件 {rid}")
    if not can_read(actor, review):
        raise NotPermitted("您无权查看该案件的自治区评估环节")
    return review


def require_region_office(actor: Actor, action: str) -> None:
    if actor.role not in REGION_ROLES:
        raise NotPermitted(f"只有自治区自然资源厅（协调机制办公室）可以{action}")


# -- events -----------------------------------------------------------------------------------------------------

def _common(review: RegionReview) -> dict:
    return {"review_id": review.id, "application_id": review.application_id, "version_no": review.version_no,
            "league": review.league}


def _event(event_type: str, review: RegionReview, payload: dict, at: datetime) -> dict:
    return new_event(event_type, producer=PRODUCER, aggregate_type="region_review", aggregate_id=review.id,
                     aggregate_version=review.version or 1, payload={**_common(review), **payload},
                     occurred_at=at)


def _mine(review: RegionReview, with_county: bool = False) -> dict:
    mine = {"mine_id": review.mine.get("mine_id"), "name": review.mine.get("name") or "",
            "minerals": list(review.mine.get("minerals") or []), "scale": review.mine.get("scale")}
    if with_county:
        mine["county"] = review.mine.get("county")
    return mine


def _enterprise(review: RegionReview) -> dict:
    return {"id": review.enterprise.get("id"), "name": review.enterprise.get("name") or "",
            "credit_code": review.enterprise.get("credit_code")}


def publish_flags(uow: ReviewUnitOfWork, review: RegionReview, before: int, at: datetime) -> None:
    """Publish the flags raised since the review had `before` flags (a spot check contradiction, …)."""
    for flag in review.flags[before:]:
        uow.publish(_event("review_routing.region_review_flagged", review,
                           {"code": flag["code"], "text": flag["text"], "at": flag["at"], "cleared": False,
                            "reason": None}, at), topic=TOPIC)


def save_review(uow: ReviewUnitOfWork, review: RegionReview, flags_before: int | None, at: datetime) -> int:
    """Save a review another area moved, publishing any flag it raised."""
    version = uow.region_reviews.save(review)
    if flags_before is not None:
        publish_flags(uow, review, flags_before, at)
    return version


# -- opening (from the forward decision, in its transaction) -----------------------------------------------------
def open_region_review(uow: ReviewUnitOfWork, case, version_no: int, rescored: Mapping, report: Mapping | None,
                       decision, catalog, *, calendar: WorkingCalendar, policy: DeadlinePolicy) -> RegionReview:
    """A forwarded case version enters the region stage (once: a second forward of the same version cannot
    happen, and a replay finds the review)."""
    rid = review_id(case.application_id, version_no)
    existing = uow.region_reviews.get(rid)
    if existing is not None:
        return existing
    version = case.version_of(version_no)
    na = [int(k) for k, entry in (rescored.get("indicators") or {}).items()
          if isinstance(entry, Mapping) and entry.get("not_applicable")]
    binding = [n for n in version.applicable_indicators if catalog.indicator(n).binding]
    review = RegionReview.open(
        application_id=case.application_id, version_no=version_no, league=case.league,
        enterprise=case.enterprise, mine={**case.mine, "county": case.county}, catalog_id=case.catalog,
        forwarded_at=decision.decided_at, forwarded_by=decision.decided_by_name or decision.decided_by,
        initial_report=_report_summary(report), confirmed_not_applicable=na, binding=binding,
        case_no=case.case_no, calendar=calendar, policy=policy)
    uow.region_reviews.save(review)
    uow.publish(_event("review_routing.region_review_opened", review, {
        "case_no": review.case_no, "enterprise": _enterprise(review), "mine": _mine(review),
        "forwarded_at": iso(review.forwarded_at), "due_date": review.due_date.isoformat()},
        review.forwarded_at), topic=TOPIC)
    return review


def _report_summary(report: Mapping | None) -> dict | None:
    if not report:
        return None
    return {"total": report.get("total"), "verdict": report.get("verdict"),
            "verdict_label": report.get("verdict_label"), "catalog": report.get("catalog")}


# -- reads ------------------------------------------------------------------------------------------------------
def summary(review: RegionReview, today) -> dict:
    return {
        "review_id": review.id, "application_id": review.application_id, "version_no": review.version_no,
        "case_no": review.case_no, "league": review.league, "enterprise_name": review.enterprise.get("name"),
        "mine_name": review.mine.get("name"), "minerals": list(review.mine.get("minerals") or []),
        "scale": review.mine.get("scale"), "status": review.status, "status_label": review.status_label,
        "step": review.step, "step_label": STEP_LABELS.get(review.step or "", ""),
        "due_date": review.due_date.isoformat() if review.due_date else None,
        "overdue": review.is_overdue(today), "institution": dict(review.institution) if review.institution else None,
        "evaluation_total": (review.evaluation or {}).get("total"),
        "evaluation_verdict": (review.evaluation or {}).get("verdict"),
        "flags": [f["text"] for f in review.open_flags], "reminders": len(review.reminders),
        "forwarded_at": review.forwarded_at.isoformat(), "check_round_id": review.check_round_id,
        "decision": review.status if review.decided else None,
    }


def show_region_queue(cmd: ShowRegionQueue, uow: ReviewUnitOfWork, *, clock: Clock) -> list[dict]:
    actor = cmd.actor
    if actor.role not in ("region_office", "admin", "bureau", "evaluator"):
        raise NotPermitted("您无权查看自治区评估环节的案件")
    filters = {}
    if cmd.status:
        unknown = [s for s in cmd.status if s not in STATUSES]
        if unknown:
            raise InvalidInput("筛选条件有误", [FieldError("status", f"没有状态 {'、'.join(unknown)}")])
        filters["status"] = list(cmd.status)
    if cmd.league:
        filters["league"] = cmd.league
    if actor.role == "evaluator":
        filters["institution__id"] = actor.institution or "-"
    today = beijing_date(clock())
    reviews = uow.read(lambda: uow.region_reviews.find(sort="forwarded_at", **filters))
    rows = [summary(r, today) for r in reviews if can_read(actor, r)]
    if cmd.overdue is not None:
        rows = [r for r in rows if r["overdue"] == cmd.overdue]
    # Overdue first, then by due date (the office works what is late, then what is due next).
    return sorted(rows, key=lambda r: (not r["overdue"], r["decision"] is not None, r["due_date"] or "9999",
                                       r["review_id"]))


def _names(directory, usernames) -> dict[str, str]:
    """Display names of the people in a history (a name already stored, or "system", stays as it is)."""
    names = {"system": "系统"}
    for username in set(usernames) - set(names):
        person = directory.get(username) if directory is not None else None
        names[username] = person.name if person is not None else username
    return names


def show_region_review(cmd: ShowRegionReview, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs,
                       directory=None) -> dict:
    review = uow.read(lambda: readable_review(uow, cmd.actor, cmd.review_id))
    today = beijing_date(clock())
    catalog = catalogs(review.catalog_id)
    names = _names(directory, [h["by"] for h in review.history])
    office = cmd.actor.role in REGION_ROLES and not review.decided
    view = summary(review, today)
    view.update({
        "enterprise": dict(review.enterprise), "mine": dict(review.mine), "initial_report": review.initial_report,
        "confirmed_not_applicable": list(review.confirmed_not_applicable),
        "binding_confirmed_not_applicable": sorted(set(review.confirmed_not_applicable) & set(review.binding)),
        "evaluation": dict(review.evaluation) if review.evaluation else None,
        "check": dict(review.check) if review.check else None, "all_flags": list(review.flags),
        "reminder_list": list(review.reminders),
        "history": [{**h, "by_name": names[h["by"]]} for h in reversed(review.history)],
        "decision_detail": dict(review.decision) if review.decision else None,
        "decision_label": OUTCOME_LABELS.get(review.status) if review.decided else None,
        "refusals_to_propose": [p.message for p in review.refusals_to_propose()] if not review.decided else [],
        "commission_id": review.commission_id,
        "indicator_names": {str(i.no): i.name for i in catalog.indicators},
        # The decision is offered once the evaluation report is in (before that it could only be refused).
        "permissions": {"decide": office and review.status in DECIDABLE, "remind": office},
    })
    return view


# -- the decision, reminders, flags -----------------------------------------------------------------------------
def decide_region_review(cmd: DecideRegionReview, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs
                         ) -> dict:
    require_region_office(cmd.actor, "作出自治区决定")

    def work():
        review = readable_review(uow, cmd.actor, cmd.review_id)
        case = uow.cases.get(review.application_id)
        applicable = case.version_of(review.version_no).applicable_indicators if case else ()
        now = clock()
        review.decide(cmd.decision, cmd.reasons, cmd.actor, now, applicable)
        uow.region_reviews.save(review)
        ev = review.evaluation or {}
        uow.publish(_event("review_routing.region_review_decided", review, {
            "case_no": review.case_no, "decision": review.status, "reasons": review.decision["reasons"],
            "decided_by": cmd.actor.username, "decided_by_name": cmd.actor.name, "decided_at": iso(now),
            "enterprise": _enterprise(review), "mine": _mine(review, with_county=True),
            "evaluation": {"institution_id": (review.institution or {}).get("id"),
                           "institution_name": (review.institution or {}).get("name"),
                           "assessment_id": ev.get("assessment_id"),
                           "total": None if ev.get("total") is None else str(ev.get("total")),
                           "verdict": ev.get("verdict")} if review.evaluation else None}, now), topic=TOPIC)
        audit(uow, cmd.actor, "region_decision", now, application_id=review.application_id,
              version_no=review.version_no, target=review.id,
              detail={"decision": review.status, "reasons": review.decision["reasons"]})
        return {"review_id": review.id, "status": review.status, "status_label": review.status_label,
                "decision": dict(review.decision)}

    return uow.run(work)


def _recipient(review: RegionReview) -> dict:
    if review.step in ("accept", "evaluation"):
        return {"role": "evaluator", "institution_id": (review.institution or {}).get("id")}
    return {"role": "region_office", "institution_id": None}


def remind_region_step(cmd: RemindRegionStep, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    require_region_office(cmd.actor, "催办")
    message = (cmd.message or "").strip()
    if not message or len(message) > MAX_MESSAGE:
        raise InvalidInput("催办内容有误", [FieldError("message", f"请填写催办内容（不超过 {MAX_MESSAGE} 字）")])

    def work():
        review = readable_review(uow, cmd.actor, cmd.review_id)
        now = clock()
        reminder = review.remind(cmd.actor.username, cmd.actor.name, message, now)
        uow.region_reviews.save(review)
        _publish_reminder(uow, review, reminder, automatic=False, at=now)
        audit(uow, cmd.actor, "region_reminded", now, application_id=review.application_id,
              version_no=review.version_no, target=review.id, detail={"step": review.step, "message": message})
        return reminder

    return uow.run(work)


def _publish_reminder(uow, review: RegionReview, reminder: dict, *, automatic: bool, at: datetime) -> None:
    uow.publish(_event("review_routing.region_step_reminded", review, {
        "step": review.step, "message": reminder["message"], "reminded_by": reminder["by"],
        "reminded_by_name": reminder["by_name"], "reminded_at": iso(at), "automatic": automatic,
        "due_date": review.due_date.isoformat(), "recipient": _recipient(review)}, at), topic=TOPIC)


def clear_region_flag(cmd: ClearRegionFlag, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    require_region_office(cmd.actor, "解除标记")

    def work():
        review = readable_review(uow, cmd.actor, cmd.review_id)
        now = clock()
        review.clear_flag(cmd.code, cmd.reason, cmd.actor, now)
        uow.region_reviews.save(review)
        flag = next(f for f in review.flags if f["code"] == cmd.code and f.get("cleared_at") == now.isoformat())
        uow.publish(_event("review_routing.region_review_flagged", review, {
            "code": flag["code"], "text": flag["text"], "at": iso(now), "cleared": True, "reason": flag["reason"]},
            now), topic=TOPIC)
        audit(uow, cmd.actor, "region_flag_cleared", now, application_id=review.application_id,
              version_no=review.version_no, target=review.id, detail={"code": cmd.code, "reason": cmd.reason})
        return summary(review, beijing_date(now))

    return uow.run(work)


# -- the sweep (called by the review's overdue sweep) -----------------------------------------------------------
def sweep_region(uow: ReviewUnitOfWork, now: datetime, calendar: WorkingCalendar, policy: DeadlinePolicy) -> int:
    """Flag overdue steps once and remind automatically every `remind_every_days` working days while overdue;
    one transaction per review, so a replayed sweep sends nothing twice."""
    today = beijing_date(now)
    open_statuses = [s for s in STATUSES if s not in ("proposed", "returned", "rejected")]
    ids = [r.id for r in uow.read(lambda: uow.region_reviews.find(status=open_statuses))
           if r.is_overdue(today)]
    sent = 0
    for rid in ids:
        def work(rid=rid) -> int:
            review = uow.region_reviews.get(rid)
            if review is None or not review.is_overdue(today):
                return 0
            count = 0
            if review.mark_overdue(today):
                uow.publish(_event("review_routing.region_step_overdue", review, {
                    "step": review.step, "due_date": review.due_date.isoformat(),
                    "overdue_since": today.isoformat()}, now), topic=TOPIC)
                count += 1
            last = max((r["at"] for r in review.reminders if r["by"] == "system" and r.get("step") == review.step),
                       default=None)
            last_day = beijing_date(datetime.fromisoformat(last)) if last else None
            if last_day is None or calendar.working_days_between(last_day, today) >= policy.remind_every_days:
                step = STEP_LABELS[review.step]
                message = f"“{step}”已超过期限（{review.due_date.isoformat()}），请尽快办理"
                reminder = review.remind("system", "系统", message, now)
                _publish_reminder(uow, review, reminder, automatic=True, at=now)
                count += 1
            if count:
                uow.region_reviews.save(review)
                audit(uow, None, "region_step_overdue", now, application_id=review.application_id,
                      version_no=review.version_no, target=review.id,
                      detail={"step": review.step, "due_date": review.due_date.isoformat()})
            return count

        sent += uow.run(work)
    return sent


COMMAND_HANDLERS = {
    ShowRegionQueue: show_region_queue,
    ShowRegionReview: show_region_review,
    DecideRegionReview: decide_region_review,
    RemindRegionStep: remind_region_step,
    ClearRegionFlag: clear_region_flag,
}
EVENT_HANDLERS: dict = {}
