"""The portal: the one address users open. Home page, sign-in/out, bearer tokens, the aggregate /readyz.

It is plumbing, not a service: it knows users and roles, no rule of the notice.
"""
from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
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


def _safe_next(target: str | None, default: str = "/") -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing aid.
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])

    api = ApiBlueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与令牌")

    @api.route("/token")
    class TokenView(MethodView):
        @identity.public
        @api.arguments(TokenRequestSchema)
        @api.response(200, TokenSchema)
        @document_errors(api, 401, 422)
        def post(self, body):
            """Exchange a username and password for a bearer token."""
            principal = directory.authenticate(body["username"], body["password"])
            if principal is None:
                return jsonify({"code": 401, "message": "用户名或密码错误"}), 401
            return {"access_token": identity.issue_token(settings.secret_key, principal), "token_type": "Bearer",
                    "expires_in": settings.token_minutes * 60, "username": principal.username,
                    "role": principal.role, "workspace": identity.WORKSPACES[principal.role]}

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
            username = request.form.get("username", "").strip()
            principal = directory.authenticate(username, request.form.get("password", ""))
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
