"""The 12 盟市 of the Inner Mongolia Autonomous Region and their 103 旗县级 divisions.

Source: the administrative division codes of GB/T 2260 as published by the Ministry of Civil Affairs
(unchanged for Inner Mongolia since 康巴什区 was created in 2016): 23 市辖区, 11 县级市, 17 县, 49 旗 and
3 自治旗.  Development zones (e.g. 包头稀土高新区, 通辽经济技术开发区, 阿拉善高新区) carry statistical codes but are not
旗县级 administrative divisions; a mine inside one declares the 旗县 the land belongs to.

Each 盟市 also has a stable ASCII code (``"ordos"``) used in URLs, topic keys and stored documents; names and
codes never change meaning, so either can be stored.  Pure data, no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "County",
    "League",
    "LEAGUES",
    "COUNTIES",
    "PROVINCE_CODE",
    "PROVINCE_NAME",
    "league_by_code",
    "league_by_name",
    "league_by_division_code",
    "find_league",
    "county_by_code",
    "find_county",
    "counties_of",
    "is_valid_county",
]

PROVINCE_CODE = "150000"
PROVINCE_NAME = "内蒙古自治区"


@dataclass(frozen=True)
class County:
    """A 旗县级 division: 旗, 自治旗, 县, 县级市 or 市辖区."""

    code: str  # 6-digit administrative division code, e.g. "150627"
    name: str  # e.g. "伊金霍洛旗"
    league_code: str  # ASCII code of its 盟市, e.g. "ordos"

    @property
    def kind(self) -> str:
        """旗 / 自治旗 / 县 / 县级市 / 市辖区, derived from the name and the code (xx81–xx99 are 县级市)."""
        if self.name.endswith("自治旗"):
            return "自治旗"
        if self.name.endswith("旗"):
            return "旗"
        if self.name.endswith("县"):
            return "县"
        if self.name.endswith("市"):
            return "县级市"
        return "市辖区"

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "league": self.league_code, "kind": self.kind}


@dataclass(frozen=True)
class League:
    """A 盟市 (地级): 9 地级市 and 3 盟."""

    code: str  # stable ASCII code, e.g. "ordos"
    name: str  # e.g. "鄂尔多斯市"
    division_code: str  # 6-digit code, e.g. "150600"
    counties: tuple[County, ...]

    @property
    def short_name(self) -> str:
        """The name without 市/盟, e.g. 鄂尔多斯, 锡林郭勒 (users often type it that way)."""
        return self.name[:-1]

    def county(self, name_or_code: str) -> County | None:
        key = _norm(name_or_code)
        for c in self.counties:
            if key in (c.code, c.name):
                return c
        return None

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "division_code": self.division_code,
            "counties": [c.to_dict() for c in self.counties],
        }


def _league(code: str, name: str, division_code: str, counties: list[tuple[str, str]]) -> League:
    return League(code, name, division_code, tuple(County(c, n, code) for c, n in counties))


LEAGUES: tuple[League, ...] = (
    _league("hohhot", "呼和浩特市", "150100", [
        ("150102", "新城区"), ("150103", "回民区"), ("150104", "玉泉区"), ("150105", "赛罕区"),
        ("150121", "土默特左旗"), ("150122", "托克托县"), ("150123", "和林格尔县"), ("150124", "清水河县"),
        ("150125", "武川县"),
    ]),
    _league("baotou", "包头市", "150200", [
        ("150202", "东河区"), ("150203", "昆都仑区"), ("150204", "青山区"), ("150205", "石拐区"),
        ("150206", "白云鄂博矿区"), ("150207", "九原区"), ("150221", "土默特右旗"), ("150222", "固阳县"),
        ("150223", "达尔罕茂明安联合旗"),
    ]),
    _league("wuhai", "乌海市", "150300", [
        ("150302", "海勃湾区"), ("150303", "海南区"), ("150304", "乌达区"),
    ]),
    _league("chifeng", "赤峰市", "150400", [
        ("150402", "红山区"), ("150403", "元宝山区"), ("150404", "松山区"), ("150421", "阿鲁科尔沁旗"),
        ("150422", "巴林左旗"), ("150423", "巴林右旗"), ("150424", "林西县"), ("150425", "克什克腾旗"),
        ("150426", "翁牛特旗"), ("150428", "喀喇沁旗"), ("150429", "宁城县"), ("150430", "敖汉旗"),
    ]),
    _league("tongliao", "通辽市", "150500", [
        ("150502", "科尔沁区"), ("150521", "科尔沁左翼中旗"), ("150522", "科尔沁左翼后旗"), ("150523", "开鲁县"),
        ("150524", "库伦旗"), ("150525", "奈曼旗"), ("150526", "扎鲁特旗"), ("150581", "霍林郭勒市"),
    ]),
    _league("ordos", "鄂尔多斯市", "150600", [
        ("150602", "东胜区"), ("150603", "康巴什区"), ("150621", "达拉特旗"), ("150622", "准格尔旗"),
        ("150623", "鄂托克前旗"), ("150624", "鄂托克旗"), ("150625", "杭锦旗"), ("150626", "乌审旗"),
        ("150627", "伊金霍洛旗"),
    ]),
    _league("hulunbuir", "呼伦贝尔市", "150700", [
        ("150702", "海拉尔区"), ("150703", "扎赉诺尔区"), ("150721", "阿荣旗"),
        ("150722", "莫力达瓦达斡尔族自治旗"), ("150723", "鄂伦春自治旗"), ("150724", "鄂温克族自治旗"),
        ("150725", "陈巴尔虎旗"), ("150726", "新巴尔虎左旗"), ("150727", "新巴尔虎右旗"), ("150781", "满洲里市"),
        ("150782", "牙克石市"), ("150783", "扎兰屯市"), ("150784", "额尔古纳市"), ("150785", "根河市"),
    ]),
    _league("bayannur", "巴彦淖尔市", "150800", [
        ("150802", "临河区"), ("150821", "五原县"), ("150822", "磴口县"), ("150823", "乌拉特前旗"),
        ("150824", "乌拉特中旗"), ("150825", "乌拉特后旗"), ("150826", "杭锦后旗"),
    ]),
    _league("ulanqab", "乌兰察布市", "150900", [
        ("150902", "集宁区"), ("150921", "卓资县"), ("150922", "化德县"), ("150923", "商都县"),
        ("150924", "兴和县"), ("150925", "凉城县"), ("150926", "察哈尔右翼前旗"), ("150927", "察哈尔右翼中旗"),
        ("150928", "察哈尔右翼后旗"), ("150929", "四子王旗"), ("150981", "丰镇市"),
    ]),
    _league("hinggan", "兴安盟", "152200", [
        ("152201", "乌兰浩特市"), ("152202", "阿尔山市"), ("152221", "科尔沁右翼前旗"),
        ("152222", "科尔沁右翼中旗"), ("152223", "扎赉特旗"), ("152224", "突泉县"),
    ]),
    _league("xilingol", "锡林郭勒盟", "152500", [
        ("152501", "二连浩特市"), ("152502", "锡林浩特市"), ("152522", "阿巴嘎旗"), ("152523", "苏尼特左旗"),
        ("152524", "苏尼特右旗"), ("152525", "东乌珠穆沁旗"), ("152526", "西乌珠穆沁旗"), ("152527", "太仆寺旗"),
        ("152528", "镶黄旗"), ("152529", "正镶白旗"), ("152530", "正蓝旗"), ("152531", "多伦县"),
    ]),
    _league("alxa", "阿拉善盟", "152900", [
        ("152921", "阿拉善左旗"), ("152922", "阿拉善右旗"), ("152923", "额济纳旗"),
    ]),
)

COUNTIES: tuple[County, ...] = tuple(c for lg in LEAGUES for c in lg.counties)

_BY_CODE = {lg.code: lg for lg in LEAGUES}
_BY_NAME = {lg.name: lg for lg in LEAGUES}
_BY_SHORT = {lg.short_name: lg for lg in LEAGUES}
_BY_DIVISION = {lg.division_code: lg for lg in LEAGUES}
_COUNTY_BY_CODE = {c.code: c for c in COUNTIES}


def _norm(value: object) -> str:
    # NFKC folds full-width digits/letters typed with a Chinese IME ("１５０６００") to ASCII.
    return unicodedata.normalize("NFKC", str(value)).strip()


def league_by_code(code: str) -> League | None:
    """By ASCII code (``"ordos"``, case-insensitive)."""
    return _BY_CODE.get(_norm(code).lower())


def league_by_name(name: str) -> League | None:
    """By Chinese name (``"鄂尔多斯市"``, also the short form ``"鄂尔多斯"``)."""
    key = _norm(name)
    return _BY_NAME.get(key) or _BY_SHORT.get(key)


def league_by_division_code(code: str) -> League | None:
    """By 6-digit division code (``"150600"``)."""
    return _BY_DIVISION.get(_norm(code))


def find_league(value: object) -> League | None:
    """Any of the three spellings: ASCII code, Chinese name, division code."""
    if not isinstance(value, str) or not value.strip():
        return None
    return league_by_code(value) or league_by_division_code(value) or league_by_name(value)


def county_by_code(code: str) -> County | None:
    return _COUNTY_BY_CODE.get(_norm(code))


def find_county(league: object, county: object) -> County | None:
    """The county (by name or 6-digit code) within the given 盟市 (any spelling); None if it is not there."""
    lg = league if isinstance(league, League) else find_league(league)
    if lg is None or not isinstance(county, str) or not county.strip():
        return None
    return lg.county(county)


def counties_of(league: object) -> tuple[County, ...]:
    lg = league if isinstance(league, League) else find_league(league)
    return lg.counties if lg else ()


def is_valid_county(league: object, county: object) -> bool:
    """True when ``county`` (name or code) is a 旗县级 division of ``league`` (ASCII code, name or code)."""
    return find_county(league, county) is not None
