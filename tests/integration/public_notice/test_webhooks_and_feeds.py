"""Webhooks and feeds on real servers (MongoDB-wire server, Kafka-protocol broker, the service's consumer and
relay): a misconduct finding becomes a 通报 announcement, its `announcement_published` event comes back through
the broker to the webhooks area, and the dispatcher sends it to a real HTTP receiver started here — which fails
twice, then takes it: three attempts, each signed correctly (checked by a verifier written from the Standard
Webhooks spec), one `webhook-id`, the log showing all three. An always-failing receiver gets its endpoint disabled;
a replayed event adds no delivery. The feeds validate (Atom against RFC 4287's RELAX NG schema, JSON Feed against
its 1.1 schema) and list the announcement and a published 公示 batch."""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from notice_harness import wait_for

from public_notice.service_layer.notifications.dispatch import DispatchDue
from shared.storage import outbox_messages

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = json.loads((ROOT / "contracts" / "examples" / "review_routing.misconduct_found.v1.json")
                     .read_text(encoding="utf-8"))
ATOM = "{http://www.w3.org/2005/Atom}"
PUBLISHED = "public_notice.announcement_published"


class Receiver:
    """A webhook receiver on 127.0.0.1: answers `codes` in turn (the last one from then on)."""

    def __init__(self, codes, delay_s: float = 0.0):
        self.codes, self.requests, self.delay_s = list(codes), [], delay_s
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                code = receiver.codes[min(len(receiver.requests), len(receiver.codes)) - 1]
                time.sleep(receiver.delay_s)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="test-receiver")
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, headers: dict, body: bytes, tolerance_s: int = 300) -> bool:
    """Standard Webhooks verification, written from the spec (not the sender's code)."""
    timestamp = int(headers["webhook-timestamp"])
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest())
    return any(hmac.compare_digest(sig.split(",", 1)[1].encode(), expected)
               for sig in headers["webhook-signature"].split() if sig.startswith("v1,"))


def finding(n: int) -> dict:
    event = copy.deepcopy(EXAMPLE)
    event["event_id"] = str(uuid.uuid4())
    event["payload"]["finding_id"] = f"fnd-webhook-{n}"
    event["aggregate_id"] = f"fnd-webhook-{n}"
    return event


@pytest.fixture
def hooks(notice, monkeypatch):
    monkeypatch.setenv("GREENMINE_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("GREENMINE_DELIVERY_RETRY_SECONDS", "0,0,0")
    receivers = []

    def receiver(codes, delay_s=0.0):
        r = Receiver(codes, delay_s)
        receivers.append(r)
        return r

    notice.receiver = receiver
    yield notice
    for r in receivers:
        r.close()


def register(notice, url, **more):
    answer = notice.call("POST", "/api/v1/notice/webhooks", "region",
                         {"url": url, "description": "盟市平台", "event_types": [PUBLISHED], **more})
    assert answer.status_code == 201, answer.json
    return answer.json


def dispatch_until_settled(notice, rounds=10):
    for _ in range(rounds):
        notice.bus.handle(DispatchDue())
        if not notice.db["deliveries"].count_documents({"status": "pending"}):
            return
    raise AssertionError("deliveries still pending")


def announcement_event(notice, n_deliveries):
    wait_for(lambda: notice.db["deliveries"].count_documents({"channel": "webhook"}) >= n_deliveries,
             what="webhook deliveries")


def test_a_receiver_failing_twice_gets_the_third_attempt_signed_and_logged(hooks):
    notice = hooks
    receiver = notice.receiver([500, 503, 204])
    endpoint = register(notice, receiver.url)
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    listed = notice.call("GET", "/api/v1/notice/webhooks", "admin")
    assert listed.status_code == 200 and "secret" not in listed.json[0] and secret not in listed.get_data(True)

    notice.deliver(finding(1))
    announcement_event(notice, 1)
    dispatch_until_settled(notice)

    assert len(receiver.requests) == 3
    ids = {h["webhook-id"] for h, _ in receiver.requests}
    assert len(ids) == 1
    for headers, body in receiver.requests:
        assert headers["content-type"] == "application/json"
        assert verify(secret, headers, body)
        try:   # and the reference library, when the [test] extra has it
            from standardwebhooks.webhooks import Webhook
        except ImportError:
            pass
        else:
            Webhook(secret).verify(body, headers)
        assert not verify(secret, {**headers, "webhook-id": "msg_other"}, body)
    message = json.loads(receiver.requests[-1][1])
    assert message["type"] == PUBLISHED and set(message) == {"type", "timestamp", "data"}
    assert message["data"]["kind"] == "bulletin"

    log = notice.call("GET", f"/api/v1/notice/webhooks/{endpoint['id']}/deliveries", "region").json
    assert len(log) == 1 and log[0]["id"] in ids and log[0]["status"] == "sent"
    assert [(a["ok"], a["status_code"]) for a in log[0]["attempts"]] == [(False, 500), (False, 503), (True, 204)]
    assert all(a["duration_ms"] is not None for a in log[0]["attempts"])
    assert notice.call("GET", f"/api/v1/notice/webhooks/{endpoint['id']}", "region").json["health"] == "healthy"

    # the same event again (a replay from the broker): no new delivery, nothing sent
    envelope = outbox_messages(notice.db, PUBLISHED)[0]["envelope"]
    notice.deliver({k: v for k, v in envelope.items() if k != "_id"})
    notice.bus.handle(DispatchDue())
    assert notice.db["deliveries"].count_documents({"channel": "webhook"}) == 1 and len(receiver.requests) == 3

    page = notice.app.test_client().get(f"/notice/webhooks/{endpoint['id']}", headers=notice.headers("region"))
    assert page.status_code == 200 and "HTTP 503" in page.get_data(True) and secret not in page.get_data(True)


def test_an_always_failing_receiver_is_disabled_and_re_enabled_by_hand(hooks, monkeypatch):
    notice = hooks
    monkeypatch.setenv("GREENMINE_WEBHOOK_DISABLE_AFTER", "2")
    monkeypatch.setenv("GREENMINE_DELIVERY_RETRY_SECONDS", "0")
    broken, healthy = notice.receiver([500]), notice.receiver([200])
    bad = register(notice, broken.url)
    good = register(notice, healthy.url)
    notice.deliver(finding(2))
    notice.deliver(finding(3))
    announcement_event(notice, 4)
    dispatch_until_settled(notice)
    shown = notice.call("GET", f"/api/v1/notice/webhooks/{bad['id']}", "region").json
    assert shown["enabled"] is False and shown["health"] == "disabled" and "连续2次" in shown["disabled_reason"]
    assert len(broken.requests) == 4          # two deliveries, each tried twice
    assert len(healthy.requests) == 2         # the failing one held nothing
    assert notice.call("GET", f"/api/v1/notice/webhooks/{good['id']}", "region").json["health"] == "healthy"

    notice.deliver(finding(4))                 # a disabled endpoint gets no delivery
    announcement_event(notice, 5)
    assert notice.db["deliveries"].count_documents({"target": bad["id"]}) == 2

    again = notice.call("PATCH", f"/api/v1/notice/webhooks/{bad['id']}", "region", {"enabled": True})
    assert again.status_code == 200 and again.json["enabled"] and again.json["disabled_reason"] is None
    ping = notice.call("POST", f"/api/v1/notice/webhooks/{bad['id']}/test", "region")
    assert ping.status_code == 202 and ping.json["type"] == "webhook.test"


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt_and_holds_nobody(hooks, monkeypatch):
    notice = hooks
    monkeypatch.setenv("GREENMINE_WEBHOOK_TIMEOUT_SECONDS", "0.5")
    slow, quick = notice.receiver([200], delay_s=3), notice.receiver([200])
    stuck, served = register(notice, slow.url), register(notice, quick.url)
    notice.deliver(finding(6))
    announcement_event(notice, 2)
    started = time.monotonic()
    notice.bus.handle(DispatchDue())
    assert time.monotonic() - started < 2.5
    late = notice.call("GET", f"/api/v1/notice/webhooks/{stuck['id']}/deliveries", "region").json[0]
    assert late["status"] == "pending" and "超时" in late["attempts"][0]["error"]
    assert notice.call("GET", f"/api/v1/notice/webhooks/{served['id']}/deliveries",
                       "region").json[0]["status"] == "sent"


def test_who_may_manage_and_what_is_refused(hooks, monkeypatch):
    notice = hooks
    assert notice.call("GET", "/api/v1/notice/webhooks", None).status_code == 401
    assert notice.call("GET", "/api/v1/notice/webhooks", "bureau").status_code == 403
    refused = notice.call("POST", "/api/v1/notice/webhooks", "region",
                          {"url": "ftp://x", "event_types": ["nope"], "colour": "red"})
    assert refused.status_code == 422
    monkeypatch.delenv("GREENMINE_WEBHOOK_ALLOW_PRIVATE")
    private = notice.call("POST", "/api/v1/notice/webhooks", "region",
                          {"url": "http://127.0.0.1:9/h", "event_types": [PUBLISHED]})
    assert private.status_code == 422 and "url" in private.json["errors"]
    made = register(notice, "https://hooks.example.org/greenmine")
    rotated = notice.call("POST", f"/api/v1/notice/webhooks/{made['id']}/rotate-secret", "admin")
    assert rotated.status_code == 200 and rotated.json["secret"] != made["secret"]
    assert notice.call("DELETE", f"/api/v1/notice/webhooks/{made['id']}", "region").status_code == 204
    assert notice.call("GET", f"/api/v1/notice/webhooks/{made['id']}", "region").status_code == 404
    page = notice.app.test_client().get("/notice/webhooks", headers=notice.headers("region"))
    assert page.status_code == 200 and "登记接收地址" in page.get_data(True)


def test_the_feeds_validate_and_list_an_announcement_and_a_published_batch(notice):
    notice.deliver(finding(5))
    wait_for(lambda: notice.db["announcements"].count_documents({}), what="the 通报 announcement")
    announcement = notice.db["announcements"].find_one({})
    # 公示 batches are helper A's; the feed reads the collection as a read model: one published, one draft
    notice.db["batches"].insert_many([
        {"_id": "batch-feed-1", "status": "open", "title": "2026年第三批绿色矿山公示", "version": 1,
         "published_at": datetime(2026, 12, 1, 1, 0, tzinfo=UTC), "window_start": "2026-12-02",
         "window_end": "2026-12-08", "entries": [{"mine_name": "示范矿山1号", "enterprise_name": "示范煤业有限公司",
                                                 "league": "鄂尔多斯市"}]},
        {"_id": "batch-feed-2", "status": "draft", "title": "草稿", "version": 1, "published_at": None}])

    atom = notice.call("GET", "/public/feed.atom", None)
    assert atom.status_code == 200 and atom.mimetype == "application/atom+xml"
    root = etree.fromstring(atom.data)
    schema = etree.RelaxNG(etree.parse(str(ROOT / "tests" / "fixtures" / "atom-rfc4287.rng")))
    assert schema.validate(root), schema.error_log
    links = [e.find(ATOM + "link").get("href") for e in root.findall(ATOM + "entry")]
    base = notice.settings.public_url
    assert f"{base}/public/announcements/{announcement['_id']}" in links
    assert f"{base}/public/publicity/batch-feed-1" in links and len(links) == 2
    assert root.find(ATOM + "link[@rel='self']").get("href") == f"{base}/public/feed.atom"

    again = notice.call("GET", "/public/feed.atom", None, headers={"If-None-Match": atom.headers["ETag"]})
    assert again.status_code == 304

    feed = notice.call("GET", "/public/feed.json", None)
    assert feed.status_code == 200 and feed.mimetype == "application/feed+json"
    doc = json.loads(feed.data)
    json_schema = json.loads((ROOT / "tests" / "fixtures" / "jsonfeed-1.1.schema.json").read_text())
    jsonschema.Draft202012Validator(json_schema).validate(doc)
    assert [i["title"] for i in doc["items"]][1] == "2026年第三批绿色矿山公示"

    page = notice.call("GET", "/public/feeds", None)
    assert page.status_code == 200 and 'rel="alternate" type="application/atom+xml"' in page.get_data(True)
