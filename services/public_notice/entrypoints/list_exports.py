"""The list's files, no sign-in: `/public/list.csv` (UTF-8 with BOM, for Excel) and `/public/list.xlsx` (same
filters as the list page), `/public/announcements/{id}.pdf` (the formal A4 公告) and
`/public/list/{mine_id}/certificate.pdf` (an A4 landscape 名录证明 with a QR code to the mine's public page; a
removed mine gets 410 and a page saying why)."""
from __future__ import annotations

import csv
import io
from urllib.parse import quote

import segno
from flask import Response, abort, render_template, request

from public_notice.adapters import queries
from public_notice.domain.announcements import ISSUER, SCALE_LABELS, cn_day
from public_notice.domain.listing import STATUS_LABELS
from shared import identity
from shared.documents import pdf_response, render_pdf

COLUMNS = ["序号", "矿山名称", "企业名称", "统一社会信用代码", "盟市", "旗县", "矿种", "规模", "纳入名录日期",
           "状态", "标注原因", "公告文号"]
QR_SCALE = 6
QR_BORDER = 4


def export_rows(mines: list[dict]) -> list[list[str]]:
    return [[str(i), m.get("mine_name") or "", m.get("enterprise_name") or "", m.get("credit_code") or "",
             m.get("league") or "", m.get("county") or "", "、".join(m.get("minerals") or []),
             SCALE_LABELS.get(m.get("scale") or "", m.get("scale") or ""), m.get("listed_on") or "",
             STATUS_LABELS.get(m.get("status"), m.get("status") or ""), m.get("mark_reason") or "",
             m.get("announcement_no") or ""] for i, m in enumerate(mines, 1)]


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def mine_url(settings, mine_id: str) -> str:
    return f"{settings.public_url}/public/list/{quote(mine_id)}"


def qr_png_data_uri(url: str) -> str:
    """The QR code of `url` as a PNG data URI (error correction M, black on white, QR_SCALE px per module)."""
    return segno.make(url, error="m", micro=False).png_data_uri(scale=QR_SCALE, border=QR_BORDER)


def routes(web, bus, cache=None) -> None:
    from public_notice.entrypoints.listing import list_filters

    public, db, settings = web.public, web.db, web.settings

    @public.get("/list.csv")
    @identity.public
    def list_csv():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(export_rows(queries.list_all(db(), cache=cache, **list_filters(request.args))))
        return _download(("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8",
                         "内蒙古自治区绿色矿山名录.csv")

    @public.get("/list.xlsx")
    @identity.public
    def list_xlsx():
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        sheet.title = "绿色矿山名录"
        sheet.append(COLUMNS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in export_rows(queries.list_all(db(), cache=cache, **list_filters(request.args))):
            sheet.append(row)
        for i, width in enumerate([6, 28, 30, 22, 12, 14, 14, 8, 14, 10, 30, 40], 1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = "A2"
        out = io.BytesIO()
        book.save(out)
        return _download(out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         "内蒙古自治区绿色矿山名录.xlsx")

    @public.get("/announcements/<announcement_id>.pdf")
    @identity.public
    def announcement_pdf(announcement_id):
        found = queries.announcement(db(), announcement_id)
        if found is None:
            abort(404)
        html = render_template("public_notice/listing/announcement_pdf.html", a=found, issuer=ISSUER,
                               day=cn_day(found["published_on"]))
        return pdf_response(render_pdf(html), f"{found['number']}.pdf")

    @public.get("/list/<mine_id>/certificate.pdf")
    @identity.public
    def certificate(mine_id):
        found = queries.mine(db(), mine_id)
        if found is None:
            abort(404)
        if found["status"] == "removed":
            return render_template("public_notice/listing/no_certificate.html", mine=found), 410
        url = mine_url(settings, mine_id)
        html = render_template("public_notice/listing/certificate.html", mine=found, url=url, issuer=ISSUER,
                               qr=qr_png_data_uri(url), listed_day=cn_day(found["listed_on"]),
                               scale=SCALE_LABELS.get(found.get("scale") or "", ""))
        return pdf_response(render_pdf(html), f"绿色矿山名录证明-{found['mine_name']}.pdf")
