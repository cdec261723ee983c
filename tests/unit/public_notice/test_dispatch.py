"""The delivery dispatcher: channels independent (a failing or hanging one never holds the others), retries by
the policy, the outcome recorded with a versioned save (a concurrent dispatcher's record wins), endpoints disabled
after repeated given-up deliveries."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from public_notice.adapters.webhook_sender import WebhookFailed
from public_notice.domain.notifications.deliveries import Delivery, RetryPolicy, add_once
from public_notice.domain.notifications.webhooks import WebhookEndpoint
from public_notice.service_layer.notifications.dispatch import dispatch_due, due, policy_from_env, send_timeout

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


class Recorder:
    def __init__(self, fail_times=0, hang=None, error=None):
        self.calls, self.fail_times, self.hang, self.error = [], fail_times, hang, error

    def send(self, delivery, endpoint=None):
        self.calls.append((delivery.id, endpoint.id if endpoint else None))
        if self.hang is not None:
            self.hang.wait(5)
        if len(self.calls) <= self.fail_times:
            raise self.error or WebhookFailed("接收端返回 HTTP 500", status_code=500, duration_ms=12)
        return {"status_code": 200, "duration_ms": 7}


def endpoint(uow, url="https://a.example.org/h", enabled=True):
    e = WebhookEndpoint.register(url=url, description="", event_types=["public_notice.mine_listed"],
                                 enabled=enabled, now=T0, by="region", by_name="厅")
    uow.run(lambda: uow.webhooks.save(e))
    return e


def add(uow, channel, target, source="e1", topic="public_notice.mine_listed"):
    message = ({"to": target, "subject": "s", "text": "t"} if channel == "email"
               else {"type": topic, "body": {"type": topic, "timestamp": T0.isoformat(), "data": {}}})
    d = Delivery.new(channel=channel, target=target, source=source, topic=topic, message=message, now=T0)
    uow.run(lambda: add_once(uow.deliveries, d))
    return d.id


POLICY = RetryPolicy((5, 60))


def test_a_failing_channel_does_not_hold_the_working_one(uow):
    clock = Clock()
    hook = endpoint(uow)
    webhook_id = add(uow, "webhook", hook.id)
    email_id = add(uow, "email", "a@example.org")
    failing, working = Recorder(fail_times=99, error=OSError("SMTP 连接被拒绝")), Recorder()
    assert dispatch_due(uow, {"email": failing, "webhook": working}, clock=clock, policy=POLICY) == 2
    sent, waiting = uow.deliveries.get(webhook_id), uow.deliveries.get(email_id)
    assert sent.status == "sent" and sent.attempts[0]["status_code"] == 200 and sent.attempts[0]["ok"]
    assert waiting.status == "pending" and waiting.attempts[0]["error"] == "SMTP 连接被拒绝"
    assert waiting.next_attempt_at == (T0 + timedelta(seconds=5)).isoformat()
    assert working.calls == [(webhook_id, hook.id)]
    # not due yet: nothing sent
    assert dispatch_due(uow, {"email": failing, "webhook": working}, clock=clock, policy=POLICY) == 0
    clock.now = T0 + timedelta(seconds=5)
    assert dispatch_due(uow, {"email": failing, "webhook": working}, clock=clock, policy=POLICY) == 1
    clock.now += timedelta(seconds=60)
    dispatch_due(uow, {"email": failing, "webhook": working}, clock=clock, policy=POLICY)
    gone = uow.deliveries.get(email_id)
    assert gone.status == "failed" and len(gone.attempts) == 3 and len(failing.calls) == 3
    assert len(working.calls) == 1


def test_a_hanging_sender_is_cut_by_the_timeout_and_others_are_recorded(uow):
    release = threading.Event()
    hanging, working = Recorder(hang=release), Recorder()
    hook = endpoint(uow)
    stuck = add(uow, "webhook", hook.id)
    mail = add(uow, "email", "b@example.org")
    started = time.monotonic()
    try:
        dispatch_due(uow, {"webhook": hanging, "email": working}, clock=Clock(), policy=POLICY, timeout_s=0.3)
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert uow.deliveries.get(mail).status == "sent"
    cut = uow.deliveries.get(stuck)
    assert cut.status == "pending" and "超时" in cut.attempts[0]["error"] and cut.attempts[0]["duration_ms"] == 300


def test_retries_then_success_keeps_every_attempt(uow):
    clock = Clock()
    hook = endpoint(uow)
    did = add(uow, "webhook", hook.id)
    sender = Recorder(fail_times=2)
    for _ in range(3):
        dispatch_due(uow, {"webhook": sender}, clock=clock, policy=POLICY)
        clock.now += timedelta(seconds=60)
    d = uow.deliveries.get(did)
    assert d.status == "sent" and [a["ok"] for a in d.attempts] == [False, False, True]
    assert [a.get("status_code") for a in d.attempts] == [500, 500, 200]
    assert uow.webhooks.get(hook.id).health == "healthy"


def test_a_concurrent_dispatchers_record_wins(uow):
    hook = endpoint(uow)
    did = add(uow, "webhook", hook.id)

    class Racing(Recorder):
        def send(self, delivery, endpoint=None):
            other = uow.deliveries.get(delivery.id)   # another dispatcher records its success meanwhile
            other.succeeded(T0, status_code=204)
            uow.run(lambda: uow.deliveries.save(other))
            raise WebhookFailed("HTTP 500", status_code=500)

    assert dispatch_due(uow, {"webhook": Racing()}, clock=Clock(), policy=POLICY) == 0
    d = uow.deliveries.get(did)
    assert d.status == "sent" and [a["status_code"] for a in d.attempts] == [204]


def test_endpoint_disabled_after_given_up_deliveries_and_its_pending_ones_cancelled(uow, monkeypatch):
    monkeypatch.setenv("GREENMINE_WEBHOOK_DISABLE_AFTER", "2")
    clock = Clock()
    hook = endpoint(uow)
    first, second = add(uow, "webhook", hook.id, source="e1"), add(uow, "webhook", hook.id, source="e2")
    sender = Recorder(fail_times=99)
    policy = RetryPolicy(())   # no retry: each failure gives up
    assert dispatch_due(uow, {"webhook": sender}, clock=clock, policy=policy) == 2
    e = uow.webhooks.get(hook.id)
    assert not e.enabled and e.disabled_reason and e.consecutive_failures == 2
    assert {uow.deliveries.get(first).status, uow.deliveries.get(second).status} == {"failed"}
    third = add(uow, "webhook", hook.id, source="e3")
    dispatch_due(uow, {"webhook": sender}, clock=clock, policy=policy)
    assert uow.deliveries.get(third).status == "cancelled" and len(sender.calls) == 2


def test_a_ping_reaches_a_disabled_endpoint_and_a_deleted_ones_deliveries_are_cancelled(uow):
    hook = endpoint(uow, enabled=False)
    ping = add(uow, "webhook", hook.id, source="test:1", topic="webhook.test")
    gone = add(uow, "webhook", "whk_missing")
    sender = Recorder()
    dispatch_due(uow, {"webhook": sender}, clock=Clock(), policy=POLICY)
    assert uow.deliveries.get(ping).status == "sent" and uow.deliveries.get(gone).status == "cancelled"


def test_a_channel_without_a_sender_waits(uow):
    did = add(uow, "email", "c@example.org")
    assert dispatch_due(uow, {}, clock=Clock(), policy=POLICY) == 0
    assert uow.deliveries.get(did).status == "pending" and uow.deliveries.get(did).attempts == []


def test_due_takes_the_longest_waiting_first_up_to_the_limit(uow):
    ids = [add(uow, "email", f"u{i}@example.org") for i in range(5)]
    assert len(due(uow, T0, 3)) == 3 and {d.id for d in due(uow, T0, 10)} == set(ids)
    assert due(uow, T0 - timedelta(seconds=1), 10) == []


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=8))
def test_retry_schedule_follows_the_policy(delays):
    policy = RetryPolicy(tuple(delays))
    d = Delivery.new(channel="email", target="a@b.c", source="s", topic="t", message={}, now=T0)
    now = T0
    for delay in delays:
        assert not d.failed(now, "x", policy)
        assert d.next_attempt_at == (now + timedelta(seconds=delay)).isoformat()
        now += timedelta(seconds=delay)
        assert d.is_due(now) and (delay == 0 or not d.is_due(now - timedelta(seconds=delay / 2 + 1e-3)))
    assert d.failed(now, "x", policy) and d.status == "failed" and not d.is_due(now)


def test_settings_from_the_environment():
    assert policy_from_env({"GREENMINE_DELIVERY_RETRY_SECONDS": "1,2"}).delays == (1.0, 2.0)
    assert policy_from_env({}).delays == RetryPolicy().delays
    with pytest.raises(ValueError):
        policy_from_env({"GREENMINE_DELIVERY_RETRY_SECONDS": "soon"})
    assert send_timeout({"GREENMINE_WEBHOOK_TIMEOUT_SECONDS": "60"}) == 65
    assert send_timeout({}) == 35
    assert send_timeout({"GREENMINE_SMTP_TIMEOUT": "5"}) == 30


def test_the_consumers_delivery_thread_goes_on_after_a_failure_and_stops_when_told(uow):
    from public_notice.entrypoints.consumer import deliver_forever

    stop, rounds = threading.Event(), []

    class Bus:
        def handle(self, command):
            rounds.append(command.limit)
            if len(rounds) == 1:
                raise ConnectionError("database away")
            if len(rounds) == 2:
                return 2              # a full round: the next one at once
            stop.set()
            return 0

    thread = threading.Thread(target=deliver_forever, args=(Bus(), stop, 0.05, 2), daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and rounds == [2, 2, 2]
