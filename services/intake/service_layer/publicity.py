"""The public notice as the enterprise follows it (public_notice's `public_notice.listing.events`): the mine is
publicised (公示中, with the window's dates), someone objects (the enterprise is told an objection is being
verified — never who), the region office concludes it (upheld and refused → 未纳入绿色矿山名录, final; upheld and
returned → back to 自治区评估中, the region decides again; not upheld → still 公示中), and the mine enters the
green-mine list (已纳入绿色矿山名录, with the announcement's number).

The batch, each objection and each listed mine travel under different keys, so a later step may overtake an
earlier one: each handler only moves the status forward from where it may, and a replay changes nothing (a note
on the case is written once per objection)."""
from __future__ import annotations

import logging
from datetime import datetime

from .common import actor_of, listing_from
from .submission import _parse_time
from .unit_of_work import IntakeUnitOfWork

log = logging.getLogger(__name__)
ACTOR = "public_notice"
#: The statuses a case may be in while the public notice concerns it (拟公示 until the batch's event arrives).
NOTICE_STATUSES = ("proposed", "publicised")


def _at(envelope: dict, payload_field: str | None = None) -> datetime:
    value = (envelope["payload"].get(payload_field) if payload_field else None) or envelope["occurred_at"]
    if isinstance(value, str) and len(value) == 10:   # a date (listed_on): noon in Beijing is 04:00 UTC
        value = value + "T04:00:00Z"
    return _parse_time(value)


def _application(uow: IntakeUnitOfWork, application_id: str | None, version_no: int | None, event_type: str):
    """The case and its stored document, or None when unknown or the event concerns a superseded version (a
    public notice never names a case intake has not seen; one unknown entry must not block a whole batch)."""
    if not application_id:
        return None
    found = uow.applications.get(application_id)
    if found is None:
        log.warning("%s names unknown application %s: ignored", event_type, application_id)
        return None
    app, doc = found
    latest = app.latest_version.number if app.versions else 0
    if version_no is not None and version_no != latest:
        log.info("ignoring %s for version %s of %s (latest %s)", event_type, version_no, app.id, latest)
        return None
    return app, doc


def _noted(app, action: str, key: str, value: str) -> bool:
    return any(h.action == action and (h.to_dict()["detail"] or {}).get(key) == value for h in app.history)


def _audit(uow: IntakeUnitOfWork, app, action: str, at, envelope: dict, **detail) -> None:
    uow.audit.record(actor=actor_of(ACTOR), action=action, subject_type="application", subject_id=app.id, at=at,
                     detail={**detail, "event_id": envelope["event_id"]})


def on_publicity_published(envelope: dict, uow: IntakeUnitOfWork) -> None:
    """Every case of the batch: 拟公示 → 公示中, the window's dates on the history entry (the case page shows them)."""
    def work():
        payload = envelope["payload"]
        at = _at(envelope, "published_at")
        window = {"batch_id": payload["batch_id"], "title": payload.get("title") or "",
                  "window_start": payload.get("window_start"), "window_end": payload.get("window_end"),
                  "working_days": payload.get("working_days")}
        for entry in payload.get("entries") or []:
            found = _application(uow, entry.get("application_id"), entry.get("version_no"), envelope["type"])
            if found is None:
                continue
            app, doc = found
            if app.status != "proposed":
                continue  # already publicised, or a later step (an objection's outcome, the listing) came first
            app.publicise(at, ACTOR, {"version": entry.get("version_no"), **window})
            uow.applications.save(app, listing_from(doc))
            _audit(uow, app, "publicity_published", at, envelope, **window)

    uow.run(work)


def on_objection_filed(envelope: dict, uow: IntakeUnitOfWork) -> None:
    """The enterprise learns that an objection is being verified (nothing about who filed it): a note, once."""
    def work():
        payload = envelope["payload"]
        found = _application(uow, payload.get("application_id"), payload.get("version_no"), envelope["type"])
        if found is None:
            return
        app, doc = found
        objection = payload["objection_id"]
        if app.status not in NOTICE_STATUSES or _noted(app, "objection_filed", "objection_id", objection):
            return
        at = _at(envelope, "filed_at")
        app.note(at, ACTOR, "objection_filed", {"objection_id": objection, "batch_id": payload.get("batch_id")})
        uow.applications.save(app, listing_from(doc))
        _audit(uow, app, "objection_filed", at, envelope, objection_id=objection)

    uow.run(work)


def on_objection_concluded(envelope: dict, uow: IntakeUnitOfWork) -> None:
    def work():
        payload = envelope["payload"]
        found = _application(uow, payload.get("application_id"), payload.get("version_no"), envelope["type"])
        if found is None:
            return
        app, doc = found
        objection = payload["objection_id"]
        if app.status not in NOTICE_STATUSES:
            return  # this outcome (or the listing) is already applied
        at = _at(envelope, "concluded_at")
        reasons = (payload.get("reasons") or "").strip() if isinstance(payload.get("reasons"), str) else \
            "；".join(str(r) for r in payload.get("reasons") or [])
        detail = {"objection_id": objection, "batch_id": payload.get("batch_id"), "reasons": reasons}
        outcome, action = payload.get("outcome"), payload.get("action")
        if outcome == "upheld" and action == "refuse":
            app.mark_not_listed(at, ACTOR, {**detail, "comment": "公示期异议成立，不予纳入绿色矿山名录"})
        elif outcome == "upheld":
            app.return_after_objection(at, ACTOR, detail)
        elif _noted(app, "objection_not_upheld", "objection_id", objection):
            return
        else:
            app.note(at, ACTOR, "objection_not_upheld", detail)
        uow.applications.save(app, listing_from(doc))
        _audit(uow, app, f"objection_{outcome}", at, envelope, objection_id=objection, decided_action=action,
               reasons=reasons)

    uow.run(work)


def on_mine_listed(envelope: dict, uow: IntakeUnitOfWork) -> None:
    """已纳入绿色矿山名录, with the announcement's number."""
    def work():
        payload = envelope["payload"]
        found = _application(uow, payload.get("application_id"), payload.get("version_no"), envelope["type"])
        if found is None:
            return
        app, doc = found
        if app.status not in NOTICE_STATUSES:
            return
        at = _at(envelope)
        detail = {"announcement_no": payload.get("announcement_no"), "announcement_id": payload.get("announcement_id"),
                  "listed_on": payload.get("listed_on"), "batch_id": payload.get("batch_id")}
        app.mark_listed(at, ACTOR, detail)
        uow.applications.save(app, listing_from(doc))
        _audit(uow, app, "mine_listed", at, envelope, **detail)

    uow.run(work)


EVENT_HANDLERS = {
    "public_notice.publicity_published": on_publicity_published,
    "public_notice.objection_filed": on_objection_filed,
    "public_notice.objection_concluded": on_objection_concluded,
    "public_notice.mine_listed": on_mine_listed,
}
