"""Email: inbox entries of users with an address become deliveries (once), subscribers of a topic get one
delivery per announcement / 公示 with a one-click unsubscribe link and List-Unsubscribe headers, unsubscribing
stops and cancels them; the emails' Chinese text; SmtpSender's message (Message-ID from the delivery id)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from public_notice.adapters.smtp import SmtpNotConfigured, SmtpSender, message_id
from public_notice.bootstrap import bootstrap
from public_notice.domain.notifications import emails
from public_notice.domain.notifications.deliveries import Delivery
from public_notice.domain.notifications.subscriptions import EmailSubscription, make_token, subscription_id
from public_notice.service_layer.notifications.email import Unsubscribe
from shared.config import Settings
from shared.contracts import new_event

AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
SECRET = "s" * 40
SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": SECRET, "GREENMINE_PUBLIC_URL": "https://gm.example.cn"})
EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"


class Directory:
    users = [{"username": "reviewer_eco", "role": "department_reviewer", "department": "ecology_environment",
              "area": "鄂尔多斯市", "display_name": "王审核", "email": "Wang@Demo.greenmine.local"},
             {"username": "reviewer_eco2", "role": "department_reviewer", "department": "ecology_environment",
              "area": "鄂尔多斯市", "display_name": "李审核", "email": None}]

    def find(self, **equals):
        def ok(u):
            return all(u.get(k) in v if isinstance(v, list | tuple | set) else u.get(k) == v
                       for k, v in equals.items())
        return [dict(u) for u in self.users if ok(u)]


@pytest.fixture
def bus(uow):
    return bootstrap(SETTINGS, uow_factory=lambda: uow, clock=lambda: AT, directory=Directory())


def confirmed(uow, email, topics):
    sub = EmailSubscription.new(email, topics, AT)
    sub.confirm(0, AT)
    uow.run(lambda: uow.subscriptions.save(sub))
    return sub


def announcement(n=1):
    payload = json.loads((EXAMPLES / "public_notice.announcement_published.v1.json").read_text())["payload"]
    payload["announcement_id"] = f"ann-{n}"
    return new_event("public_notice.announcement_published", producer="public_notice",
                     aggregate_type="announcement", aggregate_id=f"ann-{n}", aggregate_version=1, payload=payload)


def test_an_entry_for_a_user_with_an_address_becomes_one_email(bus, uow):
    assigned = json.loads((EXAMPLES / "review_routing.review_task_assigned.v1.json").read_text())
    bus.handle_event(assigned, uow)
    bus.handle_event(assigned, uow)                          # replay
    assert len(uow.inbox.find()) == 2
    [delivery] = uow.deliveries.find()
    assert delivery.target == "wang@demo.greenmine.local" and delivery.topic == assigned["type"]
    assert delivery.message["subject"].startswith("【绿色矿山】新的审核任务")
    assert delivery.message["text"].startswith("王审核：")
    assert f"https://gm.example.cn/review/tasks/{assigned['payload']['task_id']}" in delivery.message["text"]


def test_subscribers_of_the_topic_get_one_email_each_and_unsubscribing_stops_them(bus, uow):
    reader = confirmed(uow, "reader@example.cn", ["announcements"])
    confirmed(uow, "other@example.cn", ["publicity"])
    pending = EmailSubscription.new("pending@example.cn", ["announcements"], AT)
    uow.run(lambda: uow.subscriptions.save(pending))
    event = announcement(1)
    bus.handle_event(event, uow)
    bus.handle_event(event, uow)
    [delivery] = uow.deliveries.find()
    assert delivery.target == reader.email
    message = delivery.message
    assert "https://gm.example.cn/public/announcements/ann-1" in message["text"]
    unsubscribe = message["headers"]["List-Unsubscribe"].strip("<>")
    assert message["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in message["text"] and "一次点击即生效" in message["text"]
    token = parse_qs(urlparse(unsubscribe).query)["token"][0]
    bus.handle_event(announcement(2), uow)
    assert [d.status for d in uow.deliveries.find(target=reader.email)] == ["pending", "pending"]
    delivery.succeeded(AT)
    uow.run(lambda: uow.deliveries.save(delivery))
    assert bus.handle(Unsubscribe(token))["status"] == "unsubscribed"
    assert bus.handle(Unsubscribe(token))["status"] == "unsubscribed"        # one click, twice: fine
    statuses = sorted(d.status for d in uow.deliveries.find(target=reader.email))
    assert statuses == ["cancelled", "sent"]                                  # the pending one is not sent
    bus.handle_event(announcement(3), uow)
    assert len(uow.deliveries.find(target=reader.email)) == 2
    assert uow.events() == []


def test_publicity_emails_from_a_draft_payload(bus, uow):
    confirmed(uow, "reader@example.cn", ["publicity"])
    event = {"event_id": "e-pub-1", "type": "public_notice.publicity_published", "aggregate_id": "batch-1",
             "payload": {"batch_id": "batch-1", "title": "2026年第一批绿色矿山拟纳入名录公示",
                         "window_start": "2026-06-11", "window_end": "2026-06-17", "entries": [{}, {}]}}
    bus.handle_event(event, uow)
    [delivery] = uow.deliveries.find()
    text = delivery.message["text"]
    assert "https://gm.example.cn/public/publicity/batch-1" in text
    assert "公示期为2026年6月11日至2026年6月17日" in text and "实名提出" in text


def test_email_texts():
    m = emails.confirmation_email(to="a@b.cn", topics=["announcements", "publicity"], confirm_url="https://x/c?t=1")
    assert "绿色矿山名录公告、绿色矿山公示" in m["text"] and "https://x/c?t=1" in m["text"] and "7日内" in m["text"]
    m = emails.inbox_email(to="a@b.cn", display_name="", title="T", text="正文", link="", public_url="https://x")
    assert m["subject"] == "【绿色矿山】T" and "查看详情" not in m["text"] and "https://x/notice/inbox" in m["text"]


def test_smtp_sender_composes_the_message():
    sender = SmtpSender({"GREENMINE_SMTP_HOST": "127.0.0.1", "GREENMINE_SMTP_PORT": "2525"})
    delivery = Delivery.new(channel="email", target="a@b.cn", source="e1", topic="t", now=AT,
                            message={"to": "a@b.cn", "subject": "【绿色矿山】中文主题", "text": "正文",
                                     "headers": {"List-Unsubscribe": "<https://x/u>"}})
    msg = sender.compose(delivery)
    assert msg["Message-ID"] == f"<{delivery.id}@greenmine.local>" == message_id(delivery.id, sender.sender)
    assert str(msg["Subject"]) == "【绿色矿山】中文主题" and msg["List-Unsubscribe"] == "<https://x/u>"
    assert "noreply@greenmine.local" in str(msg["From"]) and msg.get_content().strip() == "正文"
    with pytest.raises(SmtpNotConfigured):
        SmtpSender({}).send(delivery)
    with pytest.raises(ValueError):
        SmtpSender({"GREENMINE_SMTP_SECURITY": "tls-please"})


def test_unsubscribe_token_of_a_subscriber_only_names_its_id():
    token = make_token(SECRET, subscription_id("reader@example.cn"), "unsubscribe")
    assert "reader" not in token and "example" not in token


def test_greenmine_up_runs_the_local_receiver_only_without_an_smtp_host(tmp_path):
    from shared import launcher

    ports = launcher.ports_from(18080)
    env: dict = {}
    port = launcher.local_mail(env, ports, tmp_path)
    assert port == 18080 + 50
    assert env == {"GREENMINE_SMTP_HOST": "127.0.0.1", "GREENMINE_SMTP_PORT": str(port),
                   "GREENMINE_SMTP_SECURITY": "none", "GREENMINE_MAIL_DIR": str(tmp_path / "mail")}
    procs = launcher.processes(8080, tmp_path, ports, port)
    assert len(procs) == 18 and procs["mail"].endswith(f"mail-receiver --port {port} --dir {tmp_path / 'mail'}")
    real = {"GREENMINE_SMTP_HOST": "smtp.example.cn"}
    assert launcher.local_mail(real, ports, tmp_path) is None and real == {"GREENMINE_SMTP_HOST": "smtp.example.cn"}
    assert len(launcher.processes(8080, tmp_path, ports)) == 17
