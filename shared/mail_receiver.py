"""The local SMTP receiver: accepts every message and writes it as `<dir>/<timestamp>-<id>.eml` (env
`GREENMINE_MAIL_DIR`, default `var/mail`). `greenmine up` runs it as the process `mail` when no real SMTP server is
configured (GREENMINE_SMTP_HOST unset), so a demo's emails can be read on `/notice/mail`.

A message whose Message-ID was already received is dropped (the platform derives the Message-ID from the
delivery id: a delivery sent twice after a crash is kept once). Local use only: no authentication, no relay."""
from __future__ import annotations

import hashlib
import os
import re
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

DEFAULT_DIR = "var/mail"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def mail_dir(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("GREENMINE_MAIL_DIR") or DEFAULT_DIR)


class MaildirHandler:
    """aiosmtpd handler: one .eml file per message."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _name_of(self, message_id: str, content: bytes) -> tuple[str, str]:
        key = hashlib.sha256((message_id or "").encode() or content).hexdigest()[:16]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return key, f"{stamp}-{key}.eml"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        parsed = message_from_bytes(content, policy=policy.default)
        message_id = str(parsed.get("Message-ID") or "").strip()
        key, name = self._name_of(message_id, content)
        if message_id and any(self.directory.glob(f"*-{key}.eml")):
            return "250 OK (duplicate dropped)"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(content)
        tmp.replace(self.directory / name)
        return "250 OK"


def start(host: str = "127.0.0.1", port: int = 8025, directory: str | Path = DEFAULT_DIR):
    """A started aiosmtpd Controller (call `.stop()`)."""
    from aiosmtpd.controller import Controller

    controller = Controller(MaildirHandler(directory), hostname=host, port=port, data_size_limit=10 * 1024 * 1024)
    controller.start()
    return controller


def serve(host: str, port: int, directory: str | Path) -> None:
    """Run until interrupted (the CLI's `greenmine mail-receiver`)."""
    import signal

    controller = start(host, port, directory)
    print(f"mail receiver on {host}:{port}, writing to {Path(directory).resolve()}", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        while not stopping:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


# -- reading what was received (the admin page and the API) -------------------------------------------------------
def _text_of(msg) -> str:
    part = msg.get_body(preferencelist=("plain", "html")) if msg.is_multipart() else msg
    try:
        return part.get_content() if part is not None else ""
    except (LookupError, KeyError):
        return part.get_payload(decode=True).decode("utf-8", "replace") if part is not None else ""


def read_message(path: Path) -> dict:
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    headers = {k: str(v) for k, v in msg.items()}
    return {"id": path.stem, "file": path.name, "received_at": _received(path),
            "from": headers.get("From", ""), "to": headers.get("To", ""), "subject": headers.get("Subject", ""),
            "message_id": headers.get("Message-ID", ""), "headers": headers, "text": _text_of(msg)}


def _received(path: Path) -> str:
    stamp = path.name.split("-", 1)[0]
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC).isoformat()
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()


def list_messages(directory: str | Path, limit: int = 200) -> list[dict]:
    """The received messages, newest first (headers and text)."""
    root = Path(directory)
    if not root.is_dir():
        return []
    files = sorted(root.glob("*.eml"), key=lambda p: p.name, reverse=True)[:limit]
    return [read_message(p) for p in files]


def get_message(directory: str | Path, message_id: str) -> dict | None:
    if _SAFE.search(message_id or "") or not message_id:
        return None
    path = Path(directory) / f"{message_id}.eml"
    return read_message(path) if path.is_file() else None
