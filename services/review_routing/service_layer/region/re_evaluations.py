"""Re-evaluations of listed mines after a 重大变化 (附件2 三): supervision's `supervision.re_evaluation_requested`
opens one (`ReEvaluation`, due in 20 working days), the region office lists them (`GET
/api/v1/evaluation/re-evaluations`, a bureau its 盟市's, read-only) and records the on-site check's outcome, which
is published once as `review_routing.re_evaluation_concluded` (topic `review_routing.region.events`).

Idempotent: a replayed request (the inbox stops the same event; the same request id under another event id finds
its ReEvaluation) opens nothing new; the same outcome recorded again answers the stored one."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from review_routing.adapters.events import iso
from review_routing.domain.access import Actor
from review_routing.domain.errors import FieldError, InvalidInput, NotFound, NotPermitted
from review_routing.domain.region.re_evaluations import RESULTS, STATUSES, ReEvaluation
from review_routing.service_layer.common import audit
from review_routing.service_layer.region.reviews import PRODUCER, TOPIC
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.contracts import new_event
from shared.workdays import WorkingCalendar, beijing_date

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
READERS = ("region_office", "bureau")


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListReEvaluations:
    actor: Actor
    status: str | None = None        # open | concluded; None: both
    league: str | None = None


@dataclass(frozen=True)
class ShowReEvaluation:
    actor: Actor
    request_id: str


@dataclass(frozen=True)
class RecordReEvaluationOutcome:
    actor: Actor
    request_id: str
    result: str
    reason: str | None = None
    checked_on: str | None = None


# -- the request from supervision ---------------------------------------------------------------------------------
def on_re_evaluation_requested(envelope: dict, uow: ReviewUnitOfWork, *, calendar: WorkingCalendar,
                               clock: Clock) -> None:
    payload = envelope["payload"]

    def work():
        if uow.re_evaluations.get(payload["request_id"]) is not None:
            log.info("re-evaluation %s already open: nothing to do", payload["request_id"])
            return
        now = clock()
        item = ReEvaluation.open(payload, at=now, today=beijing_date(now), calendar=calendar)
        uow.re_evaluations.save(item)
        audit(uow, None, "re_evaluation_opened", now, target=item.id,
              detail={"mine_id": item.mine_id, "fields": [c["field"] for c in item.changes],
                      "due_date": item.due_date.isoformat(), "event_id": envelope["event_id"]})

    uow.run(work)


# -- the office's list and outcome --------------------------------------------------------------------------------
def _readable(actor: Actor, item: ReEvaluation) -> None:
    if actor.role not in READERS:
        raise NotPermitted("复核评估仅限自治区自然资源厅（协调机制办公室）和盟市自然资源局查看")
    if not actor.covers(item.league):
        raise NotPermitted(f"您只能查看本盟市（{actor.area}）矿山的复核评估")


def view(item: ReEvaluation, today: date) -> dict:
    outcome = None
    if item.outcome is not None:
        outcome = {**item.outcome, "recorded_at": iso(item.outcome["recorded_at"])}
    return {"request_id": item.request_id, "mine_id": item.mine_id, "mine_name": item.mine_name,
            "enterprise": dict(item.enterprise), "league": item.league, "county": item.county,
            "changes": [dict(c) for c in item.changes],
            "changes_text": "；".join(f"{c['label']}：{c['before']} → {c['after']}（{c['changed_on']}）"
                                     for c in item.changes),
            "requested_on": item.requested_on.isoformat(), "reason": item.reason,
            "listed_announcement_no": item.listed_announcement_no, "opened_at": iso(item.opened_at),
            "due_date": item.due_date.isoformat(), "overdue": item.overdue(today), "status": item.status,
            "status_label": STATUSES[item.status], "outcome": outcome,
            "history": [{**h, "at": iso(h["at"])} for h in item.history]}


def list_re_evaluations(cmd: ListReEvaluations, uow: ReviewUnitOfWork, *, clock: Clock) -> list[dict]:
    actor = cmd.actor
    if actor.role not in READERS:
        raise NotPermitted("复核评估仅限自治区自然资源厅（协调机制办公室）和盟市自然资源局查看")
    if cmd.status is not None and cmd.status not in STATUSES:
        raise InvalidInput("查询条件有误", [FieldError(
            "status", "状态：应为 " + "、".join(f"{k}（{v}）" for k, v in STATUSES.items()))])
    if cmd.league and not actor.covers(cmd.league):
        raise NotPermitted(f"您只能查看本盟市（{actor.area}）矿山的复核评估")
    filters = {k: v for k, v in (("status", cmd.status), ("league", cmd.league)) if v}
    items = [i for i in uow.read(lambda: uow.re_evaluations.find(**filters)) if actor.covers(i.league)]
    today = beijing_date(clock())
    # open ones first, the earliest due first; then the concluded, the latest first
    items.sort(key=lambda i: (i.status != "open", i.due_date.toordinal() * (1 if i.status == "open" else -1),
                              i.request_id))
    return [view(i, today) for i in items]


def show_re_evaluation(cmd: ShowReEvaluation, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    item = uow.read(lambda: uow.re_evaluations.get(cmd.request_id))
    if item is None:
        raise NotFound(f"没有复核评估 {cmd.request_id}")
    _readable(cmd.actor, item)
    return view(item, beijing_date(clock()))


def concluded_event(item: ReEvaluation, at: datetime) -> dict:
    outcome = item.outcome
    return new_event("review_routing.re_evaluation_concluded", producer=PRODUCER, aggregate_type="re_evaluation",
                     aggregate_id=item.id, aggregate_version=item.version or 1, occurred_at=at, payload={
                         "request_id": item.id, "mine_id": item.mine_id, "mine_name": item.mine_name,
                         "league": item.league, "county": item.county, "result": outcome["result"],
                         "reason": outcome["reason"], "checked_on": outcome["checked_on"],
                         "requested_on": item.requested_on.isoformat(), "due_date": item.due_date.isoformat(),
                         "concluded_at": iso(at)})


def record_re_evaluation_outcome(cmd: RecordReEvaluationOutcome, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    actor = cmd.actor
    if actor.role != "region_office":
        raise NotPermitted("复核评估的核查结论由自治区自然资源厅（协调机制办公室）记录")

    def work():
        item = uow.re_evaluations.get(cmd.request_id)
        if item is None:
            raise NotFound(f"没有复核评估 {cmd.request_id}")
        now = clock()
        if item.record_outcome(result=cmd.result, reason=cmd.reason, checked_on=cmd.checked_on, by=actor.username,
                               by_name=actor.name, at=now, today=beijing_date(now)):
            uow.re_evaluations.save(item)
            uow.publish(concluded_event(item, now), topic=TOPIC)
            audit(uow, actor, "re_evaluation_concluded", now, target=item.id,
                  detail={"mine_id": item.mine_id, "result": item.outcome["result"],
                          "reason": item.outcome["reason"], "checked_on": item.outcome["checked_on"]})
        return view(item, beijing_date(now))

    return uow.run(work)


COMMAND_HANDLERS = {ListReEvaluations: list_re_evaluations, ShowReEvaluation: show_re_evaluation,
                    RecordReEvaluationOutcome: record_re_evaluation_outcome}
EVENT_HANDLERS = {"supervision.re_evaluation_requested": on_re_evaluation_requested}
__all__ = ["RESULTS", "COMMAND_HANDLERS", "EVENT_HANDLERS"]
