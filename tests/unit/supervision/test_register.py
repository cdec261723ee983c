"""The register of listed mines (issue 13 item 2), from `public_notice.mine_listed`: pure rules and the handler over
an in-memory unit of work."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from shared.bus import MessageBus
from shared.config import REPO_ROOT
from shared.testing import FakeAggregates, FakeUnitOfWork
from supervision.bootstrap import COMMAND_HANDLERS, EVENT_HANDLERS
from supervision.domain.register import SupervisedMine

EXAMPLE = json.loads((REPO_ROOT / "contracts" / "examples" / "public_notice.mine_listed.v1.json").read_text("utf-8"))
AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


class FakeSupervisionUnitOfWork(FakeUnitOfWork):
    repositories = ("mines",)

    def __init__(self):
        super().__init__()
        self.mines = FakeAggregates(SupervisedMine)


def listed(**payload) -> dict:
    envelope = copy.deepcopy(EXAMPLE)
    envelope["payload"].update(payload)
    return envelope


def bus(uow):
    return MessageBus(uow_factory=lambda: uow, command_handlers=COMMAND_HANDLERS, event_handlers=EVENT_HANDLERS,
                      dependencies={"clock": lambda: AT})


def test_a_listed_mine_enters_the_register_with_its_announcement():
    uow = FakeSupervisionUnitOfWork()
    bus(uow).handle_event(listed(), uow)
    mine = uow.mines.get("mine-0001")
    assert (mine.mine_name, mine.league, mine.county, mine.scale) == ("示范矿山1号", "鄂尔多斯市", "准格尔旗", "large")
    assert (mine.enterprise_name, mine.credit_code) == ("鄂尔多斯示范煤业有限公司", "91150600MA0N00001W")
    assert mine.announcement_no == "内蒙古自治区绿色矿山名录公告〔2026〕第1号" and mine.status_label == "在库"
    assert mine.history == [{"at": AT, "action": "listed", "listed_on": "2026-06-10", "announcement_id":
                             "ann-3f2a9c0d1e2f4567", "announcement_no": "内蒙古自治区绿色矿山名录公告〔2026〕第1号"}]


def test_the_same_listing_again_changes_nothing():
    uow = FakeSupervisionUnitOfWork()
    bus(uow).handle_event(listed(), uow)
    version = uow.mines.get("mine-0001").version
    again = listed()
    again["event_id"] = "00000000-0000-4000-8000-0000000c0002"     # another path, the same 公告
    bus(uow).handle_event(again, uow)
    assert uow.mines.get("mine-0001").version == version and len(uow.mines.get("mine-0001").history) == 1


def test_listed_again_by_a_later_announcement_keeps_the_history():
    mine = SupervisedMine.from_listing(listed()["payload"], AT)
    later = listed(announcement_id="ann-2027", announcement_no="内蒙古自治区绿色矿山名录公告〔2027〕第2号",
                   listed_on="2027-05-01", mine={**EXAMPLE["payload"]["mine"], "scale": "medium"})["payload"]
    assert mine.record_listing(later, AT) is True
    assert (mine.listed_on, mine.scale, mine.announcement_no) == ("2027-05-01", "medium", later["announcement_no"])
    assert [h["announcement_id"] for h in mine.history] == ["ann-3f2a9c0d1e2f4567", "ann-2027"]
    assert mine.record_listing(later, AT) is False


def test_a_stored_mine_reads_back_the_same():
    mine = SupervisedMine.from_listing(listed(source="import", application_id=None)["payload"], AT)
    doc = mine.to_dict()
    assert doc["_id"] == "mine-0001" and "id" not in doc and "version" not in doc
    assert SupervisedMine.from_dict({**doc, "version": 3}) == SupervisedMine(**{**vars(mine), "version": 3})
    assert mine.source == "import" and mine.application_id is None
