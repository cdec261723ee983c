"""The records the sweep reads besides the register (area `triggers`): 异常名录 entries and 开发利用水平 grades entered
by the natural-resources department within its 盟市, or imported from a table — every problem by row and column,
nothing stored from a bad file, nothing changed by recording the same thing again."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from unit.supervision.trigger_support import listed, make_system, on_list, recorded

from shared import identity
from shared.errors import InvalidInput, NotFound, NotPermitted
from supervision.domain import records as rd
from supervision.service_layer.triggers import (
    ImportMineRecords,
    RecordAbnormalListing,
    RecordUtilisationGrade,
    record_rows,
)

REGION = identity.Principal("region", "region_office", area="自治区")
BUREAU = identity.Principal("bureau", "bureau", area="鄂尔多斯市")
BAOTOU = identity.Principal("bureau_baotou", "bureau", area="包头市")
NR = identity.Principal("nr", "department_reviewer", department="natural_resources", area="鄂尔多斯市")
ECO = identity.Principal("eco", "department_reviewer", department="ecology_environment", area="鄂尔多斯市")
ENTERPRISE = identity.Principal("ent", "enterprise", enterprise="91150600MA0N00001W")
LICENCE = "C1500002011061120113456"       # the example's 采矿许可证号


@pytest.fixture
def system():
    return make_system()


@pytest.fixture
def mine(system):
    uow, bus, sweep = system
    on_list(uow, bus, recorded(1, "2026-01-05"))
    bus.dependencies["clock"].on(date(2026, 6, 1))
    return uow, bus


def test_the_department_records_an_abnormal_listing_and_later_its_removal(mine):
    uow, bus = mine
    first = bus.handle(RecordAbnormalListing(NR, "mine-0001", date(2026, 1, 10)))
    assert first == {"mine_id": "mine-0001", "changed": True, "grades": [],
                     "abnormal": [{"listed_on": "2026-01-10", "removed_on": None}]}
    assert bus.handle(RecordAbnormalListing(BUREAU, "mine-0001", date(2026, 1, 10)))["changed"] is False
    removed = bus.handle(RecordAbnormalListing(REGION, "mine-0001", date(2026, 1, 10), date(2026, 5, 6)))
    assert removed["abnormal"] == [{"listed_on": "2026-01-10", "removed_on": "2026-05-06"}]
    # a record without the removal does not erase it
    assert bus.handle(RecordAbnormalListing(NR, "mine-0001", date(2026, 1, 10)))["changed"] is False
    kept = uow.mine_records.get("mine-0001")
    assert [(h["by"], h["removed_on"]) for h in kept.history] == [("nr", None), ("region", "2026-05-06")]


def test_grades_are_kept_per_year_and_a_new_grade_replaces_the_old_with_its_history(mine):
    uow, bus = mine
    bus.handle(RecordUtilisationGrade(NR, "mine-0001", 2025, "一般"))
    assert bus.handle(RecordUtilisationGrade(NR, "mine-0001", 2025, "一般"))["changed"] is False
    view = bus.handle(RecordUtilisationGrade(BUREAU, "mine-0001", 2025, "落后"))
    assert view["grades"] == [{"year": 2025, "grade": "落后"}]
    assert uow.mine_records.get("mine-0001").history[-1]["before"] == "一般"


def test_wrong_entries_are_refused_field_by_field(mine):
    _, bus = mine
    cases = [
        (RecordAbnormalListing(NR, "mine-0001", None), "listed_on", "请填写列入异常名录的日期"),
        (RecordAbnormalListing(NR, "mine-0001", date(2026, 6, 2)), "listed_on", "晚于今天"),
        (RecordAbnormalListing(NR, "mine-0001", date(2026, 3, 1), date(2026, 2, 1)), "removed_on", "不能早于列入日期"),
        (RecordUtilisationGrade(NR, "mine-0001", 2027, "落后"), "year", "2000年至2026年"),
        (RecordUtilisationGrade(NR, "mine-0001", 2025, "差"), "grade", "领先、先进、一般、落后"),
    ]
    for command, field, words in cases:
        with pytest.raises(InvalidInput) as refused:
            bus.handle(command)
        assert [e.field for e in refused.value.errors] == [field] and words in refused.value.errors[0].message


def test_only_the_natural_resources_side_records_and_a_bureau_only_in_its_league(mine):
    _, bus = mine
    for actor in (BAOTOU, ECO, ENTERPRISE):
        with pytest.raises(NotPermitted):
            bus.handle(RecordAbnormalListing(actor, "mine-0001", date(2026, 1, 10)))
    with pytest.raises(NotPermitted) as refused:
        bus.handle(RecordUtilisationGrade(BAOTOU, "mine-0001", 2025, "落后"))
    assert "包头市" in refused.value.message
    with pytest.raises(NotFound):
        bus.handle(RecordUtilisationGrade(REGION, "mine-none", 2025, "落后"))


GRADE_HEADERS = ("采矿许可证号", "统一社会信用代码", "矿山名称", "年度", "开发利用水平")


def test_a_good_table_is_imported_whole_and_again_changes_nothing(mine):
    uow, bus = mine
    rows = ((LICENCE, None, None, 2024, "落后"), ("", "91150600MA0N00001W", "鄂尔多斯示范煤矿", "2025年", "落后档次"))
    outcome = bus.handle(ImportMineRecords(NR, rd.GRADE, GRADE_HEADERS, rows, "grades.xlsx"))
    assert (outcome["rows"], outcome["changed"], outcome["mines"]) == (2, 2, ["mine-0001"])
    assert uow.mine_records.get("mine-0001").grades == {"2024": "落后", "2025": "落后"}
    again = bus.handle(ImportMineRecords(NR, rd.GRADE, GRADE_HEADERS, rows, "grades.xlsx"))
    assert (again["changed"], again["unchanged"]) == (0, 2)
    abnormal = bus.handle(ImportMineRecords(REGION, rd.ABNORMAL, ("采矿许可证号", "列入日期", "移出日期"),
                                            ((LICENCE, datetime(2025, 8, 31), "2026/3/1"),), "abnormal.csv"))
    assert abnormal["changed"] == 1
    assert record_rows(uow, ["鄂尔多斯市"])[0]["abnormal"] == [{"listed_on": "2025-08-31", "removed_on": "2026-03-01"}]
    assert record_rows(uow, ["包头市"]) == []


def test_a_bad_table_names_every_problem_by_row_and_column_and_stores_nothing(mine):
    uow, bus = mine
    baotou = listed("mine-0002")
    baotou["payload"]["league"] = "包头市"
    bus.handle_event(baotou, uow)
    rows = ((LICENCE, None, None, 2024, "落后"),
            ("C-unknown", None, None, 2024, "落后"),
            ("", "91150600MA0N00001W", "示范矿山1号", 2031, "差"),
            (LICENCE, None, None, 2024, "一般"),
            ("", "91150600MA0N00001W", "示范矿山1号", "去年", "落后"))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(ImportMineRecords(NR, rd.GRADE, GRADE_HEADERS, rows, "grades.xlsx"))
    problems = {e.field: e.message for e in refused.value.errors}
    assert "导入文件有" in refused.value.message and "未导入任何数据" in refused.value.message
    assert "没有采矿许可证号 C-unknown" in problems["第3行 采矿许可证号"]
    assert "本盟市" in problems["第4行 矿山名称"]                       # mine-0002 is in 包头市
    assert "与第2行重复" in problems["第5行 年度"]
    assert "不是年度" in problems["第6行 年度"]
    assert uow.mine_records.find() == []
    with pytest.raises(InvalidInput) as header:
        bus.handle(ImportMineRecords(NR, rd.ABNORMAL, ("矿山", "移出日期"), (("x", "2026-01-01"),), "a.csv"))
    fields = [e.field for e in header.value.errors]
    assert fields == ["第1行 矿山", "第1行 列入日期", "第1行 采矿许可证号"]
    with pytest.raises(InvalidInput) as empty:
        bus.handle(ImportMineRecords(NR, rd.ABNORMAL, ("采矿许可证号", "列入日期"), ((None, None),), "a.csv"))
    assert [e.message for e in empty.value.errors] == ["文件中没有数据行"]


def test_dates_are_read_in_the_usual_ways():
    assert rd.parse_date("2026年3月1日") == (date(2026, 3, 1), None)
    assert rd.parse_date("2026.3.1") == (date(2026, 3, 1), None)
    assert rd.parse_date(datetime(2026, 3, 1, 0, 0)) == (date(2026, 3, 1), None)
    assert rd.parse_date("2026-02-30")[1] == "“2026-02-30”不是有效日期"
    assert "不是日期" in rd.parse_date("三月")[1]
