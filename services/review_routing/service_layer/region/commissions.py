"""Commissioning (委托, 附件2 三 / 正文 二(四)): the region office draws the eligible institutions for a case (or a
batch of cases) by a published `sha256-rank-v1` draw, commissions one per case, and the institution accepts within
its deadline by signing both pledges, or declines / recuses itself; a commission not accepted in time lapses (the
overdue sweep calls `expire_commissions`). Each end of a commission sends its case back to the office's queue.

Events on `review_routing.region.events`, keyed by the commission id: `evaluation_commissioned`,
`commission_accepted` (signer, pledge versions and hashes), `commission_declined` (declined or expired, reason)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from review_routing.adapters.events import iso
from review_routing.domain.access import Actor
from review_routing.domain.errors import Conflict, FieldError, InvalidInput, InvalidTransition, NotFound, NotPermitted
from review_routing.domain.region.commissions import STATUSES, Commission, load_pledges
from review_routing.domain.region.draws import DrawRecord
from review_routing.domain.region.review import RegionReview
from review_routing.service_layer.common import audit
from review_routing.service_layer.region.reviews import readable_review, require_region_office
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.contracts import new_event
from shared.workdays import DeadlinePolicy, WorkingCalendar, beijing_date

TOPIC = "review_routing.region.events"
PRODUCER = "review_routing"
COMMISSIONED = "review_routing.evaluation_commissioned"
ACCEPTED = "review_routing.commission_accepted"
DECLINED = "review_routing.commission_declined"
Clock = Callable[[], datetime]
MAX_BATCH = 50
MAX_ENTERED = 100


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DrawInstitutions:
    """Draw the eligible institutions for the cases (one draw for the whole batch: the institutions eligible for
    every case of it); the whole ranking is published, the proposal is its first."""
    actor: Actor
    review_ids: tuple[str, ...]
    entered_value: str


@dataclass(frozen=True)
class CommissionInstitution:
    actor: Actor
    review_ids: tuple[str, ...]
    institution_id: str
    draw_id: str
    note: str = ""
    reason: str = ""          # required when the institution is not the draw's first


@dataclass(frozen=True)
class AcceptCommission:
    actor: Actor
    commission_id: str
    pledges: tuple[Mapping, ...] = field(default_factory=tuple)
    signer_name: str = ""
    signer_title: str = ""


@dataclass(frozen=True)
class DeclineCommission:
    actor: Actor
    commission_id: str
    reason: str
    conflict: bool = False


@dataclass(frozen=True)
class ListCommissions:
    actor: Actor
    status: tuple[str, ...] = ()
    review_id: str | None = None


@dataclass(frozen=True)
class ShowCommission:
    actor: Actor
    commission_id: str


# -- access -------------------------------------------------------------------------------------------------------
def can_read(actor: Actor, commission: Commission) -> bool:
    if actor.role in ("region_office", "admin"):
        return True
    if actor.role == "evaluator":
        return bool(actor.institution) and commission.institution.get("id") == actor.institution
    if actor.role == "bureau":
        return actor.covers(commission.league)
    return False


def _readable(uow: ReviewUnitOfWork, actor: Actor, commission_id: str) -> Commission:
    commission = uow.commissions.get(commission_id)
    if commission is None:
        raise NotFound(f"没有评估委托 {commission_id}")
    if not can_read(actor, commission):
        raise NotPermitted("您无权查看该评估委托（评估机构只能查看委托给本机构的案件）")
    return commission


def _require_institution(actor: Actor, commission: Commission, action: str) -> None:
    if actor.role != "evaluator" or not actor.institution or actor.institution != commission.institution.get("id"):
        raise NotPermitted(f"只有受委托的评估机构（{commission.institution.get('name')}）的评估人员可以{action}")


def _review_ids(raw) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(str(i).strip() for i in raw or () if str(i).strip()))
    if not ids:
        raise InvalidInput("请选择要委托的案件", [FieldError("review_ids", "请至少选择一件案件")])
    if len(ids) > MAX_BATCH:
        raise InvalidInput("一次委托的案件过多", [FieldError("review_ids", f"一次最多 {MAX_BATCH} 件")])
    return ids


def _awaiting(uow: ReviewUnitOfWork, actor: Actor, ids: tuple[str, ...]) -> list[RegionReview]:
    reviews = [readable_review(uow, actor, rid) for rid in ids]
    late = [r for r in reviews if r.status != "awaiting_commission"]
    if late:
        raise InvalidTransition("；".join(f"案件 {r.case_no or r.id} 当前为“{r.status_label}”，不能委托" for r in late))
    return reviews


def _eligibility(uow: ReviewUnitOfWork, reviews: list[RegionReview], on: date) -> tuple[list, list[dict]]:
    """(institutions eligible for every case, by id; the others as {id, name, reason}, reasons of every case)."""
    eligible, excluded = [], []
    for inst in sorted(uow.institutions.find(), key=lambda i: i.id):
        reasons = list(dict.fromkeys(reason for r in reviews if (reason := inst.eligible_for(r.enterprise, on))))
        if reasons:
            excluded.append({"id": inst.id, "name": inst.name, "reason": "；".join(reasons)})
        else:
            eligible.append(inst)
    return eligible, excluded


# -- handlers -----------------------------------------------------------------------------------------------------
def draw_institutions(cmd: DrawInstitutions, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    require_region_office(cmd.actor, "抽取评估机构")
    ids = _review_ids(cmd.review_ids)
    entered = str(cmd.entered_value or "").strip()
    if not entered or len(entered) > MAX_ENTERED:
        raise InvalidInput("请填写抽取时录入的随机值", [FieldError(
            "entered_value", f"请填写抽取时录入的随机值（如当日某公开数据，不超过 {MAX_ENTERED} 字）")])
    now = clock()

    def work():
        reviews = _awaiting(uow, cmd.actor, ids)
        eligible, excluded = _eligibility(uow, reviews, beijing_date(now))
        if not eligible:
            raise Conflict("没有符合条件的评估机构可供抽取（均在禁入期内或与企业存在利益冲突）")
        names = "、".join(r.case_no or r.id for r in reviews)
        title = f"评估机构抽取 — {names}" if len(reviews) == 1 else f"评估机构抽取 — {len(reviews)} 件案件（{names}）"
        draw = DrawRecord.run(
            purpose="institutions", title=title[:200], population=[i.id for i in eligible], entered_value=entered,
            at=now, by=cmd.actor.username, count=len(eligible),
            context={"review_ids": [r.id for r in reviews], "case_nos": [r.case_no for r in reviews]},
            labels={i.id: i.name for i in eligible},
            excluded=[{"id": e["id"], "label": e["name"], "reason": e["reason"]} for e in excluded])
        uow.draws.save(draw)
        audit(uow, cmd.actor, "institutions_drawn", now, target=draw.draw_id,
              detail={"review_ids": list(ids), "population": list(draw.population), "selected": list(draw.selected),
                      "excluded": [e["id"] for e in excluded], "entered_value": entered})
        return draw_answer(draw)

    return uow.run(work)


def commission_institution(cmd: CommissionInstitution, uow: ReviewUnitOfWork, *, clock: Clock,
                           calendar: WorkingCalendar, policy: DeadlinePolicy) -> dict:
    require_region_office(cmd.actor, "委托评估机构")
    ids = _review_ids(cmd.review_ids)
    now = clock()
    today = beijing_date(now)

    def work():
        draw = uow.draws.get(cmd.draw_id or "-")
        if draw is None:
            raise InvalidInput("请先抽取评估机构", [FieldError("draw_id", "没有这条抽取记录，请先抽取评估机构")])
        inst = uow.institutions.get(cmd.institution_id or "-")
        if inst is None:
            raise InvalidInput("请选择评估机构", [FieldError("institution_id", "评估机构名录中没有该机构")])
        reviews = _awaiting(uow, cmd.actor, ids)
        refusals = list(dict.fromkeys(reason for r in reviews if (reason := inst.eligible_for(r.enterprise, today))))
        if refusals:
            raise Conflict("不能委托该评估机构：" + "；".join(refusals))
        made = []
        for review in reviews:
            commission = Commission.create(
                review=review, institution=inst.summary(), draw=draw, reason=cmd.reason, note=cmd.note,
                by=cmd.actor.username, by_name=cmd.actor.name, at=now, calendar=calendar, policy=policy)
            review.commissioned(commission.id, inst.summary(), cmd.actor.username, now, calendar, policy)
            version = uow.commissions.save(commission)
            uow.region_reviews.save(review)
            uow.publish(commission_event(COMMISSIONED, commission, version, now, {
                "draw_id": commission.draw_id,
                "proposed_institution_id": commission.proposed_institution.get("id"),
                "choice_reason": commission.choice_reason, "commissioned_by": cmd.actor.username,
                "commissioned_by_name": cmd.actor.name, "commissioned_at": iso(now),
                "due_date": commission.due_date.isoformat()}), topic=TOPIC)
            audit(uow, cmd.actor, "evaluation_commissioned", now, application_id=review.application_id,
                  version_no=review.version_no, target=commission.id,
                  detail={"institution_id": inst.id, "draw_id": draw.draw_id,
                          "proposed_institution_id": commission.proposed_institution.get("id"),
                          "choice_reason": commission.choice_reason, "note": commission.note,
                          "due_date": commission.due_date.isoformat()})
            made.append(commission_view(commission, today))
        return {"commissions": made}

    return uow.run(work)


def accept_commission(cmd: AcceptCommission, uow: ReviewUnitOfWork, *, clock: Clock, calendar: WorkingCalendar,
                      policy: DeadlinePolicy) -> dict:
    now = clock()
    pledge_set = load_pledges()

    def work():
        commission = _readable(uow, cmd.actor, cmd.commission_id)
        _require_institution(cmd.actor, commission, "接受委托")
        if commission.status == "accepted":
            return commission_view(commission, beijing_date(now))     # a replay: nothing changes
        commission.accept(pledges=cmd.pledges, signer_name=cmd.signer_name, signer_title=cmd.signer_title,
                          by=cmd.actor.username, at=now, pledge_set=pledge_set, by_name=cmd.actor.name)
        review = uow.region_reviews.get(commission.review_id)
        if review is None:
            raise NotFound(f"没有自治区评估环节的案件 {commission.review_id}")
        review.evaluation_started(commission.id, cmd.actor.username, now, calendar, policy)
        version = uow.commissions.save(commission)
        uow.region_reviews.save(review)
        acceptance = commission.acceptance
        uow.publish(commission_event(ACCEPTED, commission, version, now, {
            "signer": {"name": acceptance["signer_name"], "title": acceptance["signer_title"],
                       "username": acceptance["signed_by"]},
            "signed_at": iso(now),
            "pledges": [{"code": p["code"], "title": p["title"], "version": p["version"], "sha256": p["sha256"]}
                        for p in acceptance["pledges"]],
            "evaluation_due_date": review.due_date.isoformat()}), topic=TOPIC)
        audit(uow, cmd.actor, "commission_accepted", now, application_id=commission.application_id,
              version_no=commission.version_no, target=commission.id,
              detail={"signer_name": acceptance["signer_name"], "signer_title": acceptance["signer_title"],
                      "pledges": {p["code"]: p["sha256"] for p in acceptance["pledges"]}})
        return commission_view(commission, beijing_date(now))

    return uow.run(work)


def decline_commission(cmd: DeclineCommission, uow: ReviewUnitOfWork, *, clock: Clock, calendar: WorkingCalendar,
                       policy: DeadlinePolicy) -> dict:
    now = clock()

    def work():
        commission = _readable(uow, cmd.actor, cmd.commission_id)
        _require_institution(cmd.actor, commission, "拒绝委托或申请回避")
        commission.decline(reason=cmd.reason, conflict=cmd.conflict, by=cmd.actor.username, by_name=cmd.actor.name,
                           at=now)
        review = uow.region_reviews.get(commission.review_id)
        if review is None:
            raise NotFound(f"没有自治区评估环节的案件 {commission.review_id}")
        label = "申报利益冲突并回避" if cmd.conflict else "拒绝委托"
        review.commission_ended(commission.id, f"{commission.institution['name']}{label}：{commission.ended['reason']}",
                                cmd.actor.username, now, calendar, policy)
        learnt = _learn_conflict(uow, commission, now) if cmd.conflict else False
        version = uow.commissions.save(commission)
        uow.region_reviews.save(review)
        _publish_end(uow, commission, version, now)
        audit(uow, cmd.actor, "commission_declined", now, application_id=commission.application_id,
              version_no=commission.version_no, target=commission.id,
              detail={"reason": commission.ended["reason"], "conflict": bool(cmd.conflict),
                      "conflict_recorded_in_register": learnt})
        return commission_view(commission, beijing_date(now))

    return uow.run(work)


def _learn_conflict(uow: ReviewUnitOfWork, commission: Commission, at: datetime) -> bool:
    """The register learns a conflict the institution discovered (so the next draw excludes it); whether it did."""
    inst = uow.institutions.get(commission.institution["id"])
    if inst is None or inst.conflict_with(commission.enterprise) is not None:
        return False
    entry = {"kind": "other", "credit_code": commission.enterprise.get("credit_code") or "",
             "enterprise_id": commission.enterprise.get("id") or "",
             "enterprise_name": commission.enterprise.get("name") or "",
             "note": f"受委托后申报回避（委托 {commission.id}）：{commission.ended['reason']}"[:500]}
    try:
        inst.edit(by=commission.ended["by"], at=at,
                  conflicts=[*(c.to_dict() for c in inst.conflicts), entry])
    except InvalidInput:
        return False     # e.g. an enterprise without a valid credit code: the commission keeps the record
    uow.institutions.save(inst)
    return True


def _publish_end(uow: ReviewUnitOfWork, commission: Commission, version: int, at: datetime) -> None:
    ended = commission.ended
    uow.publish(commission_event(DECLINED, commission, version, at, {
        "outcome": ended["outcome"], "reason": ended["reason"], "conflict": ended["conflict"],
        "ended_by": ended["by"], "ended_at": iso(at)}), topic=TOPIC)


def expire_commissions(uow: ReviewUnitOfWork, now: datetime, calendar: WorkingCalendar, policy: DeadlinePolicy
                       ) -> int:
    """The overdue sweep's part: every commission not accepted by its due date lapses and its case goes back to
    the office's queue. One transaction per commission, so a replayed sweep changes nothing twice."""
    today = beijing_date(now)
    ids = [c.id for c in uow.read(lambda: uow.commissions.find(status="awaiting_acceptance"))
           if c.is_overdue(today)]
    expired = 0
    for cid in ids:
        def work(cid=cid) -> int:
            commission = uow.commissions.get(cid)
            if commission is None or not commission.expire(today, now):
                return 0
            review = uow.region_reviews.get(commission.review_id)
            if review is not None and review.commission_id == commission.id:
                review.commission_ended(commission.id, f"{commission.institution['name']}{commission.ended['reason']}",
                                        "system", now, calendar, policy)
                uow.region_reviews.save(review)
            version = uow.commissions.save(commission)
            _publish_end(uow, commission, version, now)
            audit(uow, None, "commission_expired", now, application_id=commission.application_id,
                  version_no=commission.version_no, target=commission.id,
                  detail={"due_date": commission.due_date.isoformat()})
            return 1

        expired += uow.run(work)
    return expired


def list_commissions(cmd: ListCommissions, uow: ReviewUnitOfWork, *, clock: Clock) -> list[dict]:
    actor = cmd.actor
    if actor.role not in ("region_office", "admin", "evaluator", "bureau"):
        raise NotPermitted("您无权查看评估委托")
    filters: dict = {}
    if cmd.status:
        unknown = [s for s in cmd.status if s not in STATUSES]
        if unknown:
            raise InvalidInput("筛选条件有误", [FieldError("status", f"没有状态 {'、'.join(unknown)}")])
        filters["status"] = list(cmd.status)
    if cmd.review_id:
        filters["review_id"] = cmd.review_id
    if actor.role == "evaluator":
        filters["institution__id"] = actor.institution or "-"
    today = beijing_date(clock())
    found = uow.read(lambda: uow.commissions.find(sort="commissioned_at", descending=True, **filters))
    rows = [commission_view(c, today, brief=True) for c in found if can_read(actor, c)]
    # Open ones first (what awaits acceptance, by due date), then the rest newest first.
    return sorted(rows, key=lambda r: (r["status"] != "awaiting_acceptance", r["status"] != "accepted",
                                       r["due_date"] if r["status"] == "awaiting_acceptance" else ""))


def show_commission(cmd: ShowCommission, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    commission = uow.read(lambda: _readable(uow, cmd.actor, cmd.commission_id))
    view = commission_view(commission, beijing_date(clock()))
    view["permissions"] = {
        "accept": commission.status == "awaiting_acceptance" and cmd.actor.role == "evaluator"
        and cmd.actor.institution == commission.institution.get("id"),
        "decline": commission.is_open and cmd.actor.role == "evaluator"
        and cmd.actor.institution == commission.institution.get("id")}
    return view


# -- views, events ------------------------------------------------------------------------------------------------

def draw_answer(draw: DrawRecord) -> dict:
    ranking = [{"id": i, "name": draw.labels.get(i, i), "rank": n} for n, i in enumerate(draw.selected, 1)]
    return {"draw": draw.public(), "draw_id": draw.draw_id, "proposal": ranking[0] if ranking else None,
            "ranking": ranking, "excluded": [dict(e) for e in draw.excluded],
            "review_ids": list(draw.context.get("review_ids") or [])}


def commission_view(c: Commission, today: date, *, brief: bool = False) -> dict:
    view = {"commission_id": c.id, "review_id": c.review_id, "application_id": c.application_id,
            "version_no": c.version_no, "case_no": c.case_no, "league": c.league,
            "enterprise_name": c.enterprise.get("name"), "mine_name": c.mine.get("name"),
            "institution": dict(c.institution), "status": c.status, "status_label": c.status_label,
            "due_date": c.due_date.isoformat(), "overdue": c.is_overdue(today),
            "commissioned_at": iso(c.commissioned_at), "commissioned_by": c.commissioned_by,
            "commissioned_by_name": c.commissioned_by_name, "draw_id": c.draw_id,
            "signed_at": (c.acceptance or {}).get("signed_at"), "ended": dict(c.ended) if c.ended else None}
    if brief:
        return view
    texts = (load_pledges().texts_for(c.facts()) if c.status == "awaiting_acceptance" else [])
    return {**view, "enterprise": dict(c.enterprise), "mine": dict(c.mine),
            "proposed_institution": dict(c.proposed_institution), "choice_reason": c.choice_reason, "note": c.note,
            "acceptance": dict(c.acceptance) if c.acceptance else None, "pledge_texts": texts,
            "history": list(reversed(c.history))}


def commission_event(event_type: str, c: Commission, version: int, at: datetime, payload: dict) -> dict:
    return new_event(event_type, producer=PRODUCER, aggregate_type="commission", aggregate_id=c.id,
                     aggregate_version=version, occurred_at=at, payload={
                         "commission_id": c.id, "review_id": c.review_id, "application_id": c.application_id,
                         "version_no": c.version_no, "league": c.league, "case_no": c.case_no,
                         "institution": {"id": c.institution["id"], "name": c.institution["name"]}, **payload})


COMMAND_HANDLERS = {
    DrawInstitutions: draw_institutions,
    CommissionInstitution: commission_institution,
    AcceptCommission: accept_commission,
    DeclineCommission: decline_commission,
    ListCommissions: list_commissions,
    ShowCommission: show_commission,
}
EVENT_HANDLERS: dict = {}
