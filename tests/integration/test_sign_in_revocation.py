"""Revocation, as a client meets it: after logging out, the old cookie is refused by every service; a disabled or
deleted user's token, and the sessions and tokens from before a password change, are refused at once."""
from __future__ import annotations

import re

import pytest

from shared import identity
from shared.portal import create_app as create_portal
from shared.storage import mongo_client

pytestmark = pytest.mark.integration

PASSWORD = "correct horse 3"
ECO = "eco_ordos"
# (service, path) answered 200 to the signed-in department reviewer: pages and APIs of intake and review.
PLACES = [("intake", "/intake/"), ("intake", "/api/v1/mines"), ("review", "/review/"),
          ("review", "/api/v1/review/queues/ecology_environment"), ("portal", "/api/v1/auth/me")]


@pytest.fixture
def directory(settings):
    directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    directory.add(ECO, PASSWORD, "department_reviewer", department="ecology_environment", area="鄂尔多斯市")
    return directory


@pytest.fixture
def apps(settings, monkeypatch):
    monkeypatch.setenv("GREENMINE_SIGNIN_ACCOUNT_LIMITS", "100 per minute")  # this file tests revocation only
    from intake.entrypoints.http import create_app as create_intake
    from review_routing.entrypoints.http import create_app as create_review
    from scoring.entrypoints.http import create_app as create_scoring

    return {"portal": create_portal(settings), "intake": create_intake(settings),
            "review": create_review(settings), "scoring": create_scoring(settings)}


def browser_sign_in(apps, password=PASSWORD):
    portal = apps["portal"].test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', portal.get("/login").get_data(as_text=True)).group(1)
    answer = portal.post("/login", data={"username": ECO, "password": password, "csrf_token": csrf})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return portal, portal.get_cookie("greenmine_session").value


def api_token(apps, password=PASSWORD):
    answer = apps["portal"].test_client().post("/api/v1/auth/token", json={"username": ECO, "password": password})
    assert answer.status_code == 200, answer.json
    return answer.json["access_token"]


def statuses(apps, *, cookie=None, token=None):
    found = {}
    for service, path in PLACES:
        client = apps[service].test_client()
        headers = {"Accept": "application/json"}
        if cookie:
            client.set_cookie("greenmine_session", cookie)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        found[path] = client.get(path, headers=headers).status_code
    return found


def everywhere(status):
    return {path: status for _, path in PLACES}


def test_logout_ends_the_session_in_every_service_and_the_tokens_issued_for_it(settings, directory, apps):
    portal, cookie = browser_sign_in(apps)
    assert statuses(apps, cookie=cookie) == everywhere(200)
    # A service calling another for this person (shared.scoring_client) signs a token for the principal it has.
    with apps["review"].test_request_context("/review/", headers={"Cookie": f"greenmine_session={cookie}"}):
        internal = identity.issue_token(settings.secret_key, identity.current_principal())
    scoring = apps["scoring"].test_client()
    assert scoring.get("/scoring/", headers={"Authorization": f"Bearer {internal}"}).status_code == 200

    csrf = re.search(r'name="csrf-token" content="([^"]+)"', portal.get("/?stay=1").get_data(as_text=True)).group(1)
    assert portal.post("/logout", data={"csrf_token": csrf}).status_code == 302
    # The copy of the old cookie (a stolen one, another tab's) is refused everywhere, pages and APIs alike.
    assert statuses(apps, cookie=cookie) == everywhere(401)
    page = apps["intake"].test_client()
    page.set_cookie("greenmine_session", cookie)
    html = page.get("/intake/", headers={"Accept": "text/html"})
    assert html.status_code == 401 and "/login?next=" in html.get_data(as_text=True)
    assert scoring.get("/scoring/", headers={"Authorization": f"Bearer {internal}"}).status_code == 401
    # Signing in again works as before.
    assert statuses(apps, cookie=browser_sign_in(apps)[1]) == everywhere(200)


@pytest.mark.parametrize("change", ["disable", "delete"])
def test_a_disabled_or_deleted_users_token_and_session_are_refused_at_once(directory, apps, change):
    token = api_token(apps)
    _, cookie = browser_sign_in(apps)
    assert statuses(apps, token=token) == everywhere(200)
    if change == "disable":
        assert directory.set_active(ECO, False) == 2
    else:
        assert directory.delete(ECO) == 2
    assert statuses(apps, token=token) == everywhere(401)
    assert statuses(apps, cookie=cookie) == everywhere(401)
    refused = apps["portal"].test_client().post("/api/v1/auth/token", json={"username": ECO, "password": PASSWORD})
    assert refused.status_code == 401
    if change == "disable":
        directory.set_active(ECO, True)  # enabled again: the old token stays dead, a new sign-in works
        assert statuses(apps, token=token) == everywhere(401)
        assert statuses(apps, token=api_token(apps)) == everywhere(200)


def test_a_password_change_ends_the_old_sessions_and_tokens(directory, apps):
    token = api_token(apps)
    _, cookie = browser_sign_in(apps)
    directory.set_password(ECO, "a new horse 4")
    assert statuses(apps, cookie=cookie) == everywhere(401)
    assert statuses(apps, token=token) == everywhere(401)
    old = apps["portal"].test_client().post("/api/v1/auth/token", json={"username": ECO, "password": PASSWORD})
    assert old.status_code == 401
    assert statuses(apps, cookie=browser_sign_in(apps, "a new horse 4")[1]) == everywhere(200)


def test_a_sign_in_racing_a_change_does_not_outlive_it(directory):
    # The password was checked, then the account changed before the grant was written: the grant is taken back.
    real_open = directory.grants.open

    def open_after_a_change(*args, **kwargs):
        sid = real_open(*args, **kwargs)
        directory.users.update_one({"_id": ECO}, {"$inc": {"epoch": 1}})
        return sid

    directory.grants.open = open_after_a_change
    assert directory.start(ECO, PASSWORD, kind="token", lifetime_s=60) is None
    assert directory.grants.collection.count_documents({"user": ECO}) == 0


def test_an_api_client_signs_its_token_out(directory, apps):
    first, second = api_token(apps), api_token(apps)
    portal = apps["portal"].test_client()
    out = portal.delete("/api/v1/auth/token/current", headers={"Authorization": f"Bearer {first}"})
    assert out.status_code == 204
    assert statuses(apps, token=first) == everywhere(401)
    assert statuses(apps, token=second) == everywhere(200)  # the client's other sign-ins are its own
    assert portal.delete("/api/v1/auth/token/current", headers={"Authorization": f"Bearer {first}"}).status_code == 401


def test_replacing_an_account_ends_its_sign_ins(directory, apps):
    token = api_token(apps)
    directory.add(ECO, "replaced horse 6", "department_reviewer", department="ecology_environment", area="包头市",
                  replace=True)
    assert statuses(apps, token=token) == everywhere(401)
