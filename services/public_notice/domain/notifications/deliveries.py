"""Delivery: one message to send on one channel (an email to one address, a webhook call to one endpoint), with
its attempts. Pure: no I/O.

At least once, never twice by our doing: a delivery's id is its idempotency key, made from the channel, the
target and the source (the event id, or the subscription and its purpose), so a replayed event or a repeated
handler finds the delivery already there and adds nothing; the receiving side gets the same key (the email's
Message-ID, the webhook's `webhook-id` header) to drop a duplicate sent after a crash between sending and
recording. A failed attempt is retried after the next delay of the RetryPolicy; after the last one the delivery
has failed (given up). Each channel's deliveries are independent: one failing never holds another."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CHANNELS = {"email": "电子邮件", "webhook": "Webhook"}
STATUSES = {"pending": "待发送", "sent": "已送达", "failed": "发送失败（已停止重试）", "cancelled": "已取消"}


@dataclass(frozen=True)
class RetryPolicy:
    """Seconds to wait before each retry: the n-th failure waits delays[n-1]; past the last, the delivery fails.
    The default follows Standard Webhooks' advice (immediately, then growing to hours)."""

    delays: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000)

    @classmethod
    def parse(cls, text: str | None) -> RetryPolicy:
        """'5,300,1800' (GREENMINE_DELIVERY_RETRY_SECONDS); empty: the default."""
        if not text:
            return cls()
        try:
            delays = tuple(float(x) for x in text.split(",") if x.strip())
        except ValueError:
            raise ValueError(f"GREENMINE_DELIVERY_RETRY_SECONDS must be seconds like '5,300,1800', got {text!r}")
        if any(d < 0 for d in delays):
            raise ValueError("GREENMINE_DELIVERY_RETRY_SECONDS must not be negative")
        return cls(delays)


def delivery_id(channel: str, target: str, source: str) -> str:
    """The idempotency key: the same channel, target and source always give the same id."""
    digest = hashlib.sha256(f"{channel}\x1f{target}\x1f{source}".encode()).hexdigest()[:32]
    return f"dlv_{digest}"


@dataclass
class Delivery:
    id: str
    channel: str                  # email | webhook
    target: str                   # the email address, or the webhook endpoint id
    source: str                   # what caused it: the event id (or e.g. "confirm:<subscription id>")
    topic: str                    # what it is about, for people and filters: the event type or a purpose
    message: dict                 # channel-specific: email {to, subject, text, html?}; webhook {type, body}
    created_at: str
    status: str = "pending"
    next_attempt_at: str | None = None
    attempts: list[dict] = field(default_factory=list)   # {at, ok, error, status_code?, duration_ms?}
    version: int | None = None

    @classmethod
    def new(cls, *, channel: str, target: str, source: str, topic: str, message: dict,
            now: datetime) -> Delivery:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        return cls(id=delivery_id(channel, target, source), channel=channel, target=target, source=source,
                   topic=topic, message=dict(message), created_at=now.isoformat(), next_attempt_at=now.isoformat())

    def is_due(self, now: datetime) -> bool:
        return self.status == "pending" and (self.next_attempt_at is None
                                             or datetime.fromisoformat(self.next_attempt_at) <= now)

    def succeeded(self, now: datetime, **detail) -> None:
        self.attempts.append({"at": now.isoformat(), "ok": True, "error": None, **detail})
        self.status, self.next_attempt_at = "sent", None

    def failed(self, now: datetime, error: str, policy: RetryPolicy, **detail) -> bool:
        """Record a failed attempt; schedule the next or give up. True when it gave up."""
        self.attempts.append({"at": now.isoformat(), "ok": False, "error": error[:500], **detail})
        failures = sum(1 for a in self.attempts if not a["ok"])
        if failures > len(policy.delays):
            self.status, self.next_attempt_at = "failed", None
            return True
        self.next_attempt_at = (now + timedelta(seconds=policy.delays[failures - 1])).isoformat()
        return False

    def cancel(self, now: datetime, why: str) -> None:
        if self.status == "pending":
            self.attempts.append({"at": now.isoformat(), "ok": False, "error": f"cancelled: {why}"})
            self.status, self.next_attempt_at = "cancelled", None

    def to_dict(self) -> dict:
        return {"_id": self.id, "channel": self.channel, "target": self.target, "source": self.source,
                "topic": self.topic, "message": self.message, "created_at": self.created_at,
                "status": self.status, "next_attempt_at": self.next_attempt_at, "attempts": self.attempts,
                "version": self.version}

    @classmethod
    def from_dict(cls, doc: dict) -> Delivery:
        return cls(id=doc["_id"], channel=doc["channel"], target=doc["target"], source=doc["source"],
                   topic=doc["topic"], message=doc["message"], created_at=doc["created_at"],
                   status=doc["status"], next_attempt_at=doc.get("next_attempt_at"),
                   attempts=list(doc.get("attempts") or []), version=doc.get("version"))


def add_once(deliveries, delivery: Delivery) -> bool:
    """Store `delivery` unless one with its id exists (a replayed event, a repeated request). True if added.
    `deliveries` is the unit of work's `deliveries` repository."""
    if deliveries.get(delivery.id) is not None:
        return False
    deliveries.save(delivery)
    return True
