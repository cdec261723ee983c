"""The public list (名录) and notices pages read the public_notice service's read models; anyone may read them."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from public_notice.entrypoints.http import create_app
from shared.runtime import service_store

pytestmark = pytest.mark.integration


def test_public_list_filters_and_shows_status(settings):
    db = service_store(settings, "public_notice").db
    client = create_app(settings).test_client()
    empty = client.get("/public/list")
    assert empty.status_code == 200 and "名录中暂无矿山" in empty.get_data(as_text=True)

    def mine(mine_id, name, enterprise, league, mineral, status):
        return {"_id": mine_id, "mine_name": name, "enterprise_name": enterprise, "league": league, "county": None,
                "minerals": [mineral], "scale": "large", "listed_on": "2026-05-01", "listed_year": 2026,
                "status": status, "announcement_id": "ann-1",
                "announcement_no": "内蒙古自治区绿色矿山名录公告〔2026〕第1号", "history": [], "version": 1}

    db["listings"].insert_many([
        mine("m1", "甲煤矿", "甲公司", "鄂尔多斯市", "煤", "listed"),
        mine("m2", "乙砂石矿", "乙公司", "包头市", "建筑用砂", "marked"),
        mine("m3", "丙铁矿", "丙公司", "包头市", "铁", "removed"),
    ])
    page = client.get("/public/list?league=包头市").get_data(as_text=True)
    assert "乙砂石矿" in page and "标注" in page and "甲煤矿" not in page and "丙铁矿" not in page
    api = client.get("/api/v1/list?q=煤矿")
    assert api.status_code == 200 and [m["mine_name"] for m in api.json] == ["甲煤矿"]
    assert "没有符合条件的矿山" in client.get("/public/list?q=金矿").get_data(as_text=True)


def test_public_notices(settings):
    db = service_store(settings, "public_notice").db
    client = create_app(settings).test_client()
    assert "暂无公示或公告" in client.get("/public/notices").get_data(as_text=True)
    db["announcements"].insert_one({"_id": "ann-1", "kind": "listing", "year": 2026, "seq": 1,
                                    "number": "内蒙古自治区绿色矿山名录公告〔2026〕第1号",
                                    "title": "关于将12座矿山列入内蒙古自治区绿色矿山名录的公告",
                                    "published_at": datetime(2026, 4, 1, tzinfo=UTC), "published_on": "2026-04-01",
                                    "item_count": 12, "issuer": "内蒙古自治区自然资源厅"})
    page = client.get("/public/notices").get_data(as_text=True)
    assert "关于将12座矿山列入内蒙古自治区绿色矿山名录的公告" in page and "〔2026〕第1号" in page
