"""目标进度 (issue 13 item 6): the 2028 targets' rules (domain/targets.py), the yearly targets and the construction
contracts (domain/construction.py) and their handlers over an in-memory unit of work."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit.supervision.fakes import FakeSupervisionUnitOfWork

from shared.bus import MessageBus
from shared.errors import InvalidInput, NotFound, NotPermitted
from supervision.bootstrap import COMMAND_HANDLERS, EVENT_HANDLERS
from supervision.domain import targets
from supervision.domain.construction import summary
from supervision.domain.register import SupervisedMine
from supervision.domain.targets import Standing, licensed_on, standing, tally, totals
from supervision.service_layer.targets import RecordContractProgress, SetYearlyTarget, SignConstructionContract

AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
DAY = date(2026, 6, 10)
VALID = {"mining": {"number": "C1", "valid_from": "2020-01-01", "valid_to": "2030-12-31"},
         "safety": {"number": "S1", "valid_from": "2021-01-01", "valid_to": "2026-06-10"},
         "business": {"number": "B1", "valid_from": "2010-01-01", "valid_to": None}}


def register(status="in_production", years="10", licences=None):
    return {"production_status": status, "remaining_reserve_years": years, "licences": licences or VALID}


# -- the register as the targets see it ------------------------------------------------------------------------

def test_licensed_means_every_licence_valid_that_day_both_ends_included():
    assert licensed_on(VALID, DAY)                            # the safety licence's last day
    assert not licensed_on(VALID, date(2026, 6, 11))
    assert not licensed_on(VALID, date(2019, 12, 31))         # before the mining licence
    assert licensed_on(VALID, date(2040, 1, 1)) is False      # the mining licence has run out
    assert not licensed_on({}, DAY)


def test_a_standing_reads_the_snapshot_and_the_list():
    s = standing("m1", "包头市", "large", "listed", "2024-05-01", register(), DAY)
    assert (s.listed, s.registered, s.licensed_producing, s.short_reserve) == (True, True, True, False)
    assert not standing("m1", "包头市", "large", "listed", "2026-06-11", register(), DAY).listed   # listed later
    assert not standing("m1", "包头市", "large", "removed", "2024-05-01", register(), DAY).listed
    assert not standing("m1", "包头市", "large", "registered", None, register(), DAY).listed
    assert not standing("m1", "包头市", "large", "listed", None, register("suspended"), DAY).licensed_producing
    assert standing("m1", "包头市", "large", "listed", None, register(years="2.9"), DAY).short_reserve
    assert not standing("m1", "包头市", "large", "listed", None, register(years="3"), DAY).short_reserve
    bare = standing("m1", "包头市", "large", "listed", None, None, DAY)
    assert (bare.listed, bare.registered, bare.licensed_producing) == (True, False, False)


def test_a_row_per_league_and_scale_with_the_2028_targets():
    s = [Standing(f"l{i}", "包头市", "large", listed=i < 9, registered=True, producing=True, licensed=True)
         for i in range(10)]
    s += [Standing("short", "包头市", "large", listed=True, registered=True, producing=True, licensed=True,
                   short_reserve=True),
          Standing("stopped", "包头市", "large", listed=True, registered=True, producing=False, licensed=True),
          Standing("old", "包头市", "medium", listed=True, registered=False),
          Standing("m1", "包头市", "medium", listed=False, registered=True, producing=True, licensed=True),
          Standing("s1", "包头市", "small", listed=True, registered=True, producing=True, licensed=True),
          Standing("far", "北京市", "large", listed=True, registered=True, producing=True, licensed=True)]
    rows = tally(s, ["包头市", "赤峰市"], {"包头市": {"large": 10, "medium": None, "small": 0}})
    assert [(r.league, r.scale) for r in rows] == [(league, scale) for league in ("包头市", "赤峰市")
                                                   for scale in ("large", "medium", "small")]
    large, medium, small = rows[:3]
    assert (large.licensed_producing, large.short_reserve, large.base, large.listed, large.listed_total) == (
        11, 1, 10, 9, 11)
    assert (large.share, large.target, large.needed, large.met) == (Decimal("0.9"), Decimal("0.90"), 0, True)
    assert (large.yearly_target, large.yearly_met, large.managed) == (10, False, "target")
    assert (medium.licensed_producing, medium.listed, medium.unregistered, medium.listed_total) == (1, 0, 1, 1)
    assert (medium.needed, medium.met, medium.yearly_target, medium.yearly_met) == (1, False, None, None)
    assert (small.managed, small.target, small.needed, small.met, small.yearly_met) == (
        "reference", None, None, None, True)
    assert rows[3].share is None and rows[3].needed == 0
    region = totals(rows)
    assert [(r.league, r.scale, r.licensed_producing, r.listed, r.yearly_target) for r in region] == [
        ("全区", "large", 11, 9, 10), ("全区", "medium", 1, 0, None), ("全区", "small", 1, 1, 0)]
    assert targets.percent(Decimal(7) / Decimal(8)) == "87.5" and targets.percent(Decimal(2) / 3) == "66.7"


standings = st.builds(Standing, mine_id=st.text(max_size=3), league=st.sampled_from(["包头市", "赤峰市", "乌海市"]),
                      scale=st.sampled_from(["large", "medium", "small", None]), listed=st.booleans(),
                      registered=st.booleans(), producing=st.booleans(), licensed=st.booleans(),
                      short_reserve=st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(standings, max_size=60))
def test_the_counts_partition_the_register(mines):
    rows = tally(mines, ["包头市", "赤峰市", "乌海市"])
    for row in rows:
        mine = [m for m in mines if (m.league, m.scale) == (row.league, row.scale)]
        lp = [m for m in mine if m.registered and m.producing and m.licensed]
        assert row.licensed_producing == len(lp)
        assert row.base + row.short_reserve == row.licensed_producing
        assert row.listed == sum(1 for m in lp if m.listed and not m.short_reserve) <= row.base
        assert row.listed <= row.listed_total == sum(1 for m in mine if m.listed)
        if row.target is not None:
            assert row.needed == max(0, math.ceil(row.target * row.base) - row.listed)
            assert row.met == (row.base == 0 or row.share >= row.target)
    assert sum(r.licensed_producing for r in totals(rows)) == sum(
        1 for m in mines if m.scale and m.registered and m.producing and m.licensed)


# -- yearly targets and contracts through the bus --------------------------------------------------------------

def bus(uow, at=AT):
    return MessageBus(uow_factory=lambda: uow, command_handlers=COMMAND_HANDLERS, event_handlers=EVENT_HANDLERS,
                      dependencies={"clock": lambda: at})


def test_the_region_office_sets_a_yearly_target_and_changes_it_with_a_trail():
    uow = FakeSupervisionUnitOfWork()
    done = bus(uow).handle(SetYearlyTarget("包头市", 2026, {"large": 3, "medium": 5}, "包头市绿色矿山建设方案",
                                           "region"))
    assert done["changed"] and done["targets"] == {"large": 3, "medium": 5, "small": None}
    assert not bus(uow).handle(SetYearlyTarget("包头市", 2026, {"large": 3, "medium": 5}, "包头市绿色矿山建设方案",
                                               "region"))["changed"]
    bus(uow).handle(SetYearlyTarget("包头市", 2026, {"large": 4, "medium": 5, "small": 2}, "调整", "region"))
    kept = uow.yearly_targets.get("2026:包头市")
    assert kept.targets == {"large": 4, "medium": 5, "small": 2} and kept.version == 2
    assert [(h["action"], h["before"]) for h in kept.history] == [
        ("set", None), ("changed", {"large": 3, "medium": 5, "small": None})]
    for wrong, name in (({"large": -1}, "large"), ({"medium": "多"}, "medium"), ({}, "large")):
        with pytest.raises(InvalidInput) as refused:
            bus(uow).handle(SetYearlyTarget("包头市", 2026, wrong, None, "region"))
        assert name in refused.value.error_map()
    with pytest.raises(InvalidInput) as refused:
        bus(uow).handle(SetYearlyTarget("包头市", 2024, {"large": 1}, None, "region"))
    assert "year" in refused.value.error_map()
    with pytest.raises(InvalidInput):
        bus(uow).handle(SetYearlyTarget("北京市", 2026, {"large": 1}, None, "region"))


def a_mine(uow, league="包头市"):
    mine = SupervisedMine(id="mine-1", mine_name="示范矿山", enterprise_name="示范矿业", credit_code=None,
                          league=league, county=None, minerals=["煤"], scale="large", status="registered")
    uow.mines.save(mine)
    return mine


CONTRACT = {"contract_no": "BT-2026-01", "signed_on": "2026-03-01", "deadline": "2026-12-31",
            "liability": "逾期未完成的，暂停新增用地指标支持",
            "tasks": [{"text": "完成矿区绿化", "due_on": "2026-06-01"},
                      {"text": "建成智能化调度", "due_on": "2026-12-31"}]}


def test_a_bureau_signs_a_contract_follows_it_and_a_task_past_due_is_a_breach():
    uow = FakeSupervisionUnitOfWork()
    a_mine(uow)
    cid = bus(uow).handle(SignConstructionContract("mine-1", CONTRACT, "包头市", "bureau_baotou"))
    contract = uow.construction_contracts.get(cid)
    assert (contract.league, contract.enterprise_name, contract.status(date(2026, 5, 1))) == (
        "包头市", "示范矿业", "in_progress")
    assert contract.status(DAY) == "breached" and contract.overdue_tasks(DAY) == [1]   # task 1 was due on 1 June
    assert bus(uow).handle(RecordContractProgress(cid, 1, 100, "2026-06-05", "已完成", "包头市", "bureau_baotou"))
    assert not bus(uow).handle(RecordContractProgress(cid, 1, 100, "2026-06-05", "已完成", "包头市", "b"))
    contract = uow.construction_contracts.get(cid)
    assert contract.status(DAY) == "in_progress" and contract.progress() == 50
    assert contract.status(date(2027, 1, 1)) == "breached"               # past the deadline, unfinished
    bus(uow).handle(RecordContractProgress(cid, 2, 100, None, None, None, "region"))
    done = uow.construction_contracts.get(cid)
    assert done.status(date(2027, 1, 1)) == "completed" and done.tasks[1]["updated_on"] == "2026-06-10"
    assert summary([done, contract], DAY) == {"signed": 2, "completed": 1, "in_progress": 1, "breached": 0}
    assert summary([done], date(2026, 2, 1))["signed"] == 0


def test_contracts_are_refused_outside_the_bureaus_league_and_when_wrong():
    uow = FakeSupervisionUnitOfWork()
    a_mine(uow)
    with pytest.raises(NotPermitted) as refused:
        bus(uow).handle(SignConstructionContract("mine-1", CONTRACT, "赤峰市", "bureau_chifeng"))
    assert "赤峰市" in refused.value.message
    with pytest.raises(NotFound):
        bus(uow).handle(SignConstructionContract("mine-9", CONTRACT, None, "region"))
    wrong = {**CONTRACT, "deadline": "2026-02-01", "tasks": [{"text": " ", "due_on": "2027-01-01"}],
             "liability": ""}
    with pytest.raises(InvalidInput) as refused:
        bus(uow).handle(SignConstructionContract("mine-1", wrong, None, "region"))
    assert set(refused.value.error_map()) == {"deadline", "tasks.0.text", "tasks.0.due_on", "liability"}
    cid = bus(uow).handle(SignConstructionContract("mine-1", CONTRACT, None, "region"))
    with pytest.raises(InvalidInput) as refused:                         # the same contract number again
        bus(uow).handle(SignConstructionContract("mine-1", CONTRACT, None, "region"))
    assert "contract_no" in refused.value.error_map()
    with pytest.raises(NotPermitted):
        bus(uow).handle(RecordContractProgress(cid, 1, 50, None, None, "赤峰市", "bureau_chifeng"))
    for task_no, progress, on, name in ((3, 50, None, "task_no"), (1, 101, None, "progress"),
                                        (1, 50, "2026-02-01", "on"), (1, 50, "2026-06-11", "on")):
        with pytest.raises(InvalidInput) as refused:
            bus(uow).handle(RecordContractProgress(cid, task_no, progress, on, None, None, "region"))
        assert name in refused.value.error_map()


def test_a_past_year_is_counted_on_its_31_december_this_year_and_later_ones_today():
    from supervision.adapters.target_queries import as_of

    assert as_of(2025, DAY) == date(2025, 12, 31)
    assert as_of(2026, DAY) == DAY == as_of(2028, DAY)
