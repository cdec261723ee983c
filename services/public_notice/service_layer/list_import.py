"""The `list_import` area: the green-mine list kept before the platform (national and regional lists of earlier
years) enters the platform's list, each mine with the announcement that listed it — an `Announcement` of kind
`historical` carrying its ORIGINAL document number (内自然资字〔2023〕45号), never a new 〔2026〕 number.

`ImportListedMines` (the region office, `greenmine notice import-list FILE`, and the demo data loader) checks the
whole file first (`domain.list_import.validate`: every problem by row and column; any problem → InvalidInput and
nothing stored), then in one transaction stores the mines that are new (id from credit code + mine name), their
announcements (one per 公告文号; a later file adding mines to a known 公告文号 grows its table), bumps the list's
stamp (the web's in-memory list reloads at once) and publishes one `public_notice.mine_listed` per new mine (so
intake and supervision learn them). No `announcement_published`: these were published years ago, and the
subscribers of new announcements must not be told of them as new. Importing the same file again adds nothing.
(see `areas.py` for an area's shape)"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from public_notice.domain import announcements as ann
from public_notice.domain import list_import as li
from public_notice.domain.listing import ListedMine, ListStamp
from public_notice.service_layer.listing import MINE_LISTED, PRODUCER
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork
from shared.contracts import new_event
from shared.errors import FieldError, InvalidInput, NotPermitted
from shared.workdays import beijing_date

WRITERS = ("region_office", "admin")
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ImportListedMines:
    """Import the earlier list from a table (`headers`, `rows` as read from the file `source`); `dry_run` checks
    and counts without storing."""
    actor: object
    headers: tuple
    rows: tuple
    source: str
    dry_run: bool = False


def _name(actor) -> str:
    return getattr(actor, "display_name", None) or getattr(actor, "username", None) or ann.ISSUER


def problems_as_error(problems: Sequence[li.Problem]) -> InvalidInput:
    return InvalidInput(f"导入文件有{len(problems)}处问题，未导入任何数据",
                        [FieldError(p.where, p.message) for p in problems])


def import_listed_mines(cmd: ImportListedMines, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> dict:
    """{"mines": new ids, "existing": ids already on the platform, "announcements": new or grown ids, ...}."""
    if getattr(cmd.actor, "role", None) not in WRITERS:
        raise NotPermitted("只有自治区自然资源厅可以导入既有绿色矿山名录")
    at = clock()
    today = beijing_date(at)
    records, problems = li.validate(list(cmd.headers), [list(r) for r in cmd.rows], today=today)
    if problems:
        raise problems_as_error(problems)
    by, by_name, source = cmd.actor.username, _name(cmd.actor), cmd.source

    def work():
        existing = uow.listings.get_many([r["id"] for r in records])
        new = [r for r in records if r["id"] not in existing]
        by_document: dict[str, list[dict]] = defaultdict(list)
        for r in new:
            by_document[r["document_no"]].append(r)
        outcome = {"rows": len(records), "mines": [r["id"] for r in new], "existing": sorted(existing),
                   "announcements": [], "source": source, "dry_run": cmd.dry_run}
        if cmd.dry_run or not new:
            outcome["announcements"] = sorted({li.historical_announcement_id(r["document_no"]) for r in new})
            return outcome
        announcements = {}
        for document_no, mines in by_document.items():
            announcement_id = li.historical_announcement_id(document_no)
            announcement = uow.announcements.get(announcement_id)
            summaries = [_summary(r) for r in mines]
            if announcement is None:
                year, seq = li.document_year_and_seq(document_no)
                on = min(date.fromisoformat(r["listed_on"]) for r in mines)
                announcement = ann.historical_announcement(
                    summaries, announcement_id=announcement_id, document_no=document_no, title=mines[0]["title"],
                    year=year or on.year, seq=seq, on=on, at=at, by=by, by_name=by_name, source=source)
            else:
                ann.add_historical_mines(announcement, summaries, at=at, by=by, by_name=by_name, source=source)
            uow.announcements.save(announcement)
            announcements[document_no] = announcement
            outcome["announcements"].append(announcement_id)
        for r in new:
            announcement = announcements[r["document_no"]]
            mine = ListedMine.imported(r, announcement_id=announcement.id, announcement_no=announcement.number,
                                       batch_id=li.historical_batch_id(r["document_no"]), at=at, by=by,
                                       by_name=by_name, source=source)
            version = uow.listings.save(mine)
            uow.publish(mine_listed_event(mine, version))
        stamp = uow.list_stamps.get("list") or ListStamp()
        stamp.bump(at)
        uow.list_stamps.save(stamp)
        return outcome

    return uow.run(work)


def _summary(record: dict) -> dict:
    """What a historical announcement keeps of each of its mines (public facts only)."""
    return {k: record[k] for k in ("id", "mine_name", "enterprise_name", "credit_code", "league", "county",
                                   "minerals", "scale", "listed_on")}


def mine_listed_event(mine: ListedMine, version: int) -> dict:
    """`public_notice.mine_listed` of an imported mine (`source: import`): it had no application on the platform
    (`application_id`, `review_id`, `version_no` and `total` are null); `batch_id` is `historical-…`, the earlier
    listing round of its announcement."""
    return new_event(MINE_LISTED, producer=PRODUCER, aggregate_type="listed_mine", aggregate_id=mine.id,
                     aggregate_version=version, payload={
                         "mine_id": mine.id, "application_id": None, "review_id": None, "version_no": None,
                         "source": "import",
                         "enterprise": {"name": mine.enterprise_name, "credit_code": mine.credit_code},
                         "mine": {"name": mine.mine_name, "minerals": list(mine.minerals), "scale": mine.scale,
                                  "county": mine.county},
                         "league": mine.league, "total": None, "listed_on": mine.listed_on,
                         "batch_id": mine.batch_id, "announcement_id": mine.announcement_id,
                         "announcement_no": mine.announcement_no})


COMMAND_HANDLERS = {ImportListedMines: import_listed_mines}
