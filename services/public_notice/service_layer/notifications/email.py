"""Email (area `notifications.email`): a notification for a user with an email address on their account also
becomes an email delivery; public subscriptions (double opt-in) get the 公告 and 公示 by email, each with a
one-click unsubscribe link. Deliveries are sent by `notifications.dispatch` through `adapters/smtp.py`.
(see `areas.py` for an area's shape)

Idempotent: a delivery's id comes from the address and its source (the inbox entry, the event, the
subscription's confirmation round), so a replay or a repeated request adds nothing. Subscribers' addresses never
leave the `subscriptions` and `deliveries` collections."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from public_notice.domain.notifications import emails
from public_notice.domain.notifications.audiences import TABLE
from public_notice.domain.notifications.deliveries import Delivery, add_once
from public_notice.domain.notifications.subscriptions import (
    CONFIRM_MAX_AGE_S,
    TOPIC_OF_EVENT,
    TOPICS,
    EmailSubscription,
    make_token,
    normalize_email,
    read_token,
    subscription_id,
    valid_email,
)
from public_notice.service_layer.unit_of_work import PublicNoticeUnitOfWork
from shared.errors import FieldError, InvalidInput, InvalidTransition

Clock = Callable[[], datetime]
PAGES = {"announcements": "/public/announcements/{id}", "publicity": "/public/publicity/{id}"}


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subscribe:
    email: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class ConfirmSubscription:
    token: str


@dataclass(frozen=True)
class Unsubscribe:
    token: str


def _link(settings, path: str, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}{path}?token={quote(token)}"


def unsubscribe_url(settings, sub: EmailSubscription) -> str:
    return _link(settings, "/public/subscriptions/unsubscribe", make_token(settings.secret_key, sub.id,
                                                                          "unsubscribe"))


def subscribe(cmd: Subscribe, uow: PublicNoticeUnitOfWork, *, clock: Clock, settings) -> dict:
    """Ask for a subscription: a confirmation email goes out (nothing else until it is confirmed); an already
    confirmed address just takes the new topics. The answer never says whether the address was known."""
    email = normalize_email(cmd.email)
    topics = sorted(set(cmd.topics or ()))
    errors = []
    if not valid_email(email):
        errors.append(FieldError("email", "请填写有效的电子邮箱地址"))
    if not topics:
        errors.append(FieldError("topics", "请至少选择一项订阅内容"))
    elif any(t not in TOPICS for t in topics):
        errors.append(FieldError("topics", f"订阅内容只能是：{'、'.join(TOPICS)}"))
    if errors:
        raise InvalidInput("订阅信息有误", errors)
    now = clock()

    def work():
        sub = uow.subscriptions.get(subscription_id(email))
        if sub is None:
            sub, confirmed = EmailSubscription.new(email, topics, now), False
        else:
            confirmed = sub.resubscribe(topics, now)
        uow.subscriptions.save(sub)
        if not confirmed:
            token = make_token(settings.secret_key, sub.id, "confirm", sub.token_epoch)
            message = emails.confirmation_email(to=sub.email, topics=sub.topics,
                                                confirm_url=_link(settings, "/public/subscriptions/confirm", token))
            add_once(uow.deliveries, Delivery.new(channel="email", target=sub.email,
                                                  source=f"confirm:{sub.id}:{sub.token_epoch}",
                                                  topic="subscription_confirmation", message=message, now=now))
        return {"status": "sent", "topics": sub.topics}

    return uow.run(work)


def confirm_subscription(cmd: ConfirmSubscription, uow: PublicNoticeUnitOfWork, *, clock: Clock,
                         settings) -> dict:
    found = read_token(settings.secret_key, cmd.token, "confirm", CONFIRM_MAX_AGE_S)
    if found is None:
        raise InvalidInput("确认链接无效或已过期，请重新订阅", [FieldError("token", "链接无效或已过期")])
    sid, nonce = found

    def work():
        sub = uow.subscriptions.get(sid)
        if sub is None:
            raise InvalidInput("确认链接无效或已过期，请重新订阅", [FieldError("token", "链接无效或已过期")])
        try:
            if sub.confirm(nonce, clock()):
                uow.subscriptions.save(sub)
        except ValueError:
            raise InvalidTransition("此确认链接已失效（订阅已退订或已重新申请），请重新订阅") from None
        return {"status": sub.status, "topics": sub.topics}

    return uow.run(work)


def unsubscribe(cmd: Unsubscribe, uow: PublicNoticeUnitOfWork, *, clock: Clock, settings) -> dict:
    found = read_token(settings.secret_key, cmd.token, "unsubscribe")
    if found is None:
        raise InvalidInput("退订链接无效", [FieldError("token", "链接无效")])

    def work():
        sub = uow.subscriptions.get(found[0])
        if sub is None:
            raise InvalidInput("退订链接无效", [FieldError("token", "链接无效")])
        if sub.unsubscribe(clock()):
            uow.subscriptions.save(sub)
            for delivery in uow.deliveries.find(target=sub.email, status="pending", channel="email"):
                delivery.cancel(clock(), "unsubscribed")
                uow.deliveries.save(delivery)
        return {"status": sub.status}

    return uow.run(work)


# -- events -----------------------------------------------------------------------------------------------------
def email_inbox_entries(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock: Clock, directory,
                        settings) -> int:
    """The event's inbox entries (written by the inbox area just before, same transaction) of users with an
    email address become email deliveries."""
    entries = uow.inbox.find(event_id=envelope["event_id"])
    if not entries:
        return 0
    users = {u["username"]: u for u in directory.find(username=sorted({e.username for e in entries}))}
    added, now = 0, clock()
    for entry in entries:
        user = users.get(entry.username) or {}
        address = normalize_email(user.get("email") or "")
        if not valid_email(address):
            continue
        message = emails.inbox_email(to=address, display_name=user.get("display_name") or entry.username,
                                     title=entry.title, text=entry.text, link=entry.link,
                                     public_url=settings.public_url)
        added += add_once(uow.deliveries, Delivery.new(channel="email", target=address, source=f"inbox:{entry.id}",
                                                       topic=envelope["type"], message=message, now=now))
    return added


def email_subscribers(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock: Clock, settings) -> int:
    """One delivery per confirmed subscriber of the event's topic."""
    topic = TOPIC_OF_EVENT.get(envelope["type"])
    if topic is None:
        return 0
    payload = envelope.get("payload") or {}
    page_id = payload.get("announcement_id") if topic == "announcements" else payload.get("batch_id")
    page_url = settings.public_url.rstrip("/") + PAGES[topic].format(id=page_id or envelope["aggregate_id"])
    compose = emails.announcement_email if topic == "announcements" else emails.publicity_email
    added, now = 0, clock()
    for sub in uow.subscriptions.find(status="confirmed"):
        if not sub.wants(topic):
            continue
        message = compose(to=sub.email, payload=payload, page_url=page_url,
                          unsubscribe_url=unsubscribe_url(settings, sub))
        added += add_once(uow.deliveries, Delivery.new(channel="email", target=sub.email,
                                                       source=envelope["event_id"], topic=envelope["type"],
                                                       message=message, now=now))
    return added


def when_event(envelope: dict, uow: PublicNoticeUnitOfWork, *, clock: Clock, directory, settings) -> None:
    def work():
        email_inbox_entries(envelope, uow, clock=clock, directory=directory, settings=settings)
        email_subscribers(envelope, uow, clock=clock, settings=settings)

    uow.run(work)


COMMAND_HANDLERS = {Subscribe: subscribe, ConfirmSubscription: confirm_subscription, Unsubscribe: unsubscribe}
EVENT_HANDLERS = {event_type: when_event for event_type in (*TABLE, *TOPIC_OF_EVENT)}
