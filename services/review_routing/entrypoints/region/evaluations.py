"""The institution's evaluation on the web: API under `/api/v1/evaluation/evaluations` (the draft saved as it
goes, images, submission, the 评估报告 PDF), pages `/evaluation/evaluations` (the list) and
`/evaluation/evaluations/<id>` (the evaluator's form; read-only for the region office and after submission)."""
from __future__ import annotations

import io

from flask import render_template, send_file
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from review_routing.entrypoints.schemas import Body
from review_routing.service_layer.region import evaluations as ev
from shared import identity
from shared import text as texts
from shared.documents import pdf_response, render_pdf
from shared.schemas import document_errors

READERS = ("region_office", "admin", "evaluator")
WRITERS = ("evaluator",)
IMAGE_TYPES = ("image/jpeg", "image/png")


def actor():
    from review_routing.entrypoints.http import actor as current

    return current()


# -- bodies and answers ---------------------------------------------------------------------------------------
class DraftBody(Body):
    indicators = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict, metadata={
        "description": "指标序号 → {score | findings | deductions | items，或 not_applicable: true 与 reason；"
                       "record: {inspectors: [本机构评估人员姓名], location, date (YYYY-MM-DD，不晚于今天), "
                       "observations}}；只需给出变更的指标，某项为 null 则清空该项；record 为 null 则清空核查记录"})
    prerequisites = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict,
                                metadata={"description": "先决条件编号 (P1–P5) → {met: true/false, note}"
                                                         "（不满足须写明情况）；null 则清空"})


class ImageUpload(Schema):
    photo = Upload(required=True, metadata={"description": "JPEG 或 PNG（现场影像资料）"})


class ImageForm(Schema):
    class Meta:
        unknown = EXCLUDE

    indicator = fields.Integer(load_default=None, allow_none=True,
                               metadata={"description": "所属指标序号（不填为总体影像）"},
                               error_messages={"invalid": "应为指标序号（整数）"})
    caption = fields.String(load_default="", validate=validate.Length(max=200, error="图片说明最多 200 字"),
                            metadata={"description": "图片说明"})


class Image(Schema):
    image_id = fields.String(required=True)
    indicator = fields.Integer(allow_none=True)
    caption = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_by_name = fields.String()
    uploaded_at = fields.String()
    url = fields.String()


class Problem(Schema):
    field = fields.String()
    message = fields.String()


class DraftAnswer(Schema):
    evaluation_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["draft", "submitted"]})
    status_label = fields.String()
    version = fields.Integer(allow_none=True)
    judged = fields.Integer(metadata={"description": "已评分的指标数"})
    applicable = fields.Integer(metadata={"description": "适用的指标数"})
    updated_at = fields.String(allow_none=True)
    problems = fields.List(fields.Nested(Problem), metadata={"description": "提交前尚须完成的事项"})


class EvaluationRow(Schema):
    evaluation_id = fields.String(required=True)
    commission_id = fields.String()
    review_id = fields.String()
    case_no = fields.String(allow_none=True)
    league = fields.String()
    enterprise_name = fields.String(allow_none=True)
    mine_name = fields.String(allow_none=True)
    institution = fields.Dict()
    status = fields.String(metadata={"enum": ["not_started", "draft", "submitted"]})
    status_label = fields.String()
    judged = fields.Integer()
    applicable = fields.Integer(allow_none=True)
    images = fields.Integer()
    updated_at = fields.String(allow_none=True)
    total = fields.String(allow_none=True)
    verdict = fields.String(allow_none=True)
    verdict_label = fields.String(allow_none=True)
    due_date = fields.String(allow_none=True)


class EvaluationView(Schema):
    evaluation_id = fields.String(required=True)
    commission_id = fields.String()
    review_id = fields.String()
    application_id = fields.String()
    version_no = fields.Integer()
    league = fields.String()
    case_no = fields.String(allow_none=True)
    enterprise = fields.Dict()
    mine = fields.Dict()
    county = fields.String(allow_none=True)
    institution = fields.Dict()
    catalog = fields.String()
    mine_profile = fields.Dict()
    status = fields.String(metadata={"enum": ["draft", "submitted"]})
    status_label = fields.String()
    saved = fields.Boolean(metadata={"description": "是否已保存过（false：尚未开始）"})
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)
    updated_by = fields.String(allow_none=True)
    commissioned_at = fields.String()
    accepted_at = fields.String(allow_none=True)
    due_date = fields.String(allow_none=True)
    pledges = fields.List(fields.Dict(), metadata={"description": "签署的承诺：标题、版本、SHA-256"})
    signer = fields.Dict(allow_none=True)
    indicators = fields.List(fields.Dict(), metadata={"description": "逐项：评分、核查记录、影像"})
    entries = fields.Dict(metadata={"description": "指标序号 → 评分（评分合同的格式）"})
    prerequisites = fields.List(fields.Dict())
    general_images = fields.List(fields.Nested(Image))
    images = fields.List(fields.Nested(Image))
    staff = fields.List(fields.String(), metadata={"description": "本机构登记的评估人员（核查人员从中选）"})
    judged = fields.Integer()
    applicable = fields.Integer()
    problems = fields.List(fields.Nested(Problem))
    submitted = fields.Dict(allow_none=True)
    report = fields.Dict(allow_none=True, metadata={"description": "评分服务的结论（提交后）：总分、结论等"})
    history = fields.List(fields.Dict(), metadata={"description": "办理记录（新的在前）"})
    today = fields.String()
    permissions = fields.Dict()


class SubmitAnswer(Schema):
    evaluation_id = fields.String(required=True)
    review_id = fields.String()
    status = fields.String()
    status_label = fields.String()
    assessment_id = fields.String(allow_none=True, metadata={"description": "评分服务的评估记录 id"})
    total = fields.String(allow_none=True)
    verdict = fields.String(allow_none=True)
    verdict_label = fields.String(allow_none=True)
    submitted_at = fields.String(allow_none=True)
    report_url = fields.String()


def _image_response(image: dict, stream):
    response = send_file(io.BytesIO(stream.read()), mimetype=image["content_type"], as_attachment=True,
                         download_name=image["filename"], etag=image["sha256"], max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def routes(api, pages, bus) -> None:
    @api.route("/evaluations")
    class Evaluations(MethodView):
        @identity.requires(*READERS)
        @api.response(200, EvaluationRow(many=True))
        @document_errors(api, 401, 403)
        def get(self):
            """The evaluations of the accepted commissions (an evaluator: its institution's; the office: all)."""
            return bus.handle(ev.ListEvaluations(actor()))

    @api.route("/evaluations/<evaluation_id>")
    class Evaluation(MethodView):
        @identity.requires(*READERS)
        @api.response(200, EvaluationView)
        @document_errors(api, 401, 403, 404)
        def get(self, evaluation_id):
            """One evaluation: per indicator the score, the 核查记录 and the images; the prerequisites; the pledges
            signed; what is left before submission."""
            return bus.handle(ev.ShowEvaluation(actor(), evaluation_id))

        @identity.requires(*WRITERS)
        @api.arguments(DraftBody)
        @api.response(200, DraftAnswer)
        @document_errors(api, 401, 403, 404, 409, 422)
        def put(self, body, evaluation_id):
            """Save (part of) the draft: the indicators and prerequisites given; the first save starts it."""
            return bus.handle(ev.SaveEvaluationDraft(actor(), evaluation_id, body))

    @api.route("/evaluations/<evaluation_id>/images")
    class Images(MethodView):
        @identity.requires(*WRITERS)
        @api.arguments(ImageUpload, location="files")
        @api.arguments(ImageForm, location="form")
        @api.response(201, Image)
        @document_errors(api, 401, 403, 404, 409, 413, 422)
        def post(self, files, form, evaluation_id):
            """Upload an image (JPEG/PNG) of the site, tied to an indicator or general."""
            upload = files["photo"]
            data = upload.read(bus.dependencies["photo_policy"].max_bytes + 1)
            name = texts.safe_filename(upload.filename, default="现场影像")
            return bus.handle(ev.UploadEvaluationImage(actor(), evaluation_id, name, upload.mimetype, data,
                                                       form.get("indicator"), form.get("caption") or "")), 201

    @api.route("/evaluations/<evaluation_id>/images/<image_id>")
    class OneImage(MethodView):
        @identity.requires(*READERS)
        @api.doc(responses={"200": {"description": "图片文件（以附件下载）", "content": {
            t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}}})
        @document_errors(api, 401, 403, 404)
        def get(self, evaluation_id, image_id):
            """Download one of the evaluation's images."""
            image, stream = bus.handle(ev.OpenEvaluationImage(actor(), evaluation_id, image_id))
            return _image_response(image, stream)

        @identity.requires(*WRITERS)
        @api.response(200, Image)
        @document_errors(api, 401, 403, 404, 409)
        def delete(self, evaluation_id, image_id):
            """Remove an image from the draft."""
            return bus.handle(ev.RemoveEvaluationImage(actor(), evaluation_id, image_id))

    @api.route("/evaluations/<evaluation_id>/submit")
    class Submit(MethodView):
        @identity.requires(*WRITERS)
        @api.response(200, SubmitAnswer)
        @document_errors(api, 401, 403, 404, 409, 422, 503)
        def post(self, evaluation_id):
            """Submit the report: recorded by scoring (stage third-party evaluation), the case is then evaluated.
            A banned institution's report is refused (409) with the reason; a replay answers the stored result."""
            return bus.handle(ev.SubmitEvaluation(actor(), evaluation_id))

    @api.route("/evaluations/<evaluation_id>/report.pdf")
    class Report(MethodView):
        @identity.requires(*READERS)
        @api.doc(responses={"200": {"description": "评估报告（PDF）", "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
        @document_errors(api, 401, 403, 404)
        def get(self, evaluation_id):
            """The 评估报告 as PDF: cover, score sheet, 核查记录, images, prerequisites, total and verdict, pledges."""
            report = bus.handle(ev.ShowEvaluationReport(actor(), evaluation_id))
            html = render_template("review_routing/print/evaluation_report.html", r=report)
            name = f"评估报告-{report.get('case_no') or report['application_id']}.pdf"
            return pdf_response(render_pdf(html), name)

    @pages.get("/evaluations")
    @identity.requires(*READERS)
    def evaluations_page():
        rows = bus.handle(ev.ListEvaluations(actor()))
        return render_template("review_routing/region/evaluations.html", rows=rows, me=actor())

    @pages.get("/evaluations/<evaluation_id>")
    @identity.requires(*READERS)
    def evaluation_page(evaluation_id):
        view = bus.handle(ev.ShowEvaluation(actor(), evaluation_id))
        return render_template("review_routing/region/evaluation.html", v=view, me=actor())
