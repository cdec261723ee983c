"""GET /api/v1/supervision/situations: anyone (no sign-in) reads the 3 + 9 + 14 situations in the notice's order and
words; the region office's workspace page shows them as tables."""
from __future__ import annotations

import pytest

from shared import identity
from supervision.entrypoints.http import create_app

pytestmark = pytest.mark.integration

NOTICE_FIRST_AND_LAST = {"mark": ("矿山停产1年以上", "需要限期整改的事项"),
                         "rectify": ("绿色矿山评估相关档案资料不健全", "其他违法违规行为，需限期整改的"),
                         "remove": ("《采矿许可证》、《安全生产许可证》、《营业执照》证照不齐、过期未及时延续"
                                    "或被吊销的", "其他违法违规行为不宜继续列入名录的")}


def test_anyone_reads_three_nine_and_fourteen_situations(settings):
    client = create_app(settings).test_client()
    answer = client.get("/api/v1/supervision/situations")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.json
    assert list(body) == ["mark", "rectify", "remove"]
    assert [len(body[k]) for k in body] == [3, 9, 14]
    for measure, items in body.items():
        assert [i["no"] for i in items] == list(range(1, len(items) + 1))
        assert (items[0]["text"], items[-1]["text"]) == NOTICE_FIRST_AND_LAST[measure]
        assert all(i["code"] == f"{measure}.{i['no']}" and i["raised_by"] and i["evidence"] for i in items)
    three_rates = body["rectify"][4]
    assert three_rates["text"] == "矿产资源“三率”等指标不达标"
    assert three_rates["raised_by"] == [{"code": "natural_resources", "name": "自然资源部门"}]
    assert body["remove"][8]["detection"] == "sweep" and body["remove"][8]["trigger"] == "abnormal_list_six_months"


def test_the_workspace_shows_them_to_the_region_office(settings):
    client = create_app(settings).test_client()
    office = identity.Principal("region", "region_office", area="自治区")
    page = client.get("/supervision/", headers={"Authorization": "Bearer " + identity.issue_token(settings.secret_key,
                                                                                                   office)})
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    text = page.get_data(as_text=True)
    assert "标注（3 种情形）" in text and "限期整改（9 种情形）" in text and "移出绿色矿山名录（14 种情形）" in text
    assert "弄虚作假通过绿色矿山评估的" in text
