"""The ``Mine`` aggregate (矿山) of the mine register.

A mine belongs to an enterprise (name + 统一社会信用代码), has its three licences (采矿许可证, 安全生产许可证,
营业执照 — the latter's number is the credit code), lies in one 盟市 and 旗县, and carries what the scoring contract
and the prerequisites need: minerals, scale, industry branch (一)/(二), mining method, production status and start
date, remaining reserve years.

``validate_mine(data, today)`` (``mine_input.py``) collects *all* errors of a submitted dict as
``FieldError(field, message)``; ``Mine.create(data, today)`` validates and builds; ``Mine.from_dict``/``to_dict``
round-trip plain JSON values (dates as ISO strings, the reserve years as a decimal string).  The vocabularies are in
``mine_values.py`` and ``minerals.py`` (data: contracts/vocabularies/minerals.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared import regions

from .errors import FieldError, MineInvalid
from .identifiers import add_years
from .mine_input import MineReader, validate_mine
from .mine_values import (
    FIELD_LABELS,
    INDUSTRY_GROUPS,
    LICENCES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    SCALES,
    Enterprise,
    Licence,
    PrerequisiteHints,
)
from .minerals import (
    MINERALS,
    OTHER_MINERAL,
    Mineral,
    MineralType,
    find_mineral,
    mineral_by_code,
    suggest_industry_group,
)

__all__ = [
    "SCALES",
    "MINING_METHODS",
    "PRODUCTION_STATUSES",
    "INDUSTRY_GROUPS",
    "LICENCES",
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
    mining_area: str | None = None  # 矿区范围 (optional)
    production_stopped_on: date | None = None  # 停产日期 when 停产 / 关闭 (optional)
    id: str | None = None

    # -- construction ------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, data: Mapping, today: date, id: str | None = None) -> Mine:
        """Validate user input (all errors at once, raising ``MineInvalid``) and build the mine."""
        reader = MineReader(data, today)
        if reader.errors:
            raise MineInvalid(reader.errors)
        return cls._build(reader, id if id is not None else data.get("id") if isinstance(data, Mapping) else None)

    @classmethod
    def from_dict(cls, data: Mapping) -> Mine:
        """Rehydrate a stored mine.  Checks structure and codes but nothing relative to a date, so a mine whose
        licence has expired since it was stored still loads (``expired_licences(today)`` tells)."""
        reader = MineReader(data, None)
        if reader.errors:
            raise MineInvalid(reader.errors)
        return cls._build(reader, data.get("id"))

    @classmethod
    def _build(cls, reader: MineReader, id: object) -> Mine:
        return cls(**reader.values, id=None if id is None else str(id))

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
            "mining_area": self.mining_area,
            "production_stopped_on": (
                None if self.production_stopped_on is None else self.production_stopped_on.isoformat()
            ),
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
