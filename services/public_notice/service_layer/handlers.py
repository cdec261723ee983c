"""Handlers of the public_notice service: `handler(cmd, uow, *, dependencies)` for commands and
`when_<event>(envelope, uow, *, dependencies)` for the events it consumes (contracts/topics.yaml)."""
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
