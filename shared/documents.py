"""Printable documents (回执, 意见表, 会签单, 初审意见, later 评估报告 and 公告) as PDF, from HTML templates.

WeasyPrint lays out the HTML the service renders; the fonts are the system's CJK fonts (Noto CJK, installed by
`make run`/`make test` and the image), named in `PRINT_CSS` so every document prints the same. One owner: a
service renders its template with `render_template` and passes the HTML here.
"""
from __future__ import annotations

from flask import Response

# Official documents are set in a Song (serif) face; Noto Serif CJK SC stands in where 宋体/仿宋 are absent.
PRINT_CSS = """
@page { size: A4; margin: 20mm 18mm 20mm 18mm;
        @bottom-center { content: "第 " counter(page) " 页 共 " counter(pages) " 页"; font-size: 9pt; } }
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", serif; font-size: 11pt;
       line-height: 1.5; color: #000; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 6mm; letter-spacing: 1pt; }
h2 { font-size: 13pt; margin: 5mm 0 2mm; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0; }
th, td { border: 0.6pt solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { background: #eee; }
.meta td { border: none; padding: 0.5mm 0; }
.sign { margin-top: 10mm; text-align: right; }
.muted { color: #444; font-size: 9pt; }
"""


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The PDF of `html` (a complete document); `PRINT_CSS` is applied before the document's own styles."""
    from weasyprint import CSS, HTML  # imported here: loading pango costs ~0.3 s, only documents need it

    return HTML(string=html, base_url=base_url).write_pdf(stylesheets=[CSS(string=PRINT_CSS)])


def pdf_response(data: bytes, filename: str, *, inline: bool = True) -> Response:
    """A PDF answer; opened in the browser's viewer (inline) unless asked to download."""
    response = Response(data, mimetype="application/pdf")
    disposition = "inline" if inline else "attachment"
    from urllib.parse import quote

    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response
