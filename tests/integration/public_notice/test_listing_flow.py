"""The 名录 on real servers (MongoDB-wire server, Kafka-protocol broker, the service's consumer and relay): a closed
batch's listing confirmed by the region office → the numbered 公告 (page, API, PDF read back with pypdf) → the
public list API with its filters and pagination → the CSV and xlsx exports → the certificate PDF whose QR code is
the mine's public URL → the mine's page; a mark, a removal (410 for its certificate), a 通报 from a replayed
misconduct event, and repeats changing nothing."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import segno
from batch_builders import closed_batch
from openpyxl import load_workbook
from pypdf import PdfReader

from public_notice.adapters.repository import MongoPublicNoticeUnitOfWork
from public_notice.entrypoints.list_exports import QR_BORDER, QR_SCALE
from public_notice.service_layer.listing import AnnounceRemoval
from shared.identity import Principal

pytestmark = pytest.mark.integration

AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
LEAGUES = ["鄂尔多斯市", "包头市", "呼伦贝尔市", "赤峰市", "锡林郭勒盟"]
MINERALS = [["煤"], ["铁"], ["建筑用砂"], ["萤石"], ["煤", "高岭土"]]
SCALES = ["large", "medium", "small"]
EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "contracts" / "examples"
                      / "review_routing.misconduct_found.v1.json").read_text(encoding="utf-8"))


def entry(n):
    return {"application_id": f"app-{n:04d}", "review_id": f"app-{n:04d}.v1", "version_no": 1,
            "mine_id": f"mine-{n:04d}", "mine_name": f"示范矿山{n:02d}号",
            "enterprise_name": "鄂尔多斯示范煤业有限公司" if n % 4 == 0 else f"示范矿业{n:02d}有限公司",
            "credit_code": "91150600MA0N00001W", "league": LEAGUES[n % 5], "county": None,
            "minerals": MINERALS[n % 5], "scale": SCALES[n % 3], "total": "92.50", "institution_name": "评估公司",
            "case_no": f"150600-2026-{n:05d}"}


@pytest.fixture
def listed(notice):
    """A real PublicityBatch past its window: 25 mines clear, the 26th with an objection still open."""
    batch = closed_batch("batch-1", [entry(n) for n in range(1, 27)], open_objections=["app-0026"])
    uow = MongoPublicNoticeUnitOfWork(notice.store)
    uow.run(lambda: uow.batches.save(batch))
    notice.clock.fixed = AT
    return notice


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


def test_from_a_closed_batch_to_the_list_the_announcement_the_exports_and_the_certificate(listed):
    notice = listed
    assert notice.call("POST", "/api/v1/notice/batches/batch-1/listing", None, {}).status_code == 401
    assert notice.call("POST", "/api/v1/notice/batches/batch-1/listing", "bureau", {}).status_code == 403
    assert notice.call("POST", "/api/v1/notice/batches/batch-1/listing", "region",
                       {"application_ids": ["app-0026"]}).status_code == 422
    answer = notice.call("POST", "/api/v1/notice/batches/batch-1/listing", "region", {})
    assert answer.status_code == 200, answer.json
    assert answer.json["changed"] and len(answer.json["listed"]) == 25
    (announcement,) = answer.json["announcements"]
    assert announcement["number"] == "内蒙古自治区绿色矿山名录公告〔2026〕第1号"
    again = notice.call("POST", "/api/v1/notice/batches/batch-1/listing", "region", {})
    assert again.status_code == 200 and not again.json["changed"]
    assert again.json["announcements"][0]["id"] == announcement["id"]
    assert notice.db["listings"].count_documents({}) == 25 and notice.db["announcements"].count_documents({}) == 1
    assert len(notice.published("public_notice.mine_listed")) == 25
    stored = notice.db["batches"].find_one({"_id": "batch-1"})
    assert stored["listings"][0]["announcement_id"] == announcement["id"]
    assert [e["state"] for e in stored["entries"]].count("listed") == 25

    # the announcement: API, page, PDF
    one = notice.call("GET", f"/api/v1/notice/announcements/{announcement['id']}")
    assert one.status_code == 200 and one.json["columns"] == ["序号", "矿山名称", "企业名称", "盟市", "矿种", "规模"]
    assert len(one.json["rows"]) == 25 and "接受社会监督" in one.json["text"]
    assert [a["number"] for a in notice.call("GET", "/api/v1/notice/announcements").json] == [announcement["number"]]
    page = notice.call("GET", f"/public/announcements/{announcement['id']}").get_data(as_text=True)
    assert announcement["number"] in page and "示范矿山01号" in page and "内蒙古自治区自然资源厅" in page
    pdf = notice.call("GET", f"/public/announcements/{announcement['id']}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for words in ("内蒙古自治区绿色矿山名录公告〔2026〕第1号", "内政办发〔2025〕24号", "示范矿山25号",
                  "内蒙古自治区自然资源厅", "2026年6月10日", "序号", "规模"):
        assert words in text, words
    assert "第1号" in notice.call("GET", "/public/announcements").get_data(as_text=True)
    assert announcement["title"] in notice.call("GET", "/public/notices").get_data(as_text=True)

    # the public list: pagination and filters
    first = notice.call("GET", "/api/v1/list?per_page=10")
    assert first.status_code == 200 and first.headers["X-Total-Count"] == "25" and len(first.json) == 10
    assert 'rel="next"' in first.headers["Link"] and 'rel="prev"' not in first.headers["Link"]
    assert "page=3" in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    third = notice.call("GET", "/api/v1/list?per_page=10&page=3")
    assert len(third.json) == 5 and 'rel="next"' not in third.headers["Link"]
    every = [m["mine_id"] for p in (1, 2, 3) for m in notice.call("GET", f"/api/v1/list?per_page=10&page={p}").json]
    assert len(set(every)) == 25 and "mine-0026" not in every
    assert notice.call("GET", "/api/v1/list?per_page=101").status_code == 422
    assert notice.call("GET", "/api/v1/list?scale=huge").status_code == 422

    def names(query):
        answer = notice.call("GET", f"/api/v1/list?per_page=100&{query}")
        assert answer.status_code == 200, answer.json
        return {m["mine_id"] for m in answer.json}

    expect = {f"mine-{n:04d}" for n in range(1, 26)}
    assert names("league=包头市") == {m for m in expect if int(m[-4:]) % 5 == 1}
    assert names("mineral=煤") == {m for m in expect if int(m[-4:]) % 5 in (0, 4)}
    assert names("scale=small") == {m for m in expect if int(m[-4:]) % 3 == 2}
    assert names("year=2026") == expect and names("year=2025") == set()
    assert names("q=鄂尔多斯示范煤业") == {m for m in expect if int(m[-4:]) % 4 == 0}
    assert names("q=示范矿山07") == {"mine-0007"}
    assert names("league=包头市&scale=large&mineral=铁") == {m for m in expect
                                                       if int(m[-4:]) % 5 == 1 and int(m[-4:]) % 3 == 0}
    # the app's copy of the list in memory answers as the database does
    from public_notice.adapters import queries

    cache = queries.ListCache()
    assert notice.db["list_stamps"].find_one({"_id": "list"})["changes"] == 1
    for filters in ({}, {"league": "包头市"}, {"mineral": "煤"}, {"scale": "medium", "year": 2026},
                    {"q": "鄂尔多斯"}, {"q": "示范矿山1"}, {"status": "listed", "league": "赤峰市"}, {"year": 2025}):
        for page in (1, 2):
            assert queries.list_page(notice.db, page=page, per_page=7, cache=cache, **filters) == \
                queries.list_page(notice.db, page=page, per_page=7, **filters), filters
    row = notice.call("GET", "/api/v1/list?q=示范矿山07").json[0]
    assert row["announcement_no"] == announcement["number"] and row["listed_on"] == "2026-06-10"
    assert row["status"] == "listed" and row["scale"] == SCALES[7 % 3]

    # a mark: status filter, page
    marked = notice.call("POST", "/api/v1/notice/listings/mine-0007/marks", "region", {"reason": "抽查发现绿化未达标"})
    assert marked.status_code == 200 and marked.json["status"] == "marked"
    assert names("status=marked") == {"mine-0007"} and "mine-0007" not in names("status=listed")

    # the public pages
    html = notice.call("GET", "/public/list?league=包头市&page=1").get_data(as_text=True)
    assert "示范矿山01号" in html and "示范矿山02号" not in html and "共 5 座矿山" in html
    paged = notice.call("GET", "/public/list").get_data(as_text=True)
    assert "下一页" in paged and "共 25 座矿山" in paged
    mine_page = notice.call("GET", "/public/list/mine-0007").get_data(as_text=True)
    assert "纳入名录" in mine_page and "标注" in mine_page and "抽查发现绿化未达标" in mine_page
    assert announcement["number"] in mine_page
    api_one = notice.call("GET", "/api/v1/list/mine-0007").json
    assert [h["action"] for h in api_one["history"]] == ["listed", "marked"] and "by" not in api_one["history"][0]

    # the exports
    csv_answer = notice.call("GET", "/public/list.csv?league=包头市")
    assert csv_answer.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(csv_answer.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "矿山名称", "企业名称"] and len(rows) == 6
    assert {r[1] for r in rows[1:]} == {f"示范矿山{n:02d}号" for n in (1, 6, 11, 16, 21)}
    book = load_workbook(io.BytesIO(notice.call("GET", "/public/list.xlsx").data))
    sheet = book.active
    assert sheet.max_row == 26 and sheet["B1"].value == "矿山名称"
    assert sorted(sheet.cell(r, 2).value for r in range(2, 27)) == sorted(f"示范矿山{n:02d}号" for n in range(1, 26))

    # the certificate: A4 landscape, the facts, a QR code of the mine's public URL
    cert = notice.call("GET", "/public/list/mine-0001/certificate.pdf")
    assert cert.status_code == 200 and cert.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(cert.data))
    (page,) = reader.pages
    assert float(page.mediabox.width) > float(page.mediabox.height)
    url = f"{notice.settings.public_url}/public/list/mine-0001"
    text = pdf_text(cert.data)
    assert "绿色矿山名录证明" in text.replace(" ", "")  # set letter-spaced
    for words in ("示范矿山01号", "示范矿业01有限公司", "包头市", "2026年6月10日",
                  announcement["number"], url):
        assert words in text, words
    assert qr_modules(page) == [list(map(bool, row)) for row in segno.make(url, error="m").matrix]
    assert notice.call("GET", url.removeprefix(notice.settings.public_url)).status_code == 200


def qr_modules(page) -> list[list[bool]]:
    """The QR code embedded in the PDF page, read back module by module (the centre pixel of each)."""
    (image,) = page.images
    picture = image.image.convert("L")
    size = picture.width // QR_SCALE - 2 * QR_BORDER
    assert picture.width == picture.height == (size + 2 * QR_BORDER) * QR_SCALE
    return [[picture.getpixel(((c + QR_BORDER) * QR_SCALE + QR_SCALE // 2,
                               (r + QR_BORDER) * QR_SCALE + QR_SCALE // 2)) < 128 for c in range(size)]
            for r in range(size)]


def test_removal_bulletin_and_replays(listed):
    notice = listed
    assert notice.call("POST", "/api/v1/notice/batches/batch-1/listing", "region", {}).status_code == 200
    removal = notice.call("POST", "/api/v1/notice/removals", "region",
                          {"mine_ids": ["mine-0002", "mine-0003"], "document_no": "内绿矿协〔2026〕3号",
                           "reasons": {"mine-0002": "发生较大生产安全事故"}, "reason": "整改期满未完成整改"})
    assert removal.status_code == 200, removal.json
    assert removal.json["announcement"]["number"] == "内蒙古自治区绿色矿山名录公告〔2026〕第2号"
    again = notice.bus.handle(AnnounceRemoval(Principal("region", "region_office"), ("mine-0003", "mine-0002"),
                                              "内绿矿协〔2026〕3号", reason="整改期满未完成整改"))
    assert not again["changed"]
    assert notice.call("GET", "/api/v1/list?per_page=100").headers["X-Total-Count"] == "23"
    page = notice.call("GET", "/public/list/mine-0002").get_data(as_text=True)
    assert "已于2026-06-10移出内蒙古自治区绿色矿山名录" in page and "发生较大生产安全事故" in page
    gone = notice.call("GET", "/public/list/mine-0002/certificate.pdf")
    assert gone.status_code == 410 and "不再出具名录证明" in gone.get_data(as_text=True)
    assert notice.call("GET", "/api/v1/list/mine-0002").json["removal"]["document_no"] == "内绿矿协〔2026〕3号"
    assert notice.call("POST", "/api/v1/notice/removals", "region",
                       {"mine_ids": ["mine-0004"], "document_no": ""}).status_code == 422

    notice.deliver(EXAMPLE)
    notice.deliver({**EXAMPLE, "event_id": "00000000-0000-4000-8000-0000000c00ff"})  # a replay under another id
    bulletins = notice.call("GET", "/api/v1/notice/announcements").json
    assert [a["number"] for a in bulletins if a["kind"] == "bulletin"] == ["内蒙古自治区绿色矿山通报〔2026〕第1号"]
    assert notice.db["bulletins"].count_documents({}) == 1
    kinds = [p["kind"] for p in notice.published("public_notice.announcement_published")]
    assert sorted(kinds) == ["bulletin", "listing", "removal"]
