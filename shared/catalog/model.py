"""The evaluation index (评价指标, 附件1 of 内政办发〔2025〕24号) as a typed, validated, immutable model.

Every service reads the index through `load_catalog()`: intake builds its forms from it, review_routing routes
indicators to departments with it, scoring scores against it. The index lives in `contracts/catalog/<id>.yaml`
(format: `catalog.schema.json` beside it). A catalog that is well-formed but inconsistent (points that do not add
up, a wrong number of binding items, unknown departments, gaps in the numbering) is refused with a `CatalogError`
listing every problem, because a silently wrong index would mis-score every mine assessed under it.

Points are `Decimal`. YAML numbers are read from their source text, so `0.2` is exactly `Decimal("0.2")`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Union

__all__ = [
    "ALL_GROUPS", "AdditiveItem", "AdditiveItems", "AllOrNothing", "ByIndustry", "ByMiningMethod", "Catalog",
    "CatalogError", "Category", "Condition", "ConditionalDeductions", "DeductPerFinding", "Department",
    "IndustryGroup", "Indicator", "MINING_METHODS", "Prerequisite", "Rule", "ScoringRule", "Subcategory",
]

ALL_GROUPS = "all"
MINING_METHODS = ("open_pit", "underground", "oil_gas")
SCHEMA_FILE = "catalog.schema.json"


class CatalogError(ValueError):
    """A catalog that cannot be used. `problems` lists every reason, one human-readable line each."""

    def __init__(self, catalog_id: str, problems: list[str]):
        self.catalog_id = catalog_id
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"评价指标 {catalog_id} 不可用({len(self.problems)} 个问题):\n{listing}")


# ---------------------------------------------------------------------------------------------------------------
# Rules. Every indicator has exactly one; the two variant kinds hold further (non-variant) rules.


@dataclass(frozen=True)
class AllOrNothing:
    """符合要求得满分,不符合得0分."""
    text: str = ""
    kind: str = field(default="all_or_nothing", init=False)


@dataclass(frozen=True)
class DeductPerFinding:
    """符合要求得满分,每发现一处(项)不符合扣 `amount` 分,扣完为止."""
    amount: Decimal
    unit: str = "处"
    text: str = ""
    kind: str = field(default="deduct_per_finding", init=False)


@dataclass(frozen=True)
class Condition:
    id: str
    text: str
    amount: Decimal


@dataclass(frozen=True)
class ConditionalDeductions:
    """Named shortcomings, each with a fixed deduction (indicator 1: 0.5 / 1.5); floor 0."""
    conditions: tuple[Condition, ...]
    text: str = ""
    kind: str = field(default="conditional_deductions", init=False)

    def condition(self, condition_id: str) -> Condition | None:
        return next((c for c in self.conditions if c.id == condition_id), None)


@dataclass(frozen=True)
class AdditiveItem:
    id: str
    text: str
    points: Decimal
    per_unit: bool = False          # points per counted unit (每项发明专利0.5分)
    cap: Decimal | None = None      # this item's own ceiling (最多得2分)
    inferred: str | None = None


@dataclass(frozen=True)
class AdditiveItems:
    """Sub-items that add up; the indicator's points cap the sum (某一指标属于增分的,最多增至该项总分)."""
    items: tuple[AdditiveItem, ...]
    text: str = ""
    kind: str = field(default="additive_items", init=False)

    def item(self, item_id: str) -> AdditiveItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    @property
    def reachable(self) -> Decimal | None:
        """Most the items can give before the indicator cap; None when a per-unit item has no cap."""
        total = Decimal(0)
        for item in self.items:
            if item.per_unit and item.cap is None:
                return None
            total += item.cap if item.per_unit else item.points
        return total


ScoringRule = Union[AllOrNothing, DeductPerFinding, ConditionalDeductions, AdditiveItems]


@dataclass(frozen=True)
class ByMiningMethod:
    """One variant per mining method, chosen once by the mine's main method, never added together."""
    variants: Mapping[str, ScoringRule]
    kind: str = field(default="by_mining_method", init=False)


@dataclass(frozen=True)
class ByIndustry:
    """One variant per sub-industry of a branch (砂石、建筑石材 / 水泥灰岩), chosen by `mine.industry_variant`."""
    variants: Mapping[str, ScoringRule]
    kind: str = field(default="by_industry", init=False)


Rule = Union[AllOrNothing, DeductPerFinding, ConditionalDeductions, AdditiveItems, ByMiningMethod, ByIndustry]


# ---------------------------------------------------------------------------------------------------------------
# The index.


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    duty: str
    aliases: tuple[str, ...] = ()

    @property
    def short_name(self) -> str:
        """Name without the trailing 部门 and the parenthesised partner (for narrow table cells)."""
        return self.name.split("(")[0].removesuffix("部门")


# A reconstruction remark left in a text field: "(OCR不可辨)", "(OCR部分不可辨)", "(疑OCR/原文漏字)".
_OCR_REMARK = re.compile(r"[(（][^()（）]*OCR[^()（）]*[)）]")
INFERRED_FIELD_LABELS = {"name": "指标名称", "points": "标准分", "binding": "指标属性", "methods": "考核方法",
                         "basis": "依据", "rule": "评分说明", "departments": "分工部门", "text": "指标内容"}


@dataclass(frozen=True)
class Prerequisite:
    code: str
    name: str
    requirement: str
    departments: tuple[str, ...]
    departments_open_ended: bool = False
    inferred: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Indicator:
    no: int
    name: str
    points: Decimal
    binding: bool
    industry_group: str | int          # "all", 1 or 2
    category_no: int
    subcategory_key: str
    text: str
    rule: Rule
    methods: tuple[str, ...]
    basis: str | None
    departments: tuple[str, ...]
    departments_open_ended: bool = False
    department_scopes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    notes: tuple[str, ...] = ()
    inferred: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def display_basis(self) -> str:
        """The 依据 as a person reads it: the reconstruction's OCR remarks (“(OCR不可辨)”) removed; whether the
        basis was read back from a garbled original is `basis_reconstructed`, shown as a mark, not as text."""
        return _OCR_REMARK.sub("", self.basis or "").strip(" ,，、;；")

    @property
    def basis_reconstructed(self) -> bool:
        return "basis" in self.inferred or bool(_OCR_REMARK.search(self.basis or ""))

    @property
    def reconstructed_fields(self) -> tuple[str, ...]:
        """Which of this indicator's fields were reconstructed from the garbled original (Chinese labels), for the
        “据原件重建” mark beside them."""
        return tuple(INFERRED_FIELD_LABELS.get(k, k) for k in self.inferred)

    @property
    def attribute(self) -> str:
        """指标属性 as printed in the score sheet."""
        return "约束性" if self.binding else "提升性"

    def applies_to_group(self, industry_group: int) -> bool:
        return self.industry_group == ALL_GROUPS or self.industry_group == industry_group

    def applies_to_method(self, mining_method: str | None) -> bool:
        """False only when the rule varies by mining method and the notice gives no variant for this one."""
        if mining_method is None or not isinstance(self.rule, ByMiningMethod):
            return True
        return mining_method in self.rule.variants

    @property
    def counts_findings(self) -> bool:
        """Whether some variant of the rule deducts per finding (so `findings` can be entered)."""
        return any(isinstance(r, DeductPerFinding) for r in _leaf_rules(self.rule))

    def scoring_rule(self, mining_method: str | None = None, industry_variant: str | None = None
                     ) -> ScoringRule | None:
        """The rule that scores this indicator for a mine; None when the needed variant is missing."""
        if isinstance(self.rule, ByMiningMethod):
            return self.rule.variants.get(mining_method) if mining_method else None
        if isinstance(self.rule, ByIndustry):
            return self.rule.variants.get(industry_variant) if industry_variant else None
        return self.rule


@dataclass(frozen=True)
class Subcategory:
    key: str                             # "3.1.2" = category 3, branch 1, 2nd subcategory; "1.2" when for all
    no: int
    name: str
    points: Decimal
    category_no: int
    industry_group: str | int
    indicator_nos: tuple[int, ...]
    inferred: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def applies_to_group(self, industry_group: int) -> bool:
        return self.industry_group == ALL_GROUPS or self.industry_group == industry_group


@dataclass(frozen=True)
class Category:
    no: int
    numeral: str
    name: str
    points: Decimal
    subcategories: tuple[Subcategory, ...]
    inferred: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def label(self) -> str:
        return f"{self.numeral}、{self.name}"

    def subcategories_for(self, industry_group: int) -> tuple[Subcategory, ...]:
        return tuple(s for s in self.subcategories if s.applies_to_group(industry_group))


@dataclass(frozen=True)
class IndustryGroup:
    id: int
    name: str
    industries: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)   # identity semantics: hashable, usable as a cache key
class Catalog:
    id: str
    version: str
    title: str
    issued: date
    source: str
    total_points: Decimal
    binding_count: int
    pass_total: Decimal
    industry_groups: tuple[IndustryGroup, ...]
    mining_methods: Mapping[str, str]            # code -> 中文名
    industry_variants: Mapping[str, str]         # code -> 中文名
    industry_variant_groups: Mapping[str, int]   # code -> branch it belongs to
    categories: tuple[Category, ...]
    indicators: tuple[Indicator, ...]
    prerequisites: tuple[Prerequisite, ...]
    departments: tuple[Department, ...]
    scoring_rules: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    _by_no: Mapping[int, Indicator] = field(default_factory=dict, repr=False, compare=False)
    _applicable: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_no", MappingProxyType({i.no: i for i in self.indicators}))

    # --- look-ups -------------------------------------------------------------------------------------------
    def indicator(self, no: int) -> Indicator:
        try:
            return self._by_no[int(no)]
        except (KeyError, ValueError, TypeError):
            raise KeyError(f"评价指标 {self.id} 中没有第 {no} 项指标") from None

    def has_indicator(self, no: int) -> bool:
        return no in self._by_no

    def category(self, no: int) -> Category:
        for category in self.categories:
            if category.no == no:
                return category
        raise KeyError(f"评价指标 {self.id} 中没有第 {no} 个一级指标")

    def subcategory(self, key: str) -> Subcategory:
        for category in self.categories:
            for sub in category.subcategories:
                if sub.key == key:
                    return sub
        raise KeyError(f"评价指标 {self.id} 中没有二级指标 {key}")

    def prerequisite(self, code: str) -> Prerequisite:
        for prerequisite in self.prerequisites:
            if prerequisite.code == code:
                return prerequisite
        raise KeyError(f"评价指标 {self.id} 中没有先决条件 {code}")

    def department(self, code: str) -> Department:
        for department in self.departments:
            if department.code == code:
                return department
        raise KeyError(f"没有部门代码 {code}")

    @property
    def department_codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.departments)

    @property
    def prerequisite_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.prerequisites)

    @property
    def industry_group_ids(self) -> tuple[int, ...]:
        return tuple(g.id for g in self.industry_groups)

    def industry_group(self, group_id: int) -> IndustryGroup:
        for group in self.industry_groups:
            if group.id == group_id:
                return group
        raise KeyError(f"没有行业分支 {group_id}")

    # --- what applies to a mine -----------------------------------------------------------------------------
    def indicators_in_group(self, industry_group: int) -> tuple[Indicator, ...]:
        """Every indicator of the mine's industry branch (46 for branch 1, 41 for branch 2 in nm-2025)."""
        return self.indicators_for(industry_group, None)

    def indicators_for(self, industry_group: int, mining_method: str | None = None) -> tuple[Indicator, ...]:
        """The indicators a mine is assessed on: its branch, minus those the notice gives no rule for its
        mining method (8 and 9 for oil/gas in nm-2025, which the scoring treats as not applicable)."""
        key = (industry_group, mining_method)
        found = self._applicable.get(key)
        if found is None:
            found = tuple(i for i in self.indicators
                          if i.applies_to_group(industry_group) and i.applies_to_method(mining_method))
            self._applicable[key] = found    # the catalog is immutable, so the answer never changes
        return found

    def binding_indicators(self, industry_group: int | None = None) -> tuple[Indicator, ...]:
        pool = self.indicators if industry_group is None else self.indicators_in_group(industry_group)
        return tuple(i for i in pool if i.binding)

    def departments_for_indicator(self, no: int) -> tuple[Department, ...]:
        return tuple(self.department(code) for code in self.indicator(no).departments)

    def departments_for_prerequisite(self, code: str) -> tuple[Department, ...]:
        return tuple(self.department(c) for c in self.prerequisite(code).departments)

    def indicators_for_department(self, code: str, industry_group: int | None = None) -> tuple[Indicator, ...]:
        pool = self.indicators if industry_group is None else self.indicators_in_group(industry_group)
        return tuple(i for i in pool if code in i.departments)

    def category_of(self, no: int) -> Category:
        return self.category(self.indicator(no).category_no)

    def subcategory_of(self, no: int) -> Subcategory:
        return self.subcategory(self.indicator(no).subcategory_key)

    def points_for(self, industry_group: int) -> Decimal:
        return sum((i.points for i in self.indicators_in_group(industry_group)), Decimal(0))


def _leaf_rules(rule: Rule) -> Iterable[ScoringRule]:
    if isinstance(rule, (ByMiningMethod, ByIndustry)):
        return tuple(rule.variants.values())
    return (rule,)
