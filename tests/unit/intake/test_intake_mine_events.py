"""The mine register publishes `intake.mine_recorded` (a snapshot of the entry) in the transaction of each change:
registered, updated (with the fields that changed), imported; never for a change that writes nothing (a retried
request, a refused one). The optional 矿区范围 and 停产日期 are read with their field errors. Fakes, no server."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fakes import FakeIntakeUnitOfWork
from intake_builders import CREDIT_CODE, mine_data

from intake.bootstrap import COMMAND_HANDLERS
from intake.domain import commands as c
from intake.domain.errors import MineInvalid
from intake.domain.mine import Mine, validate_mine
from shared import identity
from shared.bus import MessageBus
from shared.config import REPO_ROOT
from shared.contracts import ContractRegistry
from shared.errors import Conflict

NOW = datetime(2025, 7, 1, 17, 30, tzinfo=UTC)  # 2025-07-02 01:30 in Beijing: the day counted is Beijing's
ENTERPRISE = identity.Principal("ent-user", "enterprise", display_name="内蒙古某某煤业有限责任公司",
                                enterprise=CREDIT_CODE)
AREA = "由12个拐点圈定，\n面积8.6521平方千米"


class Register:
    def __init__(self):
        self.uow = FakeIntakeUnitOfWork()
        handlers = {cls: COMMAND_HANDLERS[cls] for cls in (c.RegisterMine, c.UpdateMine, c.ImportMine)}
        self.bus = MessageBus(uow_factory=lambda: self.uow, command_handlers=handlers, event_handlers={},
                              dependencies={"clock": lambda: NOW})

    def events(self) -> list[dict]:
        return self.uow.events("intake.mine_recorded")

    def register(self, **overrides):
        return self.bus.handle(c.RegisterMine(ENTERPRISE, mine_data(**overrides)))

    def update(self, mine_id, expected_version=None, **overrides):
        return self.bus.handle(c.UpdateMine(ENTERPRISE, mine_id, mine_data(**overrides), expected_version))


@pytest.fixture
def reg():
    return Register()


def test_registering_publishes_the_whole_entry(reg):
    record = reg.register(mining_area=AREA)
    [event] = reg.events()
    ContractRegistry([REPO_ROOT / "contracts"]).validate(event)
    assert (event["aggregate_type"], event["aggregate_id"], event["aggregate_version"]) == ("mine", record.mine.id, 1)
    assert reg.uow.published[0][1] is None  # the registry's topic for the type: intake.mine.events
    p = event["payload"]
    assert (p["mine_id"], p["register_version"], p["change"], p["changed"]) == (record.mine.id, 1, "registered", [])
    assert p["recorded_on"] == "2025-07-02"
    assert p["enterprise"] == {"name": "内蒙古某某煤业有限责任公司", "credit_code": CREDIT_CODE}
    assert p["mine"] == {
        "name": "某某露天煤矿", "league": "鄂尔多斯市", "county": "伊金霍洛旗", "minerals": ["煤"], "scale": "large",
        "mining_method": "open_pit", "mining_area": AREA, "production_status": "in_production",
        "production_start_date": "2012-05-01", "production_stopped_on": None, "remaining_reserve_years": "25.5"}
    assert p["licences"] == {
        "mining": {"number": "C1500002010061120067890", "valid_from": "2020-01-01", "valid_to": "2035-12-31"},
        "safety": {"number": "（蒙）FM安许证字〔2023〕0001号", "valid_from": "2023-03-01", "valid_to": "2026-02-28"},
        "business": {"number": CREDIT_CODE, "valid_from": "2005-06-01", "valid_to": None}}


def test_an_update_names_the_fields_it_changed_and_the_next_register_version(reg):
    mine_id = reg.register().mine.id
    reg.update(mine_id, 1, scale="medium", mining_area=AREA,
               mining_licence={"number": "C1500002010061120067890", "valid_from": "2020-01-01",
                               "valid_to": "2036-12-31"})
    reg.update(mine_id, 2, scale="medium", mining_area=AREA, production_status="suspended",
               production_stopped_on="2025-06-30",
               mining_licence={"number": "C1500002010061120067890", "valid_from": "2020-01-01",
                               "valid_to": "2036-12-31"})
    first, second, third = reg.events()
    assert [e["payload"]["register_version"] for e in (first, second, third)] == [1, 2, 3]
    assert [e["aggregate_version"] for e in (first, second, third)] == [1, 2, 3]
    assert second["payload"]["change"] == "updated"
    assert second["payload"]["changed"] == ["mine.scale", "mine.mining_area", "licences.mining.valid_to"]
    assert second["payload"]["mine"]["scale"] == "medium"
    assert third["payload"]["changed"] == ["mine.production_status", "mine.production_stopped_on"]
    assert third["payload"]["mine"]["production_stopped_on"] == "2025-06-30"


def test_a_retried_update_writes_and_publishes_nothing(reg):
    mine_id = reg.register().mine.id
    first = reg.update(mine_id, 1, name="新名称露天煤矿")
    again = reg.update(mine_id, 1, name="新名称露天煤矿")   # the same request once more: it went through already
    assert first.doc["version"] == again.doc["version"] == 2
    assert [e["payload"]["change"] for e in reg.events()] == ["registered", "updated"]
    assert reg.events()[1]["payload"]["changed"] == ["mine.name"]
    assert [e["action"] for e in reg.uow.audit.entries] == ["mine_registered", "mine_updated"]
    with pytest.raises(Conflict):                              # stale and different: refused, nothing published
        reg.update(mine_id, 1, name="又一个名称")
    assert len(reg.events()) == 2 and reg.uow.mines.get(mine_id)[1]["version"] == 2


def test_a_refused_registration_publishes_nothing(reg):
    reg.register()
    with pytest.raises(MineInvalid):
        reg.register()                                         # the same 采矿许可证 again (a retried POST)
    with pytest.raises(MineInvalid):
        reg.register(scale="巨型", mining_licence={"number": "C1500002010061120067891",
                                                   "valid_from": "2020-01-01", "valid_to": "2035-12-31"})
    assert len(reg.events()) == 1 and len(reg.uow.mines.docs) == 1


def test_a_change_outside_the_contract_still_counts_as_a_register_version(reg):
    mine_id = reg.register().mine.id
    reg.update(mine_id, 1, industry_group=2)  # 行业分支: the register's, not the contract's
    assert [(e["payload"]["register_version"], e["payload"]["changed"]) for e in reg.events()] == [(1, []), (2, [])]


def test_an_import_publishes_once(reg):
    at = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
    assert reg.bus.handle(c.ImportMine("mine-demo-1", mine_data(), "demo-data", at)) is True
    assert reg.bus.handle(c.ImportMine("mine-demo-1", mine_data(), "demo-data", at)) is False
    [event] = reg.events()
    assert (event["payload"]["change"], event["payload"]["mine_id"], event["occurred_at"]) == (
        "imported", "mine-demo-1", "2025-06-01T01:00:00Z")


# -- the optional fields ----------------------------------------------------------------------------------------------

TODAY = date(2025, 7, 1)


def errors(**overrides) -> dict[str, str]:
    return {e.field: e.message for e in validate_mine(mine_data(**overrides), TODAY)}


def test_mining_area_is_optional_trimmed_and_bounded():
    assert Mine.create(mine_data(), TODAY).mining_area is None
    assert Mine.create(mine_data(mining_area="  "), TODAY).mining_area is None
    assert Mine.create(mine_data(mining_area=" 拐点1  X=1 \r\n\r\n 拐点2 "), TODAY).mining_area == "拐点1 X=1\n拐点2"
    assert errors(mining_area="界" * 2001) == {"mining_area": "矿区范围：过长（最多2000个字符，当前2001个）"}
    assert errors(mining_area=12) == {"mining_area": "矿区范围：应为文字（采矿许可证所载的拐点坐标或面积）"}
    assert errors(mining_area="拐点\u202e1")["mining_area"].startswith("矿区范围：含有不可见字符")


def test_production_stopped_on_only_for_a_stopped_mine_and_in_order():
    suspended = Mine.create(mine_data(production_status="停产", production_stopped_on="2024年3月1日"), TODAY)
    assert suspended.production_stopped_on == date(2024, 3, 1)
    assert Mine.from_dict(suspended.to_dict()).production_stopped_on == date(2024, 3, 1)
    assert Mine.create(mine_data(production_status="closed"), TODAY).production_stopped_on is None  # optional
    assert errors(production_stopped_on="2024-03-01") == {"production_stopped_on": (
        "停产日期：生产状态为“在产”的矿山不填写停产日期；已停产或关闭的，请先将生产状态改为“停产”或“关闭”")}
    assert errors(production_status="suspended", production_stopped_on="2011-01-01") == {
        "production_stopped_on": "停产日期：2011-01-01 早于正式投产日期 2012-05-01"}
    assert errors(production_status="suspended", production_stopped_on="2025-07-02") == {
        "production_stopped_on": "停产日期：2025-07-02 晚于今天，请填写实际停产的日期"}
    assert set(errors(production_status="suspended", production_stopped_on="2025-02-30")) == {"production_stopped_on"}


def test_entries_stored_before_the_fields_existed_still_load():
    stored = Mine.create(mine_data(), TODAY).to_dict()
    del stored["mining_area"], stored["production_stopped_on"]
    mine = Mine.from_dict(stored)
    assert (mine.mining_area, mine.production_stopped_on) == (None, None)
