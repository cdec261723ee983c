"""The 通报 the public notice publishes from review_routing's `misconduct_found` event: its title and text say who,
what (the notice's words), when, and until when; the handler stores one bulletin per finding."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from notice_fakes import FakeNoticeUnitOfWork

from public_notice.bootstrap import bootstrap
from public_notice.domain.bulletins import bulletin_from_misconduct
from shared.config import Settings

EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "contracts" / "examples"
                      / "review_routing.misconduct_found.v1.json").read_text(encoding="utf-8"))
AT = datetime(2026, 5, 21, 1, 0, tzinfo=UTC)


def test_the_bulletin_says_who_what_when_and_until_when():
    b = bulletin_from_misconduct(EXAMPLE["payload"], event_id=EXAMPLE["event_id"], published_at=AT)
    assert b["title"] == "关于某某矿业技术咨询有限公司串通企业弄虚作假的通报"
    assert b["text"].startswith("经核实，某某矿业技术咨询有限公司评估人员张某存在串通企业弄虚作假的违规行为：")
    assert "自2026年5月20日起3年内（至2029年5月20日）不再采信某某矿业技术咨询有限公司的绿色矿山评估服务。" in b["text"]
    assert "。。" not in b["text"] and b["_id"] == EXAMPLE["payload"]["finding_id"]
    anonymous = bulletin_from_misconduct({**EXAMPLE["payload"], "person": None, "facts": "评估结论与现场严重不符"},
                                         event_id="e", published_at=AT)
    assert "某某矿业技术咨询有限公司存在" in anonymous["text"] and "评估结论与现场严重不符。" in anonymous["text"]


def test_the_handler_stores_one_bulletin_per_finding():
    uow = FakeNoticeUnitOfWork()
    bus = bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow, clock=lambda: AT)
    bus.handle_event(EXAMPLE, uow)
    bus.handle_event({**EXAMPLE, "event_id": "00000000-0000-4000-8000-00000000000f"}, uow)
    (stored,) = uow.bulletins.docs.values()
    assert stored["published_at"] == AT and stored["person"] == "张某"
    assert stored["document_no"] == "内自然资字〔2026〕12号"
