"""Sign-in rate limits, as a client meets them: failures per account and per client address are counted in
MongoDB (shared by every portal process), answered 429 with Retry-After, and the right password works again
once the window has passed. Short windows come from the environment, as in production."""
from __future__ import annotations

import re
import time

import pytest

from shared import identity
from shared.portal import SignInLimits
from shared.portal import create_app as create_portal
from shared.storage import mongo_client

pytestmark = pytest.mark.integration

PASSWORD = "correct horse 9"


@pytest.fixture
def users(settings):
    directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    for name in ("target", "other"):
        directory.add(name, PASSWORD, "bureau", area="鄂尔多斯市")
    return directory


@pytest.fixture
def short_windows(monkeypatch):
    monkeypatch.setenv("GREENMINE_SIGNIN_ACCOUNT_LIMITS", "5 per 4 seconds")
    monkeypatch.setenv("GREENMINE_SIGNIN_CLIENT_LIMITS", "20 per 4 seconds")


def token(client, username, password, **headers):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password}, headers=headers)


def test_fifty_wrong_passwords_then_429_with_retry_after_then_success_after_the_window(settings, users,
                                                                                       short_windows):
    portal = create_portal(settings).test_client()
    answers = [token(portal, "target", f"wrong-{n}") for n in range(50)]
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [401] * 5, statuses
    assert statuses.count(429) >= 40, statuses  # the window is 4 s: the whole run fits in it
    refused = answers[5]
    assert refused.status_code == 429 and refused.json["code"] == 429 and "登录失败次数过多" in refused.json["message"]
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 4
    # The right password is refused too while the account is held: guessing cannot go on.
    held = token(portal, "target", PASSWORD)
    assert held.status_code == 429 and 1 <= int(held.headers["Retry-After"]) <= 4
    # Another portal process sees the same counters (they live in MongoDB).
    assert token(create_portal(settings).test_client(), "target", PASSWORD).status_code == 429

    time.sleep(int(held.headers["Retry-After"]) + 0.2)
    good = token(portal, "target", PASSWORD)
    assert good.status_code == 200, good.json
    assert portal.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {good.json['access_token']}"}).status_code == 200


def test_the_client_limit_holds_a_guesser_trying_many_accounts_but_not_other_clients(settings, users,
                                                                                     monkeypatch):
    monkeypatch.setenv("GREENMINE_SIGNIN_CLIENT_LIMITS", "20 per 2 minutes")  # 21 password checks take seconds
    portal = create_portal(settings).test_client()
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    statuses = [token(portal, f"someone{n}", "wrong-password", **guesser).status_code for n in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429, statuses
    assert token(portal, "other", PASSWORD, **guesser).status_code == 429
    # A forged address before the proxy's own entry changes nothing: the proxy appends the real one last.
    assert token(portal, "other", PASSWORD, **{"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}).status_code == 429
    # Someone else, and the accounts the guesser tried, are not locked out by it.
    assert token(portal, "other", PASSWORD, **{"X-Forwarded-For": "198.51.100.2"}).status_code == 200


def test_a_success_clears_the_account_counter(settings, users, short_windows):
    portal = create_portal(settings).test_client()
    for _ in range(4):
        assert token(portal, "target", "typo-password").status_code == 401
    assert token(portal, "target", PASSWORD).status_code == 200
    for _ in range(4):  # four more typos are still below the account's limit
        assert token(portal, "target", "typo-password").status_code == 401
    assert token(portal, "target", PASSWORD).status_code == 200


def test_concurrent_guesses_cannot_slip_past_the_account_limit(settings, users, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("GREENMINE_SIGNIN_ACCOUNT_LIMITS", "5 per 2 minutes")
    app = create_portal(settings)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: token(app.test_client(), "target", f"guess-{n}", **{
            "X-Forwarded-For": f"198.51.100.{n}"}).status_code, range(24)))
    assert sorted(statuses) == [401] * 5 + [429] * 19, statuses


def test_the_sign_in_form_answers_429_with_a_chinese_page(settings, users, monkeypatch):
    # A window of a minute: five password checks on a loaded 2-core machine outlasted a 4 s one (CI, 302 not 429).
    monkeypatch.setenv("GREENMINE_SIGNIN_ACCOUNT_LIMITS", "5 per 1 minute")
    portal = create_portal(settings).test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', portal.get("/login").get_data(as_text=True)).group(1)

    def form(password):
        return portal.post("/login", data={"username": "target", "password": password, "csrf_token": csrf})

    assert [form("wrong-password").status_code for _ in range(5)] == [401] * 5
    page = form(PASSWORD)
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert 1 <= int(page.headers["Retry-After"]) <= 60
    text = page.get_data(as_text=True)
    assert "登录失败次数过多" in text and 'value="target"' in text
    time.sleep(int(page.headers["Retry-After"]) + 0.2)
    signed_in = form(PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/review/"


def test_limits_come_from_the_environment_and_bad_ones_are_named(settings):
    defaults = SignInLimits.from_env(settings, {})
    assert [str(i) for i in defaults.account] == ["5 per 1 minute", "20 per 1 hour"]
    assert [str(i) for i in defaults.client] == ["20 per 1 minute", "200 per 1 hour"]
    with pytest.raises(ValueError, match="GREENMINE_SIGNIN_CLIENT_LIMITS"):
        SignInLimits.from_env(settings, {"GREENMINE_SIGNIN_CLIENT_LIMITS": "lots"})
