"""Webhooks: Standard Webhooks signatures (the spec's example values), secrets, URL rules, endpoint health and
automatic disabling, deliveries added per subscribed endpoint and idempotent on replay."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from public_notice.adapters.webhook_sender import WebhookSender, body_of, sign
from public_notice.bootstrap import bootstrap
from public_notice.domain.notifications import webhooks as wh
from public_notice.domain.notifications.deliveries import Delivery
from public_notice.service_layer.notifications import webhooks as svc
from shared.config import Settings
from shared.contracts import new_event
from shared.errors import InvalidInput, NotFound, NotPermitted
from shared.identity import Principal

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
REGION = Principal("region", "region_office", "自治区自然资源厅")
ADMIN = Principal("admin", "admin", "管理员")
BUREAU = Principal("bureau", "bureau", "鄂尔多斯市自然资源局", area="鄂尔多斯市")


def independent_verify(secret: str, headers: dict, body: bytes) -> bool:
    """A verifier written from the spec, apart from the sender's code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part.split(",", 1) == ["v1", expected] for part in headers["webhook-signature"].split(" "))


def test_signature_matches_the_standard_webhooks_example():
    # The example of the Standard Webhooks specification and its reference libraries' tests.
    assert sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                '{"test": 2432232314}') == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_new_secret_is_whsec_and_24_random_bytes():
    secrets_ = {wh.new_secret() for _ in range(50)}
    assert len(secrets_) == 50
    for s in secrets_:
        assert s.startswith("whsec_") and len(wh.secret_key(s)) == 24


@given(st.text(max_size=200), st.integers(min_value=0, max_value=2**33))
def test_headers_verify_independently_for_any_body(text, timestamp):
    endpoint = wh.WebhookEndpoint.register(url="https://example.org/hook", description="", event_types=[
        "public_notice.mine_listed"], enabled=True, now=NOW, by="region", by_name="厅")
    delivery = Delivery.new(channel="webhook", target=endpoint.id, source="e1", topic="public_notice.mine_listed",
                            message={"type": "t", "body": {"text": text}}, now=NOW)
    at = datetime.fromtimestamp(timestamp, UTC)
    body = body_of(delivery)
    headers = WebhookSender(allow_private=True).headers(delivery, endpoint, body, at)
    assert headers["webhook-id"] == delivery.id and headers["webhook-timestamp"] == str(timestamp)
    assert headers["content-type"] == "application/json"
    assert independent_verify(endpoint.secret, headers, body.encode())
    assert not independent_verify(wh.new_secret(), headers, body.encode())


def test_after_a_rotation_both_secrets_sign_for_a_day():
    endpoint = wh.WebhookEndpoint.register(url="https://example.org/h", description="", event_types=[
        "public_notice.mine_listed"], enabled=True, now=NOW, by="region", by_name="厅")
    old = endpoint.secret
    new = endpoint.rotate_secret(now=NOW, by="region", by_name="厅")
    assert new != old and endpoint.secrets_at(NOW + timedelta(hours=1)) == [new, old]
    assert endpoint.secrets_at(NOW + timedelta(hours=25)) == [new]
    delivery = Delivery.new(channel="webhook", target=endpoint.id, source="e", topic="x",
                            message={"type": "x", "body": {}}, now=NOW)
    headers = WebhookSender(allow_private=True).headers(delivery, endpoint, "{}", NOW)
    assert independent_verify(old, headers, b"{}") and independent_verify(new, headers, b"{}")


@pytest.mark.parametrize("url, ok", [
    ("https://example.org/hook", True), ("http://example.org:8080/a?b=1", True),
    ("ftp://example.org/", False), ("example.org/hook", False), ("https://", False),
    ("http://127.0.0.1:9000/", False), ("http://10.1.2.3/", False), ("http://192.168.1.1/", False),
    ("http://169.254.169.254/latest", False), ("http://[::1]/", False), ("http://localhost:8000/", False),
    ("http://intranet.local/", False), ("http://0.0.0.0/", False), ("https://user:pw@example.org/", False),
    ("https://8.8.8.8/hook", True), ("http://example.org:99999/", False), ("", False),
    ("https://example.org/" + "a" * 600, False),
])
def test_url_rules(url, ok):
    assert (wh.url_problem(url) is None) is ok


def test_private_addresses_allowed_when_told():
    assert wh.url_problem("http://127.0.0.1:9000/", allow_private=True) is None
    assert wh.url_problem("ftp://127.0.0.1/", allow_private=True) is not None


def test_personal_keys_never_leave():
    payload = {"objection_id": "o1", "mine": {"name": "示范矿山", "phone": "138"}, "objector": {"name": "张三"},
               "items": [{"email": "a@b.c", "league": "包头市", "id_number": "1"}], "lookup_code": "x"}
    assert wh.public_data(payload) == {"objection_id": "o1", "mine": {"name": "示范矿山"},
                                       "items": [{"league": "包头市"}]}


def test_disabled_after_n_given_up_deliveries_and_a_success_resets():
    e = wh.WebhookEndpoint.register(url="https://example.org/h", description="", event_types=[
        "public_notice.mine_listed"], enabled=True, now=NOW, by="region", by_name="厅")
    assert not e.gave_up(NOW, disable_after=3) and not e.gave_up(NOW, disable_after=3)
    e.delivered(NOW)
    assert e.consecutive_failures == 0 and e.health == "healthy"
    assert [e.gave_up(NOW, disable_after=3) for _ in range(3)] == [False, False, True]
    assert not e.enabled and "连续3次" in e.disabled_reason and e.health == "disabled"
    assert e.history[-1]["action"] == "disabled"
    assert not e.wants("public_notice.mine_listed")
    e.update(now=NOW, by="region", by_name="厅", enabled=True)
    assert e.enabled and e.disabled_reason is None and e.consecutive_failures == 0
    assert e.wants("public_notice.mine_listed") and not e.wants("public_notice.publicity_closed")


def test_round_trip():
    e = wh.WebhookEndpoint.register(url="https://example.org/h", description="d", event_types=list(wh.EVENT_TYPES),
                                    enabled=False, now=NOW, by="region", by_name="厅")
    e.version = 3
    assert wh.WebhookEndpoint.from_dict(e.to_dict()).to_dict() == e.to_dict()
    assert "secret" not in e.view()


@pytest.fixture
def bus(uow, monkeypatch):
    monkeypatch.delenv("GREENMINE_WEBHOOK_ALLOW_PRIVATE", raising=False)
    return bootstrap(Settings.from_env({}), uow_factory=lambda: uow, clock=lambda: NOW, directory=object(),
                     senders={})


def listed_event(n=1):
    return new_event("public_notice.mine_listed", producer="public_notice", aggregate_type="listed_mine",
                     aggregate_id=f"mine-{n}", aggregate_version=1,
                     payload={"mine_id": f"mine-{n}", "mine_name": f"示范矿山{n}号"})


def test_registering_checks_fields_and_roles(bus):
    with pytest.raises(InvalidInput) as refused:
        bus.handle(svc.RegisterWebhook(REGION, url="http://127.0.0.1/h", event_types=("nope",),
                                       description="x" * 300))
    assert {e.field for e in refused.value.errors} == {"url", "event_types", "description"}
    with pytest.raises(NotPermitted):
        bus.handle(svc.RegisterWebhook(BUREAU, url="https://example.org/h",
                                       event_types=("public_notice.mine_listed",)))
    shown = bus.handle(svc.RegisterWebhook(ADMIN, url="https://example.org/h",
                                           event_types=("public_notice.mine_listed",), description="省平台"))
    assert shown["secret"].startswith("whsec_") and shown["enabled"] and shown["health"] == "healthy"


def test_events_add_one_delivery_per_subscribed_enabled_endpoint_and_replays_add_nothing(bus, uow):
    a = bus.handle(svc.RegisterWebhook(REGION, url="https://a.example.org/h",
                                       event_types=("public_notice.mine_listed",)))
    bus.handle(svc.RegisterWebhook(REGION, url="https://b.example.org/h",
                                   event_types=("public_notice.publicity_published",)))
    c = bus.handle(svc.RegisterWebhook(REGION, url="https://c.example.org/h",
                                       event_types=("public_notice.mine_listed",), enabled=False))
    event = listed_event()
    bus.handle_event(event, uow)
    bus.handle_event(event, uow)
    deliveries = uow.deliveries.find()
    assert [d.target for d in deliveries] == [a["id"]]
    body = deliveries[0].message["body"]
    assert body == {"type": "public_notice.mine_listed", "timestamp": event["occurred_at"],
                    "data": event["payload"]}
    assert c["id"] not in {d.target for d in deliveries}


def test_update_rotate_delete_and_ping(bus, uow):
    made = bus.handle(svc.RegisterWebhook(REGION, url="https://a.example.org/h",
                                          event_types=("public_notice.mine_listed",)))
    changed = bus.handle(svc.UpdateWebhook(REGION, made["id"], {"description": "新说明", "event_types": [
        "public_notice.mine_listed", "public_notice.announcement_published"]}))
    assert changed["description"] == "新说明" and len(changed["event_types"]) == 2
    with pytest.raises(InvalidInput):
        bus.handle(svc.UpdateWebhook(REGION, made["id"], {"url": "gopher://x"}))
    rotated = bus.handle(svc.RotateWebhookSecret(REGION, made["id"]))
    assert rotated["secret"] != made["secret"]
    ping = bus.handle(svc.TestWebhook(REGION, made["id"]))
    assert ping["type"] == "webhook.test" and ping["status"] == "pending"
    bus.handle_event(listed_event(), uow)
    assert len(svc.deliveries(uow, made["id"])) == 2
    bus.handle(svc.DeleteWebhook(REGION, made["id"]))
    assert {d.status for d in uow.deliveries.find()} == {"cancelled"}
    with pytest.raises(NotFound):
        svc.endpoint(uow, made["id"])
    assert svc.endpoints(uow) == []
    actions = [h["action"] for h in uow.webhooks.get(made["id"]).history]
    assert actions == ["registered", "updated", "secret_rotated", "deleted"]


def library_verify(secret: str, headers: dict, body: bytes) -> bool:
    """The `standardwebhooks` package's verifier when installed (the [test] extra), else the one from the spec."""
    try:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError
    except ImportError:
        return independent_verify(secret, headers, body)
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError:
        return False


def test_the_reference_library_accepts_our_requests():
    endpoint = wh.WebhookEndpoint.register(url="https://example.org/h", description="", event_types=[
        "public_notice.mine_listed"], enabled=True, now=NOW, by="region", by_name="厅")
    delivery = Delivery.new(channel="webhook", target=endpoint.id, source="e9", topic="public_notice.mine_listed",
                            message={"type": "t", "body": {"type": "public_notice.mine_listed",
                                                           "data": {"mine_name": "示范矿山"}}}, now=NOW)
    body = body_of(delivery)
    now = datetime.now(UTC)   # the library refuses timestamps more than 5 minutes away
    headers = WebhookSender(allow_private=True).headers(delivery, endpoint, body, now)
    assert library_verify(endpoint.secret, headers, body.encode())
    assert not library_verify(endpoint.secret, headers, body.encode() + b" ")
    assert not library_verify(wh.new_secret(), headers, body.encode())
