"""The region stage after 公示: an objection the region office upheld (public_notice's `objection_concluded`) takes
the case's proposal back.

* upheld, `return_to_region`: the RegionReview goes back from 拟公示 to 核查完毕，待决定 with an open flag
  "公示期异议成立：<reasons>" (shown on the case page and in the queue; it blocks a new proposal until the office
  clears it with a reason), the decision step's deadline running again; `region_review_flagged` is published.
* upheld, `refuse`: the RegionReview ends 不予通过 with the objection's reasons; `region_review_decided`
  (decision `rejected`) is published like any region decision.
* not upheld: nothing changes here (the case stays 拟公示 until listed).

Idempotent: each objection is applied once (its id is kept on the review's history); a case no longer 拟公示
(already reopened, refused, or the event for another version) is left as it is."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from review_routing.adapters.events import iso
from review_routing.service_layer.common import audit
from review_routing.service_layer.region.reviews import TOPIC, _enterprise, _event, _mine, publish_flags
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.workdays import DeadlinePolicy, WorkingCalendar

log = logging.getLogger(__name__)


def _reasons(payload: dict) -> str:
    raw = payload.get("reasons")
    if isinstance(raw, str):
        return raw.strip()
    return "；".join((r.get("text") if isinstance(r, dict) else str(r)) for r in raw or [])


def on_objection_concluded(envelope: dict, uow: ReviewUnitOfWork, *, calendar: WorkingCalendar,
                           policy: DeadlinePolicy, clock: Callable[[], datetime]) -> None:
    payload = envelope["payload"]
    if payload.get("outcome") != "upheld" or payload.get("action") not in ("return_to_region", "refuse"):
        return
    rid = payload.get("review_id")

    def work():
        review = uow.region_reviews.get(rid) if rid else None
        if review is None:
            log.warning("objection %s names no region review (%s): ignored", payload.get("objection_id"), rid)
            return
        now = clock()
        objection, reasons = payload["objection_id"], _reasons(payload)
        flags_before = len(review.flags)
        if payload["action"] == "return_to_region":
            if not review.reopen_after_objection(objection, reasons, now, calendar, policy):
                return
            uow.region_reviews.save(review)
            publish_flags(uow, review, flags_before, now)
        else:
            if not review.refuse_after_objection(objection, reasons, now):
                return
            uow.region_reviews.save(review)
            uow.publish(_event("review_routing.region_review_decided", review, {
                "case_no": review.case_no, "decision": "rejected", "reasons": review.decision["reasons"],
                "decided_by": "public_notice", "decided_by_name": review.decision["decided_by_name"],
                "decided_at": iso(now), "enterprise": _enterprise(review), "mine": _mine(review, with_county=True),
                "evaluation": None}, now), topic=TOPIC)
        audit(uow, None, f"region_objection_{payload['action']}", now, application_id=review.application_id,
              version_no=review.version_no, target=review.id,
              detail={"objection_id": objection, "batch_id": payload.get("batch_id"), "reasons": reasons})

    uow.run(work)


COMMAND_HANDLERS: dict = {}
EVENT_HANDLERS = {"public_notice.objection_concluded": on_objection_concluded}
