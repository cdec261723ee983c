"""The score sheet (评分表): xlsx re-read with openpyxl, HTML checked cell by cell."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import openpyxl
import pytest

from scoring.adapters.score_sheet import (
    COLUMNS,
    HEADER_ROW,
    build_sheet,
    department_names,
    score_sheet_html,
    score_sheet_xlsx,
)
from scoring.domain.engine import score_assessment

OFFICIAL_ORDER = ["一级指标", "二级指标", "三级指标", "标准分", "评分说明", "考核方法", "依据或标准", "指标属性",
                  "检查记录", "得分", "分工部门"]
INDICATOR_CELL = re.compile(r"^(\d+)\. ")


def indicator_rows(ws):
    """Rows of the score table proper (from the header down to the first empty row)."""
    rows = []
    for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        if all(v is None for v in row):
            break
        if isinstance(row[2], str) and INDICATOR_CELL.match(row[2]):
            rows.append(row)
    return rows


def read(xlsx: bytes):
    return openpyxl.load_workbook(io.BytesIO(xlsx))


@pytest.fixture(scope="module")
def scored(catalog, assessment_for):
    assessment = assessment_for(1, "underground", entries={
        "30": {"score": 0, "record": "未见酸性废水产生量评估预测资料"},
        "16": {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产"},
        "3": {"findings": 2, "record": "2025-07-02 王工到破碎车间,见两处警示牌缺失"},
        "45": {"items": {"invention_patents": 3}}})
    return assessment, score_assessment(assessment, catalog)


def test_columns_are_in_the_official_order():
    assert list(COLUMNS) == OFFICIAL_ORDER


@pytest.mark.parametrize("group,count", [(None, 50), (1, 46), (2, 41)])
def test_blank_xlsx(catalog, group, count):
    ws = read(score_sheet_xlsx(catalog, group))["评分表"]
    assert [c.value for c in ws[HEADER_ROW]] == OFFICIAL_ORDER
    rows = indicator_rows(ws)
    assert len(rows) == count
    numbers = [int(INDICATOR_CELL.match(r[2]).group(1)) for r in rows]
    assert numbers == [i.no for i in catalog.indicators if group is None or i.applies_to_group(group)]
    assert all(r[9] is None and r[8] is None for r in rows)            # 得分 and 检查记录 left blank
    assert sum(r[3] for r in rows) == (100 if group else 118)           # both branches of 三: 100 + 18


def test_xlsx_print_setup_and_merges(catalog):
    workbook = read(score_sheet_xlsx(catalog, 1))
    ws = workbook["评分表"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A4:A10" in merged                       # 一、矿区环境: 7 rows
    assert "B4:B8" in merged                        # 1. 矿容矿貌: indicators 1–5
    assert ws["A4"].value == "一、矿区环境(7项,12分)"
    assert ws["B4"].value == "1. 矿容矿貌(9分)"
    assert ws["E4"].alignment.wrap_text
    assert "先决条件" in workbook.sheetnames
    assert [c.value for c in workbook["先决条件"]["A"]][1:] == ["P1", "P2", "P3", "P4", "P5"]


def test_whole_index_has_branch_rows_in_category_three(catalog):
    ws = read(score_sheet_xlsx(catalog, None))["评分表"]
    labels = [row[1] for row in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True)
              if isinstance(row[1], str) and row[1].startswith("(")]
    assert labels[0].startswith("(一)非金属") and labels[1].startswith("(二)普通建筑用砂石土")
    sheet = build_sheet(catalog, None)
    assert sheet.branch_rows == 2
    assert [r for r in sheet.rows if r.category_span][2].category_span == 13 + 2


def test_scored_xlsx_fills_scores_records_and_summary(catalog, scored):
    assessment, report = scored
    ws = read(score_sheet_xlsx(catalog, 1, report, assessment))["评分表"]
    rows = {int(INDICATOR_CELL.match(r[2]).group(1)): r for r in indicator_rows(ws)}
    assert len(rows) == 46
    assert rows[3][9] == 0.6 and "警示牌缺失" in rows[3][8]
    assert rows[30][9] == 0 and rows[30][8] == "未见酸性废水产生量评估预测资料"
    assert rows[16][9] == "不涉及" and rows[16][8] == "不涉及项:本矿无暂不能开采利用的共伴生矿产"
    assert rows[45][9] == 1.5
    assert rows[10][9] == 2
    values = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "评价结论:不达标" in values
    assert any("第30项「酸性废水防控」" in v for v in values)
    assert report.to_dict()["total"] in values
    assert "开采方式:地下开采" in ws["A2"].value
    assert [c.value for c in read(score_sheet_xlsx(catalog, 1, report))["先决条件"]["E"]][1:] == ["是"] * 5


def test_records_can_come_from_the_assessment(catalog, scored):
    assessment, report = scored
    as_dict = report.to_dict()
    del as_dict["indicator_scores"]["3"]["record"]
    ws = read(score_sheet_xlsx(catalog, None, as_dict, assessment))["评分表"]
    rows = {int(INDICATOR_CELL.match(r[2]).group(1)): r for r in indicator_rows(ws)}
    assert "警示牌缺失" in rows[3][8]


def test_report_of_another_branch_is_refused(catalog, scored):
    with pytest.raises(ValueError, match="行业分支"):
        score_sheet_xlsx(catalog, 2, scored[1])


def test_failed_prerequisite_is_marked(catalog, assessment_for):
    report = score_assessment(assessment_for(prerequisites={"P3": False}), catalog)
    workbook = read(score_sheet_xlsx(catalog, 1, report))
    assert [c.value for c in workbook["先决条件"]["E"]][1:] == ["是", "是", "否", "是", "是"]
    html = score_sheet_html(catalog, 1, report)
    assert "P3「矿业权人异常名录」" in html


def test_department_names_are_written_as_in_the_notice(catalog):
    one = catalog.indicator(1)
    assert department_names(catalog, one.departments, one.departments_open_ended) \
        == "自然资源、能源、应急管理(矿山安全监管)等有关部门"
    forty_four = catalog.indicator(44)
    assert department_names(catalog, forty_four.departments, False, forty_four.department_scopes) \
        == "能源(煤矿)、工业和信息化(非煤矿山)、生态环境部门"


# ------------------------------------------------------------------------------------------------------------
# HTML.


class TableGrid(HTMLParser):
    """Collects every table as rows of cells, expanding rowspan/colspan so each row's width can be checked."""

    def __init__(self):
        super().__init__()
        self.tables, self._pending, self._row, self._cell = [], {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append([])
            self._pending = {}
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = {"text": "", "rowspan": int(attrs.get("rowspan", 1)), "colspan": int(attrs.get("colspan", 1))}

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            columns, column, cells = [], 0, list(self._row)
            while cells or column in self._pending:
                if self._pending.get(column, 0) > 0:
                    columns.append(None)
                    self._pending[column] -= 1
                    if not self._pending[column]:
                        del self._pending[column]
                    column += 1
                    continue
                cell = cells.pop(0)
                for offset in range(cell["colspan"]):
                    columns.append(cell["text"].strip() if offset == 0 else None)
                    if cell["rowspan"] > 1:
                        self._pending[column + offset] = cell["rowspan"] - 1
                column += cell["colspan"]
            self.tables[-1].append(columns)
            self._row = None


def grid(html: str):
    parser = TableGrid()
    parser.feed(html)
    return parser.tables


@pytest.mark.parametrize("group,count", [(None, 50), (1, 46), (2, 41)])
def test_blank_html(catalog, group, count):
    html = score_sheet_html(catalog, group)
    assert "@media print" in html and "size: A4 landscape" in html
    assert "display: table-header-group" in html           # header row repeats on every printed page
    prerequisites, table = grid(html)[:2]
    assert len(prerequisites) == 1 + 5
    assert table[0] == OFFICIAL_ORDER
    assert all(len(row) == len(OFFICIAL_ORDER) for row in table), "rowspans/colspans must tile the table"
    indicator_cells = [row[2] for row in table[1:] if row[2] and INDICATOR_CELL.match(row[2])]
    assert len(indicator_cells) == count


def test_scored_html(catalog, scored):
    assessment, report = scored
    html = score_sheet_html(catalog, 1, report.to_dict(), assessment)
    table = grid(html)[1]
    rows = {int(INDICATOR_CELL.match(r[2]).group(1)): r for r in table[1:] if r[2] and INDICATOR_CELL.match(r[2])}
    assert rows[3][9] == "0.6" and "警示牌缺失" in rows[3][8]
    assert rows[16][9] == "不涉及"
    assert "评价结论:不达标" in html
    assert report.to_dict()["total"] in html


def test_html_escapes_user_text(catalog, assessment_for):
    report = score_assessment(assessment_for(entries={"2": {"score": 2, "record": "<script>alert(1)</script>"}}),
                              catalog)
    html = score_sheet_html(catalog, 1, report)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
