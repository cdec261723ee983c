"""The mine register's vocabularies (scales, mining methods, production statuses, industry branches, licences,
field labels) and its value objects: the enterprise, a licence, the prerequisite hints."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .identifiers import ValidityPeriod

__all__ = ["SCALES", "MINING_METHODS", "PRODUCTION_STATUSES", "INDUSTRY_GROUPS", "LICENCES", "FIELD_LABELS",
           "NAME_MAX_LENGTH", "MINING_AREA_MAX_LENGTH", "RESERVE_YEARS_MAX", "Enterprise", "Licence",
           "PrerequisiteHints"]

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
    "production_stopped_on": "停产日期",
    "remaining_reserve_years": "剩余储量可采年限",
    "mining_area": "矿区范围",
}

NAME_MAX_LENGTH = 100
#: 矿区范围 as the 采矿许可证 states it (拐点坐标 / 面积): free text, line breaks kept.
MINING_AREA_MAX_LENGTH = 2000
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
