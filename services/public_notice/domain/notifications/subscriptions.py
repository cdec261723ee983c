"""EmailSubscription: a member of the public asks to be emailed the 公告 (announcements) and/or the 公示
(publicity) — double opt-in: pending until the link of the confirmation email is opened; every email carries a
one-click unsubscribe link. Pure: no I/O (tokens are signed with the platform's secret key).

The address is personal data: it stays in this record and in the deliveries to it, never on an event, a public
page or a log line. The id is a digest of the address, so subscribing again updates the one record."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

TOPICS = {"announcements": "绿色矿山名录公告", "publicity": "绿色矿山公示"}
STATUSES = {"pending": "待确认", "confirmed": "已订阅", "unsubscribed": "已退订"}
# Which event brings each topic's emails.
TOPIC_OF_EVENT = {"public_notice.announcement_published": "announcements",
                  "public_notice.publicity_published": "publicity"}
CONFIRM_MAX_AGE_S = 7 * 24 * 3600
EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")
SALT = "greenmine.public_notice.subscription"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def valid_email(email: str) -> bool:
    return len(email) <= 254 and bool(EMAIL.match(email))


def subscription_id(email: str) -> str:
    return "sub_" + hashlib.sha256(normalize_email(email).encode()).hexdigest()[:24]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def make_token(secret: str, subscription_id: str, purpose: str, nonce: int = 0) -> str:
    """A signed token naming the subscription and its purpose (confirm / unsubscribe); `nonce` is the
    subscription's `token_epoch`, so the tokens of an earlier confirmation round stop working."""
    return _serializer(secret).dumps({"s": subscription_id, "p": purpose, "n": nonce})


def read_token(secret: str, token: str, purpose: str, max_age_s: int | None = None) -> tuple[str, int] | None:
    """(subscription id, nonce) of a valid token for `purpose`, else None (forged, expired, other purpose)."""
    try:
        data = _serializer(secret).loads(token or "", max_age=max_age_s)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("s"), str):
        return None
    return data["s"], int(data.get("n") or 0)


@dataclass
class EmailSubscription:
    id: str
    email: str
    topics: list[str]
    status: str                      # pending | confirmed | unsubscribed
    created_at: str
    token_epoch: int = 0             # bumped by each new confirmation round
    confirmed_at: str | None = None
    unsubscribed_at: str | None = None
    history: list[dict] = field(default_factory=list)   # {at, by, by_name, action}
    version: int | None = None

    @classmethod
    def new(cls, email: str, topics: list[str], now: datetime) -> EmailSubscription:
        email = normalize_email(email)
        sub = cls(id=subscription_id(email), email=email, topics=sorted(set(topics)), status="pending",
                  created_at=now.isoformat())
        sub._log(now, "subscribed", topics=sub.topics)
        return sub

    def _log(self, now: datetime, action: str, **more) -> None:
        self.history.append({"at": now.isoformat(), "by": "subscriber", "by_name": "订阅人", "action": action,
                             **more})

    def resubscribe(self, topics: list[str], now: datetime) -> bool:
        """Asked again: a confirmed subscription takes the new topics at once (True: no new confirmation
        needed); a pending or unsubscribed one starts a new confirmation round (False)."""
        self.topics = sorted(set(topics))
        if self.status == "confirmed":
            self._log(now, "topics_changed", topics=self.topics)
            return True
        self.status, self.token_epoch = "pending", self.token_epoch + 1
        self._log(now, "subscribed", topics=self.topics)
        return False

    def confirm(self, nonce: int, now: datetime) -> bool:
        """The confirmation link was opened: True when it changed (a second click changes nothing). A link of an
        earlier round, or after unsubscribing, does not confirm."""
        if self.status == "confirmed":
            return False
        if self.status != "pending" or nonce != self.token_epoch:
            raise ValueError("stale")
        self.status, self.confirmed_at = "confirmed", now.isoformat()
        self._log(now, "confirmed")
        return True

    def unsubscribe(self, now: datetime) -> bool:
        if self.status == "unsubscribed":
            return False
        self.status, self.unsubscribed_at = "unsubscribed", now.isoformat()
        self._log(now, "unsubscribed")
        return True

    def wants(self, topic: str) -> bool:
        return self.status == "confirmed" and topic in self.topics

    def to_dict(self) -> dict:
        return {"_id": self.id, "email": self.email, "topics": list(self.topics), "status": self.status,
                "created_at": self.created_at, "token_epoch": self.token_epoch, "confirmed_at": self.confirmed_at,
                "unsubscribed_at": self.unsubscribed_at, "history": list(self.history), "version": self.version}

    @classmethod
    def from_dict(cls, doc: dict) -> EmailSubscription:
        return cls(id=doc["_id"], email=doc["email"], topics=list(doc.get("topics") or []), status=doc["status"],
                   created_at=doc["created_at"], token_epoch=int(doc.get("token_epoch") or 0),
                   confirmed_at=doc.get("confirmed_at"), unsubscribed_at=doc.get("unsubscribed_at"),
                   history=list(doc.get("history") or []), version=doc.get("version"))
