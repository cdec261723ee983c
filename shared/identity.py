"""Users, roles, area scoping, password hashing, sign-in sessions and bearer tokens.

One sign-in reaches every service: every app shares GREENMINE_SECRET_KEY, so the session cookie set by the
portal and the bearer tokens it issues are verified by any service without a round trip.

Every endpoint declares who may call it with `@requires(...)` or `@public`; `check_declared(app)` refuses to
start an app with an undeclared endpoint. An anonymous call gets 401, a role outside the list 403.
"""
from __future__ import annotations

import functools
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, jsonify, request, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import escape

from shared.regions import LEAGUE_NAMES

ROLES = {
    "enterprise": "矿山企业",
    "bureau": "盟市自然资源局",
    "department_reviewer": "部门审核人员",
    "region_office": "自治区自然资源厅/协调机制办公室",
    "evaluator": "第三方评估机构",
    "admin": "系统管理员",
}

REGION = "自治区"
LEAGUES = LEAGUE_NAMES  # the 12 盟市 an account's area may name (contracts/regions)

# Where each role lands after signing in (the portal's home page redirects there).
WORKSPACES = {
    "enterprise": "/intake/",
    "bureau": "/review/",
    "department_reviewer": "/review/",
    "region_office": "/notice/",
    "evaluator": "/scoring/",
    "admin": "/portal/admin",
}

PUBLIC = ("*public*",)
ANY_SIGNED_IN = tuple(ROLES)
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-@]{3,64}$")
_hasher = PasswordHasher()


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
        return {k: v for k, v in asdict(self).items() if v is not None}


# --- users (stored in the identity database) -------------------------------------------------------------
def validate_user(username: str, role: str, *, department: str | None, area: str | None,
                  enterprise: str | None, password: str | None) -> None:
    from shared.contracts import DEPARTMENT_CODES

    errors = []
    if not USERNAME.match(username or ""):
        errors.append({"field": "username", "message": "用户名须为3至64位字母、数字或 _ . - @"})
    if role not in ROLES:
        errors.append({"field": "role", "message": f"未知角色 {role!r},可选:{', '.join(ROLES)}"})
    if password is not None and len(password) < 8:
        errors.append({"field": "password", "message": "密码至少8位"})
    if role == "department_reviewer":
        if department not in DEPARTMENT_CODES:
            errors.append({"field": "department", "message": "部门审核人员须指定附件3部门代码:"
                           + ", ".join(DEPARTMENT_CODES)})
        if area not in (REGION, *LEAGUES):
            errors.append({"field": "area", "message": "部门审核人员须指定层级:自治区或一个盟市"})
    elif department:
        errors.append({"field": "department", "message": "只有部门审核人员可以指定部门"})
    if role == "bureau" and area not in LEAGUES:
        errors.append({"field": "area", "message": "盟市自然资源局账号须指定所属盟市"})
    if role == "enterprise":
        if not enterprise or not CREDIT_CODE.match(enterprise):
            errors.append({"field": "enterprise", "message": "矿山企业账号须填写18位统一社会信用代码"})
    elif enterprise:
        errors.append({"field": "enterprise", "message": "只有矿山企业账号可以绑定统一社会信用代码"})
    if area and area not in (REGION, *LEAGUES):
        errors.append({"field": "area", "message": f"未知地区 {area!r}"})
    if errors:
        raise IdentityError(errors)


class UserDirectory:
    """The users collection of the identity database."""

    def __init__(self, db):
        self.users = db["users"]

    def ensure_indexes(self) -> None:
        self.users.create_index("role")

    def add(self, username: str, password: str, role: str, *, department: str | None = None,
            area: str | None = None, county: str | None = None, enterprise: str | None = None,
            display_name: str = "", replace: bool = False) -> Principal:
        validate_user(username, role, department=department, area=area, enterprise=enterprise,
                      password=password)
        if role in ("region_office", "admin", "evaluator") and area is None:
            area = REGION
        doc = {
            "_id": username, "password_hash": _hasher.hash(password), "role": role,
            "department": department, "area": area, "county": county, "enterprise": enterprise,
            "display_name": display_name or username, "active": True,
            "created_at": datetime.now(UTC),
        }
        if replace:
            self.users.replace_one({"_id": username}, doc, upsert=True)
        else:
            from pymongo.errors import DuplicateKeyError

            try:
                self.users.insert_one(doc)
            except DuplicateKeyError:
                raise IdentityError([{"field": "username", "message": f"用户 {username} 已存在"}]) from None
        return self._principal(doc)

    def authenticate(self, username: str, password: str) -> Principal | None:
        doc = self.users.find_one({"_id": username, "active": True})
        if doc is None:
            _hasher.hash(password or "-")  # same cost whether or not the user exists
            return None
        try:
            _hasher.verify(doc["password_hash"], password or "")
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(doc["password_hash"]):
            self.users.update_one({"_id": username}, {"$set": {"password_hash": _hasher.hash(password)}})
        return self._principal(doc)

    def get(self, username: str) -> Principal | None:
        doc = self.users.find_one({"_id": username})
        return self._principal(doc) if doc else None

    def list(self) -> list[Principal]:
        return [self._principal(d) for d in self.users.find().sort("_id", 1)]

    @staticmethod
    def _principal(doc: dict) -> Principal:
        return Principal(username=doc["_id"], role=doc["role"], display_name=doc.get("display_name", ""),
                         department=doc.get("department"), area=doc.get("area"), county=doc.get("county"),
                         enterprise=doc.get("enterprise"))


# --- tokens and sessions -------------------------------------------------------------------------------------
def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="greenmine-access-token")


def issue_token(secret: str, principal: Principal) -> str:
    return _serializer(secret).dumps(principal.claims())


def read_token(secret: str, token: str, max_age_s: int) -> Principal | None:
    try:
        claims = _serializer(secret).loads(token, max_age=max_age_s)
    except (SignatureExpired, BadSignature):
        return None
    try:
        return Principal(**claims)
    except TypeError:
        return None


def sign_in(principal: Principal) -> None:
    session.clear()
    session.permanent = True
    session["user"] = principal.claims()
    session["seen"] = int(time.time())


def sign_out() -> None:
    session.clear()


def current_principal() -> Principal | None:
    """The caller: bearer token first (API clients), then the sign-in session (browsers)."""
    if "principal" in g:
        return g.principal
    settings = current_app.extensions["greenmine"]["settings"]
    principal = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        principal = read_token(settings.secret_key, header[7:].strip(), settings.token_minutes * 60)
        g.auth_method = "token"
    elif "user" in session:
        idle = time.time() - session.get("seen", 0)
        if idle > settings.session_minutes * 60:
            session.clear()  # idle expiry, on top of the cookie's own lifetime
        else:
            try:
                principal = Principal(**session["user"])
            except TypeError:
                session.clear()
            else:
                if idle > 60:  # refresh at most once a minute: every write re-sends the cookie
                    session["seen"] = int(time.time())
        g.auth_method = "session"
    g.principal = principal
    return principal


def wants_html() -> bool:
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _deny(status: int, message: str):
    if wants_html():
        nxt = escape(request.full_path.rstrip("?"))
        body = (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>{status}</title>"
                f"<meta http-equiv='refresh' content='0; url=/login?next={nxt}'>"
                f"<p>{escape(message)}。<a href='/login?next={nxt}'>前往登录</a></p></html>")
        if status == 403:
            body = (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>403</title>"
                    f"<p>{escape(message)}。<a href='/'>返回首页</a></p></html>")
        return current_app.response_class(body, status=status, mimetype="text/html")
    response = jsonify({"code": status, "message": message})   # the documented error body (shared.schemas)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="greenmine"'
    return response


def requires(*roles: str):
    """Declare and enforce the roles that may call a view (function or MethodView method)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"requires() needs known roles, got {roles}")

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                return _deny(401, "请先登录")
            if principal.role not in roles:
                return _deny(403, f"当前角色({principal.role_label})无权访问此功能")
            return view(*args, **kwargs)

        wrapper._greenmine_roles = tuple(roles)
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
