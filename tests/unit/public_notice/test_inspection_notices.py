"""Who the public notice tells of supervision's 双随机 events (domain/notifications/audiences.py), on the contracts'
examples: the drawn mines' departments of their 盟市 (and regional reviewers), then the enterprise and the bureau of
each result."""
from __future__ import annotations

import json

from public_notice.domain.notifications import audiences
from shared.config import REPO_ROOT


def example(event_type: str) -> dict:
    return json.loads((REPO_ROOT / "contracts" / "examples" / f"{event_type}.v1.json").read_text("utf-8"))["payload"]


def test_a_draw_tells_the_departments_of_each_drawn_mine():
    payload = example("supervision.inspections_drawn")
    payload["inspections"].append({**payload["inspections"][0], "league": "包头市",
                                   "departments": ["natural_resources", "water_resources"]})
    rule = audiences.TABLE["supervision.inspections_drawn"]
    assert audiences.audience(rule, payload) == [
        {"role": "department_reviewer", "department": "ecology_environment", "area": ["鄂尔多斯市", "自治区"]},
        {"role": "department_reviewer", "department": "natural_resources", "area": ["包头市", "自治区"]},
        {"role": "department_reviewer", "department": "natural_resources", "area": ["鄂尔多斯市", "自治区"]},
        {"role": "department_reviewer", "department": "water_resources", "area": ["包头市", "自治区"]}]
    rendered = audiences.render(rule, payload)
    assert rendered == {"title": "2026年度双随机抽查任务", "link": "/supervision/inspections/2026",
                        "text": "2026年度“双随机、一公开”抽查已抽取，请查看本部门的检查任务并按时记录检查结果。"}


def test_a_result_tells_the_enterprise_and_the_bureau():
    payload = example("supervision.inspection_result_recorded")
    rule = audiences.TABLE["supervision.inspection_result_recorded"]
    assert audiences.audience(rule, payload) == [{"role": "enterprise", "enterprise": "91150600MA0N00001W"},
                                                 {"role": "bureau", "area": "鄂尔多斯市"}]
    rendered = audiences.render(rule, payload)
    assert rendered["title"] == "双随机抽查结果：示范矿山1号"
    assert rendered["text"] == ("生态环境局对示范矿山1号的2026年度双随机抽查结果：发现问题。"
                                "排土场未按方案复垦，扬尘防治措施不到位")
    assert rendered["link"] == "/supervision/inspections/public/2026"
