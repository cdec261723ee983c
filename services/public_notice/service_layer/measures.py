"""The supervision measures applied to the public list (area `measures`): supervision's `supervision.mark_placed` /
`mark_lifted` show or lift a mine's 标注 with its public reason(s), and `supervision.removal_decided` (outcome
removed) takes the mine off the list with a numbered 移出名录公告 — its public page then says why (the reason, the
协调机制's document number, the 公告). The enterprise is told to stop using the title by the inbox
(`domain/notifications/audiences.py`). (see `areas.py` for an area's shape)

Replays change nothing: a mark already showing the same reasons is not marked again, and the removal's 公告 id is
derived from the document number and the mine (`listing.announce_removal`). A mine public_notice does not list (or
no longer lists) is left alone and logged."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from public_notice.service_layer import listing
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
OFFICE_NAME = "内蒙古自治区绿色矿山建设协调机制办公室"


@dataclass(frozen=True)
class Coordination:
    """Who acts on the list for a supervision decision: the region office (协调机制办公室), by supervision's event."""
    username: str = "supervision"
    role: str = "region_office"
    display_name: str = OFFICE_NAME


COORDINATION = Coordination()


def when_marks_changed(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> None:
    """The mine's open marks after a mark was placed or lifted: shown with their public reasons, or none."""
    payload = envelope["payload"]
    reasons = [m["reason"] for m in payload["marks"]]
    at = clock()

    def work():
        mine = uow.listings.get(payload["mine_id"])
        if mine is None or not mine.on_list:
            log.info("marks of %s not shown: not on the public list", payload["mine_id"])
            return
        if reasons:
            changed = mine.mark("；".join(reasons), at=at, by=COORDINATION.username, by_name=OFFICE_NAME)
        else:
            changed = mine.unmark(payload["reason"], at=at, by=COORDINATION.username, by_name=OFFICE_NAME)
        if changed:
            uow.listings.save(mine)
            listing._touch(uow, at)

    uow.run(work)


def when_removal_decided(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> None:
    """Removed by the 协调机制: off the list with a 移出名录公告 (once per decision)."""
    payload = envelope["payload"]
    if payload["outcome"] != "removed":
        return
    mine_id = payload["mine_id"]
    mine = uow.run(lambda: uow.listings.get(mine_id))
    if mine is None or not mine.on_list:     # not listed here, or removed already (by this decision or another)
        log.info("removal of %s not announced: not on the public list", mine_id)
        return
    listing.announce_removal(listing.AnnounceRemoval(
        COORDINATION, (mine_id,), payload["document_no"], reasons={mine_id: payload["reason"]}), uow, clock=clock)


EVENT_HANDLERS = {"supervision.mark_placed": when_marks_changed, "supervision.mark_lifted": when_marks_changed,
                  "supervision.removal_decided": when_removal_decided}
