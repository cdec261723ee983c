"""The intake pages (Chinese, laptop and phone): the enterprise's workspace, the mine form, the self-assessment
form generated from the evaluation index, the materials checklist, the case page and the score sheet.

The forms are filled in the browser and sent to the JSON API (one validation path: the API's); this module only
renders.  Officials (盟市 bureau, reviewers, the region) see the same pages read-only within their area.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import generate_csrf

from intake.domain import commands as c
from intake.domain import materials as mat
from intake.domain.mine import INDUSTRY_GROUPS, MINERALS, MINING_METHODS, PRODUCTION_STATUSES, SCALES
from intake.domain.minerals import MINERAL_CATEGORIES
from intake.domain.plain import thaw
from intake.domain.status import CLOSED_STATUSES, STATUSES
from intake.service_layer.drafts import suggested_industry_variant
from intake.service_layer.form import form_model
from shared import identity, regions
from shared.clock import beijing_date, utcnow
from shared.documents import pdf_response, render_pdf
from shared.errors import Conflict, DomainError
from shared.web import NO_SCRIPT_POLICY, http_status

from . import presenters as views

STATIC = Path(__file__).resolve().parent.parent / "static"
VIEWERS = identity.ANY_SIGNED_IN


def _error_page(exc: DomainError, detail: str = ""):
    status = http_status(exc)
    return render_template("greenmine/error.html", status=status, message=exc.message + detail), status


def pages_blueprint(system, settings) -> Blueprint:
    """The pages; ``system()`` gives the wired service (``intake.bootstrap.Intake``): they read and act through its
    bus, like the API."""
    pages = Blueprint("intake_pages", __name__, url_prefix="/intake", static_folder=str(STATIC),
                      static_url_path="/static")

    def me():
        return identity.current_principal()

    def handle(command):
        return system().bus.handle(command)

    def today():
        return beijing_date(system().bus.dependencies.get("clock", utcnow)())

    @pages.app_template_global("status_label")
    def status_label(status):
        return STATUSES.get(status, status)

    @pages.get("/")
    @identity.requires("enterprise", "bureau", "department_reviewer", "region_office", "evaluator", "admin")
    def workspace():
        principal = me()
        mines = [views.mine_record_view(r) for r in handle(c.ListMines(principal))]
        applications = [views.application_list_item(d) for d in handle(c.ListApplications(principal))]
        open_by_mine = {}
        for a in applications:
            if a["status"] not in CLOSED_STATUSES:
                open_by_mine.setdefault(a["mine_id"], a)
        return render_template("intake/workspace.html", mines=mines, applications=applications,
                               open_by_mine=open_by_mine, is_enterprise=principal.role == "enterprise")

    @pages.get("/session")
    @identity.requires(*VIEWERS)
    def session_info():
        """A fresh CSRF token for a page whose session was renewed in another tab (autosave after sign-in)."""
        principal = me()
        return jsonify({"username": principal.username, "csrf_token": generate_csrf()})

    def mine_form_context(mine=None, mine_doc=None, readonly=False):
        principal = me()
        data = mine.to_dict() if mine is not None else None
        return {
            "mine": views.mine_view(mine, mine_doc, today()) if mine is not None else None,
            "mine_json": _js(data) if data else "null",
            "version": mine_doc.get("version") if mine_doc else None,
            "leagues": regions.LEAGUES,
            "regions_json": _js({league.code: [[c.code, c.name] for c in league.counties]
                                 for league in regions.LEAGUES}),
            "minerals_by_category": [(label, [m for m in MINERALS if m.category == cat])
                                     for cat, label in MINERAL_CATEGORIES.items()],
            "mineral_groups_json": _js({m.code: m.industry_group for m in MINERALS}),
            "scales": SCALES, "methods": MINING_METHODS, "statuses": PRODUCTION_STATUSES,
            "groups": INDUSTRY_GROUPS,
            "enterprise_name": (mine.enterprise.name if mine is not None
                                else (principal.display_name if principal.display_name != principal.username
                                      else "")),
            "credit_code": mine.credit_code if mine is not None else principal.enterprise,
            "readonly": readonly,
        }

    @pages.get("/mines/new")
    @identity.requires("enterprise")
    def mine_new():
        return render_template("intake/mine_form.html", **mine_form_context())

    @pages.get("/mines/<mine_id>")
    @identity.requires(*VIEWERS)
    def mine_page(mine_id):
        try:
            record = handle(c.GetMine(me(), mine_id))
        except DomainError as exc:
            return _error_page(exc)
        mine, doc = record.mine, record.doc
        readonly = not (me().role == "enterprise" and me().enterprise == mine.credit_code)
        return render_template("intake/mine_form.html", **mine_form_context(mine, doc, readonly))

    @pages.post("/mines/<mine_id>/apply")
    @identity.requires("enterprise")
    def apply(mine_id):
        try:
            loaded = handle(c.StartApplication(me(), mine_id))
        except Conflict as exc:
            flash(exc.message)
            existing = handle(c.ListApplications(me(), mine_id=mine_id))
            open_ones = [d for d in existing if d["status"] not in CLOSED_STATUSES]
            if open_ones:
                return redirect(f"/intake/applications/{open_ones[0]['_id']}")
            return redirect("/intake/")
        except DomainError as exc:
            return _error_page(exc)
        flash("已创建申报草稿，请填写自评估")
        return redirect(f"/intake/applications/{loaded.app.id}/form")

    def loaded_or_error(app_id):
        return handle(c.GetApplication(me(), app_id))

    def can_edit(loaded) -> bool:
        principal = me()
        return (principal.role == "enterprise" and principal.enterprise == loaded.app.credit_code
                and loaded.app.is_editable)

    def application_context(loaded):
        return {"application": views.loaded_view(loaded), "can_edit": can_edit(loaded), "catalog": loaded.catalog}

    @pages.get("/applications/<app_id>")
    @identity.requires(*VIEWERS)
    def case(app_id):
        try:
            loaded = loaded_or_error(app_id)
        except DomainError as exc:
            return _error_page(exc)
        context = application_context(loaded)
        return render_template("intake/case.html", **context)

    @pages.get("/applications/<app_id>/form")
    @identity.requires(*VIEWERS)
    def assessment_form(app_id):
        try:
            loaded = loaded_or_error(app_id)
        except DomainError as exc:
            return _error_page(exc)
        if loaded.mine is None:
            abort(404)
        model = form_model(loaded.catalog, loaded.mine.industry_group, loaded.mine.mining_method)
        context = application_context(loaded)
        draft = {"assessment": loaded.app.assessment, "records": dict(loaded.app.records),
                 "declared_penalties": loaded.app.declared_penalties}
        if not context["can_edit"] and loaded.app.latest_version is not None:
            v = loaded.app.latest_version
            draft = {"assessment": thaw(v.assessment), "records": thaw(v.records),
                     "declared_penalties": v.declared_penalties}
        evidence: dict[str, list] = {}
        source = loaded.app.attachments if context["can_edit"] or loaded.app.latest_version is None \
            else loaded.app.latest_version.attachments
        for a in source:
            if a.indicator:
                evidence.setdefault(a.indicator, []).append(views.attachment_view(a, app_id))
        reasons = {}
        current = loaded.app.current_return or (loaded.app.returns[-1] if loaded.app.returns else None)
        if current is not None and loaded.app.status in ("returned", "rectification"):
            reasons = dict(thaw(current.reasons))
        hints = loaded.mine.prerequisite_hints(today()).to_dict()
        variant = ((loaded.app.assessment or {}).get("mine") or {}).get("industry_variant") \
            or suggested_industry_variant(loaded.mine)
        return render_template(
            "intake/application_form.html", form=model, draft_json=_js(draft),
            evidence=evidence, return_reasons=reasons, hints=hints, industry_variant=variant,
            mine=views.mine_view(loaded.mine), form_json=_js(_form_js(model)),
            **context)

    @pages.get("/applications/<app_id>/materials")
    @identity.requires(*VIEWERS)
    def materials(app_id):
        try:
            loaded = loaded_or_error(app_id)
        except DomainError as exc:
            return _error_page(exc)
        context = application_context(loaded)
        by_kind: dict[str, list] = {}
        for a in loaded.app.attachments:
            by_kind.setdefault(a.kind, []).append(views.attachment_view(a, app_id))
        kinds = [k for k in mat.KINDS if k.item is not None] + [mat.kind_by_code(mat.OTHER)]
        rows = []
        checklist = {e["kind"]: e for e in context["application"]["materials"]}
        for k in kinds:
            accept = ",".join(sorted({e for t in k.content_types for e in mat.EXTENSIONS[t]}))
            rows.append({"kind": k, "entry": checklist.get(k.code), "files": by_kind.get(k.code, []),
                         "accept": accept, "limit_mb": min(k.max_bytes, settings.upload_max_bytes) // (1024 * 1024)})
        evidence = by_kind.get(mat.EVIDENCE, [])
        return render_template("intake/materials.html", rows=rows, evidence=evidence, items=mat.ITEMS, **context)

    @pages.get("/applications/<app_id>/receipt.pdf")
    @identity.requires(*VIEWERS)
    def receipt(app_id):
        """The printable receipt (回执) of the latest submitted version, or of ``?version=n``, as PDF."""
        version = request.args.get("version", type=int)
        try:
            r = handle(c.GetReceipt(me(), app_id, version))
        except DomainError as exc:
            return _error_page(exc)
        principal = me()
        submitted_by = principal.display_name if principal.username == r.submitted_by else ""
        html = render_template("intake/receipt.html", r=r, printed_at=utcnow(),
                               submitted_by=submitted_by or r.enterprise_name)
        name = f"申报受理回执-{r.case_no or app_id}-第{r.version}版.pdf"
        return pdf_response(render_pdf(html), name)

    @pages.get("/applications/<app_id>/sheet")
    @identity.requires(*VIEWERS)
    def sheet(app_id):
        """The printable score sheet (评分表) of this assessment, made by the scoring service."""
        fmt = request.args.get("format", "html")
        if fmt not in ("html", "xlsx"):
            abort(404)
        version = request.args.get("version", type=int)
        try:
            result = handle(c.GetScoreSheet(me(), app_id, version, fmt))
        except DomainError as exc:
            detail = "；".join(e.message for e in exc.errors)
            return _error_page(exc, f"：{detail}" if detail else "")
        response = Response(result.content, mimetype=result.content_type.split(";")[0])
        response.headers["Content-Security-Policy"] = NO_SCRIPT_POLICY  # the scoring service's printable sheet
        if fmt == "xlsx":
            name = f"绿色矿山评分表-{app_id}" + (f"-第{version}版" if version else "") + ".xlsx"
            response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return pages


def _js(value) -> str:
    """JSON safe inside a <script> element (no "</script>" or "<!--" can close or confuse it)."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _form_js(model: dict) -> dict:
    """What the form's script needs per indicator (kinds, points, provisional inputs, binding)."""
    indicators = {}
    for category in model["categories"]:
        for sub in category["subcategories"]:
            for i in sub["indicators"]:
                indicators[i["key"]] = {
                    "points": i["points"], "binding": i["binding"], "name": i["name"], "category": category["no"],
                    "kind": i["input"]["kind"] if i["input"] else None,
                    "variant_kinds": {k: v["kind"] for k, v in i["variants"].items()},
                    "provisional": i["input"]["provisional"] if i["input"] else None,
                    "applicable": i["applicable"], "no_rule": i["no_rule"],
                }
    return {"catalog": model["catalog"], "industry_group": model["industry_group"],
            "mining_method": model["mining_method"], "prerequisites": [p["code"] for p in model["prerequisites"]],
            "indicators": indicators, "pass_total": model["pass_total"]}
