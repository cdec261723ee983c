"""The in-app inbox on the web, for every signed-in user (own entries only): `GET /api/v1/notice/inbox`
(newest first, paginated with `X-Total-Count`, `unread_only`), `GET /api/v1/notice/inbox/unread` (the badge
beside the user's name on every page), `POST /api/v1/notice/inbox/{id}/read`, `POST /api/v1/notice/inbox/read-all`;
the page `/notice/inbox`."""
from __future__ import annotations

import math

from flask import render_template, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from public_notice.domain.notifications.audiences import cn_date
from public_notice.service_layer.notifications.inbox import MarkAllRead, MarkRead
from shared import identity
from shared.schemas import document_errors

EVERYONE = tuple(identity.ROLES)
MAX_PER_PAGE = 100


class InboxQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000), metadata={"description": "页码"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": "每页条数（≤100）"})
    unread_only = fields.Boolean(load_default=False, metadata={"description": "只看未读"})


class InboxEntrySchema(Schema):
    id = fields.String()
    title = fields.String()
    text = fields.String()
    link = fields.String(metadata={"description": "相关页面路径（可能为空）"})
    event_type = fields.String()
    created_at = fields.String(metadata={"description": "ISO 8601"})
    read = fields.Boolean()
    read_at = fields.String(allow_none=True)


class UnreadSchema(Schema):
    unread = fields.Integer(required=True)


class ReadAllSchema(Schema):
    marked = fields.Integer(required=True, metadata={"description": "本次标为已读的条数"})


def _query(username: str, unread_only: bool) -> dict:
    return {"username": username, **({"read": False} if unread_only else {})}


def _row(doc: dict) -> dict:
    return {"id": doc["_id"], "title": doc["title"], "text": doc.get("text") or "", "link": doc.get("link") or "",
            "event_type": doc["event_type"], "created_at": doc["created_at"], "read": bool(doc.get("read")),
            "read_at": doc.get("read_at")}


def entries(db, username: str, *, page: int = 1, per_page: int = 20, unread_only: bool = False):
    """(rows newest first, total)."""
    query = _query(username, unread_only)
    total = db["inbox"].count_documents(query)
    docs = db["inbox"].find(query).sort([("created_at", -1), ("_id", 1)]).skip((page - 1) * per_page).limit(per_page)
    return [_row(d) for d in docs], total


def unread(db, username: str) -> int:
    return db["inbox"].count_documents({"username": username, "read": False})


def routes(web, bus) -> None:
    api, pages = web.api, web.pages

    @api.route("/inbox")
    class Inbox(MethodView):
        @identity.requires(*EVERYONE)
        @api.arguments(InboxQuerySchema, location="query")
        @api.response(200, InboxEntrySchema(many=True), headers={
            "X-Total-Count": {"description": "符合条件的通知数", "schema": {"type": "integer"}}})
        @document_errors(api, 422)
        def get(self, query):
            """My notifications, newest first (`unread_only`: the unread ones)."""
            me = identity.current_principal()
            rows, total = entries(web.db(), me.username, **query)
            return rows, 200, {"X-Total-Count": str(total)}

    @api.route("/inbox/unread")
    class Unread(MethodView):
        @identity.requires(*EVERYONE)
        @api.response(200, UnreadSchema)
        def get(self):
            """How many of my notifications are unread (the badge beside my name)."""
            return {"unread": unread(web.db(), identity.current_principal().username)}

    @api.route("/inbox/<entry_id>/read")
    class Read(MethodView):
        @identity.requires(*EVERYONE)
        @api.response(200, InboxEntrySchema)
        @document_errors(api, 404)
        def post(self, entry_id):
            """Mark one of my notifications read (reading twice changes nothing)."""
            doc = bus.handle(MarkRead(identity.current_principal(), entry_id))
            return _row(doc)

    @api.route("/inbox/read-all")
    class ReadAll(MethodView):
        @identity.requires(*EVERYONE)
        @api.response(200, ReadAllSchema)
        def post(self):
            """Mark all my notifications read."""
            return {"marked": bus.handle(MarkAllRead(identity.current_principal()))}

    @pages.get("/inbox")
    @identity.requires(*EVERYONE)
    def inbox_page():
        me = identity.current_principal()
        try:
            page = max(1, min(int(request.args.get("page", 1)), 100000))
        except ValueError:
            page = 1
        unread_only = request.args.get("unread_only") in ("1", "true")
        rows, total = entries(web.db(), me.username, page=page, per_page=20, unread_only=unread_only)
        for row in rows:
            row["date"] = cn_date(row["created_at"])
        return render_template("public_notice/notifications/inbox.html", rows=rows, total=total, page=page,
                               pages=max(1, math.ceil(total / 20)), unread_only=unread_only,
                               unread=unread(web.db(), me.username))
