"""The HTTP edge every service shares: health, metrics, correlation ids in JSON logs, Chinese errors."""
from __future__ import annotations

import json
import logging

import pytest

from shared.config import Settings
from shared.readiness import Readiness
from shared.web import translate_messages

SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "unit", "MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200",
                              "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})


@pytest.fixture
def app():
    from supervision.entrypoints.http import create_app

    return create_app(SETTINGS)


def test_healthz_and_metrics(app):
    client = app.test_client()
    assert client.get("/healthz").json == {"service": "supervision", "status": "ok"}
    client.get("/no-such-page")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="healthz",method="GET",service="supervision",status="200"} 1.0' in metrics
    assert 'status="404"' in metrics and "http_request_seconds_bucket" in metrics


def test_correlation_id_is_echoed_and_logged_as_json(app, capsys):
    client = app.test_client()

    @app.get("/_log_probe")
    def probe():
        logging.getLogger("probe").warning("审核任务已创建")
        return "ok"

    probe._greenmine_roles = ("*public*",)
    response = client.get("/_log_probe", headers={"X-Correlation-ID": "corr-42"})
    assert response.headers["X-Correlation-ID"] == "corr-42"
    generated = client.get("/healthz").headers["X-Correlation-ID"]
    assert len(generated) == 36
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("message") == "审核任务已创建"]
    assert logged and logged[0]["correlation_id"] == "corr-42" and logged[0]["service"] == "supervision"
    assert logged[0]["level"] == "WARNING"


def test_errors_are_json_in_chinese_for_api_clients(app):
    response = app.test_client().get("/api/v1/nothing", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json["message"] == "找不到该页面或记录"
    page = app.test_client().get("/nothing", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "找不到该页面或记录" in page.get_data(as_text=True)


def test_readiness_reports_each_check_and_fails_when_servers_are_away():
    ok, report = Readiness(SETTINGS, "supervision").report()
    assert ok is False
    assert set(report["checks"]) == {"mongodb", "kafka"}
    assert report["checks"]["kafka"]["ok"] is False


def test_marshmallow_messages_are_translated():
    assert translate_messages({"json": {"name": ["Missing data for required field."],
                                        "kind": ["Must be one of: a, b."]}}) == {
        "json": {"name": ["必填项缺失"], "kind": ["取值应为以下之一: a, b."]}}


@pytest.mark.parametrize("module,prefix", [("intake.entrypoints.http", "intake"),
                                           ("review_routing.entrypoints.http", "review"),
                                           ("public_notice.entrypoints.http", "notice"),
                                           ("scoring.entrypoints.http", "scoring"),
                                           ("supervision.entrypoints.http", "supervision"),
                                           ("shared.portal", "portal")])
def test_stylesheet_is_served_under_the_prefix_the_proxy_routes_to_the_service(module, prefix):
    import importlib

    from shared.proxy import ROUTES

    app = importlib.import_module(module).create_app(SETTINGS)
    assert app.test_client().get(f"/{prefix}/assets/app.css").status_code == 200
    service = {"review": "review_routing", "notice": "public_notice"}.get(prefix, prefix)
    assert f"/{prefix}/*" in ROUTES[service]


# ---- issue 9 item 6: a strict CSP on every answer; metrics and OpenAPI documents not public -----------------

def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("module", ["intake.entrypoints.http", "review_routing.entrypoints.http",
                                    "public_notice.entrypoints.http", "scoring.entrypoints.http",
                                    "supervision.entrypoints.http", "shared.portal"])
def test_every_answer_has_a_strict_content_security_policy(module):
    import importlib

    client = importlib.import_module(module).create_app(SETTINGS).test_client()
    for path in ("/healthz", "/no-such-page", "/login"):
        response = client.get(path)
        policy = _policy(response.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
        for directive in ("script-src", "style-src"):
            assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
            assert [s for s in policy[directive] if s.startswith("'nonce-")]
        assert response.headers["X-Frame-Options"] == "DENY"


def test_the_nonce_is_new_for_every_request_and_written_on_inline_scripts():
    from shared.portal import create_app

    app = create_app(SETTINGS)

    @app.get("/_nonce_probe")
    def probe():
        from flask import render_template_string

        return render_template_string('<script nonce="{{ csp_nonce() }}">1</script>')

    probe._greenmine_roles = ("*public*",)
    client = app.test_client()
    nonces = []
    for _ in range(3):
        response = client.get("/_nonce_probe")
        nonce = _policy(response.headers["Content-Security-Policy"])["script-src"][1][len("'nonce-"):-1]
        assert len(nonce) >= 22 and f'nonce="{nonce}"' in response.get_data(as_text=True)
        nonces.append(nonce)
    assert len(set(nonces)) == 3


def test_templates_have_no_inline_script_handlers_or_styles_without_the_nonce():
    import re

    from shared.config import REPO_ROOT

    templates = [*REPO_ROOT.glob("services/*/templates/**/*.html"), *REPO_ROOT.glob("shared/templates/**/*.html")]
    assert len(templates) > 15
    for path in templates:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path}: inline event handler"
        assert not re.search(r"\sstyle\s*=", text), f"{path}: style attribute"
        assert "javascript:" not in text, path
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", text):
            assert "nonce=" in tag or "src=" in tag or 'type="application/json"' in tag, f"{path}: {tag}"


@pytest.mark.parametrize("path", ["/metrics", "/supervision/openapi/openapi.json"])
def test_metrics_and_the_openapi_document_are_internal(app, path):
    client = app.test_client()
    assert client.get(path).status_code == 200                                      # on the app's own port
    proxied = client.get(path, headers={"X-Forwarded-For": "203.0.113.9"})          # through the proxy
    assert proxied.status_code == 404 and proxied.json["message"] == "找不到该页面或记录"
    from shared import identity

    admin = identity.Principal("admin", "admin", area="自治区")
    token = identity.issue_token(SETTINGS.secret_key, admin)
    signed_in = client.get(path, headers={"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {token}"})
    assert signed_in.status_code == 200


def test_the_proxies_never_serve_metrics_or_openapi_documents():
    import re

    from shared.config import REPO_ROOT
    from shared.proxy import INTERNAL_PATHS, caddyfile

    generated = caddyfile(8080, {name: 9000 for name in ("portal", "intake", "review_routing", "scoring",
                                                           "public_notice", "supervision")})
    deploy = (REPO_ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    for text in (generated, deploy):
        blocked = re.search(r"@(\w+) path (.+)\n\s*handle @\1 \{\n\s*respond 404", text)
        assert blocked and set(INTERNAL_PATHS) <= set(blocked.group(2).split())
        first_route = re.search(r"handle @\w+ \{\n\s*(import proxy_to|reverse_proxy)", text).start()
        assert blocked.start() < first_route  # before any route to an app
    nginx = (REPO_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    regex = re.search(r"location ~ (\S+) \{ return 404; \}", nginx).group(1)
    for path in ("/intake/openapi/openapi.json", "/portal/openapi", "/review_routing/openapi/"):
        assert re.match(regex, path)
    assert not re.match(regex, "/api/v1/mines") and not re.match(regex, "/intake/openapi-guide")


def test_the_sign_in_address_carries_a_known_reason_only():
    from shared import identity

    assert identity.sign_in_url("expired", "/review/?q=1") == "/login?next=%2Freview%2F%3Fq%3D1&reason=expired"
    assert identity.sign_in_url("<script>", "/") == "/login?next=%2F"
    assert identity.sign_in_url("signed_out") == "/login?reason=signed_out"
    assert set(identity.SIGN_IN_REASONS.values()) == {
        "请先登录", "登录已过期，请重新登录", "您已退出登录", "账号已停用", "密码已重置，请修改"}


def test_the_way_back_from_an_error_page_is_the_persons_own_workspace():
    from shared import identity

    assert identity.home_of(None) == ("/", "返回首页")
    assert identity.home_of(identity.Principal("v", "evaluator")) == ("/evaluation/", "返回我的工作台")
    assert identity.home_of(identity.Principal("b", "bureau", area="包头市")) == ("/review/", "返回我的工作台")
