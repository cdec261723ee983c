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
