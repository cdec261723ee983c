"""The 公示 (publicity) area: the proposed cases (from review_routing's `region_review_decided`), composing,
changing, deleting and publishing a batch, and the window opening and closing by itself (`sweep`).
(see `areas.py` for the shape of an area)."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

from public_notice.domain.publicity import (
    ProposedCase,
    PublicityBatch,
    _iso,
    parse_date,
)
from shared.contracts import new_event
from shared.errors import FieldError, InvalidInput, InvalidTransition, NotFound, NotPermitted
from shared.workdays import beijing_date

log = logging.getLogger(__name__)
WRITERS = ("region_office",)
PRODUCER = "public_notice"


# -- commands ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComposeBatch:
    principal: object
    application_ids: tuple[str, ...]
    title: str | None = None
    working_days: int | None = None
    start_date: str | None = None


@dataclass(frozen=True)
class ChangeBatch:
    batch_id: str
    principal: object
    title: str | None = None
    working_days: int | None = None
    start_date: str | None = None
    reset_start: bool = False
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeleteBatch:
    batch_id: str
    principal: object


@dataclass(frozen=True)
class PublishBatch:
    batch_id: str
    principal: object


def _writer(principal) -> None:
    if getattr(principal, "role", None) not in WRITERS:
        raise NotPermitted("只有自治区自然资源厅可以组织公示")


def _who(principal) -> tuple[str, str]:
    return principal.username, getattr(principal, "display_name", "") or ""


def _published_count(uow, year: int) -> int:
    return len([b for b in uow.batches.find(year=year) if b.status != "draft"])


def _waiting(uow, application_ids, field_name: str) -> list[ProposedCase]:
    ids = list(dict.fromkeys(application_ids))
    found = {c.application_id: c for c in uow.proposals.find(status="waiting") if c.application_id in ids}
    missing = [a for a in ids if a not in found]
    if missing:
        raise InvalidInput("所选案件不能编入公示批次", [FieldError(
            field_name, f"{'、'.join(missing)} 不是待公示的案件（未拟公示、已编入其他批次或已被新版本取代）")])
    return [found[a] for a in ids]


def _event(uow, batch: PublicityBatch, event_type: str, payload: dict) -> None:
    uow.publish(new_event(f"public_notice.{event_type}", producer=PRODUCER, aggregate_type="publicity_batch",
                          aggregate_id=batch.id, aggregate_version=(batch.version or 0) + 1, payload=payload))


# -- handlers ----------------------------------------------------------------------------------------------------
def compose_batch(cmd: ComposeBatch, uow, *, clock, calendar) -> dict:
    _writer(cmd.principal)
    at = clock()
    today = beijing_date(at)
    if not cmd.application_ids:
        raise InvalidInput("请选择公示的矿山", [FieldError("application_ids", "至少选择一座待公示的矿山")])
    start = parse_date(cmd.start_date, "start_date") if cmd.start_date else None
    if start is not None and start < today:
        raise InvalidInput("公示开始日期已过", [FieldError("start_date", "公示开始日期不能早于今天")])
    by, by_name = _who(cmd.principal)

    def work():
        cases = _waiting(uow, cmd.application_ids, "application_ids")
        batch = PublicityBatch.compose(
            "pb-" + uuid.uuid4().hex[:12], cases, title=cmd.title, working_days=cmd.working_days, start=start,
            calendar=calendar, today=today, n=_published_count(uow, today.year) + 1, at=at, by=by,
            by_name=by_name)
        for case in cases:
            case.batch_id = batch.id
            case._move("in_batch", at, by, batch.id, by_name=by_name)
            uow.proposals.save(case)
        batch.version = uow.batches.save(batch)
        return batch.staff_view(today)

    return uow.run(work)


def change_batch(cmd: ChangeBatch, uow, *, clock, calendar) -> dict:
    _writer(cmd.principal)
    at = clock()
    today = beijing_date(at)
    start = parse_date(cmd.start_date, "start_date") if cmd.start_date else None
    if start is not None and start < today:
        raise InvalidInput("公示开始日期已过", [FieldError("start_date", "公示开始日期不能早于今天")])
    by, by_name = _who(cmd.principal)

    def work():
        batch = _get(uow, cmd.batch_id)
        added = _waiting(uow, cmd.add, "add") if cmd.add else []
        removed = batch.change(calendar=calendar, today=today, at=at, by=by, by_name=by_name, title=cmd.title,
                               working_days=cmd.working_days, start=start, reset_start=cmd.reset_start,
                               add=added, remove=cmd.remove)
        if not batch.entries:
            raise InvalidInput("公示批次中没有矿山", [FieldError("remove", "至少保留一座矿山；不需要本批次可删除草稿")])
        for case in added:
            case.batch_id = batch.id
            case._move("in_batch", at, by, batch.id, by_name=by_name)
            uow.proposals.save(case)
        _release(uow, batch.id, removed, at, by, by_name)
        batch.version = uow.batches.save(batch)
        return batch.staff_view(today)

    return uow.run(work)


def _release(uow, batch_id: str, application_ids, at, by, by_name) -> None:
    for case in uow.proposals.find(batch_id=batch_id):
        if case.application_id in application_ids and case.status == "in_batch":
            case.batch_id = None
            case._move("waiting", at, by, batch_id, by_name=by_name)
            uow.proposals.save(case)


def delete_batch(cmd: DeleteBatch, uow, *, clock) -> dict:
    _writer(cmd.principal)
    at = clock()
    by, by_name = _who(cmd.principal)

    def work():
        batch = _get(uow, cmd.batch_id)
        if batch.status != "draft":
            raise InvalidTransition("公示批次已发布，不能删除")
        _release(uow, batch.id, batch.application_ids(), at, by, by_name)
        batch.status = "deleted"
        batch.entries = []
        batch._log("deleted", at, by, by_name)
        uow.batches.save(batch)
        return {"deleted": batch.id}

    return uow.run(work)


def publish_batch(cmd: PublishBatch, uow, *, clock, calendar) -> dict:
    _writer(cmd.principal)
    at = clock()
    today = beijing_date(at)
    by, by_name = _who(cmd.principal)

    def work():
        batch = _get(uow, cmd.batch_id)
        batch.publish(calendar=calendar, today=today, n=_published_count(uow, today.year) + 1, at=at, by=by,
                      by_name=by_name)
        for case in uow.proposals.find(batch_id=batch.id):
            if case.status == "in_batch":
                case._move("publicised", at, by, batch.id, by_name=by_name)
                uow.proposals.save(case)
        _event(uow, batch, "publicity_published", {
            "batch_id": batch.id, "title": batch.title, "year": batch.year, "window_start": batch.window_start,
            "window_end": batch.window_end, "working_days": batch.working_days, "published_at": _iso(at),
            "published_by": by, "published_by_name": by_name, "mine_count": len(batch.entries),
            "entries": [{k: e.get(k) for k in PUBLIC_ENTRY} for e in batch.entries]})
        steps = batch.advance(today, at)   # a start of today opens at once
        batch.version = uow.batches.save(batch)
        if "closed" in steps:
            _closed_event(uow, batch)
        return batch.staff_view(today)

    return uow.run(work)


PUBLIC_ENTRY = ("application_id", "review_id", "version_no", "mine_id", "mine_name", "enterprise_name",
                "credit_code", "league", "county", "minerals", "scale", "total", "institution_name", "case_no")


def _closed_event(uow, batch: PublicityBatch) -> None:
    uow.publish(new_event("public_notice.publicity_closed", producer=PRODUCER, aggregate_type="publicity_batch",
                          aggregate_id=batch.id, aggregate_version=batch.version or 1, payload={
                              "batch_id": batch.id, "title": batch.title, "closed_on": batch.closed_on,
                              "window_start": batch.window_start, "window_end": batch.window_end,
                              "entries": [{"application_id": e["application_id"], "review_id": e.get("review_id"),
                                           "version_no": e.get("version_no"), "mine_name": e.get("mine_name"),
                                           "league": e.get("league"), "state": e.get("state")}
                                          for e in batch.entries]}))


def _get(uow, batch_id: str) -> PublicityBatch:
    batch = uow.batches.get(batch_id)
    if batch is None or batch.status == "deleted":
        raise NotFound("没有这个公示批次")
    return batch


# -- events --------------------------------------------------------------------------------------------------------
def when_region_review_decided(envelope: dict, uow, *, clock) -> None:
    """A proposed case waits for a batch (once: a replay changes nothing); a newer version of the same application
    supersedes an older waiting one, and an older version arriving late is kept as superseded."""
    payload = envelope["payload"]
    if payload.get("decision") != "proposed":
        return
    at = clock()

    def work():
        known = uow.proposals.get(payload["review_id"])
        if known is not None:
            # Proposed again after an upheld objection returned it from its batch: it waits for a new batch.
            batch = uow.batches.get(known.batch_id) if known.batch_id else None
            entry = batch.entry(known.application_id) if batch is not None else None
            if entry and entry.get("state") == "returned" and known.propose_again(payload):
                uow.proposals.save(known)
            return
        case = ProposedCase.from_decision(payload)
        others = [c for c in uow.proposals.find(application_id=case.application_id) if c.id != case.id]
        newer = [c for c in others if c.version_no > case.version_no]
        if newer:
            case.supersede(max(newer, key=lambda c: c.version_no).id, at)
        for older in others:
            if older.version_no < case.version_no and older.status == "waiting":
                older.supersede(case.id, at)
                uow.proposals.save(older)
        uow.proposals.save(case)

    uow.run(work)


# -- the sweep ---------------------------------------------------------------------------------------------------
def sweep(uow, *, clock, calendar) -> int:
    """Open the windows that start today or earlier, close those whose end has passed. Idempotent."""
    at = clock()
    today = beijing_date(at)
    changed = 0
    for status in ("published", "open"):
        ids = uow.read(lambda s=status: [b.id for b in uow.batches.find(status=s)])
        for batch_id in ids:
            def work(batch_id=batch_id):
                batch = uow.batches.get(batch_id)
                if batch is None:
                    return 0
                steps = batch.advance(today, at)
                if not steps:
                    return 0
                batch.version = uow.batches.save(batch)
                if "closed" in steps:
                    _closed_event(uow, batch)
                log.info("publicity batch %s: %s", batch_id, ", ".join(steps))
                return 1

            changed += uow.run(work)
    return changed


# -- reads ---------------------------------------------------------------------------------------------------------
def waiting_proposals(uow, league: str | None = None) -> list[dict]:
    def read():
        cases = uow.proposals.find(status="waiting", **({"league": league} if league else {}))
        return [{**c.public(), "proposed_at": c.proposed_at, "status": c.status}
                for c in sorted(cases, key=lambda c: (c.league, c.mine_name))]
    return uow.read(read)


def batches(uow, today: date, *, include_drafts: bool = True) -> list[dict]:
    def read():
        shown = ["published", "open", "closed"] + (["draft"] if include_drafts else [])
        found = uow.batches.find(status=shown)
        found.sort(key=lambda b: (_iso(b.published_at) or "9999", _iso(b.created_at) or ""), reverse=True)
        return found
    return uow.read(read)


def batch(uow, batch_id: str) -> PublicityBatch:
    return uow.read(lambda: _get(uow, batch_id))


COMMAND_HANDLERS = {ComposeBatch: compose_batch, ChangeBatch: change_batch, DeleteBatch: delete_batch,
                    PublishBatch: publish_batch}
EVENT_HANDLERS = {"review_routing.region_review_decided": when_region_review_decided}
