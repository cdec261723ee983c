"""Public email subscriptions: double opt-in, signed tokens and their purposes, states, repeats changing nothing,
the address never leaving the record and its deliveries."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from public_notice.bootstrap import bootstrap
from public_notice.domain.notifications import subscriptions as subs
from public_notice.domain.notifications.subscriptions import EmailSubscription
from public_notice.service_layer.notifications.email import ConfirmSubscription, Subscribe, Unsubscribe
from shared.config import Settings
from shared.errors import InvalidInput, InvalidTransition

AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
SECRET = "s" * 40
SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": SECRET, "GREENMINE_PUBLIC_URL": "https://gm.example.cn"})


class NoDirectory:
    def find(self, **equals):
        return []


@pytest.fixture
def bus(uow):
    return bootstrap(SETTINGS, uow_factory=lambda: uow, clock=lambda: AT, directory=NoDirectory())


def token_of(delivery) -> str:
    for line in delivery.message["text"].splitlines():
        if "/public/subscriptions/confirm?token=" in line:
            return parse_qs(urlparse(line.strip()).query)["token"][0]
    raise AssertionError("no confirmation link")


def test_tokens_are_signed_and_bound_to_their_purpose():
    token = subs.make_token(SECRET, "sub_1", "confirm", 3)
    assert subs.read_token(SECRET, token, "confirm") == ("sub_1", 3)
    assert subs.read_token(SECRET, token, "unsubscribe") is None
    assert subs.read_token("other" * 10, token, "confirm") is None
    assert subs.read_token(SECRET, token[:-2] + "xx", "confirm") is None
    assert subs.read_token(SECRET, "", "confirm") is None


@given(st.text(max_size=80))
def test_any_string_is_refused_as_a_token(text):
    assert subs.read_token(SECRET, text, "confirm") is None


@pytest.mark.parametrize("email,ok", [("a@b.cn", True), ("Zhang.San+gm@mail.example.com", True),
                                      ("no-at.example.com", False), ("a@b", False), ("a b@c.cn", False),
                                      ("<x>@y.cn", False), ("a@-b.cn", False), ("", False)])
def test_addresses(email, ok):
    assert subs.valid_email(subs.normalize_email(email)) is ok


def test_states():
    sub = EmailSubscription.new(" A@B.cn ", ["publicity", "announcements", "publicity"], AT)
    assert sub.email == "a@b.cn" and sub.topics == ["announcements", "publicity"] and sub.status == "pending"
    assert not sub.wants("publicity")
    with pytest.raises(ValueError):
        sub.confirm(nonce=1, now=AT)                 # a link of another round
    assert sub.confirm(0, AT) and not sub.confirm(0, AT)
    assert sub.wants("publicity")
    assert sub.resubscribe(["announcements"], AT) is True and not sub.wants("publicity")
    assert sub.unsubscribe(AT) and not sub.unsubscribe(AT) and not sub.wants("announcements")
    with pytest.raises(ValueError):
        sub.confirm(0, AT)                           # an old confirmation link after unsubscribing
    assert sub.resubscribe(["publicity"], AT) is False and sub.status == "pending" and sub.token_epoch == 1
    assert EmailSubscription.from_dict(sub.to_dict()) == sub
    assert [h["action"] for h in sub.history] == ["subscribed", "confirmed", "topics_changed", "unsubscribed",
                                                  "subscribed"]


def test_double_opt_in_end_to_end(bus, uow):
    assert bus.handle(Subscribe("Reader@Example.cn", ("announcements",)))["status"] == "sent"
    [confirmation] = uow.deliveries.find()
    assert confirmation.target == "reader@example.cn" and confirmation.topic == "subscription_confirmation"
    assert "请确认" in confirmation.message["subject"]
    assert confirmation.message["text"].count("https://gm.example.cn/public/subscriptions/confirm?token=") == 1
    bus.handle(Subscribe("reader@example.cn", ("announcements",)))   # asked again before confirming
    assert len(uow.deliveries.find()) == 2                           # a new round, a new link
    first, second = sorted(uow.deliveries.find(), key=lambda d: d.source)
    with pytest.raises(InvalidTransition):
        bus.handle(ConfirmSubscription(token_of(first)))              # the first round's link is stale
    assert bus.handle(ConfirmSubscription(token_of(second)))["status"] == "confirmed"
    assert bus.handle(ConfirmSubscription(token_of(second)))["status"] == "confirmed"   # twice: no change
    bus.handle(Subscribe("reader@example.cn", ("announcements", "publicity")))
    assert len(uow.deliveries.find()) == 2                           # confirmed: topics change, no new email
    sub = uow.subscriptions.get(subs.subscription_id("reader@example.cn"))
    assert sub.topics == ["announcements", "publicity"]
    assert uow.events() == []                                        # the address never goes on an event


def test_bad_requests_and_bad_links(bus):
    with pytest.raises(InvalidInput) as bad:
        bus.handle(Subscribe("nope", ()))
    assert {e.field for e in bad.value.errors} == {"email", "topics"}
    with pytest.raises(InvalidInput):
        bus.handle(Subscribe("a@b.cn", ("gossip",)))
    with pytest.raises(InvalidInput):
        bus.handle(ConfirmSubscription("forged"))
    with pytest.raises(InvalidInput):
        bus.handle(Unsubscribe(subs.make_token(SECRET, "sub_nobody", "unsubscribe")))
    with pytest.raises(InvalidInput):   # a confirmation token does not unsubscribe
        bus.handle(Unsubscribe(subs.make_token(SECRET, subs.subscription_id("a@b.cn"), "confirm")))
