"""The import of the list kept before the platform: every problem named by row and column (nothing stored when
there is one), idempotency (same file, another file with the same mines, a grown announcement), announcements of
kind `historical` with their original document numbers, the list's stamp, the events, the CLI's exit status."""
from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from public_notice.bootstrap import bootstrap
from public_notice.domain import list_import as li
from public_notice.entrypoints import cli
from public_notice.service_layer.list_import import ImportListedMines
from shared.config import Settings, contracts_path
from shared.demo_region import credit_code
from shared.errors import InvalidInput, NotPermitted
from shared.identity import Principal

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
REGION = Principal("region", "region_office", display_name="自治区自然资源厅")
HEADERS = ["矿山名称", "企业名称", "统一社会信用代码", "盟市", "旗县", "矿种", "规模", "入库日期", "公告文号",
           "公告标题"]
CODE_1 = credit_code("150600", 901)
CODE_2 = credit_code("150200", 902)
TITLE_23 = "关于公布2023年度自治区级绿色矿山名录的公告"


def row(name="示范露天煤矿", enterprise="示范煤业有限公司", code=CODE_1, league="鄂尔多斯市", county="准格尔旗",
        minerals="煤", scale="大型", on="2023-06-15", doc="内自然资字〔2023〕45号", title=TITLE_23):
    return [name, enterprise, code, league, county, minerals, scale, on, doc, title]


GOOD = [row(),
        row("固阳县示范铁矿", "包头示范铁业有限公司", CODE_2, "包头", "固阳县", "铁、铜", "中型", "2023年6月15日"),
        row("准格尔旗示范砂矿", "示范煤业有限公司", CODE_1, "ordos", "准格尔旗", "建筑用砂", "small", "2021",
            "自然资办函〔2021〕12号", "自然资源部办公厅关于公布全国绿色矿山名录的通知")]


@pytest.fixture
def bus(uow):
    clock = {"now": AT}
    b = bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow,
                  clock=lambda: clock["now"])
    b.clock = clock
    return b


def do_import(bus, rows, headers=HEADERS, source="名录.xlsx", **more):
    return bus.handle(ImportListedMines(REGION, tuple(headers), tuple(tuple(r) for r in rows), source, **more))


def problems_of(rows, headers=HEADERS):
    records, problems = li.validate(headers, rows, today=TODAY)
    assert records == [] or not problems
    return {(p.row, p.column): p.message for p in problems}


# -- validation --------------------------------------------------------------------------------------------------
def test_a_good_table_gives_normalised_records():
    records, problems = li.validate(HEADERS, GOOD, today=TODAY)
    assert problems == []
    first, second, third = records
    assert (first["league"], first["county"], first["minerals"], first["scale"]) == ("鄂尔多斯市", "准格尔旗",
                                                                                    ["煤"], "large")
    assert (second["league"], second["minerals"], second["scale"], second["listed_on"]) == (
        "包头市", ["铁", "铜"], "medium", "2023-06-15")
    assert (third["scale"], third["listed_on"]) == ("small", "2021-12-31")  # a year alone: its 12月31日
    assert first["id"] == li.imported_id(CODE_1, "示范露天煤矿") != third["id"]
    assert [r["row"] for r in records] == [2, 3, 4]


@pytest.mark.parametrize(("cell", "value", "expected"), [
    (0, "", "不能为空"),
    (1, "", "不能为空"),
    (2, CODE_1[:17] + ("0" if CODE_1[17] != "0" else "1"), "校验位不正确"),
    (2, "123", "18位"),
    (3, "北京市", "不是自治区的盟市"),
    (4, "固阳县", "不是鄂尔多斯市的旗县"),
    (4, "", "不能为空"),
    (5, "煤、黄金", "不认识的矿种：黄金"),
    (5, "", "不能为空"),
    (6, "特大型", "不是规模"),
    (7, "2023-02-30", "不是有效日期"),
    (7, "去年", "不是日期"),
    (7, "2027-01-01", "晚于今天"),
    (7, "2005", "早于2010年"),
    (8, "内自然资字45号", "须含〔年份〕和序号"),
    (8, "内自然资字〔2024〕45号", "晚于入库日期"),
    (9, "", "不能为空"),
])
def test_each_problem_is_named_by_row_and_column(cell, value, expected):
    bad = row()
    bad[cell] = value
    found = problems_of([row("另一矿山", code=CODE_2), bad])
    column = HEADERS[cell]
    assert list(found) == [(3, column)], found
    assert expected in found[(3, column)]


def test_every_problem_of_every_row_is_reported_and_nothing_is_returned():
    rows = [row(code="X"), row("乙矿", league="火星", scale="巨型"), row("丙矿", minerals="")]
    found = problems_of(rows)
    assert set(found) == {(2, "统一社会信用代码"), (3, "盟市"), (3, "规模"), (4, "矿种")}


def test_duplicates_and_titles_within_the_file():
    found = problems_of([row(), row(), row("乙矿", code=CODE_2, title="另一个标题")])
    assert "与第2行是同一矿山" in found[(3, "矿山名称")]
    assert "两者须一致" in found[(4, "公告标题")]


def test_headers_unknown_missing_duplicated_or_both_date_columns():
    found = problems_of([row()], headers=[*HEADERS[:5], "矿产", *HEADERS[6:]])
    assert "不认识的列名" in found[(1, "矿产")] and "缺少这一列" in found[(1, "矿种")]
    assert "列名重复" in problems_of([row() + ["x"]], headers=[*HEADERS, "矿山名称"])[(1, "矿山名称")]
    both = problems_of([row() + ["2023"]], headers=[*HEADERS, "入库年份"])
    assert "只能有一列" in both[(1, "入库年份")]
    assert "缺少入库日期" in problems_of([row()[:7] + row()[8:]], headers=HEADERS[:7] + HEADERS[8:])[(1, "入库日期")]


def test_a_year_column_blank_lines_and_an_empty_file():
    headers = [*HEADERS[:7], "入库年份", *HEADERS[8:]]
    records, problems = li.validate(headers, [row(on=2023), [None] * 10, ["", ""]], today=TODAY)
    assert problems == [] and records[0]["listed_on"] == "2023-12-31"
    assert problems_of([], headers=HEADERS) == {(0, "(文件)"): "文件中没有数据行"}


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2010, 1, 1), TODAY), st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "{y}年{m}月{d}日"]))
def test_dates_in_any_usual_spelling(day, spelling):
    text = (spelling.format(y=day.year, m=day.month, d=day.day) if "{" in spelling else day.strftime(spelling))
    assert li.parse_listed_on(text, today=TODAY) == (day, None)
    assert li.parse_listed_on(datetime(day.year, day.month, day.day), today=TODAY) == (day, None)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9999), st.sampled_from(["150600", "150100", "152900"]))
def test_a_credit_code_passes_only_with_its_check_character(serial, division):
    good = credit_code(division, serial)
    assert not problems_of([row(code=good)])
    for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if wrong != good[17]:
            assert (2, "统一社会信用代码") in problems_of([row(code=good[:17] + wrong)])
            break


def test_document_numbers_give_year_and_sequence():
    assert li.document_year_and_seq("内自然资字〔2023〕45号") == (2023, 45)
    assert li.document_year_and_seq("自然资办函[2020] 2394号") == (2020, 2394)
    assert li.document_year_and_seq("内自然资发（2022）第7号") == (2022, 7)
    assert li.document_year_and_seq("无文号") == (None, 0)


# -- the import ----------------------------------------------------------------------------------------------------
def test_importing_lists_the_mines_with_their_historical_announcements(bus, uow):
    out = do_import(bus, GOOD)
    assert len(out["mines"]) == 3 and out["existing"] == [] and len(out["announcements"]) == 2
    mine = uow.listings.get(li.imported_id(CODE_1, "示范露天煤矿"))
    assert (mine.status, mine.listed_on, mine.listed_year, mine.league) == ("listed", "2023-06-15", 2023, "鄂尔多斯市")
    assert mine.announcement_no == "内自然资字〔2023〕45号" and mine.application_id is None
    assert [h["action"] for h in mine.history] == ["listed", "imported"]
    assert mine.history[0]["at"] == datetime(2023, 6, 15, 1, 0, tzinfo=UTC)
    assert (mine.history[1]["by"], mine.history[1]["source"], mine.history[1]["at"]) == ("region", "名录.xlsx", AT)
    a = uow.announcements.get(mine.announcement_id)
    assert (a.kind, a.number, a.year, a.seq, a.title, a.published_on) == (
        "historical", "内自然资字〔2023〕45号", 2023, 45, TITLE_23, "2023-06-15")
    assert a.kind_label == "名录公告（平台启用前）" and "〔2026〕" not in a.number
    assert a.rows == [["1", "固阳县示范铁矿", "包头示范铁业有限公司", "包头市", "铁、铜", "中型"],
                      ["2", "示范露天煤矿", "示范煤业有限公司", "鄂尔多斯市", "煤", "大型"]]
    assert "本公告为绿色矿山遴选平台启用前已发布的公告（内自然资字〔2023〕45号）" in a.text
    national = uow.announcements.get(li.historical_announcement_id("自然资办函〔2021〕12号"))
    assert national.published_on == "2021-12-31" and national.seq == 12
    assert uow.number_series.find() == []  # the platform's own series are not touched
    events = uow.events("public_notice.mine_listed")
    assert sorted(e["payload"]["mine_id"] for e in events) == sorted(out["mines"])
    payload = next(e["payload"] for e in events if e["payload"]["mine_id"] == mine.id)
    assert payload["announcement_no"] == "内自然资字〔2023〕45号" and payload["review_id"] is None
    assert payload["source"] == "import" and payload["application_id"] is None
    assert payload["batch_id"] == li.historical_batch_id("内自然资字〔2023〕45号")
    assert uow.events("public_notice.announcement_published") == []
    assert uow.list_stamps.get("list").changes == 1


def test_importing_again_adds_nothing(bus, uow):
    do_import(bus, GOOD)
    before = (dict(uow.listings.docs), dict(uow.announcements.docs), len(uow.events()),
              uow.list_stamps.get("list").changes)
    bus.clock["now"] = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    again = do_import(bus, GOOD, source="名录（再次）.csv")
    assert again["mines"] == [] and len(again["existing"]) == 3 and again["announcements"] == []
    assert (dict(uow.listings.docs), dict(uow.announcements.docs), len(uow.events()),
            uow.list_stamps.get("list").changes) == before


def test_a_later_file_adds_its_new_mines_to_a_known_announcement(bus, uow):
    do_import(bus, GOOD[:1])
    out = do_import(bus, GOOD, source="补充.csv")
    assert len(out["mines"]) == 2 and len(out["existing"]) == 1
    a = uow.announcements.get(li.historical_announcement_id("内自然资字〔2023〕45号"))
    assert [r[1] for r in a.rows] == ["固阳县示范铁矿", "示范露天煤矿"] and len(a.refs["mine_ids"]) == 2
    assert [(h["action"], h["source"]) for h in a.history] == [("imported", "名录.xlsx"), ("imported", "补充.csv")]
    assert "以下2座矿山" in a.text
    assert len(uow.events("public_notice.mine_listed")) == 3


def test_a_dry_run_stores_nothing(bus, uow):
    out = do_import(bus, GOOD, dry_run=True)
    assert len(out["mines"]) == 3 and len(out["announcements"]) == 2 and out["dry_run"]
    assert uow.listings.find() == [] and uow.events() == []


def test_a_bad_file_stores_nothing_and_names_every_problem(bus, uow):
    with pytest.raises(InvalidInput) as refused:
        do_import(bus, [*GOOD, row("丁矿", league="河北省"), row("戊矿", scale="")])
    fields = [e["field"] for e in refused.value.to_list()]
    assert fields == ["第5行 盟市", "第6行 规模"]
    assert uow.listings.find() == [] and uow.announcements.find() == [] and uow.events() == []


def test_only_the_region_office_imports(bus, uow):
    with pytest.raises(NotPermitted):
        bus.handle(ImportListedMines(Principal("bureau", "league_bureau"), tuple(HEADERS), (tuple(row()),), "x.csv"))


# -- files and the CLI ---------------------------------------------------------------------------------------------
def write_csv(path: Path, rows, headers=HEADERS, encoding="utf-8-sig"):
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows, headers=HEADERS):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for r in rows:
        sheet.append([datetime.fromisoformat(v) if i == 7 and len(str(v)) == 10 and "-" in str(v) else v
                      for i, v in enumerate(r)])
    book.save(path)
    return path


def test_reading_csv_in_utf8_or_gb18030_and_xlsx_with_real_dates(tmp_path):
    for path in (write_csv(tmp_path / "a.csv", GOOD), write_csv(tmp_path / "b.csv", GOOD, encoding="gb18030"),
                 write_xlsx(tmp_path / "c.xlsx", GOOD)):
        records = li.load(path, today=TODAY)
        assert [r["mine_name"] for r in records] == [r[0] for r in GOOD], path
        assert records[0]["listed_on"] == "2023-06-15"
    with pytest.raises(li.ImportRefused, match="problem"):
        li.read_table(write_csv(tmp_path / "d.txt", GOOD))
    (tmp_path / "e.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(li.ImportRefused) as refused:
        li.read_table(tmp_path / "e.xlsx")
    assert "不是可读的 xlsx 文件" in refused.value.problems[0].message


def test_the_cli_exits_2_naming_each_problem_and_stores_nothing(bus, uow, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "_bus", lambda settings: bus)
    monkeypatch.setattr("shared.cli._settings", lambda: Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}))
    bad = write_csv(tmp_path / "bad.csv", [row(), row("乙矿", code="91150600MA0R0001X0", county="火星旗")])
    result = CliRunner().invoke(cli.notice, ["import-list", str(bad)])
    assert result.exit_code == 2, result.output
    assert "第3行 统一社会信用代码" in result.stderr and "第3行 旗县" in result.stderr
    assert uow.listings.find() == []
    good = write_xlsx(tmp_path / "good.xlsx", GOOD)
    dry = CliRunner().invoke(cli.notice, ["import-list", str(good), "--dry-run"])
    assert dry.exit_code == 0 and "将导入 3 座矿山" in dry.output and uow.listings.find() == []
    done = CliRunner().invoke(cli.notice, ["import-list", str(good)])
    assert done.exit_code == 0 and "已导入 3 座矿山、2 个原公告" in done.output
    again = CliRunner().invoke(cli.notice, ["import-list", str(good)])
    assert "已导入 0 座矿山" in again.output and "3 座已在名录中" in again.output


def test_the_demo_file_is_30_valid_mines_of_all_12_leagues_scales_branches_and_years(bus, uow):
    records = li.load(contracts_path(*cli.DEMO_FILE), today=TODAY)
    assert len(records) == 30
    assert len({r["league"] for r in records}) == 12
    assert {r["scale"] for r in records} == {"large", "medium", "small"}
    assert {int(r["listed_on"][:4]) for r in records} == set(range(2020, 2026))
    from shared.demo_region import branch_of

    codes = {m["name"]: m["code"] for m in __import__("yaml").safe_load(
        contracts_path("vocabularies", "minerals.yaml").read_text(encoding="utf-8"))["minerals"]}
    assert {branch_of([codes[r["minerals"][0]]]) for r in records} == {1, 2}
    first = cli.load_demo_data(bus=bus)
    assert len(first["mines"]) == 30
    assert cli.load_demo_data(bus=bus)["mines"] == []
    assert len(uow.listings.find()) == 30 and len(uow.events("public_notice.mine_listed")) == 30


def test_the_demo_objectors_identity_number_passes_the_filing_check():
    """The demo region's objection (shared.demo_public_notice) uses a 居民身份证号码 whose GB 11643 check character the
    objection form accepts."""
    from public_notice.domain import identity_numbers
    from shared import demo_public_notice

    number = demo_public_notice.gb11643_id_number("15060319800315123")
    assert identity_numbers.problem(number, TODAY) is None
    assert number[17] == identity_numbers.check_character(number[:17])
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert identity_numbers.problem(wrong, TODAY) is not None
