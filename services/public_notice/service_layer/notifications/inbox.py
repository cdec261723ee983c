"""The in-app inbox (area `notifications.inbox`): every event somebody is told about (the table of
`domain/notifications/audiences.py`) becomes one InboxEntry per user concerned, resolved with the directory;
users read them and mark them read. (see `areas.py` for an area's shape)

Replays change nothing: an entry's id is derived from the event id and the username. Events that do not carry
the enterprise (the initial review's decision, an objection's conclusion) or the commissioned institution (an
overdue region step) are resolved from what earlier events of the case told (CaseContact, by application id)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from public_notice.domain.notifications import audiences
from public_notice.domain.notifications.inbox import CaseContact, InboxEntry, contact_facts
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork
from shared.errors import NotFound

Clock = Callable[[], datetime]
# Events that teach the inbox who is behind a case (besides those of the table).
LEARN_FROM = ("intake.application_submitted", "review_routing.region_review_opened",
              "review_routing.region_review_decided", "review_routing.evaluation_commissioned",
              "public_notice.mine_listed")


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MarkRead:
    actor: object
    entry_id: str


@dataclass(frozen=True)
class MarkAllRead:
    actor: object


def recipients(directory, queries: list[dict]) -> list[dict]:
    """The active accounts the queries name, each once, by username."""
    seen: dict[str, dict] = {}
    for query in queries:
        for user in directory.find(**query):
            seen.setdefault(user["username"], user)
    return [seen[k] for k in sorted(seen)]


def remember(uow: PublicNoticeUnitOfWork, payload: dict) -> dict:
    """Learn the case's facts from the event (inside the run); the case as remembered (a dict, maybe empty)."""
    application_id = payload.get("application_id")
    if not application_id:
        return {}
    contact = uow.case_contacts.get(application_id)
    fresh = contact is None
    contact = contact or CaseContact(id=application_id)
    if contact.learn(**contact_facts(payload)) or (fresh and any(contact_facts(payload).values())):
        uow.case_contacts.save(contact)
    return contact.as_case()


def notify(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock: Clock, directory) -> list[InboxEntry]:
    """The inbox entries of this event (inside the run): those added now (none on a replay)."""
    payload = envelope.get("payload") or {}
    case = remember(uow, payload) if envelope["type"] in LEARN_FROM or payload.get("application_id") else {}
    rule = audiences.TABLE.get(envelope["type"])
    if rule is None or payload.get("source") == "import":   # a mine listed years ago, imported: nobody's news
        return []
    content = audiences.render(rule, payload, case)
    added = []
    now = clock()
    for user in recipients(directory, audiences.audience(rule, payload, case)):
        entry = InboxEntry.new(event_id=envelope["event_id"], event_type=envelope["type"],
                               username=user["username"], now=now, **content)
        if uow.inbox.get(entry.id) is None:
            uow.inbox.save(entry)
            added.append(entry)
    return added


def when_event(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock: Clock, directory) -> None:
    uow.run(lambda: notify(envelope, uow, clock=clock, directory=directory))


def when_learning(envelope: dict, uow: PublicNoticeUnitOfWork) -> None:
    uow.run(lambda: remember(uow, envelope.get("payload") or {}))


def mark_read(cmd: MarkRead, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> dict:
    def work():
        entry = uow.inbox.get(cmd.entry_id)
        if entry is None or entry.username != cmd.actor.username:
            raise NotFound("没有这条通知")
        if entry.mark_read(clock()):
            uow.inbox.save(entry)
        return entry.to_dict()

    return uow.run(work)


def mark_all_read(cmd: MarkAllRead, uow: PublicNoticeUnitOfWork, *, clock: Clock) -> int:
    def work():
        now, changed = clock(), 0
        for entry in uow.inbox.find(username=cmd.actor.username, read=False):
            if entry.mark_read(now):
                uow.inbox.save(entry)
                changed += 1
        return changed

    return uow.run(work)


COMMAND_HANDLERS = {MarkRead: mark_read, MarkAllRead: mark_all_read}
EVENT_HANDLERS = {event_type: when_event for event_type in audiences.TABLE}
EVENT_HANDLERS.update({t: when_learning for t in LEARN_FROM if t not in EVENT_HANDLERS})
