"""The HTTP edge every service shares: the app factory base, health/readiness, metrics, errors, CSRF.

A service's `create_app()` calls `create_service_app(...)` and registers its flask-smorest blueprints.
"""
from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request, send_from_directory, session
from flask_smorest import Api
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from jinja2 import ChoiceLoader, FileSystemLoader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from werkzeug.exceptions import HTTPException

from shared import db_work, display, identity
from shared.config import Settings
from shared.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    TooManyAttempts,
    Unavailable,
)
from shared.logging import configure_logging, correlation_id, new_correlation_id
from shared.readiness import Readiness
from shared.schemas import ErrorSchema

SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"
SHARED_STATIC = Path(__file__).resolve().parent / "static"
# Endpoints that authenticate by their body or a signed token in the URL, not by a cookie (the one-click
# unsubscribe of RFC 8058 is POSTed by the mail client, which has no CSRF token).
CSRF_EXEMPT_PATHS = {"/api/v1/auth/token", "/public/subscriptions/unsubscribe"}


def content_security_policy(nonce: str) -> str:
    """The policy of every answer that does not set its own: scripts and styles only from our own origin or
    carrying this request's nonce (templates write `nonce="{{ csp_nonce() }}"` on their inline <script> and <style>),
    no inline event handlers or style attributes, no plugins, no <base> elsewhere, never framed."""
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")


# For a standalone document we render with its own inline styles and no script at all (the score sheet).
NO_SCRIPT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def csp_nonce() -> str:
    """This request's CSP nonce (one per request, unguessable)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


# marshmallow's messages are English; users read Chinese. Unlisted messages pass through unchanged.
_MESSAGES_ZH = {
    "Missing data for required field.": "必填项缺失",
    "Field may not be null.": "不能为空",
    "Unknown field.": "不认识的字段",
    "Not a valid string.": "应为文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为是/否",
    "Not a valid date.": "日期格式应为 YYYY-MM-DD",
    "Not a valid datetime.": "时间格式不正确",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Invalid input type.": "输入类型不正确",
    "Invalid value.": "取值不正确",
    "Shorter than minimum length 1.": "不能为空",
    "Not a valid UUID.": "应为UUID",
    "Not a valid email address.": "邮箱格式不正确",
    "Must be one of": "取值应为以下之一",
    "Invalid JSON body.": "请求体不是合法的 JSON",
}


# Chinese messages of the HTTP refusals that no view words itself.
_HTTP_MESSAGES = {401: "请先登录", 403: "无权访问", 405: "不支持该请求方法", 406: "无法提供所要求的格式",
                  409: "状态冲突，请刷新后重试", 410: "已不存在", 415: "不支持的请求体格式",
                  429: "请求过于频繁，请稍后再试"}


# The one place a domain refusal becomes an HTTP status (most specific class first).
HTTP_STATUS = (
    (InvalidInput, 422),
    (NotFound, 404),
    (NotPermitted, 403),
    (InvalidTransition, 409),
    (Conflict, 409),
    (Unavailable, 503),
    (TooManyAttempts, 429),
)


def http_status(exc: DomainError) -> int:
    """The status of a domain refusal; an unclassified DomainError is a bad request (400)."""
    return next((status for cls, status in HTTP_STATUS if isinstance(exc, cls)), 400)


# Deeper JSON is refused before anything parses it: Python's parser and every recursive walk over the result
# would otherwise fail with RecursionError (a 500) near 1,000 levels. Our documents nest fewer than 10 deep.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without parsing it."""
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_constant(name: str):
    raise ValueError(f"{name} 不是合法的 JSON 数值")


def json_body() -> dict:
    """The request's JSON object with decimals kept exact (0.1 stays Decimal("0.1")), or a 422 naming the
    problem. For bodies that a domain validates itself (assessments, opinions) rather than a marshmallow schema."""
    import json
    from decimal import Decimal

    from flask_smorest import abort

    try:
        body = json.loads(request.get_data() or b"null", parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        abort(422, message="请求体不是合法的 JSON", errors={"(body)": [str(exc)]})
    if not isinstance(body, dict):
        abort(422, message="请求体须为 JSON 对象", errors={"(body)": ["须为 JSON 对象"]})
    return body


def translate_messages(errors):
    if isinstance(errors, dict):
        return {k: translate_messages(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [translate_messages(v) for v in errors]
    if isinstance(errors, str):
        if errors in _MESSAGES_ZH:
            return _MESSAGES_ZH[errors]
        for english, chinese in _MESSAGES_ZH.items():
            if errors.startswith(english):
                return chinese + errors[len(english):]
    return errors


def client_address() -> str:
    """Who is calling: the address the reverse proxy appended last to X-Forwarded-For (the proxy overwrites what
    a client sends), else the peer address. What rate limits count per client."""
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    return forwarded[-1] if forwarded else (request.remote_addr or "-")


def shows_internals() -> bool:
    """Whether this request may see how the system is built (readiness detail, metrics): callers inside the
    deployment reach the apps directly, while everything through the proxy carries X-Forwarded-For and then
    needs an administrator's sign-in."""
    if not request.headers.get("X-Forwarded-For"):
        return True
    principal = identity.current_principal()
    return principal is not None and principal.role == "admin"


class _Api(Api):
    # flask-smorest documents its default error answers with this schema: ours, the body every error has.
    ERROR_SCHEMA = ErrorSchema


@dataclass
class AreaWeb:
    """What an area's `routes(web, bus)` adds its views to (a service whose web app is assembled from areas:
    public_notice, supervision): the API blueprint, the staff pages, the public pages, any further blueprint an
    area appends to `extra`, and `db()`, the service's database for read models (opened on first use)."""
    api: Blueprint
    pages: Blueprint
    settings: Settings
    db: Callable
    public: Blueprint | None = None
    extra: list = field(default_factory=list)


def create_service_app(service: str, *, settings: Settings | None = None, title: str, blueprints=(),
                       template_dirs: Iterable[Path] = (), readiness: Readiness | None = None,
                       url_prefix: str | None = None) -> Flask:
    """The base app: config, logs, metrics, errors, health, CSRF, session, templates, OpenAPI.

    `url_prefix` is the path prefix the reverse proxy routes to this service (default: the service name); the
    shared stylesheet is served under it so pages find it through the proxy."""
    settings = settings or Settings.from_env()
    configure_logging(service, settings.log_level)
    asset_base = f"/{url_prefix or service}/assets"
    app = Flask(service, static_folder=str(SHARED_STATIC), static_url_path=asset_base)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="greenmine_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        MAX_CONTENT_LENGTH=settings.upload_max_bytes + 1024 * 1024,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, only for cookie-authenticated writes
        WTF_CSRF_TIME_LIMIT=None,      # the token lives as long as the session
        JSON_AS_ASCII=False,
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=f"/{service}/openapi",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json.ensure_ascii = False
    app.extensions["greenmine"] = {"settings": settings, "service": service}
    app.jinja_loader = ChoiceLoader([FileSystemLoader([str(p) for p in template_dirs]),
                                     FileSystemLoader(str(SHARED_TEMPLATES))])
    display.register(app)
    csrf = CSRFProtect(app)

    api = _Api(app, spec_kwargs={"info": {"description": f"greenmine {service} service"}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    app.extensions["greenmine"]["api"] = api

    metrics = CollectorRegistry()
    requests_total = Counter("http_requests_total", "HTTP requests", ["service", "endpoint", "method", "status"],
                             registry=metrics)
    latency = Histogram("http_request_seconds", "HTTP request latency", ["service", "endpoint", "method"],
                        registry=metrics)
    metrics.register(db_work.WorkCollector())      # round trips and documents written (shared/db_work.py)
    app.extensions["greenmine"]["metrics"] = metrics

    @app.before_request
    def _begin():
        g.started = time.perf_counter()
        g.correlation_token = correlation_id.set(request.headers.get("X-Correlation-ID") or new_correlation_id())
        if (request.endpoint == "metrics_view" or (request.blueprint or "") == "api-docs") and not shows_internals():
            # Metrics and the generated OpenAPI document describe how the system is built: read on the app's own
            # port or by an administrator; through the proxy they do not exist (contracts/http/ is the API).
            return _error(404, "找不到该页面或记录")
        if request.is_json and request.content_length:
            depth = json_depth(request.get_data(cache=True))
            if depth > MAX_JSON_DEPTH:
                return _error(422, "请求体嵌套过深",
                              {"(body)": [f"JSON 嵌套不能超过 {MAX_JSON_DEPTH} 层（实为 {depth} 层）"]})
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not request.headers.get(
                "Authorization", "").startswith("Bearer ") and request.path not in CSRF_EXEMPT_PATHS:
            # Cookie-authenticated writes and public form posts (sign-in, objections) need the token;
            # an anonymous call to a protected endpoint is answered 401 by the endpoint itself.
            # A JSON body to a public endpoint from someone not signed in is no forged form: a browser sends
            # JSON across sites only after a CORS preflight, which no app answers; programs may call it.
            roles = identity.roles_of(app, request.endpoint, request.method)
            if "user" in session or (roles == identity.PUBLIC and not request.is_json):
                csrf.protect()

    @app.after_request
    def _end(response):
        endpoint = request.endpoint or "unmatched"
        requests_total.labels(service, endpoint, request.method, str(response.status_code)).inc()
        latency.labels(service, endpoint, request.method).observe(time.perf_counter() - g.get("started", 0))
        response.headers["X-Correlation-ID"] = correlation_id.get() or ""
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Our pages are never framed (clickjacking); what a signed-in person sees is never kept by a cache.
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        signed_in = "user" in session or request.headers.get("Authorization")
        if request.endpoint not in ("static", "favicon") and signed_in:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def _teardown(_exc):
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)

    @app.context_processor
    def _template_globals():
        principal = identity.current_principal()
        navigation = [(label, href) for label, href, roles in identity.NAVIGATION
                      if principal is not None and principal.role in roles]
        return {"principal": principal, "csrf_token": generate_csrf,
                "roles": identity.ROLES, "service": service, "workspaces": identity.WORKSPACES,
                "asset_base": asset_base, "csp_nonce": csp_nonce, "navigation": navigation,
                "home_of": identity.home_of}

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return _error(400, "表单已过期或缺少CSRF令牌，请刷新页面后重试", {"csrf": [exc.description]})

    def _error(status: int, message: str, errors=None):
        if identity.wants_html() and status not in (422,):
            return render_template("greenmine/error.html", status=status, message=message), status
        body = {"code": status, "message": message}
        if errors:
            body["errors"] = errors
        return jsonify(body), status

    @app.errorhandler(422)
    @app.errorhandler(400)
    def _unprocessable(exc):
        data = getattr(exc, "data", None) or {}
        messages = translate_messages(data.get("messages") or data.get("errors") or {})
        # flask-smorest nests by location ({"json": {...}}); users want the fields.
        if isinstance(messages, dict) and set(messages) <= {"json", "query", "form", "files", "path", "headers"}:
            flat: dict = {}
            for location in messages.values():
                if isinstance(location, dict):
                    flat.update(location)
                else:  # a body that is not an object at all (malformed JSON, a bare string) has no fields
                    flat.setdefault("(body)", []).extend(location if isinstance(location, list) else [location])
            messages = flat
        status = exc.code if hasattr(exc, "code") else 422
        message = data.get("message") or ("提交的数据有误，请按提示修改" if messages
                                          else str(getattr(exc, "description", "")))
        return _error(status, message, messages or None)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        response = current_app.make_response(_error(http_status(exc), exc.message, exc.error_map() or None))
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(404)
    def _not_found(_exc):
        return _error(404, "找不到该页面或记录")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Every other HTTP refusal (405, 409 from flask-smorest's abort, 415, ...) with the one error body, never
        # flask-smorest's {"code", "status"}: "errors" only when there are field errors (the schema has no null).
        if exc.code is None or exc.code < 400:
            return exc
        data = getattr(exc, "data", None) or {}
        errors = translate_messages(data.get("errors") or data.get("messages") or None)
        body, status = _error(exc.code, data.get("message") or _HTTP_MESSAGES.get(exc.code, "请求有误"),
                              errors if isinstance(errors, dict) else None)
        response = current_app.make_response((body, status))
        for name, value in exc.get_response().headers.items():   # Allow (405), Retry-After (429, 503), ...
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @app.errorhandler(413)
    def _too_large(_exc):
        return _error(413, f"上传内容过大（上限 {settings.upload_max_bytes // (1024 * 1024)} MB）")

    @app.errorhandler(500)
    def _server_error(_exc):
        return _error(500, "服务器内部错误，已记录，请稍后重试")

    readiness = readiness or Readiness(settings, service)
    app.extensions["greenmine"]["readiness"] = readiness

    @app.get("/healthz")
    @identity.public
    def healthz():
        return jsonify({"service": service, "status": "ok"})

    @app.get("/readyz")
    @identity.public
    def readyz():
        ok, report = readiness.report()
        if not shows_internals():
            report = {"ready": ok}  # the public learns whether the system is up, not how it is built
        return jsonify(report), (200 if ok else 503)

    @app.get("/favicon.ico")
    @identity.public
    def favicon():
        # Browsers ask every page's origin for it: each app answers (through the proxy it is the portal's).
        response = send_from_directory(SHARED_STATIC, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                                       max_age=86400)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    @app.get("/metrics")
    @identity.public
    def metrics_view():
        return current_app.response_class(generate_latest(metrics), mimetype=CONTENT_TYPE_LATEST)

    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return app


def finalize(app: Flask) -> Flask:
    """Call last in a create_app(): refuses to start when an endpoint has no declared audience."""
    identity.check_declared(app)
    return app
