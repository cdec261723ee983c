"""The register of listed mines (issue 13 item 2), from `public_notice.mine_listed`: pure rules and the handler over
an in-memory unit of work."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from unit.supervision.fakes import FakeSupervisionUnitOfWork

from shared.bus import MessageBus
from shared.config import REPO_ROOT
from supervision.bootstrap import COMMAND_HANDLERS, EVENT_HANDLERS
from supervision.domain import triggers
from supervision.domain.register import SupervisedMine

EXAMPLE = json.loads((REPO_ROOT / "contracts" / "examples" / "public_notice.mine_listed.v1.json").read_text("utf-8"))
AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


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


RECORDED = json.loads((REPO_ROOT / "contracts" / "examples" / "intake.mine_recorded.v1.json").read_text("utf-8"))


def recorded(version: int, on: str, change: str = "updated", **mine) -> dict:
    envelope = copy.deepcopy(RECORDED)
    envelope["event_id"] = f"00000000-0000-4000-8000-{version:012d}"
    payload = envelope["payload"]
    payload.update(mine_id="mine-0001", register_version=version, recorded_on=on, change=change)
    payload["mine"].update(mine)
    return envelope


def test_a_registered_mine_not_on_the_list_is_kept_for_the_targets_but_not_listed():
    uow = FakeSupervisionUnitOfWork()
    bus(uow).handle_event(recorded(1, "2026-01-05", "imported"), uow)
    mine = uow.mines.get("mine-0001")
    assert (mine.status, mine.status_label, mine.on_list, mine.scale) == ("registered", "未入库", False, "large")
    assert mine.register["licences"]["mining"]["valid_to"] == "2031-06-01" and mine.changes == []


def test_the_listing_and_the_register_meet_in_one_entry_whichever_comes_first():
    for order in ((recorded(1, "2026-01-05", "imported"), listed()), (listed(), recorded(1, "2026-01-05", "imported"))):
        uow = FakeSupervisionUnitOfWork()
        for envelope in order:
            bus(uow).handle_event(envelope, uow)
        mine = uow.mines.get("mine-0001")
        assert mine.on_list and mine.announcement_no == EXAMPLE["payload"]["announcement_no"]
        assert mine.mine_name == "鄂尔多斯示范煤矿" and mine.register_version == 1   # the register's name wins


def test_a_major_change_is_recorded_once_with_its_date_and_an_older_snapshot_changes_nothing():
    uow = FakeSupervisionUnitOfWork()
    bus(uow).handle_event(recorded(1, "2026-01-05", "imported"), uow)
    bus(uow).handle_event(recorded(3, "2026-09-01", scale="medium", mining_method="underground"), uow)
    bus(uow).handle_event(recorded(2, "2026-05-01", mining_area="另一范围"), uow)   # late, older: ignored
    bus(uow).handle_event(recorded(3, "2026-09-01", scale="medium", mining_method="underground"), uow)
    mine = uow.mines.get("mine-0001")
    assert [(c["field"], c["changed_on"], c["before"], c["after"]) for c in mine.changes] == [
        ("method", "2026-09-01", "露天开采", "地下开采"), ("scale", "2026-09-01", "大型", "中型")]
    found = triggers.sweep(mine.facts(), triggers.date(2026, 9, 1))
    assert {(f.action, f.situation) for f in found} >= {("mark", "mark.2"), ("request_re_evaluation", "mark.2")}


def test_stopped_since_is_the_registers_date_or_the_day_it_was_first_seen_stopped():
    mine = SupervisedMine.from_record(recorded(1, "2026-01-05", "imported")["payload"], AT)
    assert mine.facts().stopped_on is None
    mine.record_register(recorded(2, "2026-03-02", production_status="suspended")["payload"], AT)
    mine.record_register(recorded(3, "2026-06-01", production_status="suspended", remaining_reserve_years="20")
                         ["payload"], AT)
    assert mine.facts().stopped_on == triggers.date(2026, 3, 2)      # still the first day seen stopped
    mine.record_register(recorded(4, "2026-07-01", production_status="suspended",
                                  production_stopped_on="2025-12-20")["payload"], AT)
    assert mine.facts().stopped_on == triggers.date(2025, 12, 20)
    found = triggers.sweep(mine.facts(), triggers.date(2026, 12, 21))
    assert [f.situation for f in found if f.action == "mark"] == ["mark.1"]
    mine.record_register(recorded(5, "2026-12-22", production_status="in_production")["payload"], AT)
    assert mine.facts().stopped_on is None


def test_minerals_reordered_or_an_area_written_down_for_the_first_time_are_no_major_change():
    uow = FakeSupervisionUnitOfWork()
    bus(uow).handle_event(recorded(1, "2026-01-05", "imported", mining_area=None, minerals=["煤", "高岭土"]), uow)
    bus(uow).handle_event(recorded(2, "2026-03-02", mining_area="由8个拐点圈定", minerals=["高岭土", "煤"]), uow)
    assert uow.mines.get("mine-0001").changes == []
    bus(uow).handle_event(recorded(3, "2026-04-01", mining_area="由9个拐点圈定", minerals=["煤"]), uow)
    assert [(c["field"], c["before"], c["after"]) for c in uow.mines.get("mine-0001").changes] == [
        ("area", "由8个拐点圈定", "由9个拐点圈定"), ("minerals", "高岭土、煤", "煤")]


# -- the same mine under the list's id and intake's id (a mine listed before the platform) -------------------------
def hist_listed(**mine) -> dict:
    """The imported earlier list's listing of the example register entry ("mine-0001" in intake's register)."""
    return listed(mine_id="hist-3f2a9c0d1e2f", application_id=None, source="import",
                  mine={**EXAMPLE["payload"]["mine"], "name": "鄂尔多斯 示范煤矿", **mine})


def entries(uow) -> dict[str, SupervisedMine]:
    return {i: uow.mines.get(i) for i in uow.mines.docs}


def test_a_listing_and_a_snapshot_under_different_ids_meet_in_the_listed_entry_whichever_comes_first():
    for first_listed in (True, False):
        uow = FakeSupervisionUnitOfWork()
        events = [hist_listed(), recorded(1, "2026-01-05", "imported"),
                  recorded(2, "2026-09-01", scale="medium")]
        if not first_listed:
            events[0], events[1] = events[1], events[0]
        for envelope in events:
            bus(uow).handle_event(envelope, uow)
        mine = uow.mines.get("hist-3f2a9c0d1e2f")
        assert (mine.status, mine.register_mine_id, mine.register_version) == ("listed", "mine-0001", 2)
        assert mine.mine_name == "鄂尔多斯示范煤矿" and mine.scale == "medium" and mine.source == "import"
        assert [(c["field"], c["after"]) for c in mine.changes] == [("scale", "中型")]
        assert [h["action"] for h in mine.history if h["action"] != "register_matched"] == (
            ["listed", "register_imported", "register_updated"] if first_listed
            else ["register_imported", "listed", "register_updated"])
        counted = {i: m.status for i, m in entries(uow).items()}
        if first_listed:
            assert counted == {"hist-3f2a9c0d1e2f": "listed"}
        else:         # the snapshot's own entry stays, merged: no longer a mine of its own
            assert counted == {"hist-3f2a9c0d1e2f": "listed", "mine-0001": "merged"}
            assert uow.mines.get("mine-0001").merged_into == "hist-3f2a9c0d1e2f"
            assert uow.mines.find(status=["listed", "registered", "removed"]) == [mine]


def test_replays_of_either_event_change_nothing_once_the_two_have_met():
    for order in ((recorded(1, "2026-01-05", "imported"), hist_listed()),
                  (hist_listed(), recorded(1, "2026-01-05", "imported"))):
        uow = FakeSupervisionUnitOfWork()
        for envelope in order:
            bus(uow).handle_event(envelope, uow)
        before = {i: (m.version, m.history) for i, m in entries(uow).items()}
        for envelope in (*order, *order):
            bus(uow).handle_event(copy.deepcopy(envelope), uow)
        assert {i: (m.version, m.history) for i, m in entries(uow).items()} == before
        assert uow.mines.get("hist-3f2a9c0d1e2f").register_version == 1


def test_the_name_is_compared_normalised_but_another_name_or_code_is_another_mine():
    full_width = hist_listed(name="鄂尔多斯\u3000示范煤矿 ")
    full_width["payload"]["enterprise"]["credit_code"] = "９１１５０６００ma0n00001w"
    assert SupervisedMine.from_listing(full_width["payload"], AT).same_mine_as("91150600MA0N00001W", "鄂尔多斯示范煤矿")
    for other in (hist_listed(name="鄂尔多斯示范煤矿二号井"),
                  listed(mine_id="hist-3f2a9c0d1e2f", mine={**EXAMPLE["payload"]["mine"], "name": "鄂尔多斯示范煤矿"},
                         enterprise={"name": "另一企业", "credit_code": "91150600MA0N00002X"})):
        for order in ((recorded(1, "2026-01-05", "imported"), other), (other, recorded(1, "2026-01-05", "imported"))):
            uow = FakeSupervisionUnitOfWork()
            for envelope in order:
                bus(uow).handle_event(envelope, uow)
            assert {i: m.status for i, m in entries(uow).items()} == {"hist-3f2a9c0d1e2f": "listed",
                                                                       "mine-0001": "registered"}
            assert uow.mines.get("hist-3f2a9c0d1e2f").register is None


def test_a_listed_mine_with_its_own_snapshot_takes_no_other_mines_snapshot():
    uow = FakeSupervisionUnitOfWork()
    for envelope in (hist_listed(), recorded(1, "2026-01-05", "imported")):
        bus(uow).handle_event(envelope, uow)
    twin = recorded(1, "2026-02-01", "imported")
    twin["payload"]["mine_id"] = "mine-0002"        # intake registered the same name twice: not this one's
    bus(uow).handle_event(twin, uow)
    assert uow.mines.get("mine-0002").status == "registered"
    assert uow.mines.get("hist-3f2a9c0d1e2f").register_mine_id == "mine-0001"


def test_the_targets_count_a_merged_mine_once_as_listed():
    from supervision.domain import targets

    uow = FakeSupervisionUnitOfWork()
    for envelope in (recorded(1, "2026-01-05", "imported"), hist_listed()):
        bus(uow).handle_event(envelope, uow)
    day = triggers.date(2026, 9, 1)
    standings = [targets.standing(m.id, m.league, m.scale, m.status, m.listed_on, m.register, day)
                 for m in uow.mines.find(status=["listed", "registered", "removed"])]
    row = next(r for r in targets.tally(standings, ["鄂尔多斯市"], {}) if r.scale == "large")
    assert (row.licensed_producing, row.base, row.listed, row.unregistered) == (1, 1, 1, 0)
