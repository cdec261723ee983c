"""The 名录 on the web. Region office: `POST /api/v1/notice/batches/{id}/listing` (confirm a closed batch's
listing), `POST /api/v1/notice/removals` (移出名录), `POST /api/v1/notice/listings/{mine_id}/marks` (标注).
Anyone, no sign-in: `GET /api/v1/list` (paginated, filtered; `X-Total-Count` and RFC 8288 `Link`),
`GET /api/v1/list/{mine_id}`, `GET /api/v1/notice/announcements[/{id}]`, pages `/public/list`,
`/public/list/{mine_id}`, `/public/announcements[/{id}]`, `/public/notices`; the exports,
PDFs and certificates are in `list_exports.py`."""
from __future__ import annotations

import math
from urllib.parse import urlencode

from flask import abort, render_template, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from public_notice.adapters import queries
from public_notice.domain.announcements import KIND_LABELS, SCALE_LABELS
from public_notice.domain.listing import ACTION_LABELS, STATUS_LABELS
from public_notice.entrypoints import list_exports
from public_notice.service_layer.listing import AnnounceRemoval, ConfirmListing, MarkMine
from shared import identity
from shared.identity import LEAGUES
from shared.schemas import Body, document_errors

WRITERS = ("region_office",)
MAX_PER_PAGE = 100


class ListQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000), metadata={"description": "页码"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": "每页条数（≤100）"})
    league = fields.String(validate=validate.OneOf(LEAGUES), metadata={"description": "盟市"})
    mineral = fields.String(validate=validate.Length(max=40), metadata={"description": "矿种"})
    scale = fields.String(validate=validate.OneOf(list(SCALE_LABELS)),
                          metadata={"description": "规模 large/medium/small"})
    year = fields.Integer(validate=validate.Range(min=2000, max=2100), metadata={"description": "纳入名录年份"})
    status = fields.String(validate=validate.OneOf(["listed", "marked"]),
                           metadata={"description": "listed 在库 / marked 标注"})
    q = fields.String(validate=validate.Length(max=50), metadata={"description": "矿山或企业名称包含"})


class GreenMineSchema(Schema):
    mine_id = fields.String()
    mine_name = fields.String()
    enterprise_name = fields.String()
    credit_code = fields.String(allow_none=True, metadata={"description": "统一社会信用代码"})
    league = fields.String()
    county = fields.String(allow_none=True)
    minerals = fields.List(fields.String())
    scale = fields.String(allow_none=True)
    listed_on = fields.String()
    listed_year = fields.Integer()
    status = fields.String(metadata={"description": "listed 在库 / marked 标注 / removed 已移出名录"})
    mark_reason = fields.String(allow_none=True, metadata={"description": "标注原因（公开）"})
    announcement_id = fields.String()
    announcement_no = fields.String(metadata={"description": "纳入名录的公告文号"})


class HistorySchema(Schema):
    at = fields.DateTime()
    action = fields.String(metadata={"description": "listed / marked / unmarked / removed"})
    reason = fields.String(allow_none=True)
    announcement_id = fields.String(allow_none=True)
    announcement_no = fields.String(allow_none=True)
    document_no = fields.String(allow_none=True)


class GreenMineDetailSchema(GreenMineSchema):
    total = fields.String(allow_none=True)
    batch_id = fields.String()
    removal = fields.Dict(allow_none=True,
                          metadata={"description": "移出名录：reason, document_no, on, announcement_no"})
    history = fields.List(fields.Nested(HistorySchema))


class AnnouncementBriefSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "listing 名录公告 / removal 移出名录公告 / bulletin 通报"})
    kind_label = fields.String()
    number = fields.String(metadata={"description": "内蒙古自治区绿色矿山名录公告〔2026〕第N号"})
    title = fields.String()
    year = fields.Integer()
    published_at = fields.DateTime()
    published_on = fields.String()
    item_count = fields.Integer()
    issuer = fields.String()


class AnnouncementSchema(AnnouncementBriefSchema):
    text = fields.String(metadata={"description": "正文"})
    columns = fields.List(fields.String())
    rows = fields.List(fields.List(fields.String()), metadata={"description": "附表"})
    refs = fields.Dict()


class ListingBody(Body):
    application_ids = fields.List(fields.String(validate=validate.Length(max=64)), load_default=None,
                                  allow_none=True, validate=validate.Length(min=1, max=500),
                                  metadata={"description": "列入名录的申报（默认：该批次全部可列入的矿山）"})


class ListingResultSchema(Schema):
    announcements = fields.List(fields.Nested(AnnouncementSchema))
    listed = fields.List(fields.String(), metadata={"description": "本次列入名录的矿山"})
    changed = fields.Boolean(metadata={"description": "false：此前已确认，未作改变"})


class RemovalBody(Body):
    mine_ids = fields.List(fields.String(validate=validate.Length(max=64)), required=True,
                           validate=validate.Length(min=1, max=200))
    document_no = fields.String(required=True, validate=validate.Length(max=64),
                                metadata={"description": "协调机制审定文号"})
    reasons = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(max=500)),
                          load_default=dict, metadata={"description": "矿山 → 移出原因"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                           metadata={"description": "未单列原因的矿山的移出原因"})


class RemovalResultSchema(Schema):
    announcement = fields.Nested(AnnouncementSchema)
    removed = fields.List(fields.String())
    changed = fields.Boolean()


class MarkBody(Body):
    reason = fields.String(required=True, validate=validate.Length(max=500), metadata={"description": "原因（公开）"})
    unmark = fields.Boolean(load_default=False, metadata={"description": "true：取消标注"})


def list_filters(args) -> dict:
    """The list's filters from query arguments (pages and exports: unknown values are ignored, not refused)."""
    def one(name, allowed=None):
        value = (args.get(name) or "").strip()
        return value if value and (allowed is None or value in allowed) else None

    year = one("year")
    return {"league": one("league", LEAGUES), "mineral": one("mineral"), "scale": one("scale", SCALE_LABELS),
            "year": int(year) if year and year.isdigit() and len(year) == 4 else None,
            "status": one("status", ("listed", "marked")), "q": (one("q") or "")[:50] or None}


def link_header(base: str, args: dict, page: int, pages: int, per_page: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages."""
    kept = {k: v for k, v in args.items() if v not in (None, "")}

    def url(p):
        return f"{base}?{urlencode({**kept, 'page': p, 'per_page': per_page})}"

    links = [(1, "first")]
    if page > 1:
        links.append((page - 1, "prev"))
    if page < pages:
        links.append((page + 1, "next"))
    links.append((max(pages, 1), "last"))
    return ", ".join(f'<{url(p)}>; rel="{rel}"' for p, rel in links)


def routes(web, bus) -> None:
    api, public, db = web.api, web.public, web.db
    list_api = _list_blueprint(web)
    cache = queries.ListCache()

    def actor():
        return identity.current_principal()

    @api.route("/batches/<batch_id>/listing")
    class Listing(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(ListingBody)
        @api.response(200, ListingResultSchema)
        @document_errors(api, 403, 404, 409, 422)
        def post(self, body, batch_id):
            """Confirm the listing of a closed 公示 batch: its mines enter the 名录 and one numbered 公告 is
            published. Repeating it changes nothing (changed: false)."""
            ids = body.get("application_ids")
            return bus.handle(ConfirmListing(actor(), batch_id, tuple(ids) if ids is not None else None))

    @api.route("/removals")
    class Removals(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(RemovalBody)
        @api.response(200, RemovalResultSchema)
        @document_errors(api, 403, 404, 409, 422)
        def post(self, body):
            """移出名录 by the 协调机制's decision, with one numbered 名录公告 (idempotent per decision and mines)."""
            return bus.handle(AnnounceRemoval(actor(), tuple(body["mine_ids"]), body["document_no"],
                                              reasons=body["reasons"], reason=body["reason"]))

    @api.route("/listings/<mine_id>/marks")
    class Marks(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(MarkBody)
        @api.response(200, GreenMineDetailSchema)
        @document_errors(api, 403, 404, 409, 422)
        def post(self, body, mine_id):
            """标注 a listed mine with its public reason, or lift the mark (unmark: true)."""
            return bus.handle(MarkMine(actor(), mine_id, body["reason"], unmark=body["unmark"]))

    @api.route("/announcements")
    class Announcements(MethodView):
        @identity.public
        @api.response(200, AnnouncementBriefSchema(many=True))
        def get(self):
            """The numbered announcements (名录公告, 移出名录公告, 通报), newest first (no sign-in)."""
            return queries.announcements(db())

    @api.route("/announcements/<announcement_id>")
    class AnnouncementOne(MethodView):
        @identity.public
        @api.response(200, AnnouncementSchema)
        @document_errors(api, 404)
        def get(self, announcement_id):
            """One announcement with its text and table (no sign-in)."""
            found = queries.announcement(db(), announcement_id)
            if found is None:
                abort(404, "没有这份公告")
            return found

    @list_api.route("")
    class GreenMineList(MethodView):
        @identity.public
        @list_api.arguments(ListQuerySchema, location="query")
        @list_api.response(200, GreenMineSchema(many=True), headers={
            "X-Total-Count": {"description": "符合条件的矿山数", "schema": {"type": "integer"}},
            "Link": {"description": "RFC 8288 分页链接 first/prev/next/last", "schema": {"type": "string"}}})
        @document_errors(list_api, 422)
        def get(self, query):
            """The public green-mine list (名录): mines listed or marked, by 盟市 then name; filtered by 盟市,
            矿种, 规模, listing year, status and a part of the mine's or enterprise's name; paginated."""
            page, per_page = query.pop("page"), query.pop("per_page")
            rows, total = queries.list_page(db(), page=page, per_page=per_page, cache=cache, **query)
            pages = max(math.ceil(total / per_page), 1)
            return rows, 200, {"X-Total-Count": str(total),
                               "Link": link_header(request.base_url, query, page, pages, per_page)}

    @list_api.route("/<mine_id>")
    class GreenMineOne(MethodView):
        @identity.public
        @list_api.response(200, GreenMineDetailSchema)
        @document_errors(list_api, 404)
        def get(self, mine_id):
            """One mine of the list with its history (a removed mine too: status removed, with the reason)."""
            found = queries.mine(db(), mine_id)
            if found is None:
                abort(404, "名录中没有这座矿山")
            return found

    labels = {"status_labels": STATUS_LABELS, "scale_labels": SCALE_LABELS, "action_labels": ACTION_LABELS,
              "kind_labels": KIND_LABELS}

    @public.get("/list")
    @identity.public
    def public_list():
        filters = list_filters(request.args)
        try:
            page = max(int(request.args.get("page") or 1), 1)
        except ValueError:
            page = 1
        per_page = 20
        rows, total = queries.list_page(db(), page=page, per_page=per_page, cache=cache, **filters)
        pages = max(math.ceil(total / per_page), 1)
        args = {k: v for k, v in filters.items() if v}
        return render_template("public_notice/list.html", mines=rows, total=total, page=page, pages=pages,
                               filters=filters, args=args, query=urlencode(args), leagues=LEAGUES,
                               minerals=queries.minerals(db(), cache), years=queries.years(db(), cache), **labels)

    @public.get("/list/<mine_id>")
    @identity.public
    def public_mine(mine_id):
        found = queries.mine(db(), mine_id)
        if found is None:
            abort(404)
        return render_template("public_notice/listing/mine.html", mine=found, **labels)

    @public.get("/announcements")
    @identity.public
    def public_announcements():
        return render_template("public_notice/listing/announcements.html",
                               announcements=queries.announcements(db()))

    @public.get("/announcements/<announcement_id>")
    @identity.public
    def public_announcement(announcement_id):
        found = queries.announcement(db(), announcement_id)
        if found is None:
            abort(404)
        return render_template("public_notice/listing/announcement.html", a=found)

    @public.get("/notices")
    @identity.public
    def public_notices():
        return render_template("public_notice/notices.html", notices=queries.announcements(db(), limit=100))

    list_exports.routes(web, bus, cache)


def _list_blueprint(web):
    from public_notice.entrypoints.http import NoticeApi

    blueprint = NoticeApi("green_mine_list", __name__, url_prefix="/api/v1/list",
                          description="绿色矿山名录（公开，无需登录）")
    web.extra.append(blueprint)
    return blueprint
