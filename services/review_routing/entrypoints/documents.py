"""Printable sheets as PDF and the queues as spreadsheets (`/review/...`, beside the pages).

- `GET /review/tasks/<task>/opinion-sheet.pdf`: 部门审核意见表 of the task's current opinion;
- `GET /review/cases/<id>/countersign.pdf[?version=n]`: 会签单 of a case version (default the latest);
- `GET /review/cases/<id>/decision.pdf[?version=n]`: 初审意见 of a decided version;
- `GET /review/cases.xlsx`: the bureau's (region office: every) case list;
- `GET /review/queue.xlsx[?department=]`: the caller's review queue (as on the workspace).

PDFs open inline in the browser (`shared.documents`); spreadsheets download. Who may see what is the same as
for the pages: each view sends a command through the bus and renders its answer.
"""
from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file

from review_routing.domain import commands as c
from review_routing.domain.access import Actor
from review_routing.service_layer.common import department_name
from shared import identity
from shared.bus import MessageBus
from shared.contracts import DEPARTMENT_CODES
from shared.display import local_time
from shared.documents import pdf_response, render_pdf
from shared.errors import DomainError, FieldError, InvalidInput
from shared.web import http_status

READERS = ("department_reviewer", "bureau", "region_office")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor() -> Actor:
    p = identity.current_principal()
    return Actor(username=p.username, role=p.role, display_name=p.display_name, department=p.department,
                 area=p.area, county=p.county)


def _version_arg() -> int | None:
    raw = request.args.get("version")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or not 0 < int(raw) < 10_000:
        raise InvalidInput("版本号有误", [FieldError("version", "应为申报版本号（正整数）")])
    return int(raw)


def _pdf(template: str, sheet: dict, filename: str):
    return pdf_response(render_pdf(render_template(template, sheet=sheet)), filename)


def workbook(title: str, headers: list[str], rows: list[list]) -> bytes:
    """One sheet with a bold header row, frozen below it, columns sized to their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(["" if v is None else v for v in row])
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(8, width * 2 + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx(data: bytes, filename: str):
    response = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def case_rows(cases: list[dict]) -> list[list]:
    return [[x.get("case_no") or "", x["mine"], x["enterprise"], f"{x['league']}{x.get('county') or ''}",
             f"第{x['version_no']}版", x["status_label"], f"{x['agreed']}/{x['tasks']}", x["with_opinion"],
             x["overdue"], local_time(x["routed_at"])] for x in cases]


CASE_HEADERS = ["办件编号", "矿山", "企业", "盟市/旗县", "版本", "状态", "同意部门/部门数", "已出具意见", "逾期部门数",
                "分派时间（北京时间）"]
QUEUE_HEADERS = ["办件编号", "矿山", "盟市/旗县", "版本", "审核内容", "办理期限", "是否逾期", "状态", "办理人",
                 "催办次数", "最近催办", "分派时间（北京时间）"]
DECISION_LABELS = {"agree": "同意", "return": "退回补正", "disagree": "不同意"}


def queue_rows(items: list[dict]) -> list[list]:
    rows = []
    for t in items:
        content = f"{t['indicators']} 项指标" + (f"、{t['prerequisites']} 项先决条件" if t["prerequisites"] else "")
        status = t["status_label"] + (f"（{DECISION_LABELS[t['decision']]}）" if t.get("decision") in DECISION_LABELS
                                      else "")
        reminded = t.get("reminded")
        last = f"{reminded['message']}（{reminded['by_name']}，{local_time(reminded['at'])}）" if reminded else ""
        rows.append([t.get("case_no") or "", t["mine_name"] or t["mine_id"], f"{t['league']}{t['county']}",
                     f"第{t['version_no']}版", content, t["due_date"] or "",
                     f"逾期 {t['days_overdue']} 个工作日" if t["overdue"] else "否", status,
                     t.get("claimed_by_name") or t["claimed_by"] or "",
                     t["reminders"],
                     last,
                     local_time(t.get("assigned_at"))])
    return rows


def documents_blueprint(bus: MessageBus) -> Blueprint:
    docs = Blueprint("review_routing_documents", __name__, url_prefix="/review")
    catalogs, clock = bus.dependencies["catalogs"], bus.dependencies["clock"]

    @docs.errorhandler(DomainError)
    def document_error(exc: DomainError):
        status = http_status(exc)
        return render_template("greenmine/error.html", status=status, message=exc.message), status

    @docs.get("/tasks/<task_id>/opinion-sheet.pdf")
    @identity.requires(*READERS)
    def opinion_sheet(task_id):
        sheet = bus.handle(c.PrintOpinionSheet(_actor(), task_id))
        return _pdf("review_routing/print/opinion_sheet.html", sheet,
                    f"部门审核意见表-{sheet['case_no'] or sheet['application_id']}-{sheet['department']}.pdf")

    @docs.get("/cases/<application_id>/countersign.pdf")
    @identity.requires("bureau", "region_office")
    def countersign_sheet(application_id):
        sheet = bus.handle(c.PrintCountersignSheet(_actor(), application_id, _version_arg()))
        return _pdf("review_routing/print/countersign_sheet.html", sheet,
                    f"会签单-{sheet['case_no'] or sheet['application_id']}-第{sheet['version_no']}版.pdf")

    @docs.get("/cases/<application_id>/decision.pdf")
    @identity.requires("bureau", "region_office")
    def decision_sheet(application_id):
        sheet = bus.handle(c.PrintDecision(_actor(), application_id, _version_arg()))
        return _pdf("review_routing/print/decision_sheet.html", sheet,
                    f"初审意见-{sheet['case_no'] or sheet['application_id']}-第{sheet['version_no']}版.pdf")

    @docs.get("/cases.xlsx")
    @identity.requires("bureau", "region_office")
    def cases_export():
        me = _actor()
        cases = bus.handle(c.ListCases(me))
        stamp = clock()
        return _xlsx(workbook("申报初审", CASE_HEADERS, case_rows(cases)),
                     f"申报初审-{me.area or '自治区'}-{local_time(stamp, '%Y%m%d')}.xlsx")

    @docs.get("/queue.xlsx")
    @identity.requires(*READERS)
    def queue_export():
        me = _actor()
        department = me.department if me.role == "department_reviewer" else "natural_resources"
        if me.role == "region_office" and request.args.get("department") in DEPARTMENT_CODES:
            department = request.args["department"]
        queue = bus.handle(c.ShowQueue(me, department, limit=10_000))
        name = department_name(catalogs, department)
        stamp = clock()
        return _xlsx(workbook(f"{name}审核队列", QUEUE_HEADERS, queue_rows(queue["items"])),
                     f"{name}审核队列-{me.area or '自治区'}-{local_time(stamp, '%Y%m%d')}.xlsx")

    return docs
