from __future__ import annotations

from collections import Counter

import pytest

from shared import regions
from shared.regions import (
    COUNTIES,
    LEAGUES,
    counties_of,
    county_by_code,
    find_county,
    find_league,
    is_valid_county,
    league_by_code,
    league_by_division_code,
    league_by_name,
)

EXPECTED_COUNTS = {
    "呼和浩特市": 9,
    "包头市": 9,
    "乌海市": 3,
    "赤峰市": 12,
    "通辽市": 8,
    "鄂尔多斯市": 9,
    "呼伦贝尔市": 14,
    "巴彦淖尔市": 7,
    "乌兰察布市": 11,
    "兴安盟": 6,
    "锡林郭勒盟": 12,
    "阿拉善盟": 3,
}


def test_twelve_leagues_and_103_counties():
    assert len(LEAGUES) == 12
    assert len(COUNTIES) == 103
    assert {lg.name: len(lg.counties) for lg in LEAGUES} == EXPECTED_COUNTS


def test_composition_by_kind_matches_the_official_totals():
    # 23 市辖区, 11 县级市, 17 县, 49 旗, 3 自治旗
    assert Counter(c.kind for c in COUNTIES) == {"市辖区": 23, "县级市": 11, "县": 17, "旗": 49, "自治旗": 3}


def test_codes_are_unique_and_well_formed():
    assert len({lg.code for lg in LEAGUES}) == 12
    assert all(lg.code.isascii() and lg.code.islower() for lg in LEAGUES)
    assert len({lg.division_code for lg in LEAGUES}) == 12
    assert len({c.code for c in COUNTIES}) == 103
    for lg in LEAGUES:
        assert lg.division_code.startswith("15") and lg.division_code.endswith("00")
        for c in lg.counties:
            assert len(c.code) == 6 and c.code.isdigit()
            assert c.code[:4] == lg.division_code[:4], c
            assert c.league_code == lg.code
    # GB/T 2260: a 县级市 under a 地级市 is numbered 8x, one under a 盟 (an agency of the region) 0x
    for lg in LEAGUES:
        for c in lg.counties:
            if c.kind == "县级市":
                assert c.code[4] == ("0" if lg.name.endswith("盟") else "8"), c


def test_ordos_exactly():
    assert [(c.code, c.name) for c in league_by_code("ordos").counties] == [
        ("150602", "东胜区"), ("150603", "康巴什区"), ("150621", "达拉特旗"), ("150622", "准格尔旗"),
        ("150623", "鄂托克前旗"), ("150624", "鄂托克旗"), ("150625", "杭锦旗"), ("150626", "乌审旗"),
        ("150627", "伊金霍洛旗"),
    ]


@pytest.mark.parametrize(
    "code,name,division",
    [
        ("hohhot", "呼和浩特市", "150100"), ("baotou", "包头市", "150200"), ("wuhai", "乌海市", "150300"),
        ("chifeng", "赤峰市", "150400"), ("tongliao", "通辽市", "150500"), ("ordos", "鄂尔多斯市", "150600"),
        ("hulunbuir", "呼伦贝尔市", "150700"), ("bayannur", "巴彦淖尔市", "150800"),
        ("ulanqab", "乌兰察布市", "150900"), ("hinggan", "兴安盟", "152200"), ("xilingol", "锡林郭勒盟", "152500"),
        ("alxa", "阿拉善盟", "152900"),
    ],
)
def test_league_lookups(code, name, division):
    lg = league_by_code(code)
    assert lg.name == name and lg.division_code == division
    assert league_by_name(name) is lg
    assert league_by_name(name[:-1]) is lg  # 鄂尔多斯, 锡林郭勒
    assert league_by_division_code(division) is lg
    assert find_league(code.upper()) is lg
    assert find_league(name) is lg
    assert find_league(division) is lg


def test_lookups_fold_full_width_and_spaces():
    assert league_by_division_code("１５０６００").code == "ordos"
    assert find_league(" 鄂尔多斯市 ").code == "ordos"
    assert county_by_code("１５０６２７").name == "伊金霍洛旗"


@pytest.mark.parametrize("value", [None, "", "   ", "内蒙古", "150000", "150601", "北京市", 150600])
def test_unknown_leagues(value):
    assert find_league(value) is None


def test_county_lookups():
    assert county_by_code("150206").name == "白云鄂博矿区"
    assert county_by_code("150206").kind == "市辖区"
    assert county_by_code("150722").kind == "自治旗"
    assert county_by_code("150781").kind == "县级市"
    assert county_by_code("150427") is None  # never assigned in 赤峰市
    assert find_county("ordos", "150627").name == "伊金霍洛旗"
    assert find_county("鄂尔多斯市", "伊金霍洛旗").code == "150627"
    assert find_county(league_by_code("ordos"), "东胜区").code == "150602"
    assert [c.name for c in counties_of("wuhai")] == ["海勃湾区", "海南区", "乌达区"]
    assert counties_of("nowhere") == ()


@pytest.mark.parametrize(
    "league,county,ok",
    [
        ("ordos", "伊金霍洛旗", True),
        ("鄂尔多斯市", "150627", True),
        ("150600", "康巴什区", True),
        ("baotou", "达尔罕茂明安联合旗", True),
        ("hulunbuir", "莫力达瓦达斡尔族自治旗", True),
        ("xilingol", "二连浩特市", True),
        ("alxa", "额济纳旗", True),
        ("baotou", "伊金霍洛旗", False),  # exists, but in 鄂尔多斯市
        ("ordos", "150201", False),
        ("ordos", "青山区", False),
        ("nowhere", "东胜区", False),
        ("ordos", "", False),
        ("ordos", None, False),
        (None, "东胜区", False),
    ],
)
def test_is_valid_county(league, county, ok):
    assert is_valid_county(league, county) is ok


def test_to_dict_is_plain():
    d = league_by_code("alxa").to_dict()
    assert d["code"] == "alxa" and d["division_code"] == "152900"
    assert d["counties"][0] == {"code": "152921", "name": "阿拉善左旗", "league": "alxa", "kind": "旗"}
    assert regions.PROVINCE_CODE == "150000"
