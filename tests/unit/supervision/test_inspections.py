"""双随机、一公开 (issue 13 item 5): the plan's ratios and rounding, the draw of mines and of two inspectors of two
departments per mine (recomputed here with hashlib alone, not with shared/draws.py), a pool too small refused, the
results; the handlers over an in-memory unit of work, their events checked against the contracts."""
from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit.supervision.fakes import FakeSupervisionUnitOfWork

from shared.bus import MessageBus
from shared.errors import Conflict, InvalidInput, NotFound, NotPermitted
from shared.identity import Principal
from shared.regions import LEAGUE_NAMES
from supervision.bootstrap import COMMAND_HANDLERS, EVENT_HANDLERS
from supervision.domain import inspections as rules
from supervision.domain.inspections import Inspection, InspectionPlan, Inspector
from supervision.domain.register import SupervisedMine
from supervision.service_layer.inspections import (
    AddInspector,
    DrawInspections,
    PublishPlan,
    RecordResult,
    SetInspectorActive,
    SetPlan,
)

AT = datetime(2026, 4, 15, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
OFFICE = Principal("region", "region_office", area="自治区")
NAMES = {"natural_resources": "自然资源", "ecology_environment": "生态环境", "emergency_management": "应急管理",
         "water_resources": "水利"}
ORDOS, BAOTOU, WUHAI = "鄂尔多斯市", "包头市", "乌海市"


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ratios(default="0.2", **by_league) -> dict:
    return {league: by_league.get(league, default) for league in LEAGUE_NAMES}


def bus(uow, at=AT):
    return MessageBus(uow_factory=lambda: uow, command_handlers=COMMAND_HANDLERS, event_handlers=EVENT_HANDLERS,
                      dependencies={"clock": lambda: at})


def add_mines(uow, league: str, count: int, start: int = 1) -> list[str]:
    ids = []
    for n in range(start, start + count):
        mine = SupervisedMine(id=f"mine-{league[:2]}-{n:03d}", mine_name=f"{league}矿山{n}号",
                              enterprise_name=f"企业{n}", credit_code="91150600MA0N00001W", league=league,
                              county=None, minerals=["煤"], scale="large", listed_on="2025-06-10")
        uow.mines.save(mine)
        ids.append(mine.id)
    return ids


def add_pool(b, league: str, people: list[tuple[str, str]]) -> list[str]:
    return [b.handle(AddInspector(OFFICE, name, department, league))["_id"] for name, department in people]


# -- ratios and rounding ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("ratio", "n", "k"), [("0.2", 10, 2), ("0.2", 11, 3), ("0.3", 10, 3), ("0.1", 1, 1),
                                              ("1", 7, 7), ("0.05", 30, 2), ("0.33", 3, 1), ("0.34", 3, 2)])
def test_the_mines_to_check_are_the_ceiling_of_ratio_times_n(ratio, n, k):
    population = {ORDOS: [f"m{i:02d}" for i in range(n)]}
    pool = {ORDOS: [{"id": "a", "name": "甲", "department": "natural_resources"},
                    {"id": "b", "name": "乙", "department": "ecology_environment"}]}
    record = rules.draw_inspections({ORDOS: ratio}, population, pool, "42", department_names=NAMES)
    assert record["leagues"][0]["k"] == k == math.ceil(Decimal(ratio) * n)
    assert len(record["leagues"][0]["selected"]) == len(record["leagues"][0]["assignments"]) == k


def test_a_plan_needs_a_ratio_for_every_league_above_zero_and_at_most_one():
    plan = InspectionPlan.new(2026, ratios("0.20", **{ORDOS: "1.0"}), leagues=LEAGUE_NAMES, by="region", at=AT)
    assert plan.id == "plan-2026" and list(plan.ratios) == list(LEAGUE_NAMES)
    assert plan.ratios[ORDOS] == "1" and plan.ratios[BAOTOU] == "0.2"
    with pytest.raises(InvalidInput) as refused:
        InspectionPlan.new(2026, {**ratios(), ORDOS: "0", BAOTOU: "1.5", WUHAI: "二成", "北京市": "0.1"},
                           leagues=LEAGUE_NAMES, by="region", at=AT)
    fields = {e.field: e.message for e in refused.value.errors}
    assert set(fields) == {f"ratios.{ORDOS}", f"ratios.{BAOTOU}", f"ratios.{WUHAI}", "ratios.北京市"}
    assert "鄂尔多斯市的抽查比例应大于 0 且不超过 1" in fields[f"ratios.{ORDOS}"]
    missing = {k: v for k, v in ratios().items() if k != "阿拉善盟"}
    with pytest.raises(InvalidInput, match="抽查比例有误") as refused:
        InspectionPlan.new(2026, missing, leagues=LEAGUE_NAMES, by="region", at=AT)
    assert refused.value.errors[0].message == "请填写阿拉善盟的抽查比例"
    with pytest.raises(InvalidInput):
        InspectionPlan.new(1999, ratios(), leagues=LEAGUE_NAMES, by="region", at=AT)


# -- the draw, recomputed with hashlib alone ----------------------------------------------------------------------
def recompute(record: dict) -> None:
    """The steps docs/supervision.md gives anyone, with hashlib only."""
    for lg in record["leagues"]:
        population = lg["population"]
        if not population:
            assert lg["selected"] == [] and lg["k"] == 0
            continue
        seed = h(h("\n".join(population)) + ":" + record["entered_value"])
        assert seed == lg["seed"]
        ranked = sorted(population, key=lambda i: h(seed + ":" + i))
        assert ranked[:math.ceil(Decimal(lg["ratio"]) * len(population))] == lg["selected"]
        ids = [p["id"] for p in lg["pool"]]
        department = {p["id"]: p["department"] for p in lg["pool"]}
        for assignment, mine_id in zip(lg["assignments"], lg["selected"], strict=True):
            mine_seed = h(h("\n".join(ids)) + ":" + record["entered_value"] + ":" + mine_id)
            order = sorted(ids, key=lambda i: h(mine_seed + ":" + i))
            second = next(i for i in order if department[i] != department[order[0]])
            assert assignment == {"mine_id": mine_id, "seed": mine_seed, "inspectors": [order[0], second]}
            assert department[order[0]] != department[second]


def test_the_draw_is_recomputed_independently_and_each_mine_gets_two_departments():
    mines = {ORDOS: [f"mine-{n:03d}" for n in range(1, 21)], BAOTOU: [f"mine-{n:03d}" for n in range(21, 26)]}
    pool = {ORDOS: [{"id": f"i{n}", "name": f"人员{n}", "department": d} for n, d in enumerate(
                ["natural_resources"] * 5 + ["ecology_environment"] + ["natural_resources"] * 3)],
            BAOTOU: [{"id": "b1", "name": "甲", "department": "water_resources"},
                     {"id": "b2", "name": "乙", "department": "emergency_management"}]}
    record = rules.draw_inspections({ORDOS: "0.5", BAOTOU: "0.2", WUHAI: "0.3"}, mines, pool, "20260415-3350.12",
                                    department_names=NAMES)
    assert [(lg["league"], len(lg["population"]), lg["k"]) for lg in record["leagues"]] == [
        (ORDOS, 20, 10), (BAOTOU, 5, 1), (WUHAI, 0, 0)]
    recompute(record)
    assert rules.verify(record)
    # the one 生态环境 inspector is in every Ordos pair (the pool has only two departments)
    assert all("i5" in a["inspectors"] for a in record["leagues"][0]["assignments"])
    assert record == rules.draw_inspections({ORDOS: "0.5", BAOTOU: "0.2", WUHAI: "0.3"}, mines, pool,
                                            "20260415-3350.12", department_names=NAMES)
    other = rules.draw_inspections({ORDOS: "0.5", BAOTOU: "0.2", WUHAI: "0.3"}, mines, pool, "another",
                                   department_names=NAMES)
    assert other["leagues"][0]["selected"] != record["leagues"][0]["selected"]
    tampered = {**record, "leagues": [{**record["leagues"][0], "selected": list(reversed(
        record["leagues"][0]["selected"]))}, *record["leagues"][1:]]}
    assert not rules.verify(tampered)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), ratio=st.sampled_from(["0.05", "0.1", "0.25", "0.5", "1"]),
       departments=st.lists(st.sampled_from(list(NAMES)), min_size=2, max_size=8).filter(lambda d: len(set(d)) > 1),
       entered=st.text(min_size=1, max_size=20).filter(str.strip))
def test_any_draw_recomputes_and_pairs_two_departments(n, ratio, departments, entered):
    pool = {ORDOS: [{"id": f"p{i}", "name": f"人员{i}", "department": d} for i, d in enumerate(departments)]}
    record = rules.draw_inspections({ORDOS: ratio}, {ORDOS: [f"m{i}" for i in range(n)]}, pool, entered,
                                    department_names=NAMES)
    recompute(record)
    assert rules.verify(record) and record["leagues"][0]["k"] == math.ceil(Decimal(ratio) * n)


def test_a_pool_of_fewer_than_two_departments_refuses_the_whole_draw_naming_the_league():
    mines = {ORDOS: ["m1", "m2"], BAOTOU: ["m3"], WUHAI: []}
    pool = {ORDOS: [{"id": "a", "name": "甲", "department": "natural_resources"},
                    {"id": "b", "name": "乙", "department": "natural_resources"}],
            BAOTOU: [{"id": "c", "name": "丙", "department": "water_resources"},
                     {"id": "d", "name": "丁", "department": "ecology_environment"}]}
    with pytest.raises(InvalidInput, match="检查人员库不足") as refused:
        rules.draw_inspections({ORDOS: "0.5", BAOTOU: "1", WUHAI: "0.5"}, mines, pool, "42", department_names=NAMES)
    assert [(e.field, e.message) for e in refused.value.errors] == [(f"pool.{ORDOS}", (
        "鄂尔多斯市抽中 1 座矿山，每座需2名不同部门的检查人员，但在岗检查人员仅 2 人、1 个部门（自然资源）："
        "请先在检查人员库中补充其他部门的人员"))]
    with pytest.raises(InvalidInput, match="请录入随机值"):
        rules.draw_inspections({ORDOS: "0.5"}, mines, pool, "  ", department_names=NAMES)


# -- the handlers ---------------------------------------------------------------------------------------------------
def test_only_the_region_office_keeps_the_pool_and_the_plan():
    uow = FakeSupervisionUnitOfWork()
    b = bus(uow)
    bureau = Principal("bureau", "bureau", area=ORDOS)
    for command in (AddInspector(bureau, "甲", "natural_resources", ORDOS), SetPlan(bureau, 2026, ratios()),
                    PublishPlan(bureau, 2026), DrawInspections(bureau, 2026, "42")):
        with pytest.raises(NotPermitted):
            b.handle(command)
    with pytest.raises(InvalidInput) as refused:
        b.handle(AddInspector(OFFICE, " ", "police", "北京市"))
    assert {e.field for e in refused.value.errors} == {"name", "department", "league"}
    inspector = b.handle(AddInspector(OFFICE, "甲", "natural_resources", ORDOS))
    off = b.handle(SetInspectorActive(OFFICE, inspector["_id"], False))
    assert off["active"] is False and [h["action"] for h in off["history"]] == ["added", "deactivated"]
    with pytest.raises(NotFound):
        b.handle(SetInspectorActive(OFFICE, "inspector-nobody", False))


def test_plan_publish_draw_and_results_through_the_bus():
    uow = FakeSupervisionUnitOfWork()
    b = bus(uow)
    ordos = add_mines(uow, ORDOS, 6)
    add_mines(uow, BAOTOU, 2)
    removed = SupervisedMine(id="mine-removed", mine_name="已移出", enterprise_name="企业", credit_code=None,
                             league=ORDOS, county=None, minerals=[], scale=None, status="registered")
    uow.mines.save(removed)
    people = add_pool(b, ORDOS, [("甲", "natural_resources"), ("乙", "ecology_environment"),
                                 ("丙", "emergency_management")])
    add_pool(b, BAOTOU, [("丁", "natural_resources"), ("戊", "water_resources")])
    b.handle(SetInspectorActive(OFFICE, people[2], False))           # 丙 is off the draws

    with pytest.raises(NotFound, match="尚未制定"):
        b.handle(PublishPlan(OFFICE, 2026))
    b.handle(SetPlan(OFFICE, 2026, ratios("0.1", **{ORDOS: "0.5"})))
    with pytest.raises(Conflict, match="尚未公布"):
        b.handle(DrawInspections(OFFICE, 2026, "42"))
    b.handle(SetPlan(OFFICE, 2026, ratios("0.5")))                    # a draft may change
    plan = b.handle(PublishPlan(OFFICE, 2026))
    assert plan["status"] == "published"
    assert b.handle(PublishPlan(OFFICE, 2026))["version"] == plan["version"]      # again: nothing changes
    with pytest.raises(Conflict, match="已公布"):
        b.handle(SetPlan(OFFICE, 2026, ratios("0.3")))
    [published] = uow.events("supervision.inspection_plan_published")
    assert published["payload"]["ratios"][0] == {"league": "呼和浩特市", "ratio": "0.5"}

    drawn = b.handle(DrawInspections(OFFICE, 2026, "20260415"))
    record = drawn["draw"]
    recompute(record)
    ordos_draw = next(lg for lg in record["leagues"] if lg["league"] == ORDOS)
    assert ordos_draw["population"] == sorted(ordos) and ordos_draw["k"] == 3      # not the removed one
    assert {p["id"] for p in ordos_draw["pool"]} == set(people[:2])               # not the inactive one
    inspections = uow.inspections.find(year=2026)
    assert len(inspections) == 3 + 1
    for inspection in inspections:
        assert sorted(inspection.departments) in (["ecology_environment", "natural_resources"],
                                                  ["natural_resources", "water_resources"])
    [event] = uow.events("supervision.inspections_drawn")
    assert len(event["payload"]["inspections"]) == 4 and event["aggregate_id"] == "plan-2026"

    # a replay with the same value answers the same draw; another value is refused
    commits = uow.commits
    assert b.handle(DrawInspections(OFFICE, 2026, "20260415"))["draw"] == record
    assert len(uow.events("supervision.inspections_drawn")) == 1 and len(uow.inspections.find()) == 4
    with pytest.raises(Conflict, match="不能重新抽取"):
        b.handle(DrawInspections(OFFICE, 2026, "20260416"))
    assert uow.commits == commits + 1

    b = bus(uow, LATER)
    target = next(i for i in inspections if i.league == ORDOS)
    with pytest.raises(InvalidInput, match="检查结果有误") as refused:
        b.handle(RecordResult(OFFICE, target.id, "natural_resources", "conforms", date(2026, 4, 14)))
    assert refused.value.errors[0].message == "检查日期不能早于抽取日期（2026-04-15）"
    eco = Principal("eco", "department_reviewer", department="ecology_environment", area=ORDOS)
    nr_baotou = Principal("nr", "department_reviewer", department="natural_resources", area=BAOTOU)
    with pytest.raises(NotPermitted, match="本盟市"):
        b.handle(RecordResult(nr_baotou, target.id, "natural_resources", "conforms", date(2026, 5, 10)))
    with pytest.raises(NotPermitted, match="本部门"):
        b.handle(RecordResult(eco, target.id, "natural_resources", "conforms", date(2026, 5, 10)))
    with pytest.raises(InvalidInput) as refused:
        b.handle(RecordResult(eco, target.id, "ecology_environment", "problems", date(2026, 5, 21)))
    assert {e.field for e in refused.value.errors} == {"problems", "inspected_on"}
    found = b.handle(RecordResult(eco, target.id, "ecology_environment", "problems", date(2026, 5, 10),
                                  "排土场未复垦", True, "rectify.5"))
    assert found["status"] == "assigned" and found["outcome"] is None
    again = b.handle(RecordResult(eco, target.id, "ecology_environment", "problems", date(2026, 5, 10),
                                  "排土场未复垦", True, "rectify.5"))
    assert again["version"] == found["version"]                        # the same result: nothing changes
    with pytest.raises(Conflict, match="不能更改"):
        b.handle(RecordResult(eco, target.id, "ecology_environment", "conforms", date(2026, 5, 10)))
    done = b.handle(RecordResult(OFFICE, target.id, "natural_resources", "conforms", date(2026, 5, 11)))
    assert done["status"] == "completed" and done["outcome"] == "problems"
    results = uow.events("supervision.inspection_result_recorded")
    assert [(e["payload"]["department"], e["payload"]["completed"], e["payload"]["inspection_outcome"])
            for e in results] == [("ecology_environment", False, None), ("natural_resources", True, "problems")]
    assert results[0]["payload"]["suggest_measure"] is True and results[0]["payload"]["situation"] == "rectify.5"


def test_a_draw_with_a_pool_too_small_changes_nothing():
    uow = FakeSupervisionUnitOfWork()
    b = bus(uow)
    add_mines(uow, ORDOS, 3)
    add_pool(b, ORDOS, [("甲", "natural_resources")])
    b.handle(SetPlan(OFFICE, 2026, ratios()))
    b.handle(PublishPlan(OFFICE, 2026))
    with pytest.raises(InvalidInput) as refused:
        b.handle(DrawInspections(OFFICE, 2026, "42"))
    assert refused.value.errors[0].field == f"pool.{ORDOS}" and "仅 1 人、1 个部门" in refused.value.errors[0].message
    assert uow.inspection_plans.get("plan-2026").status == "published" and uow.inspections.find() == []
    assert uow.events("supervision.inspections_drawn") == []


def test_stored_aggregates_read_back_the_same():
    plan = InspectionPlan.new(2026, ratios(), leagues=LEAGUE_NAMES, by="region", at=AT)
    assert InspectionPlan.from_dict({**plan.to_dict(), "version": 2}) == InspectionPlan(**{**vars(plan),
                                                                                           "version": 2})
    inspector = Inspector.new("i1", "甲", "natural_resources", ORDOS, leagues=LEAGUE_NAMES, by="region", at=AT)
    assert Inspector.from_dict(inspector.to_dict()) == inspector
    inspection = Inspection.new(plan, {"mine_id": "m1", "mine_name": "矿", "enterprise_name": "企业",
                                       "credit_code": None, "league": ORDOS, "county": None},
                                [{"id": "i1", "name": "甲", "department": "natural_resources"},
                                 {"id": "i2", "name": "乙", "department": "water_resources"}],
                                drawn_on=AT.date(), by="region", at=AT)
    doc = inspection.to_dict()
    assert doc["_id"] == "plan-2026-m1" and doc["outcome"] is None
    assert Inspection.from_dict(doc) == inspection
