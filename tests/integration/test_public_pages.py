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
    db["green_mines"].insert_many([
        {"mine_name": "甲煤矿", "enterprise_name": "甲公司", "league": "鄂尔多斯市", "county": "准格尔旗",
         "minerals": ["煤"], "listed_on": "2026-05-01", "status": "listed"},
        {"mine_name": "乙砂石矿", "enterprise_name": "乙公司", "league": "包头市", "county": "固阳县",
         "minerals": ["建筑用砂"], "listed_on": "2026-05-01", "status": "rectifying"},
        {"mine_name": "丙铁矿", "enterprise_name": "丙公司", "league": "包头市", "county": "白云鄂博矿区",
         "minerals": ["铁"], "listed_on": "2026-05-01", "status": "removed"},
    ])
    page = client.get("/public/list?league=包头市").get_data(as_text=True)
    assert "乙砂石矿" in page and "限期整改" in page and "甲煤矿" not in page and "丙铁矿" not in page
    api = client.get("/api/v1/list?q=煤矿")
    assert api.status_code == 200 and [m["mine_name"] for m in api.json] == ["甲煤矿"]
    assert "没有符合条件的矿山" in client.get("/public/list?q=金矿").get_data(as_text=True)


def test_public_notices(settings):
    db = service_store(settings, "public_notice").db
    client = create_app(settings).test_client()
    assert "暂无公示或公告" in client.get("/public/notices").get_data(as_text=True)
    db["notices"].insert_one({"title": "2026年第一批绿色矿山公示", "kind_label": "公示", "published": True,
                              "published_at": datetime(2026, 4, 1, tzinfo=UTC), "ends_on": "2026-04-10",
                              "summary": "拟纳入名录矿山12座"})
    page = client.get("/public/notices").get_data(as_text=True)
    assert "2026年第一批绿色矿山公示" in page and "公示截止 2026-04-10" in page
