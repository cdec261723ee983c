"""Sign-in, tokens and sessions against the real database; the CLI that adds users."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from shared import identity
from shared.portal import create_app as create_portal
from shared.storage import mongo_client

pytestmark = pytest.mark.integration


def cli(settings, *args, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "GREENMINE_DB_PREFIX": settings.db_prefix, "GREENMINE_TOPIC_PREFIX": settings.topic_prefix}
    return subprocess.run([sys.executable, "-m", "shared.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture
def users(settings):
    directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    directory.add("bureau_ordos", "correct horse 1", "bureau", area="鄂尔多斯市", display_name="鄂尔多斯市自然资源局")
    directory.add("eco_baotou", "correct horse 2", "department_reviewer", department="ecology_environment",
                  area="包头市")
    return directory


def test_cli_user_add_reads_password_from_stdin_and_refuses_bad_input(settings):
    ok = cli(settings, "user", "add", "mine_a", "--role", "enterprise", "--enterprise", "91150600MA0N00001W",
             stdin="s3cret-password\n")
    assert ok.returncode == 0, ok.stderr
    directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    assert directory.authenticate("mine_a", "s3cret-password").enterprise == "91150600MA0N00001W"
    stored = directory.users.find_one({"_id": "mine_a"})
    assert stored["password_hash"].startswith("$argon2") and "s3cret" not in stored["password_hash"]

    again = cli(settings, "user", "add", "mine_a", "--role", "enterprise", "--enterprise", "91150600MA0N00001W",
                stdin="another-password\n")
    assert again.returncode == 2 and "已被使用" in again.stderr
    bad = cli(settings, "user", "add", "rev", "--role", "department_reviewer", stdin="long-password\n")
    assert bad.returncode == 2 and "department" in bad.stderr and "area" in bad.stderr
    short = cli(settings, "user", "add", "admin2", "--role", "admin", stdin="short\n")
    assert short.returncode == 2 and "password" in short.stderr
    wrong_role = cli(settings, "user", "add", "x1", "--role", "king", stdin="long-password\n")
    assert wrong_role.returncode == 2
    assert directory.get("rev") is None and directory.get("admin2") is None


def test_token_endpoint_and_one_token_for_every_service(settings, users):
    from scoring.entrypoints.http import create_app as create_scoring

    portal = create_portal(settings).test_client()
    bad = portal.post("/api/v1/auth/token", json={"username": "bureau_ordos", "password": "wrong"})
    assert bad.status_code == 401 and bad.json["message"] == "用户名或密码错误"
    missing = portal.post("/api/v1/auth/token", json={"username": "bureau_ordos"})
    assert missing.status_code == 422 and missing.json["errors"] == {"password": ["必填项缺失"]}
    good = portal.post("/api/v1/auth/token", json={"username": "bureau_ordos", "password": "correct horse 1"})
    assert good.status_code == 200 and good.json["token_type"] == "Bearer"
    token = good.json["access_token"]
    me = portal.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["area"] == "鄂尔多斯市" and me.json["role_label"] == "盟市自然资源局"
    scoring = create_scoring(settings).test_client()
    assert scoring.get("/scoring/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_web_sign_in_session_reaches_other_services_and_csrf_guards_writes(settings, users):
    from review_routing.entrypoints.http import create_app as create_review

    portal = create_portal(settings).test_client()
    page = portal.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    no_token = portal.post("/login", data={"username": "eco_baotou", "password": "correct horse 2"})
    assert no_token.status_code == 400  # sign-in form without its CSRF token
    wrong = portal.post("/login", data={"username": "eco_baotou", "password": "nope", "csrf_token": csrf})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    signed_in = portal.post("/login", data={"username": "eco_baotou", "password": "correct horse 2",
                                            "csrf_token": csrf, "next": "https://evil.example/"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/review/"
    cookie = portal.get_cookie("greenmine_session")
    assert cookie is not None and cookie.http_only

    review = create_review(settings).test_client()
    review.set_cookie("greenmine_session", cookie.value)
    assert review.get("/review/").status_code == 200
    # A cookie-authenticated write without the CSRF token is refused.
    assert portal.post("/logout").status_code == 400
    # Signing in starts a new session (no fixation), so pages after it carry a new token.
    fresh = re.search(r'name="csrf-token" content="([^"]+)"',
                      portal.get("/?stay=1").get_data(as_text=True)).group(1)
    assert portal.post("/logout", data={"csrf_token": csrf}).status_code == 400
    out = portal.post("/logout", data={"csrf_token": fresh})
    assert out.status_code == 302
    assert portal.get("/api/v1/auth/me").status_code == 401


def test_session_expires_when_idle(settings, users, monkeypatch):
    portal_app = create_portal(settings)
    portal = portal_app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', portal.get("/login").get_data(as_text=True)).group(1)
    portal.post("/login", data={"username": "bureau_ordos", "password": "correct horse 1", "csrf_token": csrf})
    assert portal.get("/api/v1/auth/me").status_code == 200
    later = time.time() + settings.session_minutes * 60 + 5
    monkeypatch.setattr(identity.time, "time", lambda: later)
    assert portal.get("/api/v1/auth/me").status_code == 401


def test_cli_disables_changes_passwords_and_signs_users_out(settings, users):
    portal = create_portal(settings).test_client()

    def token(password):
        answer = portal.post("/api/v1/auth/token", json={"username": "bureau_ordos", "password": password})
        return answer.json.get("access_token") if answer.status_code == 200 else None

    def me(bearer):
        return portal.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bearer}"}).status_code

    first = token("correct horse 1")
    disabled = cli(settings, "user", "disable", "bureau_ordos")
    assert disabled.returncode == 0 and "已停用" in disabled.stdout, disabled.stderr
    assert me(first) == 401 and token("correct horse 1") is None
    listed = cli(settings, "user", "list").stdout.splitlines()
    assert [line.split()[-1] for line in listed if line.startswith("bureau_ordos")] == ["已停用"]
    assert cli(settings, "user", "enable", "bureau_ordos").returncode == 0
    second = token("correct horse 1")
    assert me(second) == 200

    short = cli(settings, "user", "password", "bureau_ordos", stdin="short\n")
    assert short.returncode == 2 and "password" in short.stderr and me(second) == 200
    changed = cli(settings, "user", "password", "bureau_ordos", stdin="battery staple 5\n")
    assert changed.returncode == 0 and "结束登录 1 个" in changed.stdout, changed.stderr
    assert me(second) == 401 and token("correct horse 1") is None
    third = token("battery staple 5")
    assert cli(settings, "user", "sign-out", "bureau_ordos").returncode == 0 and me(third) == 401

    unknown = cli(settings, "user", "disable", "nobody")
    assert unknown.returncode == 2 and "不存在" in unknown.stderr
    assert cli(settings, "user", "delete", "bureau_ordos").returncode == 0 and token("battery staple 5") is None
    # The command line goes through the same handlers as the portal's pages: every change is audited.
    audit = users.users.database["account_audit"].find({"target": "bureau_ordos"}).sort("at", -1)
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("delete", "cli"), ("sign_out", "cli"), ("reset_password", "cli"), ("enable", "cli"), ("disable", "cli")]
