"""Area `notifications.dispatch`: sending the due deliveries, each channel on its own.

`dispatch_due` reads the due pending deliveries (oldest due first), sends each OUTSIDE any transaction — all of
them at once, each in its own daemon thread, so a slow or hanging endpoint or SMTP relay holds nobody else — waits
at most `timeout_s` for them, and records each outcome in its own transaction with a versioned save: when another
dispatcher recorded the same delivery first, ours is dropped (at least once: the receiver drops a duplicate by the
idempotency id, `webhook-id` or the email's Message-ID). A send still running at the timeout counts as a failed
attempt and is retried by the policy. A webhook's outcome also updates its endpoint's health (disabled after
GREENMINE_WEBHOOK_DISABLE_AFTER consecutive given-up deliveries; its pending deliveries are then cancelled).

`senders` maps a channel to its sender: `senders["email"].send(delivery) -> dict` (helper D1's SmtpSender),
`senders["webhook"].send(delivery, endpoint) -> dict`. A channel without a sender is left pending. The consumer
runs the `DispatchDue` command every GREENMINE_DELIVERY_POLL_SECONDS (default 2) in a thread of its own."""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from public_notice.domain.notifications.deliveries import Delivery, RetryPolicy
from shared.storage import ConcurrencyError

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class DispatchDue:
    """Send what is due now (at most `limit`)."""
    limit: int = 50


@dataclass
class _Attempt:
    delivery: Delivery
    endpoint: object = None
    result: dict | None = None
    error: BaseException | None = None
    done: bool = False


def policy_from_env(env=None) -> RetryPolicy:
    return RetryPolicy.parse((env or os.environ).get("GREENMINE_DELIVERY_RETRY_SECONDS"))


def poll_seconds(env=None) -> float:
    return float((env or os.environ).get("GREENMINE_DELIVERY_POLL_SECONDS") or 2)


def send_timeout(env=None) -> float:
    """The hard cut of one send: the longer of the webhook and SMTP timeouts plus a margin, at least 30 s."""
    env = env or os.environ
    webhook = float(env.get("GREENMINE_WEBHOOK_TIMEOUT_SECONDS") or 10)
    smtp = float(env.get("GREENMINE_SMTP_TIMEOUT") or 30)
    return max(DEFAULT_TIMEOUT_S, webhook + 5, smtp + 5)


def _disable_after() -> int:
    from public_notice.service_layer.notifications.webhooks import disable_after

    return disable_after()


def due(uow, now, limit: int) -> list[Delivery]:
    """The pending deliveries due at `now`, the longest waiting first."""
    def read():
        out = []
        for delivery in uow.deliveries.find(status="pending", sort="next_attempt_at", limit=limit * 4):
            if delivery.is_due(now):
                out.append(delivery)
            if len(out) >= limit:
                break
        return out

    return uow.read(read)


def _run(attempt: _Attempt, sender) -> None:
    try:
        if attempt.delivery.channel == "webhook":
            attempt.result = sender.send(attempt.delivery, attempt.endpoint) or {}
        else:
            attempt.result = sender.send(attempt.delivery) or {}
    except BaseException as exc:  # noqa: BLE001 - any failure of a sender is a failed attempt
        attempt.error = exc
    finally:
        attempt.done = True


def dispatch_due(uow, senders: Mapping, *, clock, policy: RetryPolicy, limit: int = 50,
                 timeout_s: float | None = None) -> int:
    """Send the due deliveries; returns how many outcomes were recorded (sent or failed attempts)."""
    timeout_s = send_timeout() if timeout_s is None else timeout_s
    now = clock()
    attempts: list[_Attempt] = []
    for delivery in due(uow, now, limit):
        sender = senders.get(delivery.channel)
        if sender is None:
            continue
        attempt = _Attempt(delivery)
        if delivery.channel == "webhook":
            endpoint = uow.read(lambda d=delivery: uow.webhooks.get(d.target))
            if endpoint is None or endpoint.deleted or (not endpoint.enabled and delivery.topic != "webhook.test"):
                _cancel(uow, delivery, clock(), "接收端已删除" if endpoint is None or endpoint.deleted
                        else "接收端已停用")
                continue
            attempt.endpoint = endpoint
        attempts.append(attempt)
    threads = []
    for attempt in attempts:
        thread = threading.Thread(target=_run, args=(attempt, senders[attempt.delivery.channel]), daemon=True,
                                  name=f"deliver-{attempt.delivery.id[-8:]}")
        thread.start()
        threads.append((thread, time.monotonic()))
    deadline = time.monotonic() + timeout_s
    for thread, _ in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    recorded = 0
    for attempt in attempts:
        try:
            recorded += _record(uow, attempt, clock(), policy, timeout_s)
        except Exception:  # the database away: the delivery stays due and is sent again (at least once)
            log.exception("recording delivery %s failed", attempt.delivery.id)
    return recorded


def _cancel(uow, delivery: Delivery, now, why: str) -> None:
    def work():
        delivery.cancel(now, why)
        uow.deliveries.save(delivery)

    try:
        uow.run(work)
    except ConcurrencyError:
        pass


def _record(uow, attempt: _Attempt, now, policy: RetryPolicy, timeout_s: float) -> int:
    delivery = attempt.delivery
    if attempt.done and attempt.error is None:
        ok, detail, error = True, dict(attempt.result or {}), None
    else:
        exc = attempt.error
        ok = False
        error = (f"超时（{timeout_s:g} 秒内未完成）" if not attempt.done
                 else (str(exc) or type(exc).__name__))
        detail = {k: getattr(exc, k) for k in ("status_code", "duration_ms") if getattr(exc, k, None) is not None}
        if not attempt.done:
            detail["duration_ms"] = int(timeout_s * 1000)

    def work():
        fresh = uow.deliveries.get(delivery.id)
        if fresh is None or fresh.version != delivery.version or fresh.status != "pending":
            return 0   # another dispatcher recorded it first: theirs stands
        gave_up = False
        if ok:
            fresh.succeeded(now, **detail)
        else:
            gave_up = fresh.failed(now, error, policy, **detail)
        uow.deliveries.save(fresh)
        if fresh.channel == "webhook" and fresh.topic != "webhook.test":
            endpoint = uow.webhooks.get(fresh.target)
            if endpoint is not None and not endpoint.deleted:
                if ok:
                    endpoint.delivered(now)
                elif gave_up:
                    if endpoint.gave_up(now, disable_after=_disable_after()):
                        log.warning("webhook endpoint %s disabled after %d given-up deliveries", endpoint.id,
                                    endpoint.consecutive_failures)
                        for other in uow.deliveries.find(channel="webhook", target=endpoint.id, status="pending"):
                            other.cancel(now, "接收端已停用")
                            uow.deliveries.save(other)
                else:
                    endpoint.attempt_failed(now)
                uow.webhooks.save(endpoint)
        return 1

    try:
        return uow.run(work)
    except ConcurrencyError:
        return 0


def dispatch(cmd: DispatchDue, uow, *, clock, senders) -> int:
    return dispatch_due(uow, senders, clock=clock, policy=policy_from_env(), limit=cmd.limit)


COMMAND_HANDLERS = {DispatchDue: dispatch}
