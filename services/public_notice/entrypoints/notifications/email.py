"""Email on the web. Anyone, no sign-in: `POST /api/v1/notice/subscriptions` {email, topics} (rate-limited; a
confirmation email with a signed link goes out), `GET /public/subscriptions` (the form),
`GET /public/subscriptions/confirm?token=…`, `GET|POST /public/subscriptions/unsubscribe?token=…` (one click; the
POST is RFC 8058's one-click from the `List-Unsubscribe-Post` header). Administrator and region office: the page
`/notice/mail` (the messages the local receiver wrote to GREENMINE_MAIL_DIR, and the email deliveries' status) and
`GET /api/v1/notice/mail`, `GET /api/v1/notice/mail/{id}`.

Subscribers' addresses never appear on a public page: the answers say only that an email was sent."""
from __future__ import annotations

import os

from flask import abort, render_template, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from public_notice.domain.notifications.deliveries import STATUSES
from public_notice.domain.notifications.subscriptions import STATUSES as SUB_STATUSES
from public_notice.domain.notifications.subscriptions import TOPICS
from public_notice.service_layer.notifications.email import ConfirmSubscription, Subscribe, Unsubscribe
from shared import identity, mail_receiver
from shared.errors import DomainError, TooManyAttempts
from shared.ratelimits import Windows, parse_limits
from shared.schemas import Body, document_errors
from shared.web import client_address

MAIL_READERS = ("admin", "region_office")
CLIENT_LIMITS = "5 per minute; 30 per hour"     # GREENMINE_SUBSCRIBE_CLIENT_LIMITS
ADDRESS_LIMITS = "3 per hour; 10 per day"      # GREENMINE_SUBSCRIBE_ADDRESS_LIMITS


class SubscribeSchema(Body):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254),
                          metadata={"description": "电子邮箱地址"})
    topics = fields.List(fields.String(validate=validate.OneOf(list(TOPICS))), required=True,
                         validate=validate.Length(min=1, max=len(TOPICS)),
                         metadata={"description": "announcements 名录公告 / publicity 公示"})


class SubscribeAnswerSchema(Schema):
    status = fields.String(metadata={"description": "sent：确认邮件已发送（已确认的地址直接更新订阅内容）"})
    message = fields.String()


class MailSchema(Schema):
    id = fields.String()
    received_at = fields.String()
    subject = fields.String()
    to = fields.String()
    message_id = fields.String()


class MailDetailSchema(MailSchema):
    headers = fields.Dict(keys=fields.String(), values=fields.String())
    text = fields.String()


class RateLimits(Windows):
    """Subscription requests per client address and per email address (moving windows in MongoDB)."""

    def __init__(self, settings):
        super().__init__(settings, settings.database_name("public_notice"))
        self.client = parse_limits("GREENMINE_SUBSCRIBE_CLIENT_LIMITS", CLIENT_LIMITS)
        self.address = parse_limits("GREENMINE_SUBSCRIBE_ADDRESS_LIMITS", ADDRESS_LIMITS)

    def hit(self, client: str, email: str) -> int | None:
        """Count one request; seconds to wait when a limit is reached (the request is refused), else None."""
        return self.admit([(item, ("subscribe-client", client)) for item in self.client] +
                          [(item, ("subscribe-address", email.strip().lower())) for item in self.address])


def _mail_dir():
    return mail_receiver.mail_dir()


def routes(web, bus) -> None:
    api, pages, public = web.api, web.pages, web.public
    limits = RateLimits(web.settings)

    @api.route("/subscriptions")
    class Subscriptions(MethodView):
        @identity.public
        @api.arguments(SubscribeSchema)
        @api.response(202, SubscribeAnswerSchema)
        @document_errors(api, 422, 429)
        def post(self, body):
            """Subscribe an email address to the 公告 and/or 公示 (no sign-in). A confirmation email with a
            signed link goes out; nothing else is sent until it is opened (double opt-in)."""
            wait = limits.hit(client_address(), body["email"])
            if wait is not None:
                raise TooManyAttempts(f"请求过于频繁，请{wait}秒后再试", wait)
            bus.handle(Subscribe(email=body["email"], topics=tuple(body["topics"])))
            return {"status": "sent", "message": "确认邮件已发送，请打开邮件中的链接完成订阅。"}, 202

    @public.get("/subscriptions")
    @identity.public
    def subscriptions_page():
        return render_template("public_notice/notifications/subscribe.html", topics=TOPICS)

    def _outcome(command, ok_title: str):
        try:
            result = bus.handle(command)
        except DomainError as exc:
            return render_template("public_notice/notifications/subscription_result.html", ok=False,
                                   title="链接无效", message=str(exc)), 400
        return render_template("public_notice/notifications/subscription_result.html", ok=True, title=ok_title,
                               result=result, topics=TOPICS, statuses=SUB_STATUSES)

    @public.get("/subscriptions/confirm")
    @identity.public
    def confirm_page():
        return _outcome(ConfirmSubscription(request.args.get("token", "")), "订阅已确认")

    @public.route("/subscriptions/unsubscribe", methods=["GET", "POST"])
    @identity.public
    def unsubscribe_page():
        token = request.args.get("token", "") or request.form.get("token", "")
        return _outcome(Unsubscribe(token), "已退订")

    # -- the mail the local receiver got, and the email deliveries ---------------------------------------------
    @api.route("/mail")
    class Mail(MethodView):
        @identity.requires(*MAIL_READERS)
        @api.response(200, MailSchema(many=True))
        def get(self):
            """The messages in GREENMINE_MAIL_DIR (the local receiver's), newest first."""
            return mail_receiver.list_messages(_mail_dir())

    @api.route("/mail/<mail_id>")
    class OneMail(MethodView):
        @identity.requires(*MAIL_READERS)
        @api.response(200, MailDetailSchema)
        @document_errors(api, 404)
        def get(self, mail_id):
            """One received message: headers and text."""
            found = mail_receiver.get_message(_mail_dir(), mail_id)
            if found is None:
                abort(404)
            return found

    @pages.get("/mail")
    @identity.requires(*MAIL_READERS)
    def mail_page():
        chosen = request.args.get("id")
        message = mail_receiver.get_message(_mail_dir(), chosen) if chosen else None
        deliveries = list(web.db()["deliveries"].find({"channel": "email"}).sort("created_at", -1).limit(200))
        for d in deliveries:
            d["status_label"] = STATUSES.get(d["status"], d["status"])
            d["failures"] = sum(1 for a in d.get("attempts") or [] if not a.get("ok"))
        return render_template("public_notice/notifications/mail.html", messages=mail_receiver.list_messages(
            _mail_dir()), message=message, deliveries=deliveries, mail_dir=str(_mail_dir()),
            smtp_host=os.environ.get("GREENMINE_SMTP_HOST") or "")
