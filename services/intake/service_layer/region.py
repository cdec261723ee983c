"""The region stage as the enterprise follows it (review_routing's `review_routing.region.events`): the case was
taken up by the 自治区自然资源厅, an evaluation institution was commissioned (自治区评估中（已委托第三方评估机构）),
it accepted, and the region decided — 拟公示, 退回整改 with the reasons per indicator (answered like a 退回补正),
or 不予通过. The enterprise sees the status and the decision's reasons, never the evaluator's draft scores (none
of these events carries them into the application).

The commission's events and the decision travel under different keys (a commission id, the review id), so a
decision may overtake a commission's event: each handler only moves the status forward from where it may."""
from __future__ import annotations

import logging

from .common import actor_of, listing_from
from .submission import _case, _parse_time, reasons_from_decision, valid_reasons
from .unit_of_work import IntakeUnitOfWork

log = logging.getLogger(__name__)
REGION_OFFICE = "自治区自然资源厅"


def _audit(uow: IntakeUnitOfWork, app, action: str, at, envelope: dict, **detail) -> None:
    uow.audit.record(actor=actor_of("review_routing"), action=action, subject_type="application", subject_id=app.id,
                     at=at, detail={"version": envelope["payload"]["version_no"], **detail,
                                    "event_id": envelope["event_id"]})


def on_region_review_opened(envelope: dict, uow: IntakeUnitOfWork) -> None:
    """The region office has the case (status stays 初审通过，已报自治区): recorded in the audit log."""
    def work():
        found = _case(envelope, uow)
        if found is None:
            return
        app, _doc = found
        payload = envelope["payload"]
        _audit(uow, app, "region_review_opened", _parse_time(payload["forwarded_at"]), envelope,
               due_date=payload.get("due_date"))

    uow.run(work)


def _commissioned(envelope: dict, uow: IntakeUnitOfWork, at_field: str, action: str) -> None:
    def work():
        found = _case(envelope, uow)
        if found is None:
            return
        app, doc = found
        payload = envelope["payload"]
        at = _parse_time(payload[at_field])
        if app.status == "forwarded":
            app.mark_commissioned(at, "review_routing", {"version": payload["version_no"],
                                                         "commission_id": payload["commission_id"]})
            uow.applications.save(app, listing_from(doc))
        _audit(uow, app, action, at, envelope, commission_id=payload["commission_id"],
               institution=payload["institution"]["name"])

    uow.run(work)


def on_evaluation_commissioned(envelope: dict, uow: IntakeUnitOfWork) -> None:
    _commissioned(envelope, uow, "commissioned_at", "evaluation_commissioned")


def on_commission_accepted(envelope: dict, uow: IntakeUnitOfWork) -> None:
    """The institution accepted (its pledges signed): still 自治区评估中; a missed commission event is caught up."""
    _commissioned(envelope, uow, "signed_at", "commission_accepted")


def on_region_review_decided(envelope: dict, uow: IntakeUnitOfWork) -> None:
    def work():
        found = _case(envelope, uow)
        if found is None:
            return
        app, doc = found
        payload = envelope["payload"]
        if app.status not in ("forwarded", "under_evaluation"):
            return  # this version's region decision is already applied
        at = _parse_time(payload["decided_at"])
        reasons = valid_reasons(reasons_from_decision(payload.get("reasons") or [])[0])
        decision = payload["decision"]
        if decision == "proposed":
            app.propose(at, "review_routing", {"version": payload["version_no"]})
        elif decision == "returned":
            app.rectify(at, "review_routing",
                        reasons or {"general": "退回整改（未说明具体理由，请联系自治区自然资源厅）"})
        else:
            app.region_reject(at, "review_routing", reasons, "" if reasons else "自治区评估不予通过")
        uow.applications.save(app, listing_from(doc))
        _audit(uow, app, f"region_review_{decision}", at, envelope, reasons=reasons)

    uow.run(work)


EVENT_HANDLERS = {
    "review_routing.region_review_opened": on_region_review_opened,
    "review_routing.evaluation_commissioned": on_evaluation_commissioned,
    "review_routing.commission_accepted": on_commission_accepted,
    "review_routing.region_review_decided": on_region_review_decided,
}
