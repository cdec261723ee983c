"""Routing, checked against the evaluation index (never a hand list): which departments get a task and
exactly which indicators, prerequisites and evidence each holds."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from review_builders import COAL_MINE, SAND_MINE, attachment, full_assessment

from review_routing.domain.checks import CHECK_CODES, INITIAL_REVIEW_CHECKS
from review_routing.domain.errors import RoutingError
from review_routing.domain.materials import kind as material_kind
from review_routing.domain.routing import LEAD_DEPARTMENT, MineProfile, route
from shared.regions import LEAGUE_NAMES, canonical_league, league_of_county_code


def expected_routing(catalog, group: int, method: str, coal: bool) -> dict[str, dict]:
    """What the index says, read straight from the catalog: indicator → 分工部门 (with the index's own scopes
    煤矿 / 非煤矿山), prerequisite → 部门."""
    out: dict[str, dict] = {}
    for indicator in catalog.indicators:
        if not indicator.applies_to_group(group) or not indicator.applies_to_method(method):
            continue
        for department in indicator.departments:
            scope = indicator.department_scopes.get(department)
            if scope == "煤矿" and not coal or scope == "非煤矿山" and coal:
                continue
            out.setdefault(department, {"indicators": set(), "prerequisites": set()})["indicators"].add(indicator.no)
    for prerequisite in catalog.prerequisites:
        for department in prerequisite.departments:
            out.setdefault(department, {"indicators": set(), "prerequisites": set()})["prerequisites"].add(
                prerequisite.code)
    out.setdefault(LEAD_DEPARTMENT, {"indicators": set(), "prerequisites": set()})
    return out


def profile(mine: dict) -> MineProfile:
    return MineProfile.from_submission(mine)


def check_against_index(catalog, result, group, method, coal):
    expected = expected_routing(catalog, group, method, coal)
    assert set(result.departments) == set(expected)
    for task in result.tasks:
        assert set(task.indicators) == expected[task.department]["indicators"], task.department
        assert set(task.prerequisites) == expected[task.department]["prerequisites"], task.department
        assert list(task.indicators) == sorted(task.indicators)
    applicable = {i.no for i in catalog.indicators_for(group, method)}
    assert set().union(*(t.indicators for t in result.tasks)) == applicable
    assert set(result.applicable_indicators) == applicable


def test_open_pit_coal_mine_in_ordos_goes_to_exactly_the_departments_the_index_names(catalog):
    mine = profile(COAL_MINE)
    assert mine.league == "鄂尔多斯市" and mine.is_coal_mine
    result = route(catalog, mine, full_assessment(catalog, 1, "open_pit"))
    check_against_index(catalog, result, 1, "open_pit", coal=True)
    assert result.tasks[0].department == LEAD_DEPARTMENT and result.tasks[0].lead
    assert [t.lead for t in result.tasks].count(True) == 1
    assert "finance" not in result.departments and "financial_regulation" not in result.departments
    # Branch (一): 12–20 are routed, 21–24 (branch 二) are not; 44 goes to 能源 (煤矿), not 工业和信息化 (非煤).
    everything = set().union(*(t.indicators for t in result.tasks))
    assert {12, 13, 19, 20} <= everything and not {21, 22, 23, 24} & everything
    assert 44 in result.task_for("energy").indicators
    assert 44 not in result.task_for("industry_it").indicators
    assert result.task_for("taxation").indicators == (49,)
    assert result.task_for("market_regulation").indicators == () and result.task_for(
        "market_regulation").prerequisites == ("P1",)


def test_sand_and_gravel_mine_branch_two(catalog):
    mine = profile(SAND_MINE)
    assert mine.league == "包头市" and not mine.is_coal_mine
    result = route(catalog, mine, full_assessment(catalog, 2, "open_pit", "sand_gravel_stone"))
    check_against_index(catalog, result, 2, "open_pit", coal=False)
    everything = set().union(*(t.indicators for t in result.tasks))
    assert {21, 22, 23, 24} <= everything and not set(range(12, 21)) & everything
    assert 44 in result.task_for("industry_it").indicators
    assert 44 not in result.task_for("energy").indicators
    assert "finance" not in result.departments and "financial_regulation" not in result.departments


def test_oil_and_gas_mine_gets_no_task_for_8_and_9(catalog):
    mine = MineProfile(league="鄂尔多斯市", industry_group=1, mining_method="oil_gas", minerals=("natural_gas",))
    result = route(catalog, mine)
    check_against_index(catalog, result, 1, "oil_gas", coal=False)
    assert not {8, 9} & set().union(*(t.indicators for t in result.tasks))


def test_lead_task_holds_the_seven_initial_review_checks_of_annex_2(catalog):
    result = route(catalog, profile(COAL_MINE))
    assert result.tasks[0].checks == CHECK_CODES == ("C1", "C2", "C3", "C4", "C5", "C6", "C7")
    assert all(t.checks == () for t in result.tasks[1:])
    assert [c.item for c in INITIAL_REVIEW_CHECKS] == [f"（{n}）" for n in "一二三四五六七"]
    assert "证照合法有效" in INITIAL_REVIEW_CHECKS[0].text
    assert "差别化管控政策" in INITIAL_REVIEW_CHECKS[6].text
    assert {p for c in INITIAL_REVIEW_CHECKS for p in c.prerequisites} <= set(catalog.prerequisite_codes)


def holders_of(result, attachments) -> dict[str, set[str]]:
    return {a["attachment_id"]: {t.department for t in result.tasks
                                 if any(x["attachment_id"] == a["attachment_id"] for x in t.attachments)}
            for a in attachments}


def test_evidence_follows_its_indicator_or_prerequisite_and_the_dossier_reaches_every_department(catalog):
    attachments = [attachment("a3", indicator=3), attachment("p1", "mining_licence", prerequisite="P1"),
                   attachment("rep", "self_assessment_report"), attachment("res", "reserve_annual_report"),
                   attachment("a22", indicator=22)]  # 22 is branch (二): not applicable to a coal mine
    result = route(catalog, profile(COAL_MINE), attachments=attachments)
    holders = holders_of(result, attachments)
    assert holders["a3"] == {d for d in result.departments if 3 in result.task_for(d).indicators}
    assert holders["p1"] == {d for d in result.departments if "P1" in result.task_for(d).prerequisites}
    assert holders["rep"] == set(result.departments)  # the self-assessment report: the dossier as a whole
    assert holders["res"] == {LEAD_DEPARTMENT}       # 附件2 二(六) (P4) is checked on the reserve report
    assert holders["a22"] == {LEAD_DEPARTMENT}       # nothing is lost


def test_application_materials_reach_the_departments_that_review_them(catalog):
    """Defect 1 of issue 10: 生态环境 saw "无" for the EIA approval, 应急管理 could not open the 安全生产许可证.
    Materials uploaded as 附件2 一 kinds carry no indicator or prerequisite: the kind says who reviews them."""
    kinds = ["business_licence", "mining_licence", "safety_licence", "mining_right_payment", "annual_sales_report",
             "eia_approval", "environmental_acceptance", "penalty_rectification", "reserve_annual_report",
             "self_assessment_report", "application_form", "truthfulness_pledge", "site_photos",
             "remote_sensing_image", "promo_video", "other"]
    attachments = [attachment(k, k) for k in kinds]
    result = route(catalog, profile(COAL_MINE), attachments=attachments)
    holders = holders_of(result, attachments)
    p1 = {d for d in result.departments if "P1" in result.task_for(d).prerequisites}
    p2 = {d for d in result.departments if "P2" in result.task_for(d).prerequisites}
    assert p1 == {"natural_resources", "ecology_environment", "emergency_management", "market_regulation"}
    for licence in ("business_licence", "mining_licence", "safety_licence"):
        assert holders[licence] == p1                # P1 手续齐全: every P1 department sees every licence
    assert "emergency_management" in holders["safety_licence"]
    assert holders["eia_approval"] == holders["environmental_acceptance"] == {"natural_resources",
                                                                              "ecology_environment",
                                                                              "emergency_management",
                                                                              "market_regulation"}
    assert holders["mining_right_payment"] == {"natural_resources"}
    assert holders["annual_sales_report"] == holders["reserve_annual_report"] == {"natural_resources"}
    assert holders["penalty_rectification"] == p2 == {"natural_resources", "development_reform"}
    for whole in ("self_assessment_report", "application_form", "truthfulness_pledge", "site_photos",
                  "remote_sensing_image"):
        assert holders[whole] == set(result.departments)
    assert holders["promo_video"] == holders["other"] == {"natural_resources"}
    # the lead keeps what it had: every material its checks are made on, and the whole dossier
    assert all(LEAD_DEPARTMENT in h for h in holders.values())


def test_not_applicable_items_are_routed_and_flagged_for_confirmation(catalog):
    assessment = full_assessment(catalog, 1, "open_pit", entries={
        16: {"not_applicable": True, "reason": "无共伴生矿产"}})
    result = route(catalog, profile(COAL_MINE), assessment)
    for task in result.tasks:
        assert (16 in task.not_applicable) == (16 in task.indicators)
        if 16 in task.indicators:
            assert task.entries["16"]["reason"] == "无共伴生矿产"
    assert any(16 in t.indicators for t in result.tasks)


def test_each_task_carries_the_self_assessment_entries_of_its_indicators_only(catalog):
    assessment = full_assessment(catalog, 1, "open_pit")
    for task in route(catalog, profile(COAL_MINE), assessment).tasks:
        assert set(task.entries) == {str(n) for n in task.indicators}


def test_a_mismatch_between_register_and_assessment_is_routed_by_the_register_and_reported(catalog):
    assessment = full_assessment(catalog, 1, "underground")
    result = route(catalog, profile(COAL_MINE), assessment)
    check_against_index(catalog, result, 1, "open_pit", coal=True)
    assert result.warnings == ("自评估填写的开采方式（地下开采）与矿山登记（露天开采）不一致，按矿山登记分派审核",)


@pytest.mark.parametrize("value", ["鄂尔多斯市", "鄂尔多斯", "ordos", "ORDOS", "150600", " 鄂尔多斯市 "])
def test_league_by_any_name_or_code(value):
    assert canonical_league(value) == "鄂尔多斯市"


def test_leagues_are_the_twelve_of_the_identity_module():
    from shared.identity import LEAGUES

    assert set(LEAGUE_NAMES) == set(LEAGUES)
    assert league_of_county_code("150627") == "鄂尔多斯市"
    assert league_of_county_code("1506") is None and canonical_league("北京市") is None and canonical_league(7) is None


@pytest.mark.parametrize("change,field", [
    ({"league": "北京市"}, "mine.league"), ({"industry_group": 3}, "mine.industry_group"),
    ({"mining_method": "strip"}, "mine.mining_method")])
def test_unroutable_mines_are_refused_naming_the_field(change, field):
    with pytest.raises(RoutingError) as raised:
        MineProfile.from_submission({**COAL_MINE, **change})
    assert [e.field for e in raised.value.errors] == [field]


@pytest.mark.parametrize("minerals,coal", [(["煤"], True), (["coal"], True), ([{"code": "coal"}], True),
                                           (["煤炭", "高岭土"], True), (["煤层气"], False), (["铁"], False),
                                           ([], False)])
def test_coal_mine_recognised_from_its_minerals(minerals, coal):
    assert MineProfile.from_submission({**COAL_MINE, "minerals": minerals}).is_coal_mine is coal


mines = st.builds(
    lambda group, method, coal, league: MineProfile(league=league, industry_group=group, mining_method=method,
                                                    minerals=("coal",) if coal else ("iron",)),
    st.sampled_from([1, 2]), st.sampled_from(["open_pit", "underground", "oil_gas"]), st.booleans(),
    st.sampled_from(LEAGUE_NAMES))
attachment_lists = st.lists(st.builds(
    lambda n, ind, pre, kind: attachment(f"att-{n}", kind, indicator=ind, prerequisite=pre),
    st.integers(0, 10_000), st.one_of(st.none(), st.integers(1, 50)),
    st.one_of(st.none(), st.sampled_from(["P1", "P2", "P3", "P4", "P5"])),
    st.sampled_from(["evidence", "mining_licence", "site_photos", "reserve_annual_report", "other",
                     "eia_approval", "safety_licence", "penalty_rectification"])),
    max_size=12, unique_by=lambda a: a["attachment_id"])


@settings(max_examples=150, deadline=None)
@given(mine=mines, attachments=attachment_lists)
def test_routing_properties(catalog, mine, attachments):
    result = route(catalog, mine, attachments=attachments)
    check_against_index(catalog, result, mine.industry_group, mine.mining_method, mine.is_coal_mine)
    assert len(set(result.departments)) == len(result.tasks)
    assert result.tasks[0].department == LEAD_DEPARTMENT
    assert not {"finance", "financial_regulation"} & set(result.departments)
    assert route(catalog, mine, attachments=attachments) == result               # deterministic
    for a in attachments:                                                        # every file reaches someone
        holders = [t for t in result.tasks if a in [dict(x) for x in t.attachments]]
        assert holders
        kind = material_kind(a["kind"])
        for task in holders:
            assert (a["indicator"] in task.indicators or a["prerequisite"] in task.prerequisites or task.lead
                    or kind.reviewed_by(task.department, task.prerequisites))
        if kind.for_every_department:
            assert len(holders) == len(result.tasks)
