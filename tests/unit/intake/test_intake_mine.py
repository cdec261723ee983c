from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intake_builders import CREDIT_CODE, REAL_CREDIT_CODES, TODAY, mine_data

from intake.domain.errors import MineInvalid
from intake.domain.mine import (
    FIELD_LABELS,
    MINERALS,
    Mine,
    Mineral,
    find_mineral,
    suggest_industry_group,
    validate_mine,
)
from shared import regions


def fields(errors):
    return [e.field for e in errors]


def only_error(data, today=TODAY):
    errors = validate_mine(data, today)
    assert len(errors) == 1, errors
    return errors[0]


def test_valid_mine_has_no_errors_and_round_trips():
    assert validate_mine(mine_data(), TODAY) == []
    mine = Mine.create(mine_data(), TODAY, id="mine-1")
    d = mine.to_dict()
    json.dumps(d)  # plain JSON values only
    assert d["league"] == "ordos" and d["county"] == "150627"
    assert d["business_licence"] == {"valid_from": "2005-06-01", "valid_to": None}
    assert d["remaining_reserve_years"] == "25.5"
    assert Mine.from_dict(d) == mine
    assert Mine.from_dict(d).to_dict() == d
    assert mine.league_name == "鄂尔多斯市" and mine.county_name == "伊金霍洛旗"
    assert mine.credit_code == CREDIT_CODE
    assert mine.scoring_profile() == {"industry_group": 1, "mining_method": "open_pit"}


def test_chinese_labels_are_accepted_and_stored_as_codes():
    data = mine_data(
        league="鄂尔多斯", county="150627", minerals=["煤炭", {"code": "其他", "other": " 高铝  粘土 "}],
        scale="大型", mining_method="露天", production_status="在产", industry_group="（一）",
    )
    data["enterprise"]["credit_code"] = "９１４４０３００１９２２０３８２１６"
    mine = Mine.create(data, TODAY)
    d = mine.to_dict()
    assert (d["league"], d["county"], d["scale"], d["mining_method"], d["production_status"]) == (
        "ordos", "150627", "large", "open_pit", "in_production")
    assert d["minerals"] == [{"code": "coal"}, {"code": "other", "other": "高铝 粘土"}]
    assert d["industry_group"] == 1
    assert d["enterprise"]["credit_code"] == CREDIT_CODE
    assert mine.mineral_names == ["煤", "高铝 粘土"]


def test_other_mineral_naming_a_vocabulary_mineral_is_stored_as_that_mineral():
    mine = Mine.create(mine_data(minerals=[{"code": "other", "other": "萤石"}]), TODAY)
    assert mine.minerals == (Mineral("fluorite"),)


def _set(path, value):
    def apply(d):
        keys = path.split(".")
        target = d
        for k in keys[:-1]:
            target = target[k]
        if value is _DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return d
    return apply


_DELETE = object()

ERROR_CASES = [
    # (mutation, field, fragment of the message after the label)
    (_set("enterprise", _DELETE), "enterprise", "未填写"),
    (_set("enterprise", "某公司"), "enterprise", "格式不正确"),
    (_set("enterprise.name", "  "), "enterprise.name", "不能为空"),
    (_set("enterprise.name", "公" * 101), "enterprise.name", "过长"),
    (_set("enterprise.credit_code", "914403001922038217"), "enterprise.credit_code", "校验位不正确"),
    (_set("enterprise.credit_code", "91440300192203821"), "enterprise.credit_code", "应为18位"),
    (_set("enterprise.credit_code", None), "enterprise.credit_code", "不能为空"),
    (_set("name", ""), "name", "不能为空"),
    (_set("name", 12), "name", "应为文字"),
    (_set("mining_licence", _DELETE), "mining_licence", "未填写"),
    (_set("mining_licence.number", "1500000520018"), "mining_licence.number", "字母C加22位数字"),
    (_set("mining_licence.number", "C1100002010061120067890"), "mining_licence.number", "发证机关代码"),
    (_set("mining_licence.valid_from", None), "mining_licence.valid_from", "不能为空"),
    (_set("mining_licence.valid_from", "2020-13-01"), "mining_licence.valid_from", "不是有效日期"),
    (_set("mining_licence.valid_to", "2019-12-31"), "mining_licence.valid_to", "早于起始日期"),
    (_set("mining_licence.valid_to", "2025-06-30"), "mining_licence.valid_to", "已于 2025-06-30 过期"),
    (_set("mining_licence.valid_from", "2025-07-02"), "mining_licence.valid_from", "尚未生效"),
    (_set("mining_licence.valid_to", "长期"), "mining_licence.valid_to", "不是可识别的日期"),
    (_set("safety_licence.number", ""), "safety_licence.number", "不能为空"),
    (_set("safety_licence.number", "号" * 65), "safety_licence.number", "过长"),
    (_set("safety_licence.valid_to", None), "safety_licence.valid_to", "不能为空"),
    (_set("safety_licence.valid_to", "下个月"), "safety_licence.valid_to", "不是可识别的日期"),
    (_set("safety_licence.valid_to", "2025-06-30"), "safety_licence.valid_to", "过期"),
    (_set("business_licence.valid_from", ""), "business_licence.valid_from", "不能为空"),
    (_set("business_licence.valid_to", "2020-01-01"), "business_licence.valid_to", "过期"),
    (_set("league", _DELETE), "league", "未选择"),
    (_set("league", "北京市"), "league", "不是内蒙古自治区的盟市"),
    (_set("county", ""), "county", "未选择"),
    (_set("county", "青山区"), "county", "属于包头市，不属于鄂尔多斯市"),
    (_set("county", "150202"), "county", "“东河区”属于包头市"),
    (_set("county", "朝阳区"), "county", "不是鄂尔多斯市的旗县"),
    (_set("minerals", []), "minerals", "至少选择一个矿种"),
    (_set("minerals", "煤"), "minerals", "应为矿种列表"),
    (_set("minerals", ["coal"] * 21), "minerals", "最多填写20个矿种"),
    (_set("minerals", ["coal", "煤"]), "minerals[1]", "“煤”重复填写"),
    (_set("minerals", ["coal", "unobtainium"]), "minerals[1]", "不在矿种目录中"),
    (_set("minerals", ["coal", {"code": "other"}]), "minerals[1].other", "请填写矿种名称"),
    (_set("minerals", ["coal", {"code": "other", "other": "土" * 51}]), "minerals[1].other", "过长"),
    (_set("minerals", ["coal", 7]), "minerals[1]", "格式不正确"),
    (_set("minerals", ["coal", {"code": ""}]), "minerals[1]", "未选择矿种"),
    (_set("scale", None), "scale", "未选择（可选：大型、中型、小型）"),
    (_set("scale", "特大型"), "scale", "“特大型”不是可选值"),
    (_set("industry_group", None), "industry_group", "未确认，请选择（一）或（二）（按所填矿种建议选择（一））"),
    (_set("industry_group", 3), "industry_group", "“3”不是可选值"),
    (_set("industry_group", True), "industry_group", "不是可选值"),
    (_set("mining_method", None), "mining_method", "未选择"),
    (_set("mining_method", "combined"), "mining_method", "按现阶段主要开采方式选择其一"),
    (_set("mining_method", "露天+地下"), "mining_method", "按现阶段主要开采方式选择其一"),
    (_set("mining_method", "oil_gas"), "mining_method", "油气开采方式只适用于"),
    (_set("mining_method", "水采"), "mining_method", "不是可选值"),
    (_set("production_status", "破产"), "production_status", "不是可选值"),
    (_set("production_start_date", None), "production_start_date", "在产矿山须填写正式投产日期"),
    (_set("production_start_date", "2025-08-01"), "production_start_date", "尚未投产的矿山请选择“在建”"),
    (_set("production_start_date", "1850-01-01"), "production_start_date", "日期不合理"),
    (_set("remaining_reserve_years", None), "remaining_reserve_years", "不能为空"),
    (_set("remaining_reserve_years", "-1"), "remaining_reserve_years", "不能为负数"),
    (_set("remaining_reserve_years", "十年"), "remaining_reserve_years", "不是数字"),
    (_set("remaining_reserve_years", "NaN"), "remaining_reserve_years", "不是数字"),
    (_set("remaining_reserve_years", [3]), "remaining_reserve_years", "不是数字"),
    (_set("remaining_reserve_years", True), "remaining_reserve_years", "应为数字"),
    (_set("remaining_reserve_years", "3.141"), "remaining_reserve_years", "最多保留两位小数"),
    (_set("remaining_reserve_years", "1001"), "remaining_reserve_years", "不能超过1000年"),
]


@pytest.mark.parametrize("mutate,field,fragment", ERROR_CASES, ids=[f"{c[1]}:{c[2]}" for c in ERROR_CASES])
def test_each_validation_error_names_its_field(mutate, field, fragment):
    err = only_error(mutate(mine_data()))
    assert err.field == field
    label = FIELD_LABELS.get(field) or FIELD_LABELS[field.split("[")[0]]
    assert err.message.startswith(label + "："), err.message
    assert fragment in err.message, err.message
    with pytest.raises(MineInvalid) as exc:
        Mine.create(mutate(mine_data()), TODAY)
    assert exc.value.errors == [err]
    assert exc.value.to_list() == [{"field": field, "message": err.message}]


def test_petroleum_must_use_the_oil_gas_method():
    err = only_error(mine_data(minerals=["石油", "天然气"], mining_method="underground"))
    assert err.field == "mining_method" and "应选择油气开采方式" in err.message
    assert validate_mine(mine_data(minerals=["石油", "天然气"], mining_method="oil_gas"), TODAY) == []
    # geothermal and mineral water may be worked by well (oil_gas) but are not forced to
    assert validate_mine(mine_data(minerals=["矿泉水"], mining_method="oil_gas"), TODAY) == []
    assert validate_mine(mine_data(minerals=["地热"], mining_method="underground"), TODAY) == []


def test_all_errors_are_collected_at_once():
    data = mine_data(name="", league="nowhere", scale="huge", remaining_reserve_years="-2")
    data["enterprise"]["credit_code"] = "X"
    data["safety_licence"]["valid_to"] = "2020-01-01"
    errors = validate_mine(data, TODAY)
    assert fields(errors) == [
        "enterprise.credit_code", "name", "safety_licence.valid_to", "league", "scale", "remaining_reserve_years",
    ]
    assert all("：" in e.message for e in errors)


def test_empty_and_non_mapping_input():
    assert fields(validate_mine({}, TODAY)) == [
        "enterprise", "name", "mining_licence", "safety_licence", "business_licence", "league", "county",
        "minerals", "scale", "industry_group", "mining_method", "production_status", "remaining_reserve_years",
    ]
    assert validate_mine([1, 2], TODAY)[0].field == ""
    assert validate_mine("mine", TODAY)[0].message == "矿山信息应为一个对象（键值对）"


def test_empty_sections_name_every_missing_subfield():
    errors = validate_mine(mine_data(enterprise={}, mining_licence={}), TODAY)
    assert fields(errors) == [
        "enterprise.name", "enterprise.credit_code",
        "mining_licence.number", "mining_licence.valid_from", "mining_licence.valid_to",
    ]


def test_construction_stage_needs_no_start_date_and_may_plan_one():
    assert validate_mine(mine_data(production_status="在建", production_start_date=None), TODAY) == []
    mine = Mine.create(mine_data(production_status="construction", production_start_date="2026-03-01"), TODAY)
    assert mine.production_start_date == date(2026, 3, 1)
    assert not mine.in_production_one_full_year(TODAY)


def test_long_term_business_licence_spellings():
    for to in (None, "", "长期", "永久", "长期有效"):
        data = mine_data()
        data["business_licence"]["valid_to"] = to
        assert validate_mine(data, TODAY) == [], to


@pytest.mark.parametrize(
    "raw,stored",
    [("25.5", "25.5"), (25, "25"), (12.5, "12.5"), (Decimal("3.00"), "3.00"), ("0", "0"), ("1E+1", "10"),
     (" 7.25 ", "7.25")],
)
def test_reserve_years_are_decimals(raw, stored):
    mine = Mine.create(mine_data(remaining_reserve_years=raw), TODAY)
    assert mine.to_dict()["remaining_reserve_years"] == stored
    assert isinstance(mine.remaining_reserve_years, Decimal)


def test_from_dict_does_not_judge_dates_but_still_checks_codes():
    stored = Mine.create(mine_data(), TODAY, id="m1").to_dict()
    later = date(2027, 1, 1)
    mine = Mine.from_dict(stored)  # the safety licence has expired by 2027: still loads
    assert mine.expired_licences(later) == ["safety_licence"]
    assert fields(validate_mine(stored, later)) == ["safety_licence.valid_to"]
    stored["county"] = "150202"
    with pytest.raises(MineInvalid, match="属于包头市"):
        Mine.from_dict(stored)


def test_update_replaces_fields_and_keeps_the_id():
    mine = Mine.create(mine_data(), TODAY, id="m1")
    mine.update(mine_data(name="新名称", county="准格尔旗"), TODAY)
    assert mine.id == "m1" and mine.name == "新名称" and mine.county == "150622"
    with pytest.raises(MineInvalid):
        mine.update(mine_data(name=""), TODAY)
    assert mine.name == "新名称"


# -- derived facts -------------------------------------------------------------------------------------------


def test_expired_licences_at_a_date():
    mine = Mine.create(mine_data(), TODAY)
    assert mine.expired_licences(TODAY) == []
    assert mine.licences_valid_on(TODAY)
    assert mine.expired_licences(date(2026, 2, 28)) == []  # last valid day
    assert mine.expired_licences(date(2026, 3, 1)) == ["safety_licence"]
    assert mine.expired_licences(date(2036, 1, 1)) == ["mining_licence", "safety_licence"]
    assert not mine.licences_valid_on(date(2036, 1, 1))
    assert not mine.licences_valid_on(date(2019, 1, 1))  # before the mining licence was issued
    assert mine.licences_expiring_within(date(2026, 1, 1), 90) == ["safety_licence"]
    assert mine.licences_expiring_within(TODAY, 90) == []


def test_submission_problems_name_expired_and_future_licences():
    mine = Mine.create(mine_data(), TODAY)
    assert mine.submission_problems(TODAY) == []
    problems = mine.submission_problems(date(2026, 3, 1))
    assert [p.field for p in problems] == ["mine.safety_licence.valid_to"]
    assert "安全生产许可证已于2026-02-28过期" in problems[0].message
    problems = mine.submission_problems(date(2019, 6, 1))
    assert [p.field for p in problems] == ["mine.mining_licence.valid_from", "mine.safety_licence.valid_from"]


def test_one_full_year_in_production_boundary():
    mine = Mine.create(mine_data(production_start_date="2024-07-01"), TODAY)
    assert mine.in_production_one_full_year(date(2025, 7, 1))
    assert not mine.in_production_one_full_year(date(2025, 6, 30))
    assert mine.is_new_mine(TODAY)
    assert not mine.in_production_three_years(TODAY)


def test_one_full_year_from_29_february():
    mine = Mine.create(mine_data(production_start_date="2024-02-29"), TODAY)
    assert not mine.in_production_one_full_year(date(2025, 2, 27))
    assert mine.in_production_one_full_year(date(2025, 2, 28))


def test_three_years_and_new_mine():
    mine = Mine.create(mine_data(production_start_date="2022-07-01"), TODAY)
    assert mine.in_production_three_years(TODAY) and not mine.is_new_mine(TODAY)
    assert not mine.in_production_three_years(date(2025, 6, 30)) and mine.is_new_mine(date(2025, 6, 30))


@pytest.mark.parametrize("years,ok", [("3", True), ("3.00", True), ("2.99", False), ("0", False), ("40", True)])
def test_reserve_at_least_three_years(years, ok):
    assert Mine.create(mine_data(remaining_reserve_years=years), TODAY).reserve_at_least_3_years() is ok


def test_prerequisite_hints():
    hints = Mine.create(mine_data(), TODAY).prerequisite_hints(TODAY)
    assert hints.to_dict() == {
        "licences_valid": True, "expired_licences": [], "new_mine": False, "one_full_year_in_production": True,
        "three_years_in_production": True, "reserve_at_least_3_years": True, "p4_likely_met": True,
    }
    young = Mine.create(mine_data(production_start_date="2025-01-01"), TODAY).prerequisite_hints(TODAY)
    assert young.new_mine and not young.one_full_year_in_production and not young.p4_likely_met
    short = Mine.create(mine_data(remaining_reserve_years="2.5"), TODAY).prerequisite_hints(TODAY)
    assert not short.p4_likely_met
    suspended = Mine.create(mine_data(production_status="停产"), TODAY).prerequisite_hints(TODAY)
    assert not suspended.p4_likely_met
    later = Mine.create(mine_data(), TODAY).prerequisite_hints(date(2026, 6, 1))
    assert not later.licences_valid and later.expired_licences == ("safety_licence",)


# -- minerals and the industry branch ------------------------------------------------------------------------


def test_mineral_vocabulary():
    assert len({m.code for m in MINERALS}) == len(MINERALS)
    assert len({m.name for m in MINERALS}) == len(MINERALS)
    names = {m.name for m in MINERALS}
    for required in ("煤", "铁", "金", "铜", "铅锌", "稀土", "萤石", "石墨", "石油", "天然气", "地热", "矿泉水",
                     "建筑用砂", "建筑石料用灰岩", "水泥用灰岩", "饰面用花岗岩"):
        assert required in names
    assert all(m.industry_group == 2 for m in MINERALS if m.category == "construction")
    assert all(m.industry_group == 1 for m in MINERALS if m.category != "construction")
    assert find_mineral("COAL").code == "coal" and find_mineral("煤").code == "coal"
    assert find_mineral("黄金").code == "gold" and find_mineral("nope") is None


@pytest.mark.parametrize(
    "minerals,group",
    [
        (["coal"], 1), (["rare_earth", "iron"], 1), (["construction_sand"], 2), (["cement_limestone"], 2),
        (["dimension_granite"], 2), (["mineral_water"], 1), ([Mineral("other", "x")], None),
        ([Mineral("other", "x"), Mineral("construction_sand")], 2), (["construction_sand", "coal"], 2), ([], None),
    ],
)
def test_suggested_industry_group(minerals, group):
    assert suggest_industry_group(minerals) == group


def test_suggestion_is_only_a_suggestion():
    # the user may confirm a branch other than the suggested one (e.g. a sand pit of a coal company)
    mine = Mine.create(mine_data(minerals=["建筑用砂"], industry_group=1), TODAY)
    assert mine.industry_group == 1 and mine.suggested_industry_group == 2
    err = only_error(mine_data(minerals=["建筑用砂"], industry_group=None))
    assert "建议选择（二）" in err.message
    err = only_error(mine_data(minerals=[{"code": "other", "other": "某矿"}], industry_group=None))
    assert "建议" not in err.message


# -- property: every valid mine round-trips ------------------------------------------------------------------

_counties = st.sampled_from(regions.COUNTIES)
_vocab = st.sampled_from([m for m in MINERALS if not m.well])


@st.composite
def valid_mines(draw):
    county = draw(_counties)
    minerals = draw(st.lists(_vocab, min_size=1, max_size=4, unique_by=lambda m: m.code))
    start = draw(st.dates(date(1960, 1, 1), TODAY))
    mining_from = draw(st.dates(date(2000, 1, 1), TODAY))
    return mine_data(
        enterprise={"name": draw(st.text("矿业有限公司内蒙古", min_size=1, max_size=20)),
                    "credit_code": draw(st.sampled_from(REAL_CREDIT_CODES))},
        league=draw(st.sampled_from([county.league_code, regions.league_by_code(county.league_code).name])),
        county=draw(st.sampled_from([county.code, county.name])),
        minerals=[m.name for m in minerals],
        scale=draw(st.sampled_from(["large", "medium", "small"])),
        industry_group=draw(st.sampled_from([1, 2])),
        mining_method=draw(st.sampled_from(["open_pit", "underground"])),
        production_status=draw(st.sampled_from(["in_production", "suspended", "closed"])),
        production_start_date=start.isoformat(),
        mining_licence={"number": "C1500002010061120067890", "valid_from": mining_from.isoformat(),
                        "valid_to": "2040-01-01"},
        remaining_reserve_years=str(draw(st.decimals(0, 999, places=2))),
    )


@settings(max_examples=150)
@given(valid_mines())
def test_valid_mines_round_trip(data):
    assert validate_mine(data, TODAY) == []
    mine = Mine.create(data, TODAY)
    d = mine.to_dict()
    assert json.loads(json.dumps(d)) == d
    again = Mine.from_dict(d)
    assert again == mine and again.to_dict() == d
    assert regions.is_valid_county(d["league"], d["county"])
