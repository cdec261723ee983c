"""公示 (publicity) on the web.

Region office (admin reads): `GET /api/v1/notice/proposals` (waiting cases, `?league=` a 盟市), `POST
/api/v1/notice/batches` (compose a draft from `application_ids`), `GET /api/v1/notice/batches[/{id}]`, `PATCH` and
`DELETE …/batches/{id}` (a draft only), `POST …/batches/{id}/publish`; pages `/notice/publicity` and
`/notice/publicity/{id}`.

No sign-in: `GET /api/v1/notice/window?start=&working_days=` (the computed window, each day off named, for the
form's live preview), `GET /api/v1/notice/publicity[/{batch_id}]` (published, open and closed batches with their
mines), pages `/public/publicity` and `/public/publicity/{id}` (the formal 公示 text, printable)."""
from __future__ import annotations

from datetime import date

from flask import abort, render_template
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from public_notice.domain import publicity as rules
from public_notice.service_layer import publicity as area
from public_notice.service_layer.publicity import ChangeBatch, ComposeBatch, DeleteBatch, PublishBatch
from shared import identity
from shared.clock import utcnow
from shared.errors import FieldError, InvalidInput, NotFound
from shared.schemas import Body, document_errors
from shared.workdays import WorkingCalendar, beijing_date

READERS = ("region_office", "admin")
CONTACT = "内蒙古自治区自然资源厅矿产资源保护监督处"


# -- bodies and answers -------------------------------------------------------------------------------------------
class ProposalArgs(Schema):
    league = fields.String(load_default=None, metadata={"description": "盟市"})


class WindowArgs(Schema):
    start = fields.Date(load_default=None, metadata={"description": "公示开始日期；不填为今天之后的第一个工作日"})
    working_days = fields.Integer(load_default=rules.DEFAULT_WORKING_DAYS,
                                  validate=validate.Range(rules.MIN_WORKING_DAYS, rules.MAX_WORKING_DAYS),
                                  metadata={"description": "公示期（工作日，1–30）"})


class ComposeBody(Body):
    application_ids = fields.List(fields.String(), required=True,
                                  metadata={"description": "待公示案件的申请 id（一个批次可含多个盟市）"})
    title = fields.String(load_default=None, allow_none=True,
                          metadata={"description": "标题；不填为“内蒙古自治区{年}年第{n}批绿色矿山遴选结果公示”"})
    working_days = fields.Raw(load_default=None, allow_none=True, metadata={"description": "公示期工作日数，默认5"})
    start_date = fields.String(load_default=None, allow_none=True,
                               metadata={"description": "开始日期 YYYY-MM-DD（须为工作日）；不填为发布后第一个工作日"})


class ChangeBody(Body):
    title = fields.String(load_default=None, allow_none=True)
    working_days = fields.Raw(load_default=None, allow_none=True)
    start_date = fields.String(load_default=None, allow_none=True,
                               metadata={"description": "YYYY-MM-DD；空字符串恢复默认（发布后第一个工作日）"})
    add = fields.List(fields.String(), load_default=list, metadata={"description": "加入的待公示案件申请 id"})
    remove = fields.List(fields.String(), load_default=list, metadata={"description": "移出的申请 id"})


class Anything(Schema):
    class Meta:
        unknown = "include"


class ProposalView(Schema):
    class Meta:
        unknown = "include"

    application_id = fields.String(required=True)
    review_id = fields.String()
    version_no = fields.Integer()
    mine_name = fields.String()
    enterprise_name = fields.String()
    credit_code = fields.String(allow_none=True)
    league = fields.String(metadata={"description": "盟市"})
    county = fields.String(allow_none=True)
    minerals = fields.List(fields.String())
    scale = fields.String(allow_none=True)
    total = fields.String(allow_none=True, metadata={"description": "评估总分（精确小数）"})
    institution_name = fields.String(allow_none=True)
    case_no = fields.String(allow_none=True)
    proposed_at = fields.String(allow_none=True)


class SkippedDay(Schema):
    date = fields.String()
    label = fields.String()
    holiday = fields.String(allow_none=True, metadata={"description": "节日名称（国庆节、春节…），周末为空"})
    reason = fields.String()


class WindowView(Schema):
    start = fields.String(required=True)
    end = fields.String(required=True)
    start_label = fields.String()
    end_label = fields.String()
    working_days = fields.Integer()
    calendar_days = fields.Integer()
    skipped = fields.List(fields.Nested(SkippedDay))


class PublicMine(Schema):
    application_id = fields.String()
    mine_name = fields.String()
    enterprise_name = fields.String()
    credit_code = fields.String(allow_none=True)
    league = fields.String(metadata={"description": "盟市"})
    county = fields.String(allow_none=True)
    minerals = fields.List(fields.String(), metadata={"description": "矿种"})
    scale = fields.String(allow_none=True)
    scale_label = fields.String()
    total = fields.String(allow_none=True, metadata={"description": "评估总分"})
    case_no = fields.String(allow_none=True)


class PublicBatch(Schema):
    batch_id = fields.String(required=True)
    title = fields.String()
    year = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": ["published", "open", "closed"]})
    status_label = fields.String()
    working_days = fields.Integer()
    window_start = fields.String()
    window_end = fields.String()
    published_at = fields.String(allow_none=True)
    closed_on = fields.String(allow_none=True)
    accepts_objections = fields.Boolean()
    days_left = fields.Integer(metadata={"description": "公示期剩余工作日（含今天）"})
    mines = fields.List(fields.Nested(PublicMine))


class BatchView(Schema):
    class Meta:
        unknown = "include"

    id = fields.String(required=True)
    title = fields.String()
    status = fields.String(metadata={"enum": ["draft", "published", "open", "closed"]})
    status_label = fields.String()
    working_days = fields.Integer()
    window_start = fields.String()
    window_end = fields.String()
    start_chosen = fields.Boolean()
    counts = fields.Dict()
    entries = fields.List(fields.Dict())
    history = fields.List(fields.Dict())


# -- the views ----------------------------------------------------------------------------------------------------
def routes(web, bus) -> None:
    api, pages, public = web.api, web.pages, web.public
    deps = getattr(bus, "dependencies", {}) or {}

    def uow():
        return bus.uow_factory()

    def today() -> date:
        return beijing_date(deps.get("clock", utcnow)())

    def calendar() -> WorkingCalendar:
        return deps.get("calendar") or WorkingCalendar()

    def public_batches() -> list[dict]:
        day = today()
        return [b.public_view(day, calendar()) for b in area.batches(uow(), day, include_drafts=False)]

    def public_batch(batch_id: str) -> dict:
        batch = area.batch(uow(), batch_id)
        if batch.status == "draft":
            raise NotFound("没有这个公示批次")
        return batch.public_view(today(), calendar())

    def staff_batch(batch_id: str) -> dict:
        return area.batch(uow(), batch_id).staff_view(today())

    @api.route("/proposals")
    class Proposals(MethodView):
        @identity.requires(*READERS)
        @api.arguments(ProposalArgs, location="query")
        @api.response(200, ProposalView(many=True))
        @document_errors(api, 401, 403, 422)
        def get(self, args):
            """The cases the region proposed (拟公示) that wait for a batch, by 盟市 and mine name."""
            return area.waiting_proposals(uow(), args.get("league"))

    @api.route("/batches")
    class Batches(MethodView):
        @identity.requires(*READERS)
        @api.response(200, BatchView(many=True))
        @document_errors(api, 401, 403)
        def get(self):
            """Every batch (drafts too), newest first, with its state counts."""
            day = today()
            return [b.staff_view(day) for b in area.batches(uow(), day)]

        @identity.requires("region_office")
        @api.arguments(ComposeBody)
        @api.response(201, BatchView)
        @document_errors(api, 401, 403, 422)
        def post(self, body):
            """Compose a draft batch from waiting proposals (by application id); 201 with the computed window."""
            return bus.handle(ComposeBatch(identity.current_principal(), tuple(body["application_ids"]),
                                           body.get("title"), body.get("working_days"), body.get("start_date"))), 201

    @api.route("/batches/<batch_id>")
    class Batch(MethodView):
        @identity.requires(*READERS)
        @api.response(200, BatchView)
        @document_errors(api, 401, 403, 404)
        def get(self, batch_id):
            """One batch with its entries, their states and its history (who did what, when)."""
            return staff_batch(batch_id)

        @identity.requires("region_office")
        @api.arguments(ChangeBody)
        @api.response(200, BatchView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def patch(self, body, batch_id):
            """Change a draft: title, working days, start date ("" for the default), add or remove cases."""
            start = body.get("start_date")
            return bus.handle(ChangeBatch(batch_id, identity.current_principal(), body.get("title"),
                                          body.get("working_days"), start or None, start == "",
                                          tuple(body.get("add") or ()), tuple(body.get("remove") or ())))

        @identity.requires("region_office")
        @api.response(200, Anything)
        @document_errors(api, 401, 403, 404, 409)
        def delete(self, batch_id):
            """Delete a draft (its cases wait again)."""
            return bus.handle(DeleteBatch(batch_id, identity.current_principal()))

    @api.route("/batches/<batch_id>/publish")
    class Publish(MethodView):
        @identity.requires("region_office")
        @api.response(200, BatchView)
        @document_errors(api, 401, 403, 404, 409, 422)
        def post(self, batch_id):
            """Publish a draft: at least one mine, a start not in the past (a default start becomes the first
            working day after today). The public sees it at once; the window opens on its start date."""
            return bus.handle(PublishBatch(batch_id, identity.current_principal()))

    @api.route("/window")
    class Window(MethodView):
        @identity.public
        @api.arguments(WindowArgs, location="query")
        @api.response(200, WindowView)
        @document_errors(api, 422)
        def get(self, args):
            """The window a start date and a number of working days give on the official calendar (法定节假日
            skipped, 调休 working Saturdays counted), each day off inside it named. 422 when the start is not a
            working day."""
            cal = calendar()
            start = args.get("start") or rules.first_start(cal, today())
            try:
                rules.check_start(cal, start)
            except InvalidInput as exc:
                raise InvalidInput(str(exc), [FieldError("start", e.message) for e in exc.errors]) from None
            return rules.window(cal, start, args["working_days"])

    @api.route("/publicity")
    class Publicity(MethodView):
        @identity.public
        @api.response(200, PublicBatch(many=True))
        def get(self):
            """The published 公示 batches (published, open, closed), newest first, each with its window, status and
            mines (name, enterprise, 盟市, mineral, scale, total score). No sign-in."""
            return public_batches()

    @api.route("/publicity/<batch_id>")
    class PublicityBatch(MethodView):
        @identity.public
        @api.response(200, PublicBatch)
        @document_errors(api, 404)
        def get(self, batch_id):
            """One published 公示 batch (no sign-in)."""
            return public_batch(batch_id)

    # -- pages ----------------------------------------------------------------------------------------------------
    @pages.get("/publicity")
    @identity.requires(*READERS)
    def publicity_workspace():
        day = today()
        proposals = area.waiting_proposals(uow())
        by_league: dict[str, list] = {}
        for p in proposals:
            by_league.setdefault(p["league"] or "未注明盟市", []).append(p)
        all_batches = [b.staff_view(day) for b in area.batches(uow(), day)]
        return render_template(
            "public_notice/publicity/workspace.html", by_league=by_league, proposal_count=len(proposals),
            drafts=[b for b in all_batches if b["status"] == "draft"],
            published=[b for b in all_batches if b["status"] != "draft"],
            preview=rules.window(calendar(), rules.first_start(calendar(), day), rules.DEFAULT_WORKING_DAYS),
            me=identity.current_principal(), states=rules.ENTRY_STATES, scales=rules.SCALE_LABELS,
            cn_date=rules.cn_date)

    @pages.get("/publicity/<batch_id>")
    @identity.requires(*READERS)
    def publicity_batch_page(batch_id):
        try:
            batch = staff_batch(batch_id)
        except NotFound:
            abort(404)
        proposals = area.waiting_proposals(uow()) if batch["status"] == "draft" else []
        return render_template("public_notice/publicity/batch.html", batch=batch, proposals=proposals,
                               me=identity.current_principal(), states=rules.ENTRY_STATES,
                               scales=rules.SCALE_LABELS, cn_date=rules.cn_date)

    @public.get("/publicity")
    @identity.public
    def public_publicity_list():
        found = public_batches()
        return render_template("public_notice/publicity/public_list.html",
                               open_batches=[b for b in found if b["status"] in ("open", "published")],
                               recent=[b for b in found if b["status"] == "closed"][:10], cn_date=rules.cn_date)

    @public.get("/publicity/<batch_id>")
    @identity.public
    def public_publicity_batch(batch_id):
        try:
            batch = public_batch(batch_id)
        except NotFound:
            abort(404)
        return render_template("public_notice/publicity/public_batch.html", batch=batch, contact=CONTACT,
                               cn_date=rules.cn_date)


def overview(bus) -> dict:
    """The region office's workspace counts: waiting proposals, open windows, objections by status, batches ready
    to list (closed, with mines no objection holds back)."""
    deps = getattr(bus, "dependencies", {}) or {}
    day = beijing_date(deps.get("clock", utcnow)())
    uow = bus.uow_factory()

    def read():
        found = [b.as_of(day) for b in uow.batches.find(status=["published", "open", "closed"])]
        objections: dict[str, int] = {}
        for objection in (uow.objections.find() if getattr(uow, "objections", None) is not None else []):
            status = getattr(objection, "status", None)
            objections[status] = objections.get(status, 0) + 1
        return {"waiting": len(uow.proposals.find(status="waiting")),
                "drafts": len(uow.batches.find(status="draft")),
                "announced": [b.staff_view(day) for b in found if b.status == "published"],
                "open": [{**b.staff_view(day), "end_label": rules.cn_date(b.window_end)} for b in found
                         if b.status == "open"],
                "ready": [{**b.staff_view(day), "listable": len(b.listable())} for b in found if b.listable()],
                "objections": objections}

    return uow.read(read)
