"""One answer to "too many requests" for every service: a `TooManyAttempts` refusal becomes 429 with Retry-After and
the platform's error body ({"code", "message"}; the error page for browsers)."""
from __future__ import annotations

import pytest

from shared.config import Settings
from shared.errors import DomainError, TooManyAttempts
from shared.schemas import ErrorSchema
from shared.web import http_status

SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "unit", "MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200",
                              "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})


class SubscribingTooOften(TooManyAttempts):
    """A service's own name for the refusal (a subclass means the same)."""


@pytest.fixture
def app():
    from supervision.entrypoints.http import create_app

    app = create_app(SETTINGS)

    def limited(seconds):
        raise SubscribingTooOften("提交过于频繁，请1分30秒后再试", seconds)

    limited._greenmine_roles = ("*public*",)
    app.add_url_rule("/api/v1/_limited/<int:seconds>", "limited_api", limited)
    app.add_url_rule("/_limited/<int:seconds>", "limited_page", limited)
    return app


def test_too_many_attempts_is_429_with_retry_after_and_the_error_body(app):
    answer = app.test_client().get("/api/v1/_limited/90", headers={"Accept": "application/json"})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "90"
    assert answer.json == {"code": 429, "message": "提交过于频繁，请1分30秒后再试"}
    assert ErrorSchema().validate(answer.json) == {}


def test_a_browser_gets_the_error_page_with_the_same_status_and_header(app):
    page = app.test_client().get("/_limited/5", headers={"Accept": "text/html"})
    assert page.status_code == 429 and page.headers["Retry-After"] == "5"
    assert page.mimetype == "text/html" and "提交过于频繁" in page.get_data(as_text=True)


def test_other_refusals_carry_no_retry_after(app):
    @app.get("/api/v1/_refused")
    def refused():
        raise DomainError("请求有误")

    refused._greenmine_roles = ("*public*",)
    answer = app.test_client().get("/api/v1/_refused", headers={"Accept": "application/json"})
    assert answer.status_code == 400 and "Retry-After" not in answer.headers


@pytest.mark.parametrize(("given", "seconds"), [(0, 1), (0.2, 1), (1, 1), (59.1, 60), (3600, 3600)])
def test_the_wait_is_whole_seconds_and_at_least_one(given, seconds):
    exc = TooManyAttempts("请稍后再试", given)
    assert exc.retry_after == seconds and http_status(exc) == 429 and exc.message == "请稍后再试"
