"""The import of the list kept before the platform, over real servers (MongoDB-wire server, Kafka-protocol broker,
the service's consumer, relay and web app): the public list API and pages show the imported mines at once (the
in-memory list reloads on the stamp) with their historical announcements; `mine_listed` published once per mine;
re-importing adds nothing; the CLI exits 2 on a bad file and stores nothing."""
from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from public_notice.domain import list_import as li
from public_notice.entrypoints import cli
from shared.demo_region import credit_code

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HEADERS = ["矿山名称", "企业名称", "统一社会信用代码", "盟市", "旗县", "矿种", "规模", "入库年份", "公告文号",
           "公告标题"]
ROWS = [["青城示范金矿", "青城示范黄金有限公司", credit_code("150100", 951), "呼和浩特市", "武川县", "金", "中型",
         "2022", "内自然资字〔2022〕152号", "关于公布2022年度自治区级绿色矿山名录的公告"],
        ["康巴什示范煤矿", "康巴什示范煤业有限公司", credit_code("150600", 952), "鄂尔多斯市", "伊金霍洛旗", "煤",
         "大型", "2022", "内自然资字〔2022〕152号", "关于公布2022年度自治区级绿色矿山名录的公告"],
        ["阿拉善示范砂石矿", "阿拉善示范砂石有限公司", credit_code("152900", 953), "阿拉善盟", "阿拉善左旗",
         "建筑用砂砾石", "小型", "2024", "内自然资字〔2024〕210号", "关于公布2024年度自治区级绿色矿山名录的公告"]]


def write(path, rows, headers=HEADERS):
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


@pytest.fixture
def importing(notice, monkeypatch):
    notice.clock.fixed = AT
    monkeypatch.setattr(cli, "_bus", lambda settings: notice.bus)
    monkeypatch.setattr("shared.cli._settings", lambda: notice.settings)
    return notice


def test_imported_mines_on_the_public_list_with_their_historical_announcements(importing, tmp_path):
    notice = importing
    runner = CliRunner()
    first = runner.invoke(cli.notice, ["import-list", str(write(tmp_path / "名录2022.csv", ROWS[:2]))])
    assert first.exit_code == 0, first.output + first.stderr
    assert "已导入 2 座矿山、1 个原公告" in first.output
    listed = notice.call("GET", "/api/v1/list?per_page=100")
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "2"
    assert {m["mine_name"] for m in listed.get_json()} == {"青城示范金矿", "康巴什示范煤矿"}
    assert {m["announcement_no"] for m in listed.get_json()} == {"内自然资字〔2022〕152号"}
    # a second file: the web's in-memory copy of the list reloads at once (the stamp moved)
    second = runner.invoke(cli.notice, ["import-list", str(write(tmp_path / "名录全部.csv", ROWS))])
    assert "已导入 1 座矿山、1 个原公告" in second.output and "2 座已在名录中" in second.output
    listed = notice.call("GET", "/api/v1/list?per_page=100").get_json()
    assert len(listed) == 3
    alxa = notice.call("GET", "/api/v1/list?league=阿拉善盟").get_json()
    assert [m["mine_name"] for m in alxa] == ["阿拉善示范砂石矿"] and alxa[0]["listed_on"] == "2024-12-31"
    assert [m["mine_name"] for m in notice.call("GET", "/api/v1/list?year=2022&per_page=100").get_json()] == [
        "青城示范金矿", "康巴什示范煤矿"]
    mine_id = li.imported_id(ROWS[0][2], ROWS[0][0])
    one = notice.call("GET", f"/api/v1/list/{mine_id}").get_json()
    assert [h["action"] for h in one["history"]] == ["listed", "imported"]
    assert "by" not in one["history"][1]
    announcement = notice.call("GET", f"/api/v1/notice/announcements/{one['announcement_id']}").get_json()
    assert (announcement["kind"], announcement["number"], announcement["published_on"]) == (
        "historical", "内自然资字〔2022〕152号", "2022-12-31")
    assert [r[1] for r in announcement["rows"]] == ["青城示范金矿", "康巴什示范煤矿"]
    page = notice.call("GET", f"/public/list/{mine_id}").get_data(as_text=True)
    assert "内自然资字〔2022〕152号" in page and "录入本平台" in page
    page = notice.call("GET", f"/public/announcements/{one['announcement_id']}").get_data(as_text=True)
    assert "关于公布2022年度自治区级绿色矿山名录的公告" in page
    events = notice.published("public_notice.mine_listed")
    assert sorted(e["mine_id"] for e in events) == sorted(li.imported_id(r[2], r[0]) for r in ROWS)
    assert notice.published("public_notice.announcement_published") == []
    # the same file again: nothing
    again = runner.invoke(cli.notice, ["import-list", str(tmp_path / "名录全部.csv")])
    assert "已导入 0 座矿山" in again.output and "3 座已在名录中" in again.output
    assert len(notice.published("public_notice.mine_listed")) == 3
    assert notice.db["listings"].count_documents({}) == 3 and notice.db["announcements"].count_documents({}) == 2


def test_a_bad_file_exits_2_and_stores_nothing(importing, tmp_path):
    notice = importing
    bad = [*ROWS[:2], ["", "某公司", "91150100MA0R00000X", "北京市", "朝阳区", "煤炭", "超大型", "二〇二二",
                       "无文号", "标题"]]
    result = CliRunner().invoke(cli.notice, ["import-list", str(write(tmp_path / "bad.csv", bad))])
    assert result.exit_code == 2
    for column in ("矿山名称", "统一社会信用代码", "盟市", "矿种", "规模", "入库年份", "公告文号"):
        assert f"第4行 {column}" in result.stderr, column
    assert notice.db["listings"].count_documents({}) == 0
    assert notice.db["announcements"].count_documents({}) == 0
    assert notice.published("public_notice.mine_listed") == []
    assert notice.call("GET", "/api/v1/list").headers["X-Total-Count"] == "0"
