"""Supervision's measures applied to the public list (area `measures`): marks shown with their public reasons and
lifted, a removal decided → off the list with a 移出名录公告 and the reason on its page, the enterprise told to stop
using the title; replays and decisions to keep change nothing; the inbox tells whoever must act on a measure."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from public_notice.bootstrap import bootstrap
from public_notice.domain.listing import ListedMine
from public_notice.domain.notifications import audiences
from shared.config import Settings

AT = datetime(2026, 9, 24, 2, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"
CODE = "91150600MA0N00001W"
USERS = [{"username": "region", "role": "region_office", "area": "自治区"},
         {"username": "bureau", "role": "bureau", "area": "鄂尔多斯市"},
         {"username": "enterprise", "role": "enterprise", "enterprise": CODE},
         {"username": "enterprise2", "role": "enterprise", "enterprise": "91150200MA0N00002B"}]


class Directory:
    def find(self, **equals):
        def ok(user):
            return all(user.get(k) in v if isinstance(v, list | tuple | set) else user.get(k) == v
                       for k, v in equals.items())

        return [{"display_name": u["username"], "email": None, **u} for u in USERS if ok(u)]


def example(event_type: str, **payload) -> dict:
    envelope = json.loads((EXAMPLES / f"{event_type}.v1.json").read_text())
    envelope["event_id"] = str(uuid.uuid4())
    envelope["payload"].update(payload)
    return envelope


@pytest.fixture
def bus(uow):
    b = bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow, clock=lambda: AT,
                  directory=Directory())
    mine = ListedMine.enter({"application_id": "app-1", "mine_id": "mine-001", "mine_name": "鄂尔多斯示范煤矿",
                             "enterprise_name": "鄂尔多斯示范煤业有限公司", "credit_code": CODE, "league": "鄂尔多斯市",
                             "minerals": ["煤"], "scale": "large"},
                            batch_id="b1", announcement_id="ann-1", announcement_no="2026第1号", on=date(2026, 6, 1),
                            at=AT, by="region", by_name="自治区自然资源厅")
    uow.run(lambda: uow.listings.save(mine))
    return b


def test_marks_are_shown_with_their_reasons_and_lifted_when_none_is_left(bus, uow):
    two = [{"measure_id": "ms-a", "reason": "矿山停产1年以上"}, {"measure_id": "ms-b", "reason": "需要限期整改的事项"}]
    placed = example("supervision.mark_placed", marks=two)
    bus.handle_event(placed, uow)
    mine = uow.listings.get("mine-001")
    assert (mine.status, mine.mark_reason) == ("marked", "矿山停产1年以上；需要限期整改的事项")
    bus.handle_event(placed, uow)
    assert len(uow.listings.get("mine-001").history) == 2          # the same marks again: nothing new
    bus.handle_event(example("supervision.mark_lifted", marks=two[1:]), uow)
    assert uow.listings.get("mine-001").mark_reason == "需要限期整改的事项"
    bus.handle_event(example("supervision.mark_lifted", marks=[], reason="已复产"), uow)
    mine = uow.listings.get("mine-001")
    assert (mine.status, mine.mark_reason, mine.history[-1]["action"], mine.history[-1]["reason"]) == (
        "listed", None, "unmarked", "已复产")
    bus.handle_event(example("supervision.mark_placed", mine_id="mine-unknown"), uow)   # not listed here: ignored
    assert uow.listings.get("mine-unknown") is None


def test_a_decided_removal_takes_the_mine_off_the_list_once_and_tells_the_enterprise(bus, uow):
    kept = example("supervision.removal_decided", outcome="kept")
    bus.handle_event(kept, uow)
    assert uow.listings.get("mine-001").on_list and not uow.announcements.find(kind="removal")
    decided = example("supervision.removal_decided")
    bus.handle_event(decided, uow)
    mine = uow.listings.get("mine-001")
    assert mine.status == "removed"
    assert (mine.removal["document_no"], mine.removal["reason"]) == (
        "内绿矿协〔2026〕3号", "越界开采，经自治区绿色矿山建设协调机制审定移出绿色矿山名录")
    [announcement] = uow.announcements.find(kind="removal")
    assert mine.removal["announcement_id"] == announcement.id
    [entry] = uow.inbox.find(event_id=decided["event_id"])
    assert entry.username == "enterprise" and "停止使用“绿色矿山”称号" in entry.text
    assert "内绿矿协〔2026〕3号" in entry.text and entry.link == "/public/list/mine-001"
    again = example("supervision.removal_decided")
    bus.handle_event(again, uow)
    assert len(uow.announcements.find(kind="removal")) == 1
    assert not uow.inbox.find(event_id=kept["event_id"])


def test_a_measure_step_tells_whoever_the_event_names():
    payload = example("supervision.measure_progressed")["payload"]
    rule = audiences.TABLE["supervision.measure_progressed"]
    queries = audiences.audience(rule, payload)
    assert queries == [{"role": "enterprise", "enterprise": CODE}]
    content = audiences.render(rule, payload)
    assert content["link"] == f"/supervision/measures/{payload['measure_id']}"
    assert content["title"] == "监管事项：鄂尔多斯示范煤矿" and "整改期限2026年11月30日" in content["text"]
    odd = {**payload, "notify": [{"area": "x"}, "bad", {"role": "bureau", "area": "鄂尔多斯市", "x": 1}]}
    assert audiences.audience(rule, odd) == [{"role": "bureau", "area": "鄂尔多斯市"}]
