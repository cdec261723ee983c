"""The 通报 (bulletins) area: a misconduct finding of the region stage becomes a public bulletin.
(see `areas.py` for the shape of an area)."""
from __future__ import annotations

from public_notice.domain.bulletins import bulletin_from_misconduct
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork


def when_misconduct_found(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock) -> None:
    """Publish the finding as a 通报 (once per finding: a replayed event changes nothing)."""
    bulletin = bulletin_from_misconduct(envelope["payload"], event_id=envelope["event_id"], published_at=clock())

    def work():
        if uow.bulletins.get(bulletin["_id"]) is None:
            uow.bulletins.add(bulletin)

    uow.run(work)


EVENT_HANDLERS = {"review_routing.misconduct_found": when_misconduct_found}
