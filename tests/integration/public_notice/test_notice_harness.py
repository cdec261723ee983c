"""The public notice's harness on real servers: the 通报 of a misconduct finding is stored once however often the
event arrives (the area shape of service_layer/areas.py, through the real consumer's inbox)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "contracts" / "examples"
                      / "review_routing.misconduct_found.v1.json").read_text(encoding="utf-8"))


def test_a_finding_becomes_one_bulletin_however_often_it_arrives(notice):
    notice.deliver(EXAMPLE)
    notice.publish(EXAMPLE)
    notice.deliver({**EXAMPLE})
    assert notice.db["bulletins"].count_documents({}) == 1
    answer = notice.call("GET", "/api/v1/notice/bulletins")
    assert answer.status_code == 200 and answer.json[0]["institution_name"] == "某某矿业技术咨询有限公司"
