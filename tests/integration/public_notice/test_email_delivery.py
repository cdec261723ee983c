"""Email for real: a real aiosmtpd receiver on a free port, SmtpSender sending a delivery (the .eml file with its
headers, a second send of the same delivery dropped); a public subscription confirmed through its link, an
announcement event becoming a delivery to it, the one-click unsubscribe stopping the next one; the mail page."""
from __future__ import annotations

import json
import re
import socket
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlparse

import pytest

from public_notice.adapters.smtp import SmtpSender
from public_notice.domain.notifications.deliveries import Delivery
from public_notice.domain.notifications.subscriptions import subscription_id
from shared import mail_receiver
from shared.contracts import new_event
from shared.storage import outbox_messages

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver(tmp_path, monkeypatch):
    port = free_port()
    controller = mail_receiver.start("127.0.0.1", port, tmp_path / "mail")
    monkeypatch.setenv("GREENMINE_MAIL_DIR", str(tmp_path / "mail"))
    try:
        yield port, tmp_path / "mail"
    finally:
        controller.stop()


def test_smtp_sender_to_the_local_receiver(receiver):
    port, folder = receiver
    sender = SmtpSender({"GREENMINE_SMTP_HOST": "127.0.0.1", "GREENMINE_SMTP_PORT": str(port)})
    delivery = Delivery.new(channel="email", target="reader@example.cn", source="evt-1", topic="test",
                            now=datetime.now(UTC),
                            message={"to": "reader@example.cn", "subject": "【绿色矿山】测试邮件",
                                     "text": "正文：https://gm.example.cn/public/list",
                                     "headers": {"List-Unsubscribe": "<https://gm.example.cn/u?token=x>"}})
    detail = sender.send(delivery)
    assert detail["message_id"] == f"<{delivery.id}@greenmine.local>"
    [eml] = list(folder.glob("*.eml"))
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{16}\.eml", eml.name)
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["Message-ID"] == detail["message_id"] and str(msg["Subject"]) == "【绿色矿山】测试邮件"
    assert msg["To"] == "reader@example.cn" and "noreply@greenmine.local" in str(msg["From"])
    assert msg["List-Unsubscribe"] == "<https://gm.example.cn/u?token=x>"
    assert "https://gm.example.cn/public/list" in msg.get_content()
    sender.send(delivery)                                  # sent again after a crash: dropped by Message-ID
    assert len(list(folder.glob("*.eml"))) == 1
    [listed] = mail_receiver.list_messages(folder)
    assert listed["subject"] == "【绿色矿山】测试邮件" and mail_receiver.get_message(folder, listed["id"])["text"]
    assert mail_receiver.get_message(folder, "../../etc/passwd") is None


def csrf_client(notice):
    client = notice.app.test_client()
    page = client.get("/public/subscriptions", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "邮件订阅" in page.get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client, token


def announcement() -> dict:
    payload = json.loads((EXAMPLES / "public_notice.announcement_published.v1.json").read_text())["payload"]
    aid = f"ann-{uuid.uuid4().hex[:8]}"
    payload = {**payload, "announcement_id": aid}
    return new_event("public_notice.announcement_published", producer="public_notice",
                     aggregate_type="announcement", aggregate_id=aid, aggregate_version=1, payload=payload)


def link_in(text: str, path: str) -> str:
    url = re.search(r"https?://\S+" + re.escape(path) + r"\?token=\S+", text).group(0)
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def test_subscribe_confirm_receive_unsubscribe(notice, receiver):
    address = f"reader-{uuid.uuid4().hex[:6]}@example.cn"
    client, csrf = csrf_client(notice)
    answer = client.post("/api/v1/notice/subscriptions", json={"email": address, "topics": ["announcements"]},
                         headers={"X-CSRFToken": csrf, "Accept": "application/json"})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert address not in answer.get_data(as_text=True)
    bad = client.post("/api/v1/notice/subscriptions", json={"email": address, "topics": ["x"], "extra": 1},
                      headers={"X-CSRFToken": csrf, "Accept": "application/json"})
    assert bad.status_code == 422
    [confirmation] = list(notice.db["deliveries"].find({"target": address}))
    assert confirmation["topic"] == "subscription_confirmation"

    # The dispatcher's job, done here by hand: send it to the local receiver, then open the link from the .eml.
    port, folder = receiver
    SmtpSender({"GREENMINE_SMTP_HOST": "127.0.0.1", "GREENMINE_SMTP_PORT": str(port)}).send(
        Delivery.from_dict(confirmation))
    [received] = mail_receiver.list_messages(folder)
    confirmed = client.get(link_in(received["text"], "/public/subscriptions/confirm"))
    assert confirmed.status_code == 200 and "订阅已确认" in confirmed.get_data(as_text=True)
    assert address not in confirmed.get_data(as_text=True)
    assert notice.db["subscriptions"].find_one({"_id": subscription_id(address)})["status"] == "confirmed"

    event = announcement()
    notice.deliver(event)
    [mail] = list(notice.db["deliveries"].find({"target": address, "source": event["event_id"]}))
    assert mail["topic"] == "public_notice.announcement_published"
    assert f"/public/announcements/{event['payload']['announcement_id']}" in mail["message"]["text"]
    unsubscribe = link_in(mail["message"]["text"], "/public/subscriptions/unsubscribe")
    assert mail["message"]["headers"]["List-Unsubscribe"].endswith(unsubscribe + ">")
    assert [m["type"] for m in outbox_messages(notice.db)
            if address in json.dumps(m["envelope"], ensure_ascii=False)] == []

    gone = client.get(unsubscribe)
    assert gone.status_code == 200 and "已成功退订" in gone.get_data(as_text=True)
    one_click = notice.app.test_client().post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200                     # RFC 8058: the mail client's POST, no cookie or CSRF
    later = announcement()
    notice.deliver(later)
    assert notice.db["deliveries"].count_documents({"target": address, "source": later["event_id"]}) == 0

    # The mail page and API, for the administrator and the region office only.
    listed = notice.call("GET", "/api/v1/notice/mail", "admin")
    assert listed.status_code == 200 and listed.json[0]["subject"] == received["subject"]
    assert notice.call("GET", f"/api/v1/notice/mail/{received['id']}", "region").json["text"] == received["text"]
    assert notice.call("GET", "/api/v1/notice/mail", "enterprise").status_code == 403
    page = notice.call("GET", "/notice/mail", "admin", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "邮件发送记录" in page.get_data(as_text=True)


def test_subscriptions_are_rate_limited(notice):
    client, csrf = csrf_client(notice)
    codes = [client.post("/api/v1/notice/subscriptions",
                         json={"email": f"flood-{uuid.uuid4().hex[:6]}@example.cn", "topics": ["publicity"]},
                         headers={"X-CSRFToken": csrf, "Accept": "application/json",
                                  "X-Forwarded-For": "203.0.113.77"}).status_code for _ in range(7)]
    assert codes[:5] == [202] * 5 and codes[5] == 429
