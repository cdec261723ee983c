"""The printable score sheet (评分表) of the evaluation index, blank or filled from a scoring report.

Columns in the official order: 一级指标, 二级指标, 三级指标, 标准分, 评分说明, 考核方法, 依据或标准, 指标属性,
检查记录, 得分, 分工部门. Two renderings of one row model: .xlsx (openpyxl: merged category/subcategory cells,
wrapped text, A4 landscape, header row repeated on every printed page) and print-ready HTML (jinja2).

A blank sheet is per industry branch (46 rows for branch 1, 41 for branch 2) or, with `industry_group=None`,
the whole index (50 rows). A filled sheet takes the report dict (report.v1) or a `Report`; 检查记录 comes from
the report, else from the assessment when one is given.
"""
from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from shared.catalog import Catalog, Indicator
from shared.decimals import plain

COLUMNS = ("一级指标", "二级指标", "三级指标", "标准分", "评分说明", "考核方法", "依据或标准", "指标属性",
           "检查记录", "得分", "分工部门")
COLUMN_WIDTHS = (11, 11, 12, 6, 60, 10, 30, 7, 28, 7, 24)   # characters; sums to a landscape A4 at fit-to-width
HEADER_ROW = 3
NOT_APPLICABLE = "不涉及"
RECONSTRUCTED_NOTE = ("标有“据原件重建”的指标，其所列内容（如标准分、评分说明、依据）在文件原件中字迹不清，"
                      "系据原件重建而非直接辨读，理由见该项的批注（网页版：鼠标悬停）。")
FOOTNOTE = ("说明:先决条件属于否决项;约束性指标必须得满分,若一项不得满分则不达标;不涉及项按一级指标采用折合法计分,"
            "并在检查记录中写明判定依据和理由;总分100分,总得分原则上不低于60分。所有得分必须有依据,"
            "在“检查记录”栏写明得到相应分值的原因。分工部门排序不分前后。")
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class SheetRow:
    category: str = ""
    subcategory: str = ""
    indicator: str = ""
    points: str = ""
    text: str = ""
    methods: str = ""
    basis: str = ""
    attribute: str = ""
    record: str = ""
    score: str = ""
    departments: str = ""
    binding: bool = False
    not_applicable: bool = False
    unsupported: bool = False
    reconstructed: str = ""      # "指标名称、评分说明": fields read back from the garbled original (据原件重建)
    reconstructed_reasons: str = ""   # why, per field (the hover text / cell comment)
    no: int | None = None
    category_span: int = 0       # >0 on the first row of a category: how many rows its cell covers
    subcategory_span: int = 0
    branch_label: str = ""       # a full-width "(一)非金属…" row inside category 三 of the whole index

    def cells(self) -> tuple[str, ...]:
        return (self.category, self.subcategory, self.indicator, self.points, self.text, self.methods,
                self.basis, self.attribute, self.record, self.score, self.departments)


@dataclass
class Sheet:
    title: str
    subtitle: str
    rows: list[SheetRow]
    prerequisites: list[dict[str, str]]
    summary: dict[str, Any] | None = None
    footnote: str = FOOTNOTE
    branch_rows: int = field(default=0)
    reconstructed_note: str = ""


# ---------------------------------------------------------------------------------------------------------------
# The row model.


def department_names(catalog: Catalog, codes, open_ended: bool = False,
                     scopes: Mapping[str, str] | None = None) -> str:
    """'自然资源、能源、应急管理(矿山安全监管)等有关部门' — the notice's way of writing the 分工部门 cell."""
    scopes = scopes or {}
    names = []
    for code in codes:
        name = catalog.department(code).name.replace("部门", "")
        if code in scopes:
            name += f"({scopes[code]})"
        names.append(name)
    return "、".join(names) + ("等有关部门" if open_ended else "部门")


def _report_dict(report) -> dict | None:
    if report is None:
        return None
    return report.to_dict() if hasattr(report, "to_dict") else dict(report)


def _branch_name(catalog: Catalog, group: int) -> str:
    return catalog.industry_group(group).name


def build_sheet(catalog: Catalog, industry_group: int | None, report=None, assessment=None) -> Sheet:
    """The rows and summary of the sheet; shared by the xlsx and HTML renderings."""
    report = _report_dict(report)
    if report is not None:
        report_group = report["mine"]["industry_group"]
        if industry_group is None:
            industry_group = report_group
        elif industry_group != report_group:
            raise ValueError(f"评分报告属于行业分支({report_group}),不能按分支({industry_group})出表")
        if report["catalog"] != catalog.id:
            raise ValueError(f"评分报告按 {report['catalog']} 评分,与评价指标 {catalog.id} 不符")
    scored = (report or {}).get("indicator_scores", {})
    entries = ((assessment or {}).get("indicators") or {})

    def in_sheet(indicator: Indicator) -> bool:
        return industry_group is None or indicator.applies_to_group(industry_group)

    rows: list[SheetRow] = []
    for category in catalog.categories:
        members = [i for i in catalog.indicators if i.category_no == category.no and in_sheet(i)]
        subcategories = [s for s in category.subcategories
                         if industry_group is None or s.applies_to_group(industry_group)]
        category_label = f"{category.label}({len(members)}项,{plain(category.points)}分)"
        first_row = len(rows)
        current_branch = None
        for sub in subcategories:
            if industry_group is None and sub.industry_group != "all" and sub.industry_group != current_branch:
                current_branch = sub.industry_group
                rows.append(SheetRow(category=category_label, branch_label=_branch_name(catalog, current_branch)))
            sub_members = [catalog.indicator(no) for no in sub.indicator_nos]
            for index, indicator in enumerate(sub_members):
                row = _indicator_row(catalog, indicator, scored.get(str(indicator.no)), entries.get(str(indicator.no)))
                row.category = category_label
                row.subcategory = f"{sub.no}. {sub.name}({plain(sub.points)}分)"
                row.subcategory_span = len(sub_members) if index == 0 else 0
                rows.append(row)
        rows[first_row].category_span = len(rows) - first_row

    if industry_group is None:
        subtitle = f"{catalog.source}|评价指标 {catalog.id}(版本 {catalog.version})|全部行业分支"
    else:
        subtitle = (f"{catalog.source}|评价指标 {catalog.id}(版本 {catalog.version})|"
                    f"{_branch_name(catalog, industry_group)}")
    if report is not None:
        mine = report["mine"]
        subtitle += f"|开采方式:{catalog.mining_methods.get(mine['mining_method'], mine['mining_method'])}"
        if mine.get("industry_variant"):
            subtitle += f"|子行业:{catalog.industry_variants.get(mine['industry_variant'])}"

    failed = set((report or {}).get("failed_prerequisites", ()))
    prerequisites = [
        {"code": p.code, "name": p.name, "requirement": p.requirement,
         "departments": department_names(catalog, p.departments, p.departments_open_ended),
         "met": "" if report is None else ("否" if p.code in failed else "是")}
        for p in catalog.prerequisites]

    return Sheet(title=f"{catalog.title}评分表", subtitle=subtitle, rows=rows, prerequisites=prerequisites,
                 summary=_summary(catalog, report) if report is not None else None,
                 branch_rows=sum(1 for r in rows if r.branch_label),
                 reconstructed_note=RECONSTRUCTED_NOTE if any(r.reconstructed for r in rows) else "")


RECONSTRUCTED = "据原件重建"
SUB_ITEMS = "子项"


def reconstruction(indicator: Indicator) -> tuple[str, str]:
    """(the fields of the indicator that were reconstructed rather than read, why) — the catalog's `inferred`
    readings (fields and additive sub-items), in Chinese, for the 据原件重建 mark."""
    from shared.catalog.model import INFERRED_FIELD_LABELS

    fields = list(indicator.reconstructed_fields)
    reasons = [f"{INFERRED_FIELD_LABELS.get(k, k)}：{_plain_reason(v)}" for k, v in indicator.inferred.items()]
    if indicator.basis_reconstructed and "依据" not in fields:
        fields.append("依据")
        reasons.append("依据：原件字迹不清，据原件重建")
    rules = list(getattr(indicator.rule, "variants", {}).values()) or [indicator.rule]
    items = [i for r in rules for i in getattr(r, "items", ()) if getattr(i, "inferred", None)]
    if items:
        fields.append(SUB_ITEMS)
        reasons += [f"子项「{i.text}」：{_plain_reason(i.inferred)}" for i in items]
    return "、".join(fields), "；".join(reasons)


def _plain_reason(text: str) -> str:
    """A reconstruction's reason in words for people (no “OCR” jargon)."""
    return text.replace("OCR", "原件识别文字")


def _indicator_row(catalog: Catalog, indicator: Indicator, scored: Mapping | None, entry: Mapping | None
                   ) -> SheetRow:
    record = ""
    if scored is not None and scored.get("record"):
        record = scored["record"]
    elif isinstance(entry, Mapping) and isinstance(entry.get("record"), str):
        record = entry["record"]
    score, not_applicable, unsupported = "", False, False
    if scored is not None:
        not_applicable = bool(scored.get("not_applicable"))
        if not_applicable:
            score = NOT_APPLICABLE
            reason = f"不涉及项:{scored.get('reason', '')}"
            if scored.get("binding"):
                reason += f"\n（{scored.get('note') or '约束性指标判定为不涉及，须经确认'}）"
            record = f"{reason}\n{record}" if record else reason
        else:
            score = plain(scored["score"])
            unsupported = bool(scored.get("unsupported"))
            if unsupported:      # 缺少支撑材料或证明材料不得分
                note = f"{scored.get('note') or '缺少支撑材料，按0分计'}（所填得分{scored.get('claimed_score')}）"
                record = f"{note}\n{record}" if record else note
    fields, reasons = reconstruction(indicator)
    return SheetRow(
        no=indicator.no, indicator=f"{indicator.no}. {indicator.name}", points=plain(indicator.points),
        text=indicator.text, methods="、".join(indicator.methods), basis=indicator.display_basis,
        attribute=indicator.attribute, binding=indicator.binding, record=record, score=score,
        not_applicable=not_applicable, unsupported=unsupported, reconstructed=fields,
        reconstructed_reasons=reasons,
        departments=department_names(catalog, indicator.departments, indicator.departments_open_ended,
                                     indicator.department_scopes))


def _summary(catalog: Catalog, report: Mapping) -> dict[str, Any]:
    categories = [
        {"label": catalog.category(c["no"]).label, "points": c["points"],
         "applicable_points": c["applicable_points"], "earned": c["earned"],
         "score": c["score"] + ("(全部不涉及,按满分计)" if c.get("all_not_applicable") else "")}
        for c in report["categories"]]
    lines = []
    if report["failed_prerequisites"]:
        names = "、".join(f"{code}「{catalog.prerequisite(code).name}」" for code in report["failed_prerequisites"])
        lines.append(f"未满足的先决条件:{names}")
    if report["failed_binding"]:
        names = "、".join(f"第{no}项「{catalog.indicator(no).name}」" for no in report["failed_binding"])
        lines.append(f"未得满分的约束性指标:{names}")
    if report.get("not_applicable_binding"):
        names = "、".join(f"第{no}项「{catalog.indicator(no).name}」" for no in report["not_applicable_binding"])
        lines.append(f"判定为不涉及项的约束性指标（须经初审责任部门确认不涉及，并经第三方评估机构现场确认）：{names}")
    if report.get("unsupported"):
        names = "、".join(f"第{no}项「{catalog.indicator(no).name}」" for no in report["unsupported"])
        lines.append(f"缺少支撑材料、按0分计的指标（缺少支撑材料或证明材料不得分）：{names}")
    lines.append(f"总得分 {report['total']} 分(达标线 {report['pass_total']} 分)")
    return {"categories": categories, "total": report["total"],
            "total_points": plain(catalog.total_points), "verdict_label": report["verdict_label"],
            "verdict": report["verdict"], "lines": lines}


# ---------------------------------------------------------------------------------------------------------------
# Renderings.


_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8E8E8")
_LEFT_COLUMNS = {5, 7, 9, 11}          # long texts read better left-aligned


def score_sheet_xlsx(catalog: Catalog, industry_group: int | None, report=None, assessment=None) -> bytes:
    sheet = build_sheet(catalog, industry_group, report, assessment)
    workbook = Workbook()
    ws = workbook.active
    ws.title = "评分表"
    last_column = get_column_letter(len(COLUMNS))

    ws.merge_cells(f"A1:{last_column}1")
    ws["A1"] = sheet.title
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = _WRAP_CENTER
    ws.row_dimensions[1].height = 28
    ws.merge_cells(f"A2:{last_column}2")
    ws["A2"] = sheet.subtitle
    ws["A2"].alignment = _WRAP_CENTER
    for column, (title, width) in enumerate(zip(COLUMNS, COLUMN_WIDTHS, strict=True), start=1):
        cell = ws.cell(row=HEADER_ROW, column=column, value=title)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = _WRAP_CENTER
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(column)].width = width

    first = HEADER_ROW + 1
    for offset, row in enumerate(sheet.rows):
        r = first + offset
        if row.branch_label:
            ws.cell(row=r, column=2, value=row.branch_label).font = Font(bold=True)
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=len(COLUMNS))
        else:
            for column, value in enumerate(row.cells(), start=1):
                if column in (1, 2):
                    continue      # written once below, on the merged range
                if column == 3 and row.reconstructed:
                    value = f"{value}\n〔{RECONSTRUCTED}：{row.reconstructed}〕"
                cell = ws.cell(row=r, column=column, value=_cell_value(column, value))
                if column == 3 and row.reconstructed:
                    cell.comment = Comment(f"{RECONSTRUCTED}：{row.reconstructed_reasons}", "评分系统", width=360,
                                           height=160)
                if column == 8 and row.binding:
                    cell.font = Font(bold=True)
            # Rough height so wrapped rule text is not clipped: ~60 characters per line at width 60.
            lines = max(len(row.text) // 52 + 1, len(row.basis) // 26 + 1, len(row.record) // 24 + 1, 2)
            ws.row_dimensions[r].height = min(409, 13.5 * lines)
        if row.category_span:
            ws.cell(row=r, column=1, value=row.category)
            if row.category_span > 1:
                ws.merge_cells(start_row=r, start_column=1, end_row=r + row.category_span - 1, end_column=1)
        if row.subcategory_span:
            ws.cell(row=r, column=2, value=row.subcategory)
            if row.subcategory_span > 1:
                ws.merge_cells(start_row=r, start_column=2, end_row=r + row.subcategory_span - 1, end_column=2)
    last_row = first + len(sheet.rows) - 1
    for r in range(first, last_row + 1):
        for column in range(1, len(COLUMNS) + 1):
            cell = ws.cell(row=r, column=column)
            cell.border = _BORDER
            cell.alignment = _WRAP_LEFT if column in _LEFT_COLUMNS else _WRAP_CENTER

    r = last_row + 2
    if sheet.summary is not None:
        r = _write_summary(ws, r, sheet.summary)
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(COLUMNS))
    ws.cell(row=r, column=1, value=sheet.footnote).alignment = _WRAP_LEFT
    ws.row_dimensions[r].height = 42
    if sheet.reconstructed_note:
        r += 1
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(COLUMNS))
        ws.cell(row=r, column=1, value=sheet.reconstructed_note).alignment = _WRAP_LEFT
        ws.row_dimensions[r].height = 28

    ws.freeze_panes = ws.cell(row=first, column=1)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{last_column}{r}"
    _a4_landscape(ws)
    _prerequisite_sheet(workbook.create_sheet("先决条件"), sheet)

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell_value(column: int, value: str):
    # 标准分 and numeric 得分 as numbers so totals can be checked in the spreadsheet itself.
    if column in (4, 10) and value and value != NOT_APPLICABLE:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _write_summary(ws, r: int, summary: Mapping) -> int:
    headers = ("得分汇总", "标准分", "适用项标准分", "适用项实得分", "折合得分")
    for column, title in enumerate(headers, start=1):
        cell = ws.cell(row=r, column=column, value=title)
        cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), _HEADER_FILL, _BORDER, _WRAP_CENTER
    for category in summary["categories"]:
        r += 1
        values = (category["label"], category["points"], category["applicable_points"], category["earned"],
                  category["score"])
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=column, value=value)
            cell.border, cell.alignment = _BORDER, _WRAP_CENTER
    r += 1
    for column, value in enumerate(("总得分", summary["total_points"], "", "", summary["total"]), start=1):
        cell = ws.cell(row=r, column=column, value=value)
        cell.border, cell.alignment, cell.font = _BORDER, _WRAP_CENTER, Font(bold=True)
    r += 1
    ws.cell(row=r, column=1, value=f"评价结论:{summary['verdict_label']}").font = Font(bold=True, size=12)
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=5)
    for line in summary["lines"]:
        r += 1
        ws.cell(row=r, column=1, value=line).alignment = _WRAP_LEFT
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(COLUMNS))
    return r + 2


def _prerequisite_sheet(ws, sheet: Sheet) -> None:
    for column, (title, width) in enumerate(zip(("编号", "先决条件", "要求", "分工部门", "是否满足"),
                                                (7, 22, 80, 30, 10), strict=True), start=1):
        cell = ws.cell(row=1, column=column, value=title)
        cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), _HEADER_FILL, _BORDER, _WRAP_CENTER
        ws.column_dimensions[get_column_letter(column)].width = width
    for r, prerequisite in enumerate(sheet.prerequisites, start=2):
        values = (prerequisite["code"], prerequisite["name"], prerequisite["requirement"],
                  prerequisite["departments"], prerequisite["met"])
        for column, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=column, value=value)
            cell.border = _BORDER
            cell.alignment = _WRAP_LEFT if column in (3, 4) else _WRAP_CENTER
        ws.row_dimensions[r].height = 45
    ws.print_title_rows = "1:1"
    _a4_landscape(ws)


def _a4_landscape(ws) -> None:
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0          # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.3, right=0.3, top=0.4, bottom=0.4, header=0.2, footer=0.2)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页,共 &N 页"


_environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                           trim_blocks=True, lstrip_blocks=True)


def score_sheet_html(catalog: Catalog, industry_group: int | None, report=None, assessment=None) -> str:
    sheet = build_sheet(catalog, industry_group, report, assessment)
    return _environment.get_template("score_sheet.html").render(sheet=sheet, columns=COLUMNS)
