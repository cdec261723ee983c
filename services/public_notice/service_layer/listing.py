"""The 名录 (listing) area: the region office confirms the listing of a closed 公示 batch — its mines enter the
green-mine list and one numbered 名录公告 is published — and announces removals (移出名录); misconduct findings
become numbered 通报; marks (标注) are recorded on a listed mine's page. (see `areas.py` for an area's shape)

Replays and repeats change nothing: an announcement's id is derived from what it announces (the batch and its
mines, the removal decision and its mines, the finding), so a second confirmation finds it and returns it."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from public_notice.domain import announcements as ann
from public_notice.domain.bulletins import bulletin_from_misconduct
from public_notice.domain.listing import ListedMine, ListStamp, listing_id
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork
from shared.contracts import new_event
from shared.errors import FieldError, InvalidInput, InvalidTransition, NotFound, NotPermitted
from shared.storage import ConcurrencyError
from shared.workdays import beijing_date

PRODUCER = "public_notice"
MINE_LISTED = "public_notice.mine_listed"
ANNOUNCEMENT_PUBLISHED = "public_notice.announcement_published"
WRITERS = ("region_office",)
MAX_REASON = 500
Clock = Callable[[], datetime]


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConfirmListing:
    """List the mines of a closed batch (`application_ids`: default every listable entry) with one 公告."""
    actor: object
    batch_id: str
    application_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AnnounceRemoval:
    """Remove listed mines by the 协调机制's decision `document_no`, each with its reason (mine id → reason, or
    one `reason` for all), with one 名录公告. Issue 13 (supervision) calls this."""
    actor: object
    mine_ids: tuple[str, ...]
    document_no: str
    reasons: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class MarkMine:
    """标注 a listed mine with its public reason (unmark=True lifts the mark)."""
    actor: object
    mine_id: str
    reason: str
    unmark: bool = False


def _require_writer(actor) -> None:
    if getattr(actor, "role", None) not in WRITERS:
        raise NotPermitted("只有自治区自然资源厅可以管理绿色矿山名录和发布公告")


def _name(actor) -> str:
    return getattr(actor, "display_name", None) or ann.ISSUER


def _retrying(uow, work):
    """Run `work`; a concurrent number taken meanwhile (versioned save refused) is retried with the next one."""
    for attempt in range(5):
        try:
            return uow.run(work)
        except ConcurrencyError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _issue(uow: PublicNoticeUnitOfWork, draft: ann.Draft, announcement_id: str, *, at: datetime, on: date,
           by: str, by_name: str | None = None) -> ann.Announcement:
    """Number and store the announcement and publish `announcement_published` (inside the run)."""
    sid = ann.series_id(draft.kind, on.year)
    series = uow.number_series.get(sid) or ann.NumberSeries.start(draft.kind, on.year)
    seq = series.take(announcement_id)
    uow.number_series.save(series)
    announcement = ann.publish(draft, announcement_id=announcement_id, seq=seq, at=at, on=on, by=by,
                               by_name=by_name)
    version = uow.announcements.save(announcement)
    uow.publish(new_event(
        ANNOUNCEMENT_PUBLISHED, producer=PRODUCER, aggregate_type="announcement", aggregate_id=announcement.id,
        aggregate_version=version, payload={
            "announcement_id": announcement.id, "number": announcement.number, "kind": announcement.kind,
            "title": announcement.title, "year": announcement.year, "published_at": _iso(at),
            "published_on": announcement.published_on, "item_count": len(announcement.rows),
            "refs": {k: v for k, v in announcement.refs.items() if k in ("batch_id", "finding_id", "document_no",
                                                                            "mine_ids")}}))
    return announcement


def _touch(uow: PublicNoticeUnitOfWork, at: datetime) -> None:
    """The list changed: bump its stamp (inside the run; readers holding the list in memory reload it)."""
    stamp = uow.list_stamps.get("list") or ListStamp()
    stamp.bump(at)
    uow.list_stamps.save(stamp)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# -- handlers -----------------------------------------------------------------------------------------------------
def confirm_listing(cmd: ConfirmListing, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> dict:
    """The mines enter the list and one 名录公告 is published; a repeat returns what was done."""
    _require_writer(cmd.actor)
    at = clock()
    on = beijing_date(at)

    def work():
        batch = uow.batches.get(cmd.batch_id)
        if batch is None:
            raise NotFound(f"没有公示批次 {cmd.batch_id}")
        entries = list(batch.listable())
        by_app = {e["application_id"]: e for e in entries}
        if cmd.application_ids is not None:
            # Mines of this batch already listed make a repeated request harmless, not an error.
            already = {e["application_id"] for e in getattr(batch, "entries", []) if e.get("state") == "listed"}
            unknown = [a for a in cmd.application_ids if a not in by_app and a not in already]
            if unknown:
                why = "不在该批次可列入名录的矿山中（公示未结束、有异议未办结或异议成立）"
                raise InvalidInput("所选矿山不能列入名录",
                                   [FieldError("application_ids", f"{'、'.join(unknown)} {why}")])
            entries = [by_app[a] for a in dict.fromkeys(cmd.application_ids) if a in by_app]
        existing = uow.listings.get_many([listing_id(e) for e in entries])
        todo = [e for e in entries
                if e.get("state") != "listed"
                and not (listing_id(e) in existing and existing[listing_id(e)].on_list
                         and existing[listing_id(e)].batch_id == cmd.batch_id)]
        if not todo:
            done = uow.announcements.find(kind="listing", refs__batch_id=cmd.batch_id, sort="published_at")
            if not done:
                raise InvalidTransition("该批次没有可列入名录的矿山：公示尚未结束，或矿山均有未办结或成立的异议")
            return {"announcements": [announcement_view(a) for a in done], "listed": [], "changed": False}
        clash = [existing[listing_id(e)].mine_name for e in todo
                 if listing_id(e) in existing and existing[listing_id(e)].on_list]
        if clash:
            raise InvalidTransition(f"{'、'.join(clash)} 已在绿色矿山名录中")
        announcement_id = "ann-" + ann.key_of("listing", cmd.batch_id, *sorted(e["application_id"] for e in todo))
        found = uow.announcements.get(announcement_id)
        if found is not None:  # committed with the batch already marked: nothing to do
            return {"announcements": [announcement_view(found)], "listed": [], "changed": False}
        draft = ann.listing_announcement(
            [{**e, "mine_id": listing_id(e)} for e in todo], batch_id=cmd.batch_id,
            batch_title=getattr(batch, "title", None))
        announcement = _issue(uow, draft, announcement_id, at=at, on=on, by=cmd.actor.username,
                              by_name=_name(cmd.actor))
        listed = []
        for entry in todo:
            kwargs = dict(batch_id=cmd.batch_id, announcement_id=announcement.id,
                          announcement_no=announcement.number, on=on, at=at, by=cmd.actor.username,
                          by_name=_name(cmd.actor))
            mine = existing.get(listing_id(entry))
            if mine is None:
                mine = ListedMine.enter(entry, **kwargs)
            else:
                mine.relist(entry, **kwargs)
            version = uow.listings.save(mine)
            uow.publish(mine_listed_event(mine, version, announcement))
            listed.append(mine.id)
        batch.mark_listed([e["application_id"] for e in todo], at, announcement.id)
        uow.batches.save(batch)
        _touch(uow, at)
        return {"announcements": [announcement_view(announcement)], "listed": listed, "changed": True}

    return _retrying(uow, work)


def announce_removal(cmd: AnnounceRemoval, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> dict:
    _require_writer(cmd.actor)
    at = clock()
    on = beijing_date(at)
    document_no = (cmd.document_no or "").strip()
    errors = []
    if not document_no or len(document_no) > 64:
        errors.append(FieldError("document_no", "请填写协调机制审定的文号（64字以内）"))
    mine_ids = list(dict.fromkeys(cmd.mine_ids or ()))
    if not mine_ids:
        errors.append(FieldError("mine_ids", "请选择要移出名录的矿山"))
    reasons = {m: ((cmd.reasons or {}).get(m) or cmd.reason or "").strip() for m in mine_ids}
    for mine_id, reason in reasons.items():
        if not reason or len(reason) > MAX_REASON:
            errors.append(FieldError(f"reasons.{mine_id}", f"请填写移出原因（{MAX_REASON}字以内）"))
    if errors:
        raise InvalidInput("移出名录的信息不完整", errors)
    announcement_id = "ann-" + ann.key_of("removal", document_no, *sorted(mine_ids))

    def work():
        found = uow.announcements.get(announcement_id)
        if found is not None:
            return {"announcement": announcement_view(found), "removed": [], "changed": False}
        mines = uow.listings.get_many(mine_ids)
        missing = [m for m in mine_ids if m not in mines]
        if missing:
            raise NotFound(f"名录中没有 {'、'.join(missing)}")
        gone = [mines[m].mine_name for m in mine_ids if not mines[m].on_list]
        if gone:
            raise InvalidTransition(f"{'、'.join(gone)} 已移出名录")
        draft = ann.removal_announcement([mine_summary(mines[m]) for m in mine_ids], document_no=document_no,
                                         reasons=reasons)
        announcement = _issue(uow, draft, announcement_id, at=at, on=on, by=cmd.actor.username,
                              by_name=_name(cmd.actor))
        for m in mine_ids:
            mine = mines[m]
            mine.remove(reasons[m], document_no=document_no, on=on, at=at, by=cmd.actor.username,
                        by_name=_name(cmd.actor), announcement_id=announcement.id,
                        announcement_no=announcement.number)
            uow.listings.save(mine)
        _touch(uow, at)
        return {"announcement": announcement_view(announcement), "removed": mine_ids, "changed": True}

    return _retrying(uow, work)


def mark_mine(cmd: MarkMine, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> dict:
    _require_writer(cmd.actor)
    reason = (cmd.reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput("请填写标注原因", [FieldError("reason", f"请填写原因（{MAX_REASON}字以内）")])
    at = clock()

    def work():
        mine = uow.listings.get(cmd.mine_id)
        if mine is None:
            raise NotFound(f"名录中没有 {cmd.mine_id}")
        if cmd.unmark:
            changed = mine.unmark(reason, at=at, by=cmd.actor.username, by_name=_name(cmd.actor))
        else:
            changed = mine.mark(reason, at=at, by=cmd.actor.username, by_name=_name(cmd.actor))
        if changed:
            uow.listings.save(mine)
            _touch(uow, at)
        return mine_view(mine)

    return _retrying(uow, work)


def when_misconduct_found(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock) -> None:
    """A misconduct finding becomes a numbered 通报 (one per finding; the bulletins area keeps its bulletin)."""
    payload = envelope["payload"]
    at = clock()
    text = bulletin_from_misconduct(payload, event_id=envelope["event_id"], published_at=at)["text"]
    draft = ann.bulletin_announcement(payload, text=text)
    announcement_id = "ann-" + ann.key_of("bulletin", payload["finding_id"])

    def work():
        if uow.announcements.get(announcement_id) is None:
            _issue(uow, draft, announcement_id, at=at, on=beijing_date(at), by=payload.get("recorded_by") or
                   "region", by_name=ann.ISSUER)

    _retrying(uow, work)


# -- views --------------------------------------------------------------------------------------------------------
def mine_summary(mine: ListedMine) -> dict:
    return {"mine_id": mine.id, "mine_name": mine.mine_name, "enterprise_name": mine.enterprise_name,
            "league": mine.league}


def mine_view(mine: ListedMine) -> dict:
    doc = mine.to_dict()
    doc.pop("_id")
    doc["mine_id"] = mine.id
    return doc


def announcement_view(a: ann.Announcement) -> dict:
    doc = a.to_dict()
    doc["id"] = doc.pop("_id")
    doc["kind_label"] = a.kind_label
    return doc


def mine_listed_event(mine: ListedMine, version: int, announcement: ann.Announcement) -> dict:
    return new_event(MINE_LISTED, producer=PRODUCER, aggregate_type="listed_mine", aggregate_id=mine.id,
                     aggregate_version=version, payload={
                         "mine_id": mine.id, "application_id": mine.application_id, "review_id": mine.review_id,
                         "version_no": mine.version_no, "source": "publicity",
                         "enterprise": {"name": mine.enterprise_name, "credit_code": mine.credit_code},
                         "mine": {"name": mine.mine_name, "minerals": list(mine.minerals), "scale": mine.scale,
                                  "county": mine.county},
                         "league": mine.league, "total": mine.total, "listed_on": mine.listed_on,
                         "batch_id": mine.batch_id, "announcement_id": announcement.id,
                         "announcement_no": announcement.number})


COMMAND_HANDLERS = {ConfirmListing: confirm_listing, AnnounceRemoval: announce_removal, MarkMine: mark_mine}
EVENT_HANDLERS = {"review_routing.misconduct_found": when_misconduct_found}
