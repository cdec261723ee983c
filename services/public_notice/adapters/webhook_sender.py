"""Sending one webhook delivery to its endpoint, signed per Standard Webhooks (https://www.standardwebhooks.com):
headers `webhook-id` (the delivery id: the receiver's idempotency key), `webhook-timestamp` (unix seconds),
`webhook-signature` (`v1,` + base64 HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's bytes; during a
secret rotation's grace both the new and the old signature, space-separated) and `content-type: application/json`.

A 2xx answer is success; any other status, a redirect, a connection error or no answer within
GREENMINE_WEBHOOK_TIMEOUT_SECONDS (default 10) raises `WebhookFailed`. Unless GREENMINE_WEBHOOK_ALLOW_PRIVATE=1, a
host that resolves to a private, loopback or link-local address is refused when sending too (not only when
registering), so a name re-pointed later cannot reach the internal network."""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from public_notice.domain.notifications.webhooks import not_public, secret_key


class WebhookFailed(Exception):
    def __init__(self, message: str, status_code: int | None = None, duration_ms: int | None = None):
        super().__init__(message)
        self.status_code, self.duration_ms = status_code, duration_ms


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 signature>` of one message."""
    digest = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def body_of(delivery) -> str:
    """The exact body sent (and signed): compact JSON, UTF-8 text."""
    return json.dumps(delivery.message["body"], ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def timeout_from_env(env=None) -> float:
    return float((env or os.environ).get("GREENMINE_WEBHOOK_TIMEOUT_SECONDS") or 10)


def allow_private_from_env(env=None) -> bool:
    return (env or os.environ).get("GREENMINE_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes")


class WebhookSender:
    def __init__(self, *, timeout_s: float | None = None, allow_private: bool | None = None, clock=None,
                 session: requests.Session | None = None):
        self.timeout_s = timeout_from_env() if timeout_s is None else timeout_s
        self.allow_private = allow_private_from_env() if allow_private is None else allow_private
        self.clock = clock or (lambda: datetime.now(UTC))
        self.session = session or requests.Session()

    def headers(self, delivery, endpoint, body: str, now: datetime) -> dict:
        timestamp = int(now.timestamp())
        signatures = " ".join(sign(s, delivery.id, timestamp, body) for s in endpoint.secrets_at(now))
        return {"webhook-id": delivery.id, "webhook-timestamp": str(timestamp), "webhook-signature": signatures,
                "content-type": "application/json", "user-agent": "greenmine-webhooks/1"}

    def _check_host(self, url: str) -> None:
        if self.allow_private:
            return
        host = urlsplit(url).hostname or ""
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError as exc:
            raise WebhookFailed(f"无法解析主机名 {host}: {exc}") from None
        for info in infos:
            if not_public(ipaddress.ip_address(info[4][0].split("%")[0])):
                raise WebhookFailed(f"主机 {host} 解析为内网地址，拒绝发送")

    def send(self, delivery, endpoint) -> dict:
        """POST the delivery; {status_code, duration_ms} on a 2xx, else WebhookFailed."""
        self._check_host(endpoint.url)
        body = body_of(delivery)
        headers = self.headers(delivery, endpoint, body, self.clock())
        started = time.monotonic()
        try:
            response = self.session.post(endpoint.url, data=body.encode(), headers=headers,
                                         timeout=self.timeout_s, allow_redirects=False)
        except requests.Timeout:
            raise WebhookFailed(f"超时（{self.timeout_s:g} 秒内无应答）",
                                duration_ms=int((time.monotonic() - started) * 1000)) from None
        except requests.RequestException as exc:
            raise WebhookFailed(f"连接失败：{type(exc).__name__}",
                                duration_ms=int((time.monotonic() - started) * 1000)) from None
        duration_ms = int((time.monotonic() - started) * 1000)
        if not 200 <= response.status_code < 300:
            raise WebhookFailed(f"接收端返回 HTTP {response.status_code}", status_code=response.status_code,
                                duration_ms=duration_ms)
        return {"status_code": response.status_code, "duration_ms": duration_ms}
