"""Every endpoint of every app declares who may call it; anonymous calls get 401 and other roles 403.

The sweep walks each app's URL map, so an endpoint added later is covered without editing this test."""
from __future__ import annotations

import importlib
import re

import pytest

from shared import identity
from shared.config import SERVICES, Settings

SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "unit-secret", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                              "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
APPS = {"portal": "shared.portal", **{s: f"{s}.entrypoints.http" for s in SERVICES}}

PRINCIPALS = {
    "enterprise": identity.Principal("e", "enterprise", enterprise="91150600MA0N00001W"),
    "bureau": identity.Principal("b", "bureau", area="鄂尔多斯市"),
    "department_reviewer": identity.Principal("r", "department_reviewer", department="ecology_environment",
                                              area="鄂尔多斯市"),
    "region_office": identity.Principal("o", "region_office", area="自治区"),
    "evaluator": identity.Principal("v", "evaluator", area="自治区"),
    "admin": identity.Principal("a", "admin", area="自治区"),
}


def build(name: str):
    return importlib.import_module(APPS[name]).create_app(SETTINGS)


def concrete_path(rule) -> str:
    """Fill converters with harmless values; the role check runs before the view looks anything up."""
    def fill(match):
        converter = match.group(1) or "string"
        return "1" if converter in ("int", "float") else "x"

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", fill, rule.rule)


def endpoints():
    for name in APPS:
        app = build(name)
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield pytest.param(name, rule.rule, method, id=f"{name}:{method}:{rule.rule}")


@pytest.fixture(scope="module")
def apps():
    return {name: build(name) for name in APPS}


def test_every_endpoint_declares_its_audience(apps):
    for name, app in apps.items():
        undeclared = [f"{e} {m}" for (e, m), roles in identity.declared_roles(app).items()
                      if roles is None and not e.startswith("api-docs.")]
        assert undeclared == [], f"{name}: {undeclared}"


def test_an_undeclared_endpoint_refuses_to_start():
    from flask import Flask

    app = Flask("x")
    app.add_url_rule("/open", "open", lambda: "hi")
    with pytest.raises(RuntimeError, match="open GET"):
        identity.check_declared(app)


@pytest.mark.parametrize("name,path_rule,method", list(endpoints()))
def test_anonymous_401_and_other_roles_403(apps, name, path_rule, method):
    app = apps[name]
    rule = next(r for r in app.url_map.iter_rules() if r.rule == path_rule and method in r.methods)
    roles = identity.roles_of(app, rule.endpoint, method)
    if rule.endpoint.startswith("api-docs."):
        roles = identity.PUBLIC  # the generated OpenAPI document is public on purpose
    assert roles is not None
    if roles == identity.PUBLIC:
        return
    path = concrete_path(rule)
    client = app.test_client()
    anonymous = client.open(path, method=method, headers={"Accept": "application/json"})
    assert anonymous.status_code == 401, anonymous.get_data(as_text=True)
    if not path.startswith("/api/"):  # a browser is sent on to the sign-in page
        html = client.open(path, method=method, headers={"Accept": "text/html"})
        assert html.status_code == 401 and "/login?next=" in html.get_data(as_text=True)
    for role, principal in PRINCIPALS.items():
        if role in roles:
            continue
        token = identity.issue_token(SETTINGS.secret_key, principal)
        response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}",
                                                             "Accept": "application/json"})
        assert response.status_code == 403, f"{role} got {response.status_code} on {method} {path}"


def test_tampered_and_expired_tokens_are_anonymous():
    principal = PRINCIPALS["admin"]
    token = identity.issue_token("k1", principal)
    assert identity.read_token("k1", token, 60) == principal
    assert identity.read_token("k2", token, 60) is None
    assert identity.read_token("k1", token[:-2] + "xx", 60) is None
    assert identity.read_token("k1", token, -1) is None


@pytest.mark.parametrize("kwargs,field", [
    ({"username": "a", "role": "admin"}, "username"),
    ({"username": "reviewer", "role": "department_reviewer", "area": "鄂尔多斯市"}, "department"),
    ({"username": "reviewer", "role": "department_reviewer", "department": "ecology_environment"}, "area"),
    ({"username": "bureau1", "role": "bureau"}, "area"),
    ({"username": "mine1", "role": "enterprise", "enterprise": "123"}, "enterprise"),
    ({"username": "boss", "role": "king"}, "role"),
    ({"username": "office", "role": "region_office", "department": "energy"}, "department"),
])
def test_user_validation_names_the_field(kwargs, field):
    options = {"department": None, "area": None, "enterprise": None, "password": "long-enough-1"}
    options.update({k: v for k, v in kwargs.items() if k not in ("username", "role")})
    with pytest.raises(identity.IdentityError) as raised:
        identity.validate_user(kwargs["username"], kwargs["role"], **options)
    assert field in [e["field"] for e in raised.value.errors]


def test_area_scoping():
    assert PRINCIPALS["region_office"].covers_area("包头市")
    assert PRINCIPALS["bureau"].covers_area("鄂尔多斯市")
    assert not PRINCIPALS["bureau"].covers_area("包头市")
    assert identity.Principal("r", "department_reviewer", department="energy", area="自治区").covers_area("包头市")


def test_a_bound_token_is_never_taken_on_trust_when_the_identity_database_is_unreachable(apps):
    # A token bound to a grant (every sign-in's) needs its grant looked up; the database at 127.0.0.1:1 does not
    # answer, so the caller is told to retry (503, the error body), not let in and not answered with a crash.
    bound = identity.Principal("b", "bureau", area="鄂尔多斯市", sid="some-grant")
    assert identity.Principal("b", "bureau", area="鄂尔多斯市") == bound and "sid" not in bound.claims()
    token = identity.issue_token(SETTINGS.secret_key, bound)
    assert identity.read_token(SETTINGS.secret_key, token, 60).sid == "some-grant"
    answer = apps["portal"].test_client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.json["code"] == 503 and "登录状态" in answer.json["message"]


def test_the_navigation_offers_each_role_only_workspaces_its_page_admits(apps):
    by_path = {}
    for app in apps.values():
        for rule in app.url_map.iter_rules():
            if "GET" in (rule.methods or ()):
                by_path[rule.rule] = identity.roles_of(app, rule.endpoint, "GET")
    for label, href, roles in identity.NAVIGATION:
        admitted = by_path[href]
        assert admitted is not None and set(roles) <= set(admitted), f"{label} {href}: {roles} vs {admitted}"
    for role, workspace in identity.WORKSPACES.items():
        assert role in by_path[workspace]


@pytest.mark.parametrize("name", list(APPS))
def test_every_app_answers_the_favicon(apps, name):
    answer = apps[name].test_client().get("/favicon.ico")
    assert answer.status_code == 200 and answer.mimetype == "image/vnd.microsoft.icon"
    assert answer.data[:4] == b"\x00\x00\x01\x00"        # an ICO file


def test_a_browser_refused_a_page_gets_the_styled_page_with_a_way_back_to_its_own_workspace(apps):
    token = identity.issue_token(SETTINGS.secret_key, PRINCIPALS["evaluator"])
    page = apps["review_routing"].test_client().get("/review/", headers={"Authorization": f"Bearer {token}",
                                                                         "Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "/review_routing/assets/app.css" in text or "/review/assets/app.css" in text
    assert "当前角色（第三方评估机构）无权访问此功能" in text
    assert 'href="/evaluation/">返回我的工作台</a>' in text
    assert 'href="/evaluation/"' in text.split("<main")[0]        # the navigation offers the evaluator's own
    assert 'href="/review/"' not in text.split("<main")[0]        # and not what it may not open
    missing = apps["review_routing"].test_client().get("/review/nothing-here", headers={
        "Authorization": f"Bearer {token}", "Accept": "text/html"})
    assert missing.status_code == 404 and 'href="/evaluation/">返回我的工作台</a>' in missing.get_data(as_text=True)
    anonymous = apps["scoring"].test_client().get("/scoring/", headers={"Accept": "text/html"})
    assert anonymous.status_code == 401
    assert 'url=/login?next=%2Fscoring%2F&amp;reason=required' in anonymous.get_data(as_text=True)


def test_a_pending_password_change_admits_only_the_change_and_who_am_i(apps):
    pending = identity.Principal("r", "department_reviewer", department="energy", area="包头市", must_change=True)
    assert pending.claims()["must_change"] is True and "must_change" not in PRINCIPALS["admin"].claims()
    token = identity.issue_token(SETTINGS.secret_key, pending)
    client = apps["review_routing"].test_client()
    api = client.get("/api/v1/review/queues/energy", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403 and api.json["message"] == "密码已重置，请先修改密码"
    page = client.get("/review/?x=1", headers={"Authorization": f"Bearer {token}", "Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"] == "/portal/password?next=%2Freview%2F%3Fx%3D1"
    me = apps["portal"].test_client().get("/portal/whoami", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["must_change"] is True


def test_badges_never_break_inside_a_word():
    import re

    from shared.config import REPO_ROOT

    css = (REPO_ROOT / "shared" / "static" / "app.css").read_text(encoding="utf-8")
    badge = re.search(r"\n\.badge \{([^}]*)\}", css).group(1)
    assert "white-space: nowrap" in badge
