"""WebhookEndpoint: a subscribing system's URL, its signing secret (Standard Webhooks `whsec_…`), the event types
it wants, and its delivery health. Pure: no I/O.

Health: every delivery that is finally given up (all retries failed) counts one consecutive failure; a delivery
that succeeds resets the count. After `disable_after` consecutive given-up deliveries (env
GREENMINE_WEBHOOK_DISABLE_AFTER, default 5) the endpoint is disabled with the reason, and only a person enables it
again. Counting given-up deliveries rather than attempts means one slow night of retries of one event is one
failure, not six."""
from __future__ import annotations

import base64
import ipaddress
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

# The event types a subscribing system may ask for (public_notice.listing.events), with their Chinese names.
EVENT_TYPES = {
    "public_notice.publicity_published": "公示发布",
    "public_notice.publicity_closed": "公示期结束",
    "public_notice.objection_filed": "收到异议（不含异议人信息）",
    "public_notice.objection_triaged": "异议已分办",
    "public_notice.objection_finding_recorded": "异议核查结果已记录",
    "public_notice.objection_concluded": "异议已办结",
    "public_notice.mine_listed": "矿山纳入名录",
    "public_notice.announcement_published": "公告发布（名录公告、移出公告、通报）",
}
PING = "webhook.test"   # the type of a test delivery ("发送测试")
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
MAX_URL = 500
MAX_DESCRIPTION = 200
ROTATION_GRACE = timedelta(hours=24)   # after a rotation the old secret also signs, for this long
# Keys never sent to a subscribing system, at any depth, whatever an event carries (the objector's personal data).
PERSONAL_KEYS = ("objector", "name_of_objector", "id_number", "id_card", "identity_number", "phone", "mobile",
                 "email", "organisation", "organization", "lookup_code", "contact", "address")


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes (Standard Webhooks' symmetric secret)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the bytes after `whsec_`, base64-decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def url_problem(url: str, *, allow_private: bool = False) -> str | None:
    """Why `url` cannot be an endpoint (Chinese), or None. http/https with a host; a literal private, loopback,
    link-local or reserved address, or a local name (localhost, *.local), is refused unless `allow_private`. (Names
    are resolved again when sending: the sender refuses a name that resolves to such an address.)"""
    if not url or len(url) > MAX_URL:
        return f"请填写不超过{MAX_URL}个字符的接收地址"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises
    except ValueError:
        return "接收地址格式不正确"
    if parts.scheme not in ("http", "https"):
        return "接收地址须以 http:// 或 https:// 开头"
    host = (parts.hostname or "").lower()
    if not host:
        return "接收地址缺少主机名"
    if parts.username or parts.password:
        return "接收地址不能包含用户名或密码"
    if allow_private:
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "不能使用本机或内网地址"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return "不能使用本机或内网地址" if not_public(address) else None


def not_public(address) -> bool:
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified)


def public_data(value):
    """`value` without any personal key, at any depth (defence in depth: events carry none)."""
    if isinstance(value, dict):
        return {k: public_data(v) for k, v in value.items()
                if not any(p in k.lower() for p in PERSONAL_KEYS)}
    if isinstance(value, list):
        return [public_data(v) for v in value]
    return value


def event_types_problem(types) -> str | None:
    if not isinstance(types, list | tuple) or not types:
        return "请至少选择一种事件类型"
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        return "不支持的事件类型：" + "、".join(map(str, unknown))
    return None


@dataclass
class WebhookEndpoint:
    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    secret: str
    created_at: str
    created_by: str
    previous_secret: str | None = None
    previous_secret_until: str | None = None
    consecutive_failures: int = 0          # given-up deliveries since the last success
    disabled_reason: str | None = None
    disabled_at: str | None = None
    last_success_at: str | None = None
    last_failure_at: str | None = None
    deleted: bool = False
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def register(cls, *, url: str, description: str, event_types, enabled: bool, now: datetime, by: str,
                 by_name: str) -> WebhookEndpoint:
        endpoint = cls(id="whk_" + uuid.uuid4().hex[:20], url=url, description=description,
                       event_types=sorted(set(event_types)), enabled=enabled, secret=new_secret(),
                       created_at=now.isoformat(), created_by=by)
        endpoint._log(now, by, by_name, "registered", url=url, event_types=endpoint.event_types)
        return endpoint

    def _log(self, now: datetime, by: str, by_name: str, action: str, **detail) -> None:
        self.history.append({"at": now.isoformat(), "by": by, "by_name": by_name, "action": action, **detail})

    def wants(self, event_type: str) -> bool:
        return self.enabled and not self.deleted and event_type in self.event_types

    def secrets_at(self, now: datetime) -> list[str]:
        """The secrets that sign a message sent now: the current one, and the previous one within the grace."""
        out = [self.secret]
        if self.previous_secret and self.previous_secret_until and \
                datetime.fromisoformat(self.previous_secret_until) > now:
            out.append(self.previous_secret)
        return out

    def update(self, *, now: datetime, by: str, by_name: str, url: str | None = None,
               description: str | None = None, event_types=None, enabled: bool | None = None) -> list[str]:
        """Change what is given; returns the names of the fields changed. Enabling clears the disabled reason and
        the failure count (re-enabled by hand)."""
        changed = []
        for name, value in (("url", url), ("description", description),
                            ("event_types", sorted(set(event_types)) if event_types is not None else None)):
            if value is not None and getattr(self, name) != value:
                setattr(self, name, value)
                changed.append(name)
        if enabled is not None and enabled != self.enabled:
            self.enabled = enabled
            changed.append("enabled")
            if enabled:
                self.disabled_reason, self.disabled_at, self.consecutive_failures = None, None, 0
        if changed:
            self._log(now, by, by_name, "updated", fields=changed,
                      **({"enabled": self.enabled} if "enabled" in changed else {}))
        return changed

    def rotate_secret(self, *, now: datetime, by: str, by_name: str) -> str:
        self.previous_secret, self.previous_secret_until = self.secret, (now + ROTATION_GRACE).isoformat()
        self.secret = new_secret()
        self._log(now, by, by_name, "secret_rotated")
        return self.secret

    def delete(self, *, now: datetime, by: str, by_name: str) -> None:
        self.deleted, self.enabled = True, False
        self._log(now, by, by_name, "deleted")

    def delivered(self, now: datetime) -> None:
        self.consecutive_failures, self.last_success_at = 0, now.isoformat()

    def attempt_failed(self, now: datetime) -> None:
        self.last_failure_at = now.isoformat()

    def gave_up(self, now: datetime, *, disable_after: int) -> bool:
        """A delivery was given up. True when this disables the endpoint."""
        self.consecutive_failures += 1
        self.last_failure_at = now.isoformat()
        if self.enabled and disable_after > 0 and self.consecutive_failures >= disable_after:
            self.enabled = False
            self.disabled_at = now.isoformat()
            self.disabled_reason = (f"连续{self.consecutive_failures}次投递在全部重试后仍失败，已自动停用；"
                                    "请检查接收端后手动启用")
            self._log(now, "system", "系统", "disabled", reason=self.disabled_reason)
            return True
        return False

    @property
    def health(self) -> str:
        if self.deleted:
            return "deleted"
        if not self.enabled:
            return "disabled"
        return "failing" if self.consecutive_failures or (
            self.last_failure_at and (self.last_success_at or "") < self.last_failure_at) else "healthy"

    def view(self) -> dict:
        """What the API shows (never the secret)."""
        return {"id": self.id, "url": self.url, "description": self.description,
                "event_types": list(self.event_types), "enabled": self.enabled, "health": self.health,
                "consecutive_failures": self.consecutive_failures, "disabled_reason": self.disabled_reason,
                "disabled_at": self.disabled_at, "last_success_at": self.last_success_at,
                "last_failure_at": self.last_failure_at, "created_at": self.created_at,
                "created_by": self.created_by, "history": list(self.history)}

    def to_dict(self) -> dict:
        return {"_id": self.id, "url": self.url, "description": self.description,
                "event_types": list(self.event_types), "enabled": self.enabled, "secret": self.secret,
                "created_at": self.created_at, "created_by": self.created_by,
                "previous_secret": self.previous_secret, "previous_secret_until": self.previous_secret_until,
                "consecutive_failures": self.consecutive_failures, "disabled_reason": self.disabled_reason,
                "disabled_at": self.disabled_at, "last_success_at": self.last_success_at,
                "last_failure_at": self.last_failure_at, "deleted": self.deleted, "history": list(self.history),
                "version": self.version}

    @classmethod
    def from_dict(cls, doc: dict) -> WebhookEndpoint:
        return cls(id=doc["_id"], url=doc["url"], description=doc.get("description", ""),
                   event_types=list(doc.get("event_types") or []), enabled=bool(doc.get("enabled")),
                   secret=doc["secret"], created_at=doc["created_at"], created_by=doc.get("created_by", ""),
                   previous_secret=doc.get("previous_secret"),
                   previous_secret_until=doc.get("previous_secret_until"),
                   consecutive_failures=int(doc.get("consecutive_failures") or 0),
                   disabled_reason=doc.get("disabled_reason"), disabled_at=doc.get("disabled_at"),
                   last_success_at=doc.get("last_success_at"), last_failure_at=doc.get("last_failure_at"),
                   deleted=bool(doc.get("deleted")), history=list(doc.get("history") or []),
                   version=doc.get("version"))
