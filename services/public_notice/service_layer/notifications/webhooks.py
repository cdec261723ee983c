"""Area `notifications.webhooks`: subscribing systems' endpoints (registered by the region office or an admin) and
one Delivery per enabled endpoint for each event type it subscribed to.

A delivery's id comes from the event id and the endpoint (`deliveries.delivery_id`): a replayed event adds
nothing, and the receiver gets the same `webhook-id` if we ever send twice. Its body is
`{"type", "timestamp", "data"}` with the event's public payload (personal keys stripped, though events carry none).
The dispatcher (`notifications.dispatch`) sends it."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

from public_notice.domain.notifications.deliveries import Delivery, add_once
from public_notice.domain.notifications.webhooks import (
    EVENT_TYPES,
    MAX_DESCRIPTION,
    PING,
    WebhookEndpoint,
    event_types_problem,
    public_data,
    url_problem,
)
from shared.errors import FieldError, InvalidInput, NotFound, NotPermitted

MANAGERS = ("region_office", "admin")


def allow_private() -> bool:
    return os.environ.get("GREENMINE_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes")


def disable_after() -> int:
    return int(os.environ.get("GREENMINE_WEBHOOK_DISABLE_AFTER") or 5)


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterWebhook:
    actor: object
    url: str
    event_types: tuple[str, ...]
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class UpdateWebhook:
    actor: object
    endpoint_id: str
    changes: dict = field(default_factory=dict)   # url, description, event_types, enabled


@dataclass(frozen=True)
class DeleteWebhook:
    actor: object
    endpoint_id: str


@dataclass(frozen=True)
class RotateWebhookSecret:
    actor: object
    endpoint_id: str


@dataclass(frozen=True)
class TestWebhook:
    actor: object
    endpoint_id: str


def _require_manager(actor) -> None:
    if getattr(actor, "role", None) not in MANAGERS:
        raise NotPermitted("只有自治区自然资源厅或系统管理员可以管理 Webhook")


def _who(actor) -> tuple[str, str]:
    return actor.username, getattr(actor, "display_name", None) or actor.username


def _validate(url=None, event_types=None, description=None, *, partial=False) -> None:
    errors = []
    if url is not None or not partial:
        problem = url_problem(url or "", allow_private=allow_private())
        if problem:
            errors.append(FieldError("url", problem))
    if event_types is not None or not partial:
        problem = event_types_problem(list(event_types or []))
        if problem:
            errors.append(FieldError("event_types", problem))
    if description is not None and len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"说明不能超过{MAX_DESCRIPTION}个字符"))
    if errors:
        raise InvalidInput("Webhook 设置有误", errors)


def _endpoint(uow, endpoint_id: str) -> WebhookEndpoint:
    endpoint = uow.webhooks.get(endpoint_id)
    if endpoint is None or endpoint.deleted:
        raise NotFound("没有这个 Webhook 接收端")
    return endpoint


def register(cmd: RegisterWebhook, uow, *, clock) -> dict:
    """Returns the endpoint's view with its `secret` (shown this once)."""
    _require_manager(cmd.actor)
    _validate(cmd.url, cmd.event_types, cmd.description)
    by, by_name = _who(cmd.actor)

    def work():
        endpoint = WebhookEndpoint.register(url=cmd.url, description=cmd.description or "",
                                            event_types=cmd.event_types, enabled=cmd.enabled, now=clock(),
                                            by=by, by_name=by_name)
        uow.webhooks.save(endpoint)
        return {**endpoint.view(), "secret": endpoint.secret}

    return uow.run(work)


def update(cmd: UpdateWebhook, uow, *, clock) -> dict:
    _require_manager(cmd.actor)
    changes = dict(cmd.changes)
    _validate(changes.get("url"), changes.get("event_types"), changes.get("description"), partial=True)
    by, by_name = _who(cmd.actor)

    def work():
        endpoint = _endpoint(uow, cmd.endpoint_id)
        if endpoint.update(now=clock(), by=by, by_name=by_name, **changes):
            uow.webhooks.save(endpoint)
        return endpoint.view()

    return uow.run(work)


def delete(cmd: DeleteWebhook, uow, *, clock) -> None:
    """Marks the endpoint deleted (its log stays for the audit trail) and cancels its pending deliveries."""
    _require_manager(cmd.actor)
    by, by_name = _who(cmd.actor)

    def work():
        endpoint = _endpoint(uow, cmd.endpoint_id)
        now = clock()
        endpoint.delete(now=now, by=by, by_name=by_name)
        uow.webhooks.save(endpoint)
        for delivery in uow.deliveries.find(channel="webhook", target=endpoint.id, status="pending"):
            delivery.cancel(now, "接收端已删除")
            uow.deliveries.save(delivery)

    uow.run(work)


def rotate_secret(cmd: RotateWebhookSecret, uow, *, clock) -> dict:
    """A new secret (shown this once); the old one keeps signing beside it for 24 hours."""
    _require_manager(cmd.actor)
    by, by_name = _who(cmd.actor)

    def work():
        endpoint = _endpoint(uow, cmd.endpoint_id)
        secret = endpoint.rotate_secret(now=clock(), by=by, by_name=by_name)
        uow.webhooks.save(endpoint)
        return {**endpoint.view(), "secret": secret}

    return uow.run(work)


def send_test(cmd: TestWebhook, uow, *, clock) -> dict:
    """A ping delivery (type `webhook.test`), sent by the dispatcher like any other, even to a disabled endpoint
    (to check it before enabling it again)."""
    _require_manager(cmd.actor)
    by, _ = _who(cmd.actor)

    def work():
        endpoint = _endpoint(uow, cmd.endpoint_id)
        now = clock()
        source = f"test:{uuid.uuid4()}"
        delivery = Delivery.new(channel="webhook", target=endpoint.id, source=source, topic=PING, now=now,
                                message={"type": PING, "body": {"type": PING, "timestamp": now.isoformat(),
                                                                "data": {"endpoint_id": endpoint.id,
                                                                         "requested_by": by}}})
        add_once(uow.deliveries, delivery)
        return delivery_view(delivery)

    return uow.run(work)


def delivery_view(delivery: Delivery) -> dict:
    return {"id": delivery.id, "type": delivery.topic, "status": delivery.status, "created_at": delivery.created_at,
            "next_attempt_at": delivery.next_attempt_at, "attempts": list(delivery.attempts)}


def endpoints(uow) -> list[dict]:
    return uow.read(lambda: [e.view() for e in uow.webhooks.find(deleted=False, sort="created_at")])


def endpoint(uow, endpoint_id: str) -> dict:
    return uow.read(lambda: _endpoint(uow, endpoint_id).view())


def deliveries(uow, endpoint_id: str, limit: int = 100) -> list[dict]:
    """The endpoint's delivery log, newest first: each delivery with its attempts (time, status code, error,
    duration)."""
    def read():
        _endpoint(uow, endpoint_id)
        return [delivery_view(d) for d in uow.deliveries.find(channel="webhook", target=endpoint_id,
                                                               sort="created_at", descending=True, limit=limit)]

    return uow.read(read)


# -- events ---------------------------------------------------------------------------------------------------------
def when_subscribed_event(envelope: dict, uow, *, clock) -> int:
    """One Delivery per enabled endpoint subscribed to this event's type; a replay adds nothing."""
    event_type = envelope["type"]
    body = {"type": event_type, "timestamp": envelope.get("occurred_at") or clock().isoformat(),
            "data": public_data(envelope.get("payload") or {})}

    def work():
        added = 0
        now = clock()
        for endpoint in uow.webhooks.find(enabled=True):
            if endpoint.wants(event_type):
                added += add_once(uow.deliveries, Delivery.new(
                    channel="webhook", target=endpoint.id, source=envelope["event_id"], topic=event_type,
                    message={"type": event_type, "body": body}, now=now))
        return added

    return uow.run(work)


COMMAND_HANDLERS = {RegisterWebhook: register, UpdateWebhook: update, DeleteWebhook: delete,
                    RotateWebhookSecret: rotate_secret, TestWebhook: send_test}
EVENT_HANDLERS = {event_type: when_subscribed_event for event_type in EVENT_TYPES}
