"""Users, roles, area scoping, password hashing, sign-in sessions and bearer tokens.

One sign-in reaches every service: every app shares GREENMINE_SECRET_KEY, so the session cookie set by the
portal and the bearer tokens it issues are verified by any service.

Revocation: every sign-in (a browser session or a bearer token from /api/v1/auth/token) is a *grant*, a record
in the identity database's `grants` collection, and the cookie or token carries its id (`sid`). Each
authenticated request costs one look-up of that record by `_id` (no cache: revocation takes effect at the next
request, in every service). Logging out deletes the session's grant; disabling, deleting a user or changing
their password deletes all of theirs. A token a service issues for the person it serves
(`issue_token(secret, current_principal())`) carries the same `sid`, so it lives exactly as long as the sign-in.
A token signed without a `sid` (only code holding the secret key can make one: tests, tools) is checked by its
signature and age alone.

Every endpoint declares who may call it with `@requires(...)` or `@public`; `check_declared(app)` refuses to
start an app with an undeclared endpoint. An anonymous call gets 401, a role outside the list 403; a browser gets
them as the styled error page (a 401 goes on to `/login?next=…&reason=…`, `SIGN_IN_REASONS`). A principal whose
password an administrator set (`must_change`) reaches only the views declared with `password_change=True` until
they change it (`shared.accounts`). Roles, areas and workspaces are defined in `shared.accounts.rules`.
"""
from __future__ import annotations

import functools
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, jsonify, redirect, render_template, request, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.accounts.rules import (  # noqa: F401 - the one list of roles, areas and workspaces, re-exported
    CREDIT_CODE,
    LEAGUES,
    REGION,
    ROLES,
    USERNAME,
    WORKSPACES,
    account_problems,
)

# The workspaces in the navigation, each shown only to the roles its page admits (a test compares them).
NAVIGATION = (
    ("申报工作台", "/intake/", ("enterprise",)),
    ("审核工作台", "/review/", ("bureau", "department_reviewer", "region_office")),
    ("自治区评估", "/evaluation/", ("region_office", "bureau", "evaluator", "department_reviewer")),
    ("评分工作台", "/scoring/", ("evaluator", "region_office", "admin")),
    ("公示与名录管理", "/notice/", ("region_office", "admin")),
    ("异议核查", "/notice/objections", ("department_reviewer",)),
    ("动态监管", "/supervision/", ("region_office", "bureau", "department_reviewer", "admin")),
    ("账号管理", "/portal/admin", ("admin", "bureau", "region_office")),
    ("操作记录", "/portal/admin/audit", ("admin", "bureau", "region_office")),
)

# Why a page sent somebody to sign in: the code travels in the redirect (`/login?reason=...`), the sign-in page
# shows the text (never text from the URL).
SIGN_IN_REASONS = {
    "required": "请先登录",
    "expired": "登录已过期，请重新登录",
    "signed_out": "您已退出登录",
    "disabled": "账号已停用",
    "password_reset": "密码已重置，请修改",
}

PUBLIC = ("*public*",)
ANY_SIGNED_IN = tuple(ROLES)
PASSWORD_CHANGE_PAGE = "/portal/password"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError, UnicodeEncodeError):  # a lone surrogate is no one's password
        return False


class IdentityError(ValueError):
    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    display_name: str = ""
    department: str | None = None  # department_reviewer: one code of 附件3
    area: str | None = None        # 自治区, or one 盟市 (bureau, department_reviewer)
    county: str | None = None      # optional 旗县 scope below the 盟市
    enterprise: str | None = None  # enterprise: its 统一社会信用代码
    institution: str | None = None  # evaluator: its third-party evaluation institution (review_routing's register id)
    must_change: bool = False      # a password set by an administrator: changed before anything else
    sid: str | None = field(default=None, compare=False, repr=False)  # the grant this principal signed in with

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def covers_area(self, league: str | None) -> bool:
        """Area scoping 自治区 → 盟市 → 旗县: a regional account covers every 盟市."""
        if self.role in ("region_office", "admin"):
            return True
        if self.area == REGION:
            return True
        return league is not None and self.area == league

    def claims(self) -> dict:
        return {k: v for k, v in asdict(self).items()
                if v is not None and k != "sid" and not (k == "must_change" and not v)}


# --- users (stored in the identity database) -------------------------------------------------------------
def validate_user(username: str, role: str, *, department: str | None, area: str | None,
                  enterprise: str | None, password: str | None, institution: str | None = None) -> None:
    """The account rules of `shared.accounts.rules` (the directory's own `add` asks only 8 characters of a
    password: the policy of `shared.accounts` applies to what people and operators set)."""
    errors = [e.to_dict() for e in account_problems(username=username, role=role, display_name=None,
                                                     department=department, area=area, enterprise=enterprise,
                                                     institution=institution)]
    if password is not None and len(password) < 8:
        errors.append({"field": "password", "message": "密码至少8位"})
    if errors:
        raise IdentityError(errors)


class UserDirectory:
    """The users collection of the identity database."""

    def __init__(self, db):
        self.users = db["users"]
        self.grants = Grants(db)

    def ensure_indexes(self) -> None:
        self.users.create_index("role")
        self.grants.ensure_indexes()

    def add(self, username: str, password: str, role: str, *, department: str | None = None,
            area: str | None = None, county: str | None = None, enterprise: str | None = None,
            display_name: str = "", replace: bool = False, institution: str | None = None,
            email: str | None = None) -> Principal:
        validate_user(username, role, department=department, area=area, enterprise=enterprise,
                      password=password, institution=institution)
        if role in ("region_office", "admin", "evaluator") and area is None:
            area = REGION
        doc = {
            "_id": username, "password_hash": _hasher.hash(password), "role": role,
            "department": department, "area": area, "county": county, "enterprise": enterprise,
            "institution": institution, "display_name": display_name or username, "active": True, "epoch": 0,
            "created_at": datetime.now(UTC), "email": (email or "").strip().lower() or None,
        }
        if replace:  # a replaced account (new password, role or area) starts with no sign-in of the old one
            old = self.users.find_one({"_id": username}, projection={"epoch": 1})
            doc["epoch"] = (old.get("epoch") or 0) + 1 if old else 0
            self.users.replace_one({"_id": username}, doc, upsert=True)
            self.grants.close_all(username)
        else:
            from pymongo.errors import DuplicateKeyError

            try:
                self.users.insert_one(doc)
            except DuplicateKeyError:
                raise IdentityError([{"field": "username", "message": f"用户 {username} 已存在"}]) from None
        return self._principal(doc)

    def authenticate(self, username: str, password: str) -> Principal | None:
        doc = self._verified(username, password)
        return self._principal(doc) if doc else None

    def start(self, username: str, password: str, *, kind: str, lifetime_s: int) -> Principal | None:
        """Check the password and open a grant (kind "session" or "token"): the principal carries its `sid`.
        A sign-in racing a disable or password change never outlives it: the grant is written first, then the
        account is read again; a change in between takes the grant back."""
        doc = self._verified(username, password)
        if doc is None:
            return None
        sid = self.grants.open(username, kind, lifetime_s)
        if self.users.find_one({"_id": username, "active": True, "epoch": doc.get("epoch")},
                               projection={"_id": 1}) is None:
            self.grants.close(sid)
            return None
        return replace(self._principal(doc), sid=sid)

    def _verified(self, username: str, password: str) -> dict | None:
        if not _encodable(username) or not _encodable(password or ""):
            password = username = "-"   # a lone surrogate is no one's name or password: refused at the same cost
        doc = self.users.find_one({"_id": username, "active": True})
        if doc is None:
            _hasher.hash(password or "-")  # same cost whether or not the user exists
            return None
        if not verify_password(doc["password_hash"], password):
            return None
        if _hasher.check_needs_rehash(doc["password_hash"]):
            self.users.update_one({"_id": username}, {"$set": {"password_hash": _hasher.hash(password)}})
        return doc

    def disabled_with(self, username: str, password: str) -> bool:
        """Whether a refused sign-in named a disabled account with its right password (the sign-in page then says
        the account is disabled rather than that the password is wrong)."""
        if not _encodable(username) or not _encodable(password or ""):
            return False
        doc = self.users.find_one({"_id": username, "active": False}, projection={"password_hash": 1})
        return doc is not None and verify_password(doc["password_hash"], password)

    # Each change below bumps the account's epoch (a sign-in in flight notices it) and then revokes every grant.
    def set_password(self, username: str, password: str) -> int:
        """Change the password; every session and token of the user ends. Returns how many were revoked."""
        if password is None or len(password) < 8:
            raise IdentityError([{"field": "password", "message": "密码至少8位"}])
        self._change(username, {"$set": {"password_hash": _hasher.hash(password)}})
        return self.grants.close_all(username)

    def set_active(self, username: str, active: bool) -> int:
        """Enable or disable an account; disabling ends every session and token of the user at once."""
        self._change(username, {"$set": {"active": active}})
        return self.grants.close_all(username)

    def delete(self, username: str) -> int:
        if self.users.delete_one({"_id": username}).deleted_count == 0:
            raise IdentityError([{"field": "username", "message": f"用户 {username} 不存在"}])
        return self.grants.close_all(username)

    def revoke(self, username: str) -> int:
        """Sign the user out everywhere (every session and token), the account unchanged."""
        self._change(username, {})
        return self.grants.close_all(username)

    def _change(self, username: str, update: dict) -> None:
        update = {**update, "$inc": {"epoch": 1}, "$currentDate": {"changed_at": True}}
        if self.users.update_one({"_id": username}, update).matched_count == 0:
            raise IdentityError([{"field": "username", "message": f"用户 {username} 不存在"}])

    def is_active(self, username: str) -> bool | None:
        doc = self.users.find_one({"_id": username}, projection={"active": 1})
        return None if doc is None else bool(doc.get("active", True))

    def get(self, username: str) -> Principal | None:
        doc = self.users.find_one({"_id": username})
        return self._principal(doc) if doc else None

    def list(self) -> list[Principal]:
        return [self._principal(d) for d in self.users.find().sort("_id", 1)]

    @staticmethod
    def _principal(doc: dict) -> Principal:
        return Principal(username=doc["_id"], role=doc["role"], display_name=doc.get("display_name", ""),
                         department=doc.get("department"), area=doc.get("area"), county=doc.get("county"),
                         enterprise=doc.get("enterprise"), institution=doc.get("institution"),
                         must_change=bool(doc.get("must_change", False)))


class Grants:
    """The grants collection: one record per sign-in; a session or token is honoured while its record exists."""

    def __init__(self, db):
        self.collection = db["grants"]

    def ensure_indexes(self) -> None:
        self.collection.create_index("user")
        self.collection.create_index("expires_at", expireAfterSeconds=0)  # the database removes ended ones

    def open(self, username: str, kind: str, lifetime_s: int) -> str:
        sid = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        self.collection.insert_one({"_id": sid, "user": username, "kind": kind, "created_at": now,
                                    "expires_at": now + timedelta(seconds=lifetime_s)})
        return sid

    def valid(self, sid: str, username: str) -> bool:
        """The one look-up each authenticated request makes (by `_id`)."""
        return self.collection.find_one({"_id": sid, "user": username, "expires_at": {"$gt": datetime.now(UTC)}},
                                        projection={"_id": 1}) is not None

    def extend(self, sid: str, lifetime_s: int) -> None:
        self.collection.update_one({"_id": sid}, {"$set": {
            "expires_at": datetime.now(UTC) + timedelta(seconds=lifetime_s)}})

    def close(self, sid: str) -> None:
        self.collection.delete_one({"_id": sid})

    def close_all(self, username: str) -> int:
        return self.collection.delete_many({"user": username}).deleted_count


# --- tokens and sessions -------------------------------------------------------------------------------------
def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="greenmine-access-token")


def issue_token(secret: str, principal: Principal) -> str:
    """A bearer token for `principal`, bound to its grant when it has one (it then ends with the sign-in)."""
    claims = principal.claims()
    if principal.sid:
        claims["sid"] = principal.sid
    return _serializer(secret).dumps(claims)


def read_token(secret: str, token: str, max_age_s: int) -> Principal | None:
    try:
        claims = _serializer(secret).loads(token, max_age=max_age_s)
    except (SignatureExpired, BadSignature):
        return None
    try:
        return Principal(**claims)
    except TypeError:
        return None


def _grants() -> Grants:
    extensions = current_app.extensions["greenmine"]
    grants = extensions.get("grants")
    if grants is None:
        from shared.storage import mongo_client

        settings = extensions["settings"]
        grants = extensions["grants"] = Grants(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    return grants


def sign_in(principal: Principal) -> None:
    """Start the browser session of a principal that `UserDirectory.start` returned (it carries its grant)."""
    if not principal.sid:
        raise ValueError("sign_in needs a principal with a grant (UserDirectory.start)")
    session.clear()
    session.permanent = True
    session["user"] = principal.claims()
    session["sid"] = principal.sid
    session["seen"] = int(time.time())


def sign_out() -> None:
    """End the session on the server too: its cookie (and any copy of it) is then refused by every service."""
    sid = session.get("sid")
    session.clear()
    g.pop("principal", None)
    if sid:
        _grants().close(sid)


def _extend(sid: str, lifetime_s: int) -> None:
    """Move the session's grant's end with its use; if the database misses it, the session ends a little sooner."""
    from pymongo.errors import PyMongoError

    try:
        _grants().extend(sid, lifetime_s)
    except PyMongoError:
        import logging

        logging.getLogger(__name__).warning("could not extend a session's grant", exc_info=True)


def _granted(principal: Principal | None) -> Principal | None:
    if principal is None or principal.sid is None:
        return principal
    from pymongo.errors import PyMongoError

    from shared.errors import Unavailable

    try:
        valid = _grants().valid(principal.sid, principal.username)
    except PyMongoError as exc:
        g.principal = None  # pages rendered for the error below see an anonymous caller
        raise Unavailable("暂时无法核实登录状态，请稍后重试") from exc
    return principal if valid else None


def current_principal() -> Principal | None:
    """The caller: bearer token first (API clients), then the sign-in session (browsers). A credential bound to
    a grant costs one look-up by `_id` per request (then kept in `g`); an ended grant makes the caller anonymous;
    an unreachable identity database is `Unavailable` (503), never a pass."""
    if "principal" in g:
        return g.principal
    settings = current_app.extensions["greenmine"]["settings"]
    principal = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        principal = _granted(read_token(settings.secret_key, header[7:].strip(), settings.token_minutes * 60))
        g.auth_method = "token"
    elif "user" in session:
        idle = time.time() - session.get("seen", 0)
        if idle > settings.session_minutes * 60 or not session.get("sid"):
            session.clear()  # idle expiry, on top of the cookie's own lifetime; a session without a grant is over
            g.signin_reason = "expired"
        else:
            try:
                principal = _granted(Principal(**session["user"], sid=session["sid"]))
            except TypeError:
                principal = None
            if principal is None:
                g.signin_reason = _ended_reason(session["user"].get("username"))
                session.clear()  # logged out, revoked or malformed: the browser gets a fresh anonymous session
            elif idle > 60:  # refresh at most once a minute: every write re-sends the cookie
                session["seen"] = int(time.time())
                _extend(principal.sid, settings.session_minutes * 60)
        g.auth_method = "session"
    g.principal = principal
    return principal


def _ended_reason(username: str | None) -> str:
    """Why a session's grant is gone, for the sign-in page (one more look-up, only on this path): the account
    was disabled (or deleted), its password reset by an administrator, or else the sign-in expired."""
    from pymongo.errors import PyMongoError

    try:
        doc = _grants().collection.database["users"].find_one({"_id": username or ""},
                                                              projection={"active": 1, "must_change": 1})
    except PyMongoError:
        return "expired"
    if doc is None or not doc.get("active", True):
        return "disabled"
    if doc.get("must_change"):
        return "password_reset"
    return "expired"


def sign_in_url(reason: str | None = None, target: str | None = None) -> str:
    """The sign-in page, with where to go afterwards and why (a code of SIGN_IN_REASONS)."""
    query = {}
    if target:
        query["next"] = target
    if reason in SIGN_IN_REASONS:
        query["reason"] = reason
    return "/login" + ("?" + urlencode(query) if query else "")


def wants_html() -> bool:
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def home_of(principal: Principal | None) -> tuple[str, str]:
    """(address, label) of the way back offered on an error page: the person's own workspace, else home."""
    if principal is not None and principal.role in WORKSPACES:
        return WORKSPACES[principal.role], "返回我的工作台"
    return "/", "返回首页"


def _referring_path() -> str:
    """Where a refused form was posted from (same site only), to return there after signing in."""
    from urllib.parse import urlparse

    referrer = urlparse(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return "/"
    return (referrer.path or "/") + (f"?{referrer.query}" if referrer.query else "")


def _deny(status: int, message: str):
    if wants_html():
        if status == 401:
            target = request.full_path.rstrip("?") if request.method == "GET" else _referring_path()
            login = sign_in_url(g.get("signin_reason") or "required", target)
            body = render_template("greenmine/error.html", status=status, title="需要登录", message=message,
                                   login_url=login, refresh_to=login)
        else:
            body = render_template("greenmine/error.html", status=status, title="无权访问", message=message)
        return current_app.response_class(body, status=status, mimetype="text/html")
    response = jsonify({"code": status, "message": message})   # the documented error body (shared.schemas)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="greenmine"'
    return response


def requires(*roles: str, password_change: bool = False):
    """Declare and enforce the roles that may call a view (function or MethodView method).

    A person whose password an administrator set (`must_change`) reaches only the views declared with
    `password_change=True` (changing it, who am I) until they change it: a browser is sent to the change page."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"requires() needs known roles, got {roles}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                return _deny(401, SIGN_IN_REASONS.get(g.get("signin_reason"), "请先登录"))
            if principal.must_change and not password_change:
                if wants_html() and request.method == "GET":
                    return redirect(PASSWORD_CHANGE_PAGE + "?" + urlencode({"next": request.full_path.rstrip("?")}))
                return _deny(403, "密码已重置，请先修改密码")
            if principal.role not in roles:
                return _deny(403, f"当前角色（{principal.role_label}）无权访问此功能")
            return view(*args, **kwargs)

        wrapper._greenmine_roles = tuple(roles)
        wrapper._greenmine_password_change = password_change
        return wrapper

    return decorator


def public(view):
    """Declare a view open to everybody (the public list, notices, objections, health checks)."""
    view._greenmine_roles = PUBLIC
    return view


def roles_of(app, endpoint: str | None, method: str) -> tuple[str, ...] | None:
    """The roles declared for one endpoint and HTTP method (None when undeclared or unknown)."""
    view = app.view_functions.get(endpoint or "")
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    target = getattr(view_class, method.lower(), None) if view_class else view
    return getattr(target, "_greenmine_roles", None)


def declared_roles(app) -> dict[tuple[str, str], tuple[str, ...] | None]:
    """{(endpoint, METHOD): roles or None when undeclared} for every rule of the app."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found[(rule.endpoint, method)] = roles_of(app, rule.endpoint, method)
    return found


def check_declared(app) -> None:
    missing = [f"{endpoint} {method}" for (endpoint, method), roles in declared_roles(app).items()
               if roles is None and not endpoint.startswith("api-docs.")]
    if missing:
        raise RuntimeError("endpoints without a declared audience (@requires/@public): " + ", ".join(missing))
