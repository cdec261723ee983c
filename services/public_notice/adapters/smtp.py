"""Sending an email delivery over SMTP (the dispatcher calls `SmtpSender(...).send(delivery)`).

Environment: `GREENMINE_SMTP_HOST` (none: sending fails, the delivery is retried), `GREENMINE_SMTP_PORT` (25),
`GREENMINE_SMTP_USER` / `GREENMINE_SMTP_PASSWORD` (login when a user is set), `GREENMINE_SMTP_SECURITY`
(none / starttls / ssl), `GREENMINE_MAIL_FROM` (default `绿色矿山管理平台 <noreply@greenmine.local>`),
`GREENMINE_SMTP_TIMEOUT` (seconds, 30). The Message-ID is derived from the delivery id, so the receiving side can
drop a duplicate sent after a crash between sending and recording."""
from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

DEFAULT_FROM = "绿色矿山管理平台 <noreply@greenmine.local>"
SECURITY = ("none", "starttls", "ssl")


class SmtpNotConfigured(RuntimeError):
    pass


def _env(source) -> Mapping:
    if source is None:
        return os.environ
    if isinstance(source, Mapping):
        return source
    return getattr(source, "env", None) or os.environ   # a Settings object: the process environment


def message_id(delivery_id: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "greenmine.local"
    return f"<{delivery_id}@{domain}>"


class SmtpSender:
    def __init__(self, settings_or_env=None):
        env = _env(settings_or_env)
        self.host = env.get("GREENMINE_SMTP_HOST") or ""
        self.port = int(env.get("GREENMINE_SMTP_PORT") or 25)
        self.user = env.get("GREENMINE_SMTP_USER") or ""
        self.password = env.get("GREENMINE_SMTP_PASSWORD") or ""
        self.security = (env.get("GREENMINE_SMTP_SECURITY") or "none").lower()
        if self.security not in SECURITY:
            raise ValueError(f"GREENMINE_SMTP_SECURITY must be one of {', '.join(SECURITY)}, got {self.security!r}")
        self.sender = env.get("GREENMINE_MAIL_FROM") or DEFAULT_FROM
        self.timeout = float(env.get("GREENMINE_SMTP_TIMEOUT") or 30)

    def compose(self, delivery) -> EmailMessage:
        m = delivery.message
        msg = EmailMessage()
        name, addr = parseaddr(self.sender)
        user, _, domain = addr.partition("@")
        msg["From"] = Address(display_name=name, username=user, domain=domain) if domain else self.sender
        msg["To"] = m["to"]
        msg["Subject"] = m["subject"]
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = message_id(delivery.id, self.sender)
        msg["X-Greenmine-Delivery"] = delivery.id
        msg["X-Greenmine-Topic"] = delivery.topic
        for key, value in (m.get("headers") or {}).items():
            msg[key] = value
        msg.set_content(m.get("text") or "", charset="utf-8")
        if m.get("html"):
            msg.add_alternative(m["html"], subtype="html", charset="utf-8")
        return msg

    def send(self, delivery) -> dict:
        """Send it; {"message_id"} on success, an exception on failure (the dispatcher retries)."""
        if not self.host:
            raise SmtpNotConfigured("GREENMINE_SMTP_HOST is not set")
        msg = self.compose(delivery)
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if self.user:
                client.login(self.user, self.password)
            refused = client.send_message(msg)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        return {"message_id": msg["Message-ID"]}
