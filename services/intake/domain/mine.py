"""The ``Mine`` aggregate (矿山) of the mine register, its vocabularies and its validation.

A mine belongs to an enterprise (name + 统一社会信用代码), has its three licences (采矿许可证, 安全生产许可证,
营业执照 — the latter's number is the credit code), lies in one 盟市 and 旗县, and carries what the scoring contract
and the prerequisites need: minerals, scale, industry branch (一)/(二), mining method, production status and start
date, remaining reserve years.

``validate_mine(data, today)`` collects *all* errors of a submitted dict as ``FieldError(field, message)``;
``Mine.create(data, today)`` validates and builds; ``Mine.from_dict``/``to_dict`` round-trip plain JSON values
(dates as ISO strings, the reserve years as a decimal string).  Input is forgiving: Chinese labels are accepted
wherever a code is expected (``"露天"`` for ``open_pit``, ``"鄂尔多斯市"`` for ``ordos``, ``"煤"`` for ``coal``) and
stored as the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from shared import regions
from .errors import FieldError, MineInvalid
from .identifiers import (
    ValidityPeriod,
    add_years,
    check_credit_code,
    check_mining_licence_number,
    check_safety_licence_number,
    parse_date,
)

__all__ = [
    "SCALES",
    "MINING_METHODS",
    "PRODUCTION_STATUSES",
    "INDUSTRY_GROUPS",
    "MineralType",
    "MINERALS",
    "OTHER_MINERAL",
    "mineral_by_code",
    "find_mineral",
    "Mineral",
    "suggest_industry_group",
    "Enterprise",
    "Licence",
    "Mine",
    "PrerequisiteHints",
    "validate_mine",
    "FIELD_LABELS",
]

# ---------------------------------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------------------------------

SCALES = {"large": "大型", "medium": "中型", "small": "小型"}

#: The scoring contract accepts exactly these three.  A mine worked both open-pit and underground chooses its main
#: current method (附件1 指标9: "以现阶段主要开采方式选择其一进行评分，分数不可累加").
MINING_METHODS = {"open_pit": "露天开采", "underground": "地下开采", "oil_gas": "油气开采"}

PRODUCTION_STATUSES = {"in_production": "在产", "suspended": "停产", "construction": "在建", "closed": "关闭"}

#: 附件1 三、资源综合利用 has two branches; the scoring contract calls the choice ``industry_group``.
INDUSTRY_GROUPS = {
    1: "（一）非金属、化工、黄金、冶金、有色、油气、煤炭、地热、矿泉水等行业",
    2: "（二）普通建筑用砂石土、水泥灰岩、建筑石材等行业",
}

_ALIASES = {
    "scale": {"大型": "large", "中型": "medium", "小型": "small", "大": "large", "中": "medium", "小": "small"},
    "mining_method": {
        "露天": "open_pit", "露天开采": "open_pit", "地下": "underground", "地下开采": "underground",
        "井工": "underground", "井工开采": "underground", "油气": "oil_gas", "油气开采": "oil_gas",
    },
    "production_status": {
        "在产": "in_production", "生产": "in_production", "停产": "suspended", "在建": "construction",
        "基建": "construction", "关闭": "closed", "闭坑": "closed",
    },
}
_COMBINED_METHOD_WORDS = ("combined", "mixed", "露天+地下", "露天和地下", "联合", "露井联采", "露天/地下")


@dataclass(frozen=True)
class MineralType:
    code: str
    name: str
    category: str  # energy 能源 / metal 金属 / nonmetal 非金属 / water_gas 水气 / construction 建筑用
    industry_group: int  # 1 or 2 — the branch of 附件1 三 a mine of this main mineral normally belongs to
    well: bool = False  # extracted through wells (石油, 天然气 …): the oil_gas method applies


def _m(code, name, category, group=1, well=False):
    return MineralType(code, name, category, group, well)


MINERALS: tuple[MineralType, ...] = (
    # 能源矿产
    _m("coal", "煤", "energy"),
    _m("petroleum", "石油", "energy", well=True),
    _m("natural_gas", "天然气", "energy", well=True),
    _m("coalbed_methane", "煤层气", "energy", well=True),
    _m("shale_gas", "页岩气", "energy", well=True),
    _m("oil_shale", "油页岩", "energy"),
    _m("uranium", "铀", "energy"),
    _m("geothermal", "地热", "energy", well=True),
    # 金属矿产
    _m("iron", "铁", "metal"),
    _m("manganese", "锰", "metal"),
    _m("chromium", "铬", "metal"),
    _m("copper", "铜", "metal"),
    _m("lead_zinc", "铅锌", "metal"),
    _m("lead", "铅", "metal"),
    _m("zinc", "锌", "metal"),
    _m("nickel", "镍", "metal"),
    _m("tungsten", "钨", "metal"),
    _m("tin", "锡", "metal"),
    _m("molybdenum", "钼", "metal"),
    _m("bauxite", "铝土矿", "metal"),
    _m("gold", "金", "metal"),
    _m("silver", "银", "metal"),
    _m("rare_earth", "稀土", "metal"),
    _m("niobium", "铌", "metal"),
    # 非金属矿产 (industrial minerals: branch 一)
    _m("fluorite", "萤石", "nonmetal"),
    _m("graphite", "石墨", "nonmetal"),
    _m("pyrite", "硫铁矿", "nonmetal"),
    _m("phosphorus", "磷", "nonmetal"),
    _m("salt", "盐", "nonmetal"),
    _m("mirabilite", "芒硝", "nonmetal"),
    _m("trona", "天然碱", "nonmetal"),
    _m("gypsum", "石膏", "nonmetal"),
    _m("bentonite", "膨润土", "nonmetal"),
    _m("kaolin", "高岭土", "nonmetal"),
    _m("zeolite", "沸石", "nonmetal"),
    _m("perlite", "珍珠岩", "nonmetal"),
    _m("feldspar", "长石", "nonmetal"),
    _m("silica", "冶金用石英岩", "nonmetal"),
    _m("metallurgical_dolomite", "冶金用白云岩", "nonmetal"),
    _m("flux_limestone", "熔剂用灰岩", "nonmetal"),
    _m("carbide_limestone", "电石用灰岩", "nonmetal"),
    # 水气矿产
    _m("mineral_water", "矿泉水", "water_gas", well=True),
    # 普通建筑用砂石土、水泥灰岩、建筑石材 (branch 二)
    _m("construction_sand", "建筑用砂", "construction", 2),
    _m("construction_gravel", "建筑用砂砾石", "construction", 2),
    _m("construction_limestone", "建筑石料用灰岩", "construction", 2),
    _m("construction_granite", "建筑用花岗岩", "construction", 2),
    _m("construction_basalt", "建筑用玄武岩", "construction", 2),
    _m("construction_andesite", "建筑用安山岩", "construction", 2),
    _m("construction_dolomite", "建筑用白云岩", "construction", 2),
    _m("brick_clay", "砖瓦用粘土", "construction", 2),
    _m("brick_shale", "砖瓦用页岩", "construction", 2),
    _m("cement_limestone", "水泥用灰岩", "construction", 2),
    _m("cement_clay", "水泥配料用粘土", "construction", 2),
    _m("cement_sandstone", "水泥配料用砂岩", "construction", 2),
    _m("dimension_granite", "饰面用花岗岩", "construction", 2),
    _m("dimension_marble", "饰面用大理岩", "construction", 2),
)

OTHER_MINERAL = "other"
OTHER_MINERAL_LABEL = "其他"
MAX_MINERALS = 20
_MINERAL_BY_CODE = {m.code: m for m in MINERALS}
_MINERAL_BY_NAME = {m.name: m for m in MINERALS}
_MINERAL_BY_NAME.update({"煤炭": _MINERAL_BY_CODE["coal"], "黄金": _MINERAL_BY_CODE["gold"],
                         "岩金": _MINERAL_BY_CODE["gold"], "铁矿": _MINERAL_BY_CODE["iron"]})


def mineral_by_code(code: str) -> MineralType | None:
    return _MINERAL_BY_CODE.get(code)


def find_mineral(value: str) -> MineralType | None:
    """By code (``"coal"``) or Chinese name (``"煤"``)."""
    v = value.strip()
    return _MINERAL_BY_CODE.get(v.lower()) or _MINERAL_BY_NAME.get(v)


@dataclass(frozen=True)
class Mineral:
    """One mineral of a mine: a vocabulary code, or ``other`` with its name as free text."""

    code: str
    other: str | None = None

    @property
    def name(self) -> str:
        if self.code == OTHER_MINERAL:
            return self.other or OTHER_MINERAL_LABEL
        return _MINERAL_BY_CODE[self.code].name

    @property
    def type(self) -> MineralType | None:
        return _MINERAL_BY_CODE.get(self.code)

    def to_dict(self) -> dict:
        return {"code": self.code, "other": self.other} if self.code == OTHER_MINERAL else {"code": self.code}


def suggest_industry_group(minerals) -> int | None:
    """The branch suggested by the main mineral (the first listed one from the vocabulary); None if only 其他.

    Only a suggestion: the user confirms the branch (a mine's main product decides, which the list cannot know).
    """
    for m in minerals:
        code = m.code if isinstance(m, Mineral) else m
        t = _MINERAL_BY_CODE.get(code)
        if t is not None:
            return t.industry_group
    return None


# ---------------------------------------------------------------------------------------------------------------
# Value objects
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enterprise:
    name: str
    credit_code: str  # 统一社会信用代码, normalised

    def to_dict(self) -> dict:
        return {"name": self.name, "credit_code": self.credit_code}


@dataclass(frozen=True)
class Licence:
    """A licence: its number (None for the 营业执照, whose number is the credit code) and validity."""

    number: str | None
    validity: ValidityPeriod

    def to_dict(self) -> dict:
        d = self.validity.to_dict()
        if self.number is not None:
            d = {"number": self.number, **d}
        return d


LICENCES = {
    "mining_licence": "采矿许可证",
    "safety_licence": "安全生产许可证",
    "business_licence": "营业执照",
}

FIELD_LABELS = {
    "enterprise": "企业信息",
    "enterprise.name": "企业名称",
    "enterprise.credit_code": "统一社会信用代码",
    "name": "矿山名称",
    "mining_licence": "采矿许可证",
    "mining_licence.number": "采矿许可证证号",
    "mining_licence.valid_from": "采矿许可证有效期起始日期",
    "mining_licence.valid_to": "采矿许可证有效期截止日期",
    "safety_licence": "安全生产许可证",
    "safety_licence.number": "安全生产许可证编号",
    "safety_licence.valid_from": "安全生产许可证有效期起始日期",
    "safety_licence.valid_to": "安全生产许可证有效期截止日期",
    "business_licence": "营业执照",
    "business_licence.valid_from": "营业执照营业期限起始日期",
    "business_licence.valid_to": "营业执照营业期限截止日期",
    "league": "所在盟市",
    "county": "所在旗县（市、区）",
    "minerals": "开采矿种",
    "scale": "生产规模",
    "industry_group": "行业分组",
    "mining_method": "开采方式",
    "production_status": "生产状态",
    "production_start_date": "正式投产日期",
    "remaining_reserve_years": "剩余储量可采年限",
}

NAME_MAX_LENGTH = 100
RESERVE_YEARS_MAX = Decimal(1000)


@dataclass(frozen=True)
class PrerequisiteHints:
    """Facts the register can tell about the prerequisites (hints for the form; the enterprise still declares).

    * ``licences_valid``: 采矿/安全生产许可证 and 营业执照 all valid on ``today`` (P1, in part).
    * ``new_mine``: production started less than 3 years ago.
    * ``one_full_year_in_production``: "新建矿山正式投产满1年" (P4).
    * ``three_years_in_production``: production started at least 3 years ago (P4 "近3年正常生产运营", in part).
    * ``reserve_at_least_3_years``: "剩余储量可采年限不少于3年" (P4).
    * ``p4_likely_met``: in production, production history as P4 requires, and reserves ≥ 3 years.
    """

    licences_valid: bool
    expired_licences: tuple[str, ...]
    new_mine: bool
    one_full_year_in_production: bool
    three_years_in_production: bool
    reserve_at_least_3_years: bool
    p4_likely_met: bool

    def to_dict(self) -> dict:
        return {
            "licences_valid": self.licences_valid,
            "expired_licences": list(self.expired_licences),
            "new_mine": self.new_mine,
            "one_full_year_in_production": self.one_full_year_in_production,
            "three_years_in_production": self.three_years_in_production,
            "reserve_at_least_3_years": self.reserve_at_least_3_years,
            "p4_likely_met": self.p4_likely_met,
        }


# ---------------------------------------------------------------------------------------------------------------
# The aggregate
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Mine:
    enterprise: Enterprise
    name: str
    mining_licence: Licence
    safety_licence: Licence
    business_licence: Licence
    league: str  # ASCII code of the 盟市, e.g. "ordos"
    county: str  # 6-digit code of the 旗县, e.g. "150627"
    minerals: tuple[Mineral, ...]
    scale: str
    industry_group: int
    mining_method: str
    production_status: str
    production_start_date: date | None
    remaining_reserve_years: Decimal
    id: str | None = None

    # -- construction ------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, data: Mapping, today: date, id: str | None = None) -> "Mine":
        """Validate user input (all errors at once, raising ``MineInvalid``) and build the mine."""
        reader = _MineReader(data, today)
        if reader.errors:
            raise MineInvalid(reader.errors)
        return reader.build(id if id is not None else data.get("id") if isinstance(data, Mapping) else None)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Mine":
        """Rehydrate a stored mine.  Checks structure and codes but nothing relative to a date, so a mine whose
        licence has expired since it was stored still loads (``expired_licences(today)`` tells)."""
        reader = _MineReader(data, None)
        if reader.errors:
            raise MineInvalid(reader.errors)
        return reader.build(data.get("id"))

    def update(self, data: Mapping, today: date) -> None:
        """Replace every field with validated ``data`` (the whole mine, as in ``create``); the id stays."""
        new = Mine.create(data, today, id=self.id)
        for f in self.__dataclass_fields__:
            if f != "id":
                setattr(self, f, getattr(new, f))

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "enterprise": self.enterprise.to_dict(),
            "name": self.name,
            "mining_licence": self.mining_licence.to_dict(),
            "safety_licence": self.safety_licence.to_dict(),
            "business_licence": self.business_licence.to_dict(),
            "league": self.league,
            "county": self.county,
            "minerals": [m.to_dict() for m in self.minerals],
            "scale": self.scale,
            "industry_group": self.industry_group,
            "mining_method": self.mining_method,
            "production_status": self.production_status,
            "production_start_date": (
                None if self.production_start_date is None else self.production_start_date.isoformat()
            ),
            "remaining_reserve_years": str(self.remaining_reserve_years),
        }

    # -- names -------------------------------------------------------------------------------------------------

    @property
    def credit_code(self) -> str:
        return self.enterprise.credit_code

    @property
    def league_name(self) -> str:
        return regions.league_by_code(self.league).name

    @property
    def county_name(self) -> str:
        return regions.county_by_code(self.county).name

    @property
    def mineral_names(self) -> list[str]:
        return [m.name for m in self.minerals]

    @property
    def suggested_industry_group(self) -> int | None:
        return suggest_industry_group(self.minerals)

    def scoring_profile(self) -> dict:
        """The ``mine`` part of the scoring contract."""
        return {"industry_group": self.industry_group, "mining_method": self.mining_method}

    # -- derived facts -----------------------------------------------------------------------------------------

    def licences(self) -> dict[str, Licence]:
        return {
            "mining_licence": self.mining_licence,
            "safety_licence": self.safety_licence,
            "business_licence": self.business_licence,
        }

    def expired_licences(self, at: date) -> list[str]:
        """Codes of the licences expired at ``at`` (valid_to before it), in the order of 附件2 (一)."""
        return [k for k, lic in self.licences().items() if lic.validity.is_expired(at)]

    def licences_valid_on(self, at: date) -> bool:
        return all(lic.validity.is_valid_on(at) for lic in self.licences().values())

    def licences_expiring_within(self, today: date, days: int) -> list[str]:
        out = []
        for k, lic in self.licences().items():
            left = lic.validity.days_left(today)
            if left is not None and 0 <= left <= days:
                out.append(k)
        return out

    def is_new_mine(self, today: date) -> bool:
        """Production started less than 3 years before ``today`` (or has not started)."""
        start = self.production_start_date
        return start is None or add_years(start, 3) > today

    def in_production_one_full_year(self, today: date) -> bool:
        """"新建矿山正式投产满1年": at least one year since the production start date."""
        start = self.production_start_date
        return start is not None and add_years(start, 1) <= today

    def in_production_three_years(self, today: date) -> bool:
        start = self.production_start_date
        return start is not None and add_years(start, 3) <= today

    def reserve_at_least_3_years(self) -> bool:
        """"剩余储量可采年限(按储量年度报告)不少于3年"."""
        return self.remaining_reserve_years >= 3

    def prerequisite_hints(self, today: date) -> PrerequisiteHints:
        one_year = self.in_production_one_full_year(today)
        reserve = self.reserve_at_least_3_years()
        return PrerequisiteHints(
            licences_valid=self.licences_valid_on(today),
            expired_licences=tuple(self.expired_licences(today)),
            new_mine=self.is_new_mine(today),
            one_full_year_in_production=one_year,
            three_years_in_production=self.in_production_three_years(today),
            reserve_at_least_3_years=reserve,
            p4_likely_met=self.production_status == "in_production" and one_year and reserve,
        )

    def submission_problems(self, today: date) -> list[FieldError]:
        """What about the mine itself blocks an application on ``today``: expired or not-yet-valid licences
        (P1: 证照合法有效; 附件2 四(三)1: 过期未及时延续)."""
        problems = []
        for k, lic in self.licences().items():
            v = lic.validity
            if v.is_expired(today):
                problems.append(FieldError(
                    f"mine.{k}.valid_to",
                    f"{LICENCES[k]}已于{v.valid_to.isoformat()}过期，请先办理延续并更新矿山信息",
                ))
            elif v.valid_from > today:
                problems.append(FieldError(
                    f"mine.{k}.valid_from", f"{LICENCES[k]}自{v.valid_from.isoformat()}起才生效",
                ))
        return problems


# ---------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------


def validate_mine(data: object, today: date) -> list[FieldError]:
    """Every error in ``data`` (a mine as a dict), each naming its field and the reason in Chinese.

    ``today`` decides what is expired or in the future; an empty list means ``Mine.create`` will succeed.
    """
    return list(_MineReader(data, today).errors)


class _MineReader:
    """Reads a mine dict into canonical values, collecting every error.  ``today`` None skips date-relative checks
    (rehydrating stored data)."""

    def __init__(self, data: object, today: date | None):
        self.today = today
        self.errors: list[FieldError] = []
        self.values: dict = {}
        if not isinstance(data, Mapping):
            self.errors.append(FieldError("", "矿山信息应为一个对象（键值对）"))
            return
        self.data = data
        self._enterprise()
        self.values["name"] = self._text("name", data.get("name"))
        self._licence("mining_licence", check_mining_licence_number)
        self._licence("safety_licence", lambda v, _t: check_safety_licence_number(v))
        self._licence("business_licence", None)
        self._location()
        self._minerals()
        self.values["scale"] = self._choice("scale", SCALES)
        self._industry_group()
        self._mining_method()
        self.values["production_status"] = self._choice("production_status", PRODUCTION_STATUSES)
        self._production_start()
        self._reserve_years()

    # -- helpers -----------------------------------------------------------------------------------------------

    def err(self, path: str, reason: str) -> None:
        label = FIELD_LABELS.get(path) or FIELD_LABELS.get(path.split("[")[0]) or path
        self.errors.append(FieldError(path, f"{label}：{reason}"))

    def _section(self, key: str) -> Mapping:
        value = self.data.get(key)
        if value is None:
            self.err(key, "未填写")
            return {}
        if not isinstance(value, Mapping):
            self.err(key, "格式不正确，应为一个对象")
            return {}
        return value

    def _text(self, path: str, value: object, max_len: int = NAME_MAX_LENGTH) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.err(path, "不能为空")
            return None
        if not isinstance(value, str):
            self.err(path, "应为文字")
            return None
        text = " ".join(value.split())
        if len(text) > max_len:
            self.err(path, f"过长（最多{max_len}个字符，当前{len(text)}个）")
            return None
        return text

    def _date(self, path: str, value: object, required: bool = True) -> date | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.err(path, "不能为空")
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.err(path, str(exc))
            return None

    def _choice(self, key: str, allowed: Mapping[str, str]) -> str | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.err(key, "未选择（可选：" + "、".join(allowed.values()) + "）")
            return None
        if isinstance(value, str):
            v = value.strip()
            if v in allowed:
                return v
            alias = _ALIASES.get(key, {}).get(v)
            if alias:
                return alias
        self.err(key, f"“{value}”不是可选值（可选：" + "、".join(allowed.values()) + "）")
        return None

    # -- sections ----------------------------------------------------------------------------------------------

    def _enterprise(self) -> None:
        ent = self._section("enterprise")
        if not ent and "enterprise" in self.errors_fields():
            self.values["enterprise"] = None
            return
        name = self._text("enterprise.name", ent.get("name"))
        code, problems = check_credit_code(ent.get("credit_code"))
        for p in problems:
            self.err("enterprise.credit_code", p)
        self.values["enterprise"] = Enterprise(name, code) if name and not problems else None

    def errors_fields(self) -> set[str]:
        return {e.field for e in self.errors}

    def _licence(self, key: str, check_number) -> None:
        sec = self._section(key)
        if not sec and key in self.errors_fields():
            self.values[key] = None
            return
        number = None
        ok = True
        if check_number is not None:
            number, problems = check_number(sec.get("number"), self.today)
            for p in problems:
                self.err(f"{key}.number", p)
            ok = not problems
        start = self._date(f"{key}.valid_from", sec.get("valid_from"))
        raw_to = sec.get("valid_to")
        if key == "business_licence" and (raw_to is None or (isinstance(raw_to, str) and raw_to.strip() in
                                                                ("", "长期", "永久", "长期有效"))):
            end, end_ok = None, True  # 营业期限 "长期"
        else:
            end = self._date(f"{key}.valid_to", raw_to)
            end_ok = end is not None
        if start is None or not end_ok:
            self.values[key] = None
            return
        if end is not None and end < start:
            self.err(f"{key}.valid_to", f"截止日期 {end.isoformat()} 早于起始日期 {start.isoformat()}")
            self.values[key] = None
            return
        if self.today is not None:
            if start > self.today:
                self.err(f"{key}.valid_from", f"起始日期 {start.isoformat()} 晚于今天，证照尚未生效")
                ok = False
            if end is not None and end < self.today:
                self.err(f"{key}.valid_to", f"已于 {end.isoformat()} 过期，请填写延续后的有效期")
                ok = False
        self.values[key] = Licence(number, ValidityPeriod(start, end)) if ok else None

    def _location(self) -> None:
        raw_league, raw_county = self.data.get("league"), self.data.get("county")
        league = None
        if raw_league is None or (isinstance(raw_league, str) and not raw_league.strip()):
            self.err("league", "未选择")
        else:
            league = regions.find_league(raw_league)
            if league is None:
                self.err("league", f"“{raw_league}”不是内蒙古自治区的盟市")
        self.values["league"] = league.code if league else None
        if raw_county is None or (isinstance(raw_county, str) and not raw_county.strip()):
            self.err("county", "未选择")
            self.values["county"] = None
            return
        if league is None:
            self.values["county"] = None  # cannot be checked without the 盟市; its error already says why
            return
        county = regions.find_county(league, raw_county)
        if county is None:
            elsewhere = regions.county_by_code(str(raw_county).strip())
            if elsewhere is None:
                matches = [c for c in regions.COUNTIES if c.name == str(raw_county).strip()]
                elsewhere = matches[0] if matches else None
            if elsewhere is not None:
                other = regions.league_by_code(elsewhere.league_code).name
                self.err("county", f"“{elsewhere.name}”属于{other}，不属于{league.name}")
            else:
                self.err("county", f"“{raw_county}”不是{league.name}的旗县（市、区）")
        self.values["county"] = county.code if county else None

    def _minerals(self) -> None:
        raw = self.data.get("minerals")
        self.values["minerals"] = None
        if raw is None or raw == [] or raw == ():
            self.err("minerals", "请至少选择一个矿种")
            return
        if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
            self.err("minerals", "格式不正确，应为矿种列表")
            return
        if len(raw) > MAX_MINERALS:
            self.err("minerals", f"最多填写{MAX_MINERALS}个矿种")
            return
        out, seen, ok = [], set(), True
        for i, item in enumerate(raw):
            path = f"minerals[{i}]"
            m = self._mineral(path, item)
            if m is None:
                ok = False
                continue
            key = (m.code, m.other)
            if key in seen:
                self.errors.append(FieldError(path, f"开采矿种：“{m.name}”重复填写"))
                ok = False
                continue
            seen.add(key)
            out.append(m)
        if ok:
            self.values["minerals"] = tuple(out)

    def _mineral(self, path: str, item: object) -> Mineral | None:
        code, other = None, None
        if isinstance(item, str):
            code = item
        elif isinstance(item, Mapping):
            code, other = item.get("code"), item.get("other")
        else:
            self.errors.append(FieldError(path, "开采矿种：格式不正确"))
            return None
        if not isinstance(code, str) or not code.strip():
            self.errors.append(FieldError(path, "开采矿种：未选择矿种"))
            return None
        code = code.strip()
        if code in (OTHER_MINERAL, OTHER_MINERAL_LABEL):
            if not isinstance(other, str) or not other.strip():
                self.errors.append(FieldError(f"{path}.other", "开采矿种：选择“其他”时请填写矿种名称"))
                return None
            other = " ".join(other.split())
            if len(other) > 50:
                self.errors.append(FieldError(f"{path}.other", "开采矿种：矿种名称过长（最多50个字符）"))
                return None
            known = find_mineral(other)
            return Mineral(known.code) if known else Mineral(OTHER_MINERAL, other)
        t = find_mineral(code)
        if t is None:
            self.errors.append(FieldError(
                path, f"开采矿种：“{code}”不在矿种目录中，请选择“其他”并填写矿种名称"))
            return None
        return Mineral(t.code)

    def _industry_group(self) -> None:
        raw = self.data.get("industry_group")
        value = None
        if isinstance(raw, bool):
            value = None
        elif isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and raw.strip() in ("1", "2", "一", "二", "（一）", "（二）", "(一)", "(二)"):
            value = 1 if raw.strip() in ("1", "一", "（一）", "(一)") else 2
        if value in INDUSTRY_GROUPS:
            self.values["industry_group"] = value
            return
        self.values["industry_group"] = None
        suggestion = suggest_industry_group(self.values.get("minerals") or ())
        hint = f"（按所填矿种建议选择{INDUSTRY_GROUPS[suggestion][:3]}）" if suggestion else ""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.err("industry_group", "未确认，请选择（一）或（二）" + hint)
        else:
            self.err("industry_group", f"“{raw}”不是可选值，应为（一）或（二）" + hint)

    def _mining_method(self) -> None:
        raw = self.data.get("mining_method")
        if isinstance(raw, str) and raw.strip().lower() in _COMBINED_METHOD_WORDS:
            self.err("mining_method", "露天与地下联合开采的矿山，请按现阶段主要开采方式选择其一（附件1指标9）")
            self.values["mining_method"] = None
            return
        method = self._choice("mining_method", MINING_METHODS)
        self.values["mining_method"] = method
        minerals = self.values.get("minerals")
        if method is None or not minerals:
            return
        types = [m.type for m in minerals]
        if method == "oil_gas" and not any(t is not None and t.well for t in types):
            self.err("mining_method", "油气开采方式只适用于石油、天然气、煤层气、页岩气、地热、矿泉水等井采矿种")
        elif method != "oil_gas" and all(
            t is not None and t.well and t.category == "energy" and t.code != "geothermal" for t in types
        ):
            self.err("mining_method", f"所填矿种（{'、'.join(m.name for m in minerals)}）应选择油气开采方式")

    def _production_start(self) -> None:
        status = self.values.get("production_status")
        raw = self.data.get("production_start_date")
        self.values["production_start_date"] = None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if status not in ("construction", None):
                self.err("production_start_date", f"{PRODUCTION_STATUSES[status]}矿山须填写正式投产日期")
            return
        start = self._date("production_start_date", raw)
        if start is None:
            return
        if start.year < 1900:
            self.err("production_start_date", "日期不合理")
            return
        if self.today is not None and start > self.today and status != "construction":
            self.err("production_start_date", f"{start.isoformat()} 晚于今天；尚未投产的矿山请选择“在建”")
            return
        self.values["production_start_date"] = start

    def _reserve_years(self) -> None:
        raw = self.data.get("remaining_reserve_years")
        self.values["remaining_reserve_years"] = None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.err("remaining_reserve_years", "不能为空（按上一年度储量年度报告填写）")
            return
        if isinstance(raw, bool):
            self.err("remaining_reserve_years", "应为数字")
            return
        try:
            value = Decimal(str(raw).strip()) if isinstance(raw, (str, int, float, Decimal)) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.err("remaining_reserve_years", f"“{raw}”不是数字")
            return
        if value < 0:
            self.err("remaining_reserve_years", "不能为负数")
            return
        if value.as_tuple().exponent < -2:
            self.err("remaining_reserve_years", "最多保留两位小数")
            return
        if value > RESERVE_YEARS_MAX:
            self.err("remaining_reserve_years", f"不能超过{RESERVE_YEARS_MAX}年")
            return
        if value.as_tuple().exponent > 0:
            value = value.quantize(Decimal(1))  # "1E+1" -> "10"
        self.values["remaining_reserve_years"] = value

    # -- result ------------------------------------------------------------------------------------------------

    def build(self, id: object) -> Mine:
        v = self.values
        return Mine(
            enterprise=v["enterprise"],
            name=v["name"],
            mining_licence=v["mining_licence"],
            safety_licence=v["safety_licence"],
            business_licence=v["business_licence"],
            league=v["league"],
            county=v["county"],
            minerals=v["minerals"],
            scale=v["scale"],
            industry_group=v["industry_group"],
            mining_method=v["mining_method"],
            production_status=v["production_status"],
            production_start_date=v["production_start_date"],
            remaining_reserve_years=v["remaining_reserve_years"],
            id=None if id is None else str(id),
        )
