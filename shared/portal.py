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

import os
from urllib.parse import urlparse

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields, validate

from shared import identity
from shared.accounts import views
from shared.accounts.bootstrap import accounts_bus
from shared.accounts.commands import (
    AssignAccount,
    ChangeOwnPassword,
    CreateAccount,
    DisableAccount,
    EnableAccount,
    ResetPassword,
)
from shared.accounts.rules import AREAS, PASSWORD_POLICY, Actor
from shared.accounts.schemas import (
    AccountChangeSchema,
    AccountListSchema,
    AccountSchema,
    AssignAccountSchema,
    AuditListSchema,
    AuditQuerySchema,
    ChangePasswordSchema,
    CreatedAccountSchema,
    NewAccountSchema,
    PasswordChangedSchema,
    ResetPasswordSchema,
)
from shared.config import Settings
from shared.contracts import DEPARTMENT_CODES
from shared.errors import InvalidInput
from shared.ratelimits import Windows, parse_limits, retry_after, wait_text
from shared.readiness import AggregateReadiness
from shared.schemas import document_errors
from shared.storage import mongo_client
from shared.web import client_address, create_service_app, finalize


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
    institution = fields.String(allow_none=True, metadata={"description": "第三方评估机构账号所属的评估机构编号"})
    must_change = fields.Boolean(metadata={"description": "须先修改密码"})


ADMIN_ROLE_CHOICES = list(identity.ROLES.items())
# Who manages accounts: an administrator (all), a bureau (its 盟市's reviewers), the region office (evaluators).
MANAGERS = ("admin", "bureau", "region_office")
# The one role a manager other than the administrator creates.
MANAGED_ROLE = {"bureau": "department_reviewer", "region_office": "evaluator"}
ACCOUNT_LIMITS = "5 per minute; 20 per hour"
CLIENT_LIMITS = "20 per minute; 200 per hour"


class SignInLimits(Windows):
    """Failed sign-in attempts per account and per client (moving windows in MongoDB)."""

    def __init__(self, settings: Settings, account: str = ACCOUNT_LIMITS, client: str = CLIENT_LIMITS):
        super().__init__(settings, settings.database_name("identity"))
        self.account = parse_limits("GREENMINE_SIGNIN_ACCOUNT_LIMITS", account, {})
        self.client = parse_limits("GREENMINE_SIGNIN_CLIENT_LIMITS", client, {})

    @classmethod
    def from_env(cls, settings: Settings, env: dict | None = None) -> SignInLimits:
        env = os.environ if env is None else env
        return cls(settings, env.get("GREENMINE_SIGNIN_ACCOUNT_LIMITS") or ACCOUNT_LIMITS,
                   env.get("GREENMINE_SIGNIN_CLIENT_LIMITS") or CLIENT_LIMITS)

    def attempt(self, username: str, client: str) -> int | None:
        """Before the password is checked: seconds to wait when a limit is reached, else None. An admitted
        attempt is counted against the account at once (concurrent guesses cannot slip past a check-then-count;
        a success clears it); the client's count is kept by `failed`. A refused attempt is not counted."""
        clients = [(item, ("client", client)) for item in self.client]
        over = [(item, key) for item, key in clients if not self.limiter.test(item, *key)]
        if over:
            return retry_after(self.limiter, over)
        return self.admit([(item, ("account", username)) for item in self.account])

    def failed(self, client: str) -> None:
        for item in self.client:
            self.limiter.hit(item, "client", client)

    def succeeded(self, username: str) -> None:
        """A right password: the account's counters start again (people behind one address are not held by
        each other's successes: the client's counts failures only)."""
        for item in self.account:
            self.limiter.clear(item, "account", username)


def _too_many(retry_after: int) -> str:
    return f"登录失败次数过多，请{wait_text(retry_after)}后再试"


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
            raise Unavailable("登录服务暂时不可用，请稍后重试") from exc
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
        @identity.requires(*identity.ANY_SIGNED_IN, password_change=True)
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
        @identity.requires(*identity.ANY_SIGNED_IN, password_change=True)
        @api.response(200, PrincipalSchema)
        @document_errors(api, 401)
        def get(self):
            """Who the caller is."""
            principal = identity.current_principal()
            return {**principal.claims(), "role_label": principal.role_label}

    bus = accounts_bus(settings)

    def actor() -> Actor:
        p = identity.current_principal()
        return Actor(p.username, p.role, p.area, p.display_name)

    def change_body(outcome) -> dict:
        return {"account": views.account_row(outcome.account), "one_time_password": outcome.one_time_password,
                "ended_sign_ins": outcome.ended_sign_ins}

    @api.route("/users")
    class UsersView(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, AccountListSchema)
        @document_errors(api, 401, 403)
        def get(self):
            """The accounts the caller manages: every one (admin), its 盟市's department reviewers (bureau)."""
            return {"items": [views.account_row(d) for d in views.accounts_for(actor(), bus.uow_factory())]}

        @identity.requires(*MANAGERS)
        @api.arguments(NewAccountSchema)
        @api.response(201, CreatedAccountSchema)
        @document_errors(api, 401, 403, 422)
        def post(self, body):
            """Create an account. Without a password a one-time password is made and given in this answer only;
            the user changes it at the first sign-in (`must_change`). A bureau creates department reviewers of
            its own 盟市 only (403 elsewhere). Audited."""
            outcome = bus.handle(CreateAccount(actor=actor(), **body))
            return {"account": views.account_row(outcome.account), "one_time_password": outcome.one_time_password}

    @api.route("/users/<string:username>")
    class UserView(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, AccountSchema)
        @document_errors(api, 401, 403, 404)
        def get(self, username):
            """One account the caller manages."""
            return views.account_row(views.account_for(actor(), bus.uow_factory(), username))

        @identity.requires(*MANAGERS)
        @api.arguments(AssignAccountSchema)
        @api.response(200, AccountChangeSchema)
        @document_errors(api, 401, 403, 404, 422)
        def patch(self, body, username):
            """Assign the name, department (附件3) and area (自治区 or a 盟市) of an account; a changed department
            or area ends the account's sign-ins (they carry the old scope). Audited."""
            return change_body(bus.handle(AssignAccount(actor=actor(), username=username, **body)))

    @api.route("/users/<string:username>/disable")
    class DisableView(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, AccountChangeSchema)
        @document_errors(api, 401, 403, 404)
        def post(self, username):
            """Disable an account: every session and token of it ends at once, in every service. Audited."""
            return change_body(bus.handle(DisableAccount(actor=actor(), username=username)))

    @api.route("/users/<string:username>/enable")
    class EnableView(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, AccountChangeSchema)
        @document_errors(api, 401, 403, 404)
        def post(self, username):
            """Enable a disabled account again. Audited."""
            return change_body(bus.handle(EnableAccount(actor=actor(), username=username)))

    @api.route("/users/<string:username>/password")
    class ResetView(MethodView):
        @identity.requires(*MANAGERS)
        @api.arguments(ResetPasswordSchema)
        @api.response(200, AccountChangeSchema)
        @document_errors(api, 401, 403, 404, 422)
        def post(self, body, username):
            """Reset a password: the one given, or a one-time password made and given in this answer only; the
            user must change it at the next sign-in; every sign-in of the account ends. Audited."""
            return change_body(bus.handle(ResetPassword(actor=actor(), username=username, **body)))

    @api.route("/audit")
    class AuditView(MethodView):
        @identity.requires(*MANAGERS)
        @api.arguments(AuditQuerySchema, location="query")
        @api.response(200, AuditListSchema)
        @document_errors(api, 401, 403, 422)
        def get(self, query):
            """Account changes, newest first (who, when, what, on whom); a bureau sees its 盟市's reviewers'."""
            entries = views.audit_for(actor(), bus.uow_factory(), target=query["target"], limit=query["limit"])
            return {"items": [views.audit_row(e) for e in entries]}

    @api.route("/password")
    class OwnPasswordView(MethodView):
        @identity.requires(*identity.ANY_SIGNED_IN, password_change=True)
        @api.arguments(ChangePasswordSchema)
        @api.response(200, PasswordChangedSchema)
        @document_errors(api, 401, 404, 422)
        def post(self, body):
            """Change one's own password (the policy's messages name the field); every sign-in of the account
            ends, this one too: sign in again with the new password."""
            outcome = bus.handle(ChangeOwnPassword(actor=actor(), **body))
            if g.get("auth_method") == "session":
                identity.sign_out()
            return {"ended_sign_ins": outcome.ended_sign_ins}

    pages = Blueprint("portal", __name__)

    @pages.get("/")
    @identity.public
    def home():
        principal = identity.current_principal()
        if principal is not None and request.args.get("stay") != "1":
            return redirect(identity.WORKSPACES[principal.role])
        return render_template("greenmine/home.html")

    def login_page(status=200, **context):
        reason = request.values.get("reason")
        return render_template("greenmine/login.html", reason_text=identity.SIGN_IN_REASONS.get(reason),
                               **context), status

    @pages.route("/login", methods=["GET", "POST"])
    @identity.public
    def login():
        target = _safe_next(request.values.get("next"))
        if request.method == "POST":
            username = request.form.get("username", "").strip()[:64]
            password = request.form.get("password", "")
            principal, wait = start(username, password, "session", settings.session_minutes * 60)
            if wait is not None:
                return login_page(429, error=_too_many(wait), username=username, next=target)[0], 429, \
                    {"Retry-After": str(wait)}
            if principal is None:
                error = "用户名或密码错误"
                if directory.disabled_with(username, password):
                    error = "账号已停用，请联系管理员"
                return login_page(401, error=error, username=username, next=target)
            identity.sign_in(principal)
            return redirect(target if target != "/" else identity.WORKSPACES[principal.role])
        return login_page(next=target)

    @pages.post("/logout")
    @identity.public
    def logout():
        identity.sign_out()
        return redirect(identity.sign_in_url("signed_out"))

    # --- account administration in the browser ------------------------------------------------------------
    def form_value(name: str) -> str | None:
        value = request.form.get(name, "").strip()
        return value or None

    def admin_context(**extra) -> dict:
        me = actor()
        return {"me": me, "role_choices": ADMIN_ROLE_CHOICES if me.role == "admin" else
                [(MANAGED_ROLE[me.role], identity.ROLES[MANAGED_ROLE[me.role]])],
                "departments": [(code, views.department_label(code)) for code in DEPARTMENT_CODES],
                "areas": list(AREAS) if me.role == "admin" else [me.area], "policy": PASSWORD_POLICY, **extra}

    def errors_of(exc: InvalidInput) -> dict:
        return exc.error_map()

    @pages.get("/portal/admin")
    @identity.requires(*MANAGERS)
    def admin():
        rows = [views.account_row(d) for d in views.accounts_for(actor(), bus.uow_factory())]
        return render_template("greenmine/admin.html", users=rows, form={}, errors={}, **admin_context())

    @pages.post("/portal/admin/users")
    @identity.requires(*MANAGERS)
    def admin_create():
        me = actor()
        generated = request.form.get("password_mode", "generate") != "typed"
        command = CreateAccount(
            actor=me, username=request.form.get("username", "").strip()[:64],
            role=request.form.get("role", "") if me.role == "admin" else MANAGED_ROLE[me.role],
            display_name=request.form.get("display_name", "").strip()[:64],
            department=form_value("department") if me.role != "region_office" else None,
            area=form_value("area") if me.role == "admin" else me.area,
            enterprise=form_value("enterprise"),
            institution=form_value("institution") if me.role in ("admin", "region_office") else None,
            email=form_value("email"),
            password=None if generated else request.form.get("password", ""))
        try:
            outcome = bus.handle(command)
        except InvalidInput as exc:
            rows = [views.account_row(d) for d in views.accounts_for(me, bus.uow_factory())]
            return render_template("greenmine/admin.html", users=rows, form=request.form, errors=errors_of(exc),
                                   message=exc.message, **admin_context()), 422
        return account_page(outcome.account["_id"], one_time_password=outcome.one_time_password,
                            done=f"已新建账号 {outcome.account['_id']}", status=201)

    def account_page(username: str, status: int = 200, **extra):
        me = actor()
        document = views.account_for(me, bus.uow_factory(), username)
        entries = [views.audit_row(e) for e in views.audit_for(me, bus.uow_factory(), target=username, limit=50)]
        context = admin_context(account=views.account_row(document), entries=entries, errors={}, form={})
        context.update(extra)
        return render_template("greenmine/account.html", **context), status

    @pages.get("/portal/admin/users/<string:username>")
    @identity.requires(*MANAGERS)
    def admin_account(username):
        return account_page(username)

    @pages.post("/portal/admin/users/<string:username>/assign")
    @identity.requires(*MANAGERS)
    def admin_assign(username):
        me = actor()
        try:
            bus.handle(AssignAccount(actor=me, username=username, display_name=request.form.get("display_name"),
                                     department=request.form.get("department"),
                                     area=form_value("area") if me.role == "admin" else None,
                                     institution=request.form.get("institution")
                                     if me.role in ("admin", "region_office") else None,
                                     email=request.form.get("email")))
        except InvalidInput as exc:
            return account_page(username, status=422, errors=errors_of(exc), message=exc.message,
                                form=request.form)
        return account_page(username, done="已保存部门与地区")

    @pages.post("/portal/admin/users/<string:username>/disable")
    @identity.requires(*MANAGERS)
    def admin_disable(username):
        outcome = bus.handle(DisableAccount(actor=actor(), username=username))
        return account_page(username, done=f"已停用账号，结束其登录 {outcome.ended_sign_ins} 个")

    @pages.post("/portal/admin/users/<string:username>/enable")
    @identity.requires(*MANAGERS)
    def admin_enable(username):
        bus.handle(EnableAccount(actor=actor(), username=username))
        return account_page(username, done="已启用账号")

    @pages.post("/portal/admin/users/<string:username>/password")
    @identity.requires(*MANAGERS)
    def admin_reset(username):
        generated = request.form.get("password_mode", "generate") != "typed"
        try:
            outcome = bus.handle(ResetPassword(actor=actor(), username=username,
                                               password=None if generated else request.form.get("password", "")))
        except InvalidInput as exc:
            return account_page(username, status=422, errors=errors_of(exc), message=exc.message)
        return account_page(username, one_time_password=outcome.one_time_password,
                            done="已重置密码，该用户下次登录时须修改密码")

    @pages.get("/portal/admin/audit")
    @identity.requires(*MANAGERS)
    def admin_audit():
        entries = [views.audit_row(e) for e in views.audit_for(actor(), bus.uow_factory(), limit=500)]
        return render_template("greenmine/audit.html", entries=entries)

    @pages.route("/portal/password", methods=["GET", "POST"])
    @identity.requires(*identity.ANY_SIGNED_IN, password_change=True)
    def own_password():
        principal = identity.current_principal()
        target = _safe_next(request.values.get("next"), identity.WORKSPACES[principal.role])
        if target.startswith(identity.PASSWORD_CHANGE_PAGE):
            target = identity.WORKSPACES[principal.role]
        if request.method == "GET":
            return render_template("greenmine/password.html", next=target, errors={}, policy=PASSWORD_POLICY)
        new_password = request.form.get("new_password", "")
        errors = {}
        if new_password != request.form.get("confirm_password", ""):
            errors["confirm_password"] = ["两次输入的新密码不一致"]
        try:
            if errors:
                raise InvalidInput("密码未修改，请按提示修改")
            bus.handle(ChangeOwnPassword(actor=actor(), current_password=request.form.get("current_password", ""),
                                         new_password=new_password))
        except InvalidInput as exc:
            errors = {**exc.error_map(), **errors}
            return render_template("greenmine/password.html", next=target, errors=errors, policy=PASSWORD_POLICY,
                                   message=exc.message), 422
        # Every sign-in ended with the change: this browser signs in again with the new password.
        identity.sign_out()
        renewed, _wait = start(principal.username, new_password, "session", settings.session_minutes * 60)
        if renewed is None:
            return redirect(identity.sign_in_url("expired", target))
        identity.sign_in(renewed)
        flash("密码已修改")
        return redirect(target)

    @pages.get("/portal/whoami")
    @identity.requires(*identity.ANY_SIGNED_IN, password_change=True)
    def whoami():
        return jsonify(identity.current_principal().claims())

    app = create_service_app("portal", settings=settings, title="greenmine portal", blueprints=[api],
                             readiness=AggregateReadiness(settings, "portal"))
    app.register_blueprint(pages)
    return finalize(app)
