"""The triggers area's views over the in-memory unit of work: who reads which findings, the records' API and the
workspace's forms (a form answers with a message on the next page, naming the field in Chinese)."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from unit.supervision.trigger_support import make_system, on_list, recorded

from shared import identity
from shared.config import Settings
from supervision.entrypoints.http import create_app

SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "k" * 32})
LICENCE = "C1500002011061120113456"


def bearer(username, role, area=None, **more) -> dict:
    principal = identity.Principal(username, role, area=area, **more)
    return {"Authorization": "Bearer " + identity.issue_token(SETTINGS.secret_key, principal)}


NR = bearer("nr", "department_reviewer", "鄂尔多斯市", department="natural_resources")
ECO = bearer("eco", "department_reviewer", "鄂尔多斯市", department="ecology_environment")
BAOTOU = bearer("bureau_baotou", "bureau", "包头市")
REGION = bearer("region", "region_office", "自治区")


@pytest.fixture
def web():
    uow, bus, sweep = make_system()
    on_list(uow, bus, recorded(1, "2026-01-05", licences={"mining": "2026-03-01"}))
    assert sweep(date(2026, 3, 2)) == 2
    bus.dependencies["clock"].on(date(2026, 6, 1))
    return uow, create_app(SETTINGS, bus).test_client()


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [m for _, m in session.pop("_flashes", [])]


def test_findings_are_read_within_the_readers_league(web):
    _, client = web
    everything = client.get("/api/v1/supervision/findings", headers=REGION)
    assert everything.status_code == 200
    assert [(f["action"], f["situation"], f["found_on"]) for f in everything.json] == [
        ("warn", None, "2026-03-02"), ("propose_removal", "remove.1", "2026-03-02")]
    assert [f["status"] for f in everything.json] == ["open", "measure"]      # the proposal is a measure now
    assert client.get("/api/v1/supervision/findings?status=open", headers=ECO).json == everything.json[:1]
    assert everything.json[1]["measure_id"]
    assert client.get("/api/v1/supervision/findings", headers=BAOTOU).json == []
    refused = client.get("/api/v1/supervision/findings?league=鄂尔多斯市", headers=BAOTOU)
    assert refused.status_code == 403 and "包头市" in refused.json["message"]
    assert client.get("/api/v1/supervision/findings?status=done", headers=REGION).status_code == 422
    enterprise = bearer("ent", "enterprise", enterprise="91150600MA0N00001W")
    assert client.get("/api/v1/supervision/findings", headers=enterprise).status_code == 403
    assert client.get("/api/v1/supervision/new-mines", headers=REGION).json == []


def test_the_records_api_and_its_refusals(web):
    uow, client = web
    ok = client.post("/api/v1/supervision/mines/mine-0001/abnormal-listings", headers=NR,
                     json={"listed_on": "2026-01-10", "removed_on": None})
    assert ok.status_code == 200 and ok.json["abnormal"] == [{"listed_on": "2026-01-10", "removed_on": None}]
    missing = client.post("/api/v1/supervision/mines/mine-0001/abnormal-listings", headers=NR, json={})
    assert missing.status_code == 422 and "listed_on" in missing.json["errors"]
    assert client.post("/api/v1/supervision/mines/mine-0001/utilisation-grades", headers=ECO,
                       json={"year": 2025, "grade": "落后"}).status_code == 403
    assert client.post("/api/v1/supervision/mines/nowhere/utilisation-grades", headers=NR,
                       json={"year": 2025, "grade": "落后"}).status_code == 404
    wrong = client.post("/api/v1/supervision/mines/mine-0001/utilisation-grades", headers=NR,
                        json={"year": 2025, "grade": "差"})
    assert wrong.status_code == 422 and "grade" in wrong.json["errors"]
    book = openpyxl.Workbook()
    book.active.append(["统一社会信用代码", "矿山名称", "年度", "开发利用水平"])
    book.active.append(["91150600MA0N00001W", "鄂尔多斯示范煤矿", 2024, "落后"])
    raw = io.BytesIO()
    book.save(raw)
    imported = client.post("/api/v1/supervision/records/import", headers=NR, content_type="multipart/form-data",
                           data={"kind": "grades", "file": (io.BytesIO(raw.getvalue()), "grades.xlsx")})
    assert imported.status_code == 200 and imported.json["changed"] == 1
    assert uow.mine_records.get("mine-0001").grades == {"2024": "落后"}
    for data, field in (({"kind": "grades", "file": (io.BytesIO(b"x"), "grades.txt")}, "(文件)"),
                        ({"kind": "grades", "file": (io.BytesIO(b"PK\x03\x04junk"), "grades.xlsx")}, "(文件)"),
                        ({"kind": "other", "file": (io.BytesIO(b"a"), "a.csv")}, "kind"),
                        ({"kind": "grades"}, "file")):
        refused = client.post("/api/v1/supervision/records/import", headers=NR, content_type="multipart/form-data",
                              data=data)
        assert refused.status_code == 422 and field in refused.json["errors"], refused.json


def test_the_workspace_forms_answer_with_a_message(web):
    uow, client = web
    done = client.post("/supervision/records/grades", headers=NR,
                       data={"mine_id": "mine-0001", "year": "2025", "grade": "落后"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/supervision/#triggers")
    assert flashes(client) == ["已记录开发利用水平"]
    client.post("/supervision/records/grades", headers=NR, data={"mine_id": "mine-0001", "year": "2025",
                                                                 "grade": "落后"})
    assert flashes(client) == ["该记录已存在，未作改动"]
    client.post("/supervision/records/abnormal", headers=NR, data={"mine_id": "mine-0001", "listed_on": "2026-02-30"})
    assert flashes(client) == ["未保存：“2026-02-30”不是有效日期"]
    client.post("/supervision/records/abnormal", headers=NR,
                data={"mine_id": "mine-0001", "listed_on": "2026-03-01", "removed_on": "2026-02-01"})
    assert flashes(client) == ["未保存：移出日期不能早于列入日期"]
    client.post("/supervision/records/import", headers=NR, content_type="multipart/form-data",
                data={"kind": "abnormal", "file": (io.BytesIO("采矿许可证号,列入日期\n".encode()
                                                              + f"{LICENCE},2026年5月4日\n".encode()), "a.csv")})
    assert flashes(client) == ["已导入矿业权人勘查开采信息公示异常名录 1 行：新记录或更新 1 条，已存在 0 条"]
    client.post("/supervision/records/import", headers=NR, content_type="multipart/form-data",
                data={"kind": "abnormal", "file": (io.BytesIO("采矿许可证号,列入日期\nC-x,\n".encode()), "a.csv")})
    assert flashes(client) == ["未保存：导入文件有2处问题，未导入任何数据",
                               "第2行 采矿许可证号：监管台账中没有采矿许可证号 C-x的矿山", "第2行 列入日期：不能为空"]
    client.post("/supervision/records/grades", headers=NR, data={"mine_id": "mine-0001"})
    assert flashes(client) == ["未保存：提交的数据有误，请按提示修改", "年度：请填写年度",
                               "开发利用水平：开发利用水平应为领先、先进、一般、落后之一"]
    client.post("/supervision/records/grades", headers=ECO, data={"mine_id": "mine-0001", "year": "2025",
                                                                  "grade": "一般"})
    assert flashes(client) == ["未保存：只有自然资源部门可以记录异常名录和开发利用水平"]
    records = uow.mine_records.get("mine-0001")
    assert records.grades == {"2025": "落后"} and records.abnormal == [{"listed_on": "2026-05-04", "removed_on": None}]
