"""InboxEntry: one in-app notification for one user; CaseContact: what the inbox remembers of a case to tell the
right people later (the enterprise's credit code for events that do not carry it, the commissioned institution
for an overdue step). Pure: no I/O.

An entry's id is derived from the event id and the username, so a replayed event adds nothing."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


def entry_id(event_id: str, username: str) -> str:
    return "ibx_" + hashlib.sha256(f"{event_id}\x1f{username}".encode()).hexdigest()[:32]


@dataclass
class InboxEntry:
    id: str
    username: str
    title: str
    text: str
    link: str
    event_type: str
    event_id: str
    created_at: str
    read: bool = False
    read_at: str | None = None
    version: int | None = None

    @classmethod
    def new(cls, *, event_id: str, event_type: str, username: str, title: str, text: str, link: str,
            now: datetime) -> InboxEntry:
        return cls(id=entry_id(event_id, username), username=username, title=title, text=text, link=link,
                   event_type=event_type, event_id=event_id, created_at=now.isoformat())

    def mark_read(self, now: datetime) -> bool:
        """True when it changed (reading twice changes nothing)."""
        if self.read:
            return False
        self.read, self.read_at = True, now.isoformat()
        return True

    def to_dict(self) -> dict:
        return {"_id": self.id, "username": self.username, "title": self.title, "text": self.text,
                "link": self.link, "event_type": self.event_type, "event_id": self.event_id,
                "created_at": self.created_at, "read": self.read, "read_at": self.read_at,
                "version": self.version}

    @classmethod
    def from_dict(cls, doc: dict) -> InboxEntry:
        return cls(id=doc["_id"], username=doc["username"], title=doc["title"], text=doc.get("text") or "",
                   link=doc.get("link") or "", event_type=doc["event_type"], event_id=doc["event_id"],
                   created_at=doc["created_at"], read=bool(doc.get("read")), read_at=doc.get("read_at"),
                   version=doc.get("version"))


# The facts a CaseContact keeps (never personal data: the enterprise's credit code is public).
CONTACT_FIELDS = ("credit_code", "enterprise_name", "league", "mine_id", "mine_name", "case_no", "institution_id")


@dataclass
class CaseContact:
    """Keyed by application id."""

    id: str
    credit_code: str | None = None
    enterprise_name: str | None = None
    league: str | None = None
    mine_id: str | None = None
    mine_name: str | None = None
    case_no: str | None = None
    institution_id: str | None = None
    version: int | None = None
    extra: dict = field(default_factory=dict)

    def learn(self, **facts) -> bool:
        """Remember the facts given (non-empty ones); True when something changed."""
        changed = False
        for key, value in facts.items():
            if key in CONTACT_FIELDS and value and getattr(self, key) != value:
                setattr(self, key, value)
                changed = True
        return changed

    def as_case(self) -> dict:
        return {"application_id": self.id, **{k: getattr(self, k) for k in CONTACT_FIELDS}}

    def to_dict(self) -> dict:
        return {"_id": self.id, **{k: getattr(self, k) for k in CONTACT_FIELDS}, "version": self.version}

    @classmethod
    def from_dict(cls, doc: dict) -> CaseContact:
        return cls(id=doc["_id"], **{k: doc.get(k) for k in CONTACT_FIELDS}, version=doc.get("version"))


def contact_facts(payload: dict) -> dict:
    """What an event tells about its case (application_id → facts)."""
    mine = payload.get("mine") if isinstance(payload.get("mine"), dict) else {}
    enterprise = payload.get("enterprise") if isinstance(payload.get("enterprise"), dict) else {}
    institution = payload.get("institution") if isinstance(payload.get("institution"), dict) else {}
    return {"credit_code": enterprise.get("credit_code"), "enterprise_name": enterprise.get("name"),
            "league": payload.get("league") or mine.get("league"), "mine_id": mine.get("mine_id"),
            "mine_name": mine.get("name"), "case_no": payload.get("case_no"),
            "institution_id": institution.get("id")}
