"""The portal: the one address users open. Home page, sign-in/out, bearer tokens, the aggregate /readyz.

It is plumbing, not a service: it knows users and roles, no rule of the notice.

Sign-in attempts (`POST /api/v1/auth/token`, `POST /login`) are limited per account and per client address,
counting failed ones (an account's attempt is counted before its password is checked, and a success clears the
account's count), in MongoDB (the identity database, collection `windows`: limits' moving windows) so every
worker and every portal shares them. Past a limit the answer is 429 with `Retry-After` (when the oldest counted
failure leaves the window), the right password included. Refused attempts are not counted, so no lock-out lasts
longer than the longest window (attempts racing past a limit may be counted and refused). The limits are
`limits` strings (`;` between several, each its own window):

  GREENMINE_SIGNIN_ACCOUNT_LIMITS   failures per account    default "5 per minute; 20 per hour"
  GREENMINE_SIGNIN_CLIENT_LIMITS    failures per client IP  default "20 per minute; 200 per hour"

Stacked windows make the delays grow: a guesser is held a minute after 5 failures, and up to an hour after
20. The client is the address the reverse proxy appended last to X-Forwarded-For (the proxy overwrites what a
client sends), else the peer address.
"""
from __future__ import annotations

import functools
import math
import os
import time
from urllib.parse import urlparse

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields, validate

from shared import identity
from shared.config import Settings
from shared.readiness import AggregateReadiness
from shared.schemas import document_errors
from shared.storage import mongo_client
from shared.web import create_service_app, finalize


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})
    username = fields.String()
    role = fields.String()
    workspace = fields.String()


class PrincipalSchema(Schema):
    username = fields.String()
    role = fields.String()
    role_label = fields.String()
    display_name = fields.String()
    department = fields.String(allow_none=True)
    area = fields.String(allow_none=True)
    county = fields.String(allow_none=True)
    enterprise = fields.String(allow_none=True)


ACCOUNT_LIMITS = "5 per minute; 20 per hour"
CLIENT_LIMITS = "20 per minute; 200 per hour"


@functools.cache
def _storage_class():
    """limits' MongoDB storage on the process's one pymongo client (shared.storage.mongo_client) instead of a
    client of its own, which it would close (and even open first) when garbage-collected."""
    from limits.storage import MongoDBStorage

    from shared.storage import mongo_client

    class SharedClientMongoDBStorage(MongoDBStorage):
        STORAGE_SCHEME = ["greenmine+mongodb"]

        def _init_mongo_client(self, uri, **options):
            return mongo_client(uri)

        def __del__(self):
            pass  # the client is shared: shared.storage.close_clients closes it

    return SharedClientMongoDBStorage


class SignInLimits:
    """Failed sign-in attempts per account and per client (moving windows in MongoDB)."""

    def __init__(self, settings: Settings, account: str = ACCOUNT_LIMITS, client: str = CLIENT_LIMITS):
        from limits import parse_many

        self.account = self._parse(parse_many, "GREENMINE_SIGNIN_ACCOUNT_LIMITS", account)
        self.client = self._parse(parse_many, "GREENMINE_SIGNIN_CLIENT_LIMITS", client)
        self.settings = settings
        self._limiter = None

    @classmethod
    def from_env(cls, settings: Settings, env: dict | None = None) -> SignInLimits:
        env = os.environ if env is None else env
        return cls(settings, env.get("GREENMINE_SIGNIN_ACCOUNT_LIMITS") or ACCOUNT_LIMITS,
                   env.get("GREENMINE_SIGNIN_CLIENT_LIMITS") or CLIENT_LIMITS)

    @staticmethod
    def _parse(parse_many, name: str, text: str):
        try:
            return parse_many(text)
        except ValueError:
            raise ValueError(f"environment variable {name} must be limits like '5 per minute; 20 per hour', "
                             f"got {text!r}") from None

    @property
    def limiter(self):
        if self._limiter is None:  # lazily: gunicorn forks before the first request
            # A moving window (a log of the last attempts): limits' fixed window relies on $$NOW in an update
            # pipeline, which SecantusDB does not honour (a window never resets there until the TTL sweep).
            from limits.strategies import MovingWindowRateLimiter

            self._limiter = MovingWindowRateLimiter(_storage_class()(
                self.settings.mongodb_uri, database_name=self.settings.database_name("identity")))
        return self._limiter

    def _keys(self, username: str, client: str):
        return [(item, ("account", username)) for item in self.account] + \
            [(item, ("client", client)) for item in self.client]

    def attempt(self, username: str, client: str) -> int | None:
        """Before the password is checked: seconds to wait when a limit is reached, else None. An admitted
        attempt is counted against the account at once (concurrent guesses cannot slip past a check-then-count;
        a success clears it); the client's count is kept by `failed`. A refused attempt is not counted."""
        keys = self._keys(username, client)
        over = [(item, key) for item, key in keys if not self.limiter.test(item, *key)]
        if not over:  # each hit is atomic: of concurrent attempts past the limit, the extra ones fail here
            over = [(item, key) for item, key in keys if key[0] == "account" and not self.limiter.hit(item, *key)]
        if not over:
            return None
        now = time.time()
        return max(1, math.ceil(max(self.limiter.get_window_stats(item, *key).reset_time - now
                                    for item, key in over)))

    def failed(self, client: str) -> None:
        for item in self.client:
            self.limiter.hit(item, "client", client)

    def succeeded(self, username: str) -> None:
        """A right password: the account's counters start again (people behind one address are not held by
        each other's successes: the client's counts failures only)."""
        for item in self.account:
            self.limiter.clear(item, "account", username)


def client_address() -> str:
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    return forwarded[-1] if forwarded else (request.remote_addr or "-")


def _too_many(retry_after: int) -> str:
    minutes, seconds = divmod(retry_after, 60)
    wait = f"{minutes}分{seconds}秒" if minutes else f"{seconds}秒"
    return f"登录失败次数过多,请{wait}后再试"


def _safe_next(target: str | None, default: str = "/") -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing aid.
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def create_app(settings: Settings | None = None, sign_in_limits: SignInLimits | None = None):
    settings = settings or Settings.from_env()
    directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    guard = sign_in_limits or SignInLimits.from_env(settings)
    indexed = []

    def start(username: str, password: str, kind: str, lifetime_s: int):
        """(principal or None, seconds to wait or None): the limits first, then the password."""
        from pymongo.errors import PyMongoError

        from shared.errors import Unavailable

        client = client_address()
        try:
            wait = guard.attempt(username, client)
            if wait is not None:
                return None, wait
            if not indexed:
                directory.grants.ensure_indexes()
                indexed.append(True)
            principal = directory.start(username, password, kind=kind, lifetime_s=lifetime_s)
            if principal is None:
                guard.failed(client)
            else:
                guard.succeeded(username)
        except PyMongoError as exc:
            raise Unavailable("登录服务暂时不可用,请稍后重试") from exc
        return principal, None

    api = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与令牌")

    @api.route("/token")
    class TokenView(MethodView):
        @identity.public
        @api.arguments(TokenRequestSchema)
        @api.response(200, TokenSchema)
        @document_errors(api, 401, 422, 429)
        def post(self, body):
            """Exchange a username and password for a bearer token (429 with Retry-After after too many
            failures for the account or from the client)."""
            principal, wait = start(body["username"], body["password"], "token", settings.token_minutes * 60)
            if wait is not None:
                return jsonify({"code": 429, "message": _too_many(wait)}), 429, {"Retry-After": str(wait)}
            if principal is None:
                return jsonify({"code": 401, "message": "用户名或密码错误"}), 401
            return {"access_token": identity.issue_token(settings.secret_key, principal), "token_type": "Bearer",
                    "expires_in": settings.token_minutes * 60, "username": principal.username,
                    "role": principal.role, "workspace": identity.WORKSPACES[principal.role]}

    @api.route("/token/current")
    class CurrentTokenView(MethodView):
        @identity.requires(*identity.ANY_SIGNED_IN)
        @api.response(204)
        @document_errors(api, 401)
        def delete(self):
            """Sign out an API client: the bearer token used (or the session) is refused from now on, by every
            service, and so are the tokens issued from it."""
            principal = identity.current_principal()
            if g.get("auth_method") == "session":
                identity.sign_out()
            elif principal.sid:
                directory.grants.close(principal.sid)

    @api.route("/me")
    class MeView(MethodView):
        @identity.requires(*identity.ANY_SIGNED_IN)
        @api.response(200, PrincipalSchema)
        @document_errors(api, 401)
        def get(self):
            """Who the caller is."""
            principal = identity.current_principal()
            return {**principal.claims(), "role_label": principal.role_label}

    pages = Blueprint("portal", __name__)

    @pages.get("/")
    @identity.public
    def home():
        principal = identity.current_principal()
        if principal is not None and request.args.get("stay") != "1":
            return redirect(identity.WORKSPACES[principal.role])
        return render_template("greenmine/home.html")

    @pages.route("/login", methods=["GET", "POST"])
    @identity.public
    def login():
        target = _safe_next(request.values.get("next"))
        if request.method == "POST":
            username = request.form.get("username", "").strip()[:64]
            principal, wait = start(username, request.form.get("password", ""), "session",
                                    settings.session_minutes * 60)
            if wait is not None:
                return render_template("greenmine/login.html", error=_too_many(wait), username=username,
                                       next=target), 429, {"Retry-After": str(wait)}
            if principal is None:
                return render_template("greenmine/login.html", error="用户名或密码错误", username=username,
                                       next=target), 401
            identity.sign_in(principal)
            return redirect(target if target != "/" else identity.WORKSPACES[principal.role])
        return render_template("greenmine/login.html", next=target)

    @pages.post("/logout")
    @identity.public
    def logout():
        identity.sign_out()
        flash("已退出登录")
        return redirect(url_for("portal.login"))

    @pages.get("/portal/admin")
    @identity.requires("admin")
    def admin():
        return render_template("greenmine/admin.html", users=directory.list())

    @pages.get("/portal/whoami")
    @identity.requires(*identity.ANY_SIGNED_IN)
    def whoami():
        return jsonify(identity.current_principal().claims())

    app = create_service_app("portal", settings=settings, title="greenmine portal", blueprints=[api],
                             readiness=AggregateReadiness(settings, "portal"))
    app.register_blueprint(pages)
    return finalize(app)
