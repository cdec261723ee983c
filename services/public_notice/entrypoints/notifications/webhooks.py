"""Webhooks on the web (region office, admin): `GET/POST /api/v1/notice/webhooks`, `GET/PATCH/DELETE
/api/v1/notice/webhooks/{id}`, `POST …/{id}/rotate-secret`, `POST …/{id}/test`, `GET …/{id}/deliveries` (the
delivery log), `GET /api/v1/notice/webhooks/event-types`; pages `/notice/webhooks` and `/notice/webhooks/{id}`.
The secret is in the answer of registering and of rotating only."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import abort, render_template
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from public_notice.domain.notifications.deliveries import STATUSES
from public_notice.domain.notifications.webhooks import EVENT_TYPES, MAX_DESCRIPTION, MAX_URL
from public_notice.service_layer.notifications import webhooks as svc
from shared import identity
from shared.errors import NotFound
from shared.schemas import Body, document_errors

MANAGERS = svc.MANAGERS
BEIJING = timezone(timedelta(hours=8))
HEALTH = {"healthy": "正常", "failing": "最近投递失败", "disabled": "已停用", "deleted": "已删除"}
TYPES_TEXT = "、".join(f"{k}（{v}）" for k, v in EVENT_TYPES.items())


def when(iso: str | None) -> str:
    """An ISO time as Beijing time for people: 2026年12月1日 10:05:09."""
    if not iso:
        return "—"
    at = datetime.fromisoformat(iso).astimezone(BEIJING)
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M:%S}"


class WebhookBody(Body):
    url = fields.String(required=True, validate=validate.Length(max=MAX_URL),
                        metadata={"description": "接收地址（http/https；不接受本机和内网地址）"})
    description = fields.String(load_default="", validate=validate.Length(max=MAX_DESCRIPTION),
                                metadata={"description": "说明（接收系统名称等）"})
    event_types = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=len(EVENT_TYPES)),
                              metadata={"description": "订阅的事件类型：" + TYPES_TEXT})
    enabled = fields.Boolean(load_default=True, metadata={"description": "是否启用"})


class WebhookPatch(Body):
    url = fields.String(validate=validate.Length(max=MAX_URL))
    description = fields.String(validate=validate.Length(max=MAX_DESCRIPTION))
    event_types = fields.List(fields.String(), validate=validate.Length(min=1, max=len(EVENT_TYPES)))
    enabled = fields.Boolean(metadata={"description": "true：启用（自动停用后手动恢复）；false：停用"})


class WebhookHistoryView(Schema):
    at = fields.String()
    by = fields.String()
    by_name = fields.String()
    action = fields.String(metadata={"description": "registered / updated / secret_rotated / disabled / deleted"})


class WebhookView(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String()
    event_types = fields.List(fields.String())
    enabled = fields.Boolean()
    health = fields.String(metadata={"description": "healthy 正常 / failing 最近投递失败 / disabled 已停用"})
    consecutive_failures = fields.Integer(metadata={"description": "连续放弃（全部重试失败）的投递数"})
    disabled_reason = fields.String(allow_none=True)
    disabled_at = fields.String(allow_none=True)
    last_success_at = fields.String(allow_none=True)
    last_failure_at = fields.String(allow_none=True)
    created_at = fields.String()
    created_by = fields.String()
    history = fields.List(fields.Nested(WebhookHistoryView))


class WebhookWithSecret(WebhookView):
    secret = fields.String(required=True, metadata={
        "description": "签名密钥（whsec_ 开头，Standard Webhooks）；只在登记和更换时显示这一次"})


class WebhookAttemptView(Schema):
    at = fields.String()
    ok = fields.Boolean()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)


class WebhookDeliveryView(Schema):
    id = fields.String(metadata={"description": "投递编号，即 webhook-id 请求头（接收方据此去重）"})
    type = fields.String()
    status = fields.String(metadata={"description": "pending / sent / failed / cancelled"})
    created_at = fields.String()
    next_attempt_at = fields.String(allow_none=True)
    attempts = fields.List(fields.Nested(WebhookAttemptView))


class WebhookEventTypeView(Schema):
    type = fields.String()
    label = fields.String()


def routes(web, bus) -> None:
    api, pages = web.api, web.pages

    def actor():
        return identity.current_principal()

    def uow():
        return bus.uow_factory()

    @api.route("/webhooks/event-types")
    class EventTypes(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, WebhookEventTypeView(many=True))
        @document_errors(api, 401, 403)
        def get(self):
            """The event types an endpoint may subscribe to."""
            return [{"type": t, "label": label} for t, label in EVENT_TYPES.items()]

    @api.route("/webhooks")
    class Webhooks(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, WebhookView(many=True))
        @document_errors(api, 401, 403)
        def get(self):
            """The registered endpoints with their health (never their secrets)."""
            return svc.endpoints(uow())

        @identity.requires(*MANAGERS)
        @api.arguments(WebhookBody)
        @api.response(201, WebhookWithSecret)
        @document_errors(api, 401, 403, 422)
        def post(self, body):
            """Register an endpoint; the answer shows its signing secret this once."""
            return bus.handle(svc.RegisterWebhook(actor(), url=body["url"], event_types=tuple(body["event_types"]),
                                                  description=body["description"], enabled=body["enabled"]))

    @api.route("/webhooks/<endpoint_id>")
    class Webhook(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, WebhookView)
        @document_errors(api, 401, 403, 404)
        def get(self, endpoint_id):
            """One endpoint with its health and audit trail."""
            return svc.endpoint(uow(), endpoint_id)

        @identity.requires(*MANAGERS)
        @api.arguments(WebhookPatch)
        @api.response(200, WebhookView)
        @document_errors(api, 401, 403, 404, 422)
        def patch(self, body, endpoint_id):
            """Change the URL, description, event types, or enable/disable (re-enabling resets the failures)."""
            return bus.handle(svc.UpdateWebhook(actor(), endpoint_id, dict(body)))

        @identity.requires(*MANAGERS)
        @api.response(204)
        @document_errors(api, 401, 403, 404)
        def delete(self, endpoint_id):
            """Delete the endpoint (its pending deliveries are cancelled; its log is kept)."""
            bus.handle(svc.DeleteWebhook(actor(), endpoint_id))
            return ""

    @api.route("/webhooks/<endpoint_id>/rotate-secret")
    class RotateSecret(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, WebhookWithSecret)
        @document_errors(api, 401, 403, 404)
        def post(self, endpoint_id):
            """A new secret, shown this once; the old one also signs for 24 hours (two `v1,` signatures)."""
            return bus.handle(svc.RotateWebhookSecret(actor(), endpoint_id))

    @api.route("/webhooks/<endpoint_id>/test")
    class Ping(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(202, WebhookDeliveryView)
        @document_errors(api, 401, 403, 404)
        def post(self, endpoint_id):
            """Queue a test delivery (type `webhook.test`); its outcome shows in the delivery log."""
            return bus.handle(svc.TestWebhook(actor(), endpoint_id))

    @api.route("/webhooks/<endpoint_id>/deliveries")
    class Deliveries(MethodView):
        @identity.requires(*MANAGERS)
        @api.response(200, WebhookDeliveryView(many=True))
        @document_errors(api, 401, 403, 404)
        def get(self, endpoint_id):
            """The delivery log, newest first (100): each delivery with every attempt's time, HTTP status, error
            and duration."""
            return svc.deliveries(uow(), endpoint_id)

    @pages.get("/webhooks")
    @identity.requires(*MANAGERS)
    def webhooks_page():
        return render_template("public_notice/notifications/webhooks.html", endpoints=svc.endpoints(uow()),
                               event_types=EVENT_TYPES, health=HEALTH, when=when)

    @pages.get("/webhooks/<endpoint_id>")
    @identity.requires(*MANAGERS)
    def webhook_page(endpoint_id):
        try:
            endpoint = svc.endpoint(uow(), endpoint_id)
        except NotFound:
            abort(404)
        return render_template("public_notice/notifications/webhooks_detail.html", e=endpoint,
                               deliveries=svc.deliveries(uow(), endpoint_id), event_types=EVENT_TYPES,
                               statuses=STATUSES, health=HEALTH, when=when)
