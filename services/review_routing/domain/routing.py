"""Routing: which departments review a submitted application, and what each one reviews.

Computed from the evaluation index (`shared.catalog.Catalog`), never from a hand list:

* The indicators that apply to the mine are `catalog.indicators_for(industry_group, mining_method)` — the
  mine's branch, minus the indicators the index gives no rule for its mining method (8 and 9 for oil/gas).
* Each applicable indicator goes to every department its 分工部门 names, except where the index scopes a
  department to a kind of mine (`department_scopes`: 能源 for 煤矿, 工业和信息化 for 非煤矿山 on indicator 44).
* Each prerequisite (先决条件 P1–P5) goes to every department it names.
* One task per department named at least once. The natural-resources task is the lead task (牵头): the
  盟市自然资源局 is 初审责任主体, so it always exists and also holds the seven checks of 附件2 二.
  Departments named by no applicable indicator or prerequisite (财政, 金融监管 in nm-2025) get no task.
* Indicators the enterprise declared 不涉及 are routed like any other and flagged: the department confirms or
  contests the judgement (说明: 不涉及项要明确说明判定依据和理由), so it needs the item in front of it.
* Materials reach the departments that review them (`contracts/vocabularies/materials.yaml`, read by
  `domain/materials.py`): a task gets the kinds its department is responsible for, the kinds that support one of
  its prerequisites, and the evidence attached to its indicators or prerequisites. The lead task also gets the
  materials its checks are made on and every file tied to no applicable indicator or prerequisite (the dossier
  as a whole).

Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from review_routing.domain.checks import CHECK_CODES, materials_of_checks
from review_routing.domain.errors import FieldError, RoutingError
from review_routing.domain.materials import kind as material_kind
from shared.catalog import Catalog, Indicator
from shared.regions import canonical_league

LEAD_DEPARTMENT = "natural_resources"
COAL_MINERALS = frozenset({"coal", "煤", "煤炭"})


def _mineral_code(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("code") or value.get("name") or ""
    return str(value).strip().lower() if value is not None else ""


@dataclass(frozen=True)
class MineProfile:
    """The facts about a mine that routing and scoping need."""
    league: str                     # canonical Chinese name of the 盟市
    industry_group: int
    mining_method: str
    county: str = ""
    mine_id: str = ""
    name: str = ""
    minerals: tuple[str, ...] = ()
    industry_variant: str | None = None

    @property
    def is_coal_mine(self) -> bool:
        """A coal mine (煤矿): coal among its minerals. 煤层气 (a gas, mined through wells) is not coal."""
        return any(m in COAL_MINERALS for m in self.minerals)

    @classmethod
    def from_submission(cls, mine: Mapping, assessment: Mapping | None = None) -> MineProfile:
        """From the `mine` of intake.application_submitted (and its assessment, for the industry variant)."""
        errors = []
        league = canonical_league(mine.get("league"))
        if league is None:
            errors.append(FieldError("mine.league", f"无法识别盟市 {mine.get('league')!r}"))
        group = mine.get("industry_group")
        if group not in (1, 2):
            errors.append(FieldError("mine.industry_group", f"行业分支应为1或2，实为 {group!r}"))
        method = mine.get("mining_method")
        if method not in ("open_pit", "underground", "oil_gas"):
            errors.append(FieldError("mine.mining_method", f"未知开采方式 {method!r}"))
        if errors:
            raise RoutingError("申报的矿山信息无法分派审核", errors)
        assessed = (assessment or {}).get("mine") or {}
        return cls(league=league, industry_group=group, mining_method=method,
                   county=str(mine.get("county") or ""), mine_id=str(mine.get("mine_id") or ""),
                   name=str(mine.get("name") or ""),
                   minerals=tuple(_mineral_code(m) for m in mine.get("minerals") or ()),
                   industry_variant=mine.get("industry_variant") or assessed.get("industry_variant"))


# The scopes the index writes in `department_scopes`, read as predicates on the mine. A scope this table does
# not know keeps the department (routing too widely is safer than silently dropping a department).
SCOPES = {
    "煤矿": lambda mine: mine.is_coal_mine,
    "非煤矿山": lambda mine: not mine.is_coal_mine,
}


def department_reviews(indicator: Indicator, department: str, mine: MineProfile) -> bool:
    scope = indicator.department_scopes.get(department)
    if scope is None:
        return True
    predicate = SCOPES.get(scope)
    return True if predicate is None else bool(predicate(mine))


def indicator_departments(indicator: Indicator, mine: MineProfile) -> tuple[str, ...]:
    return tuple(d for d in indicator.departments if department_reviews(indicator, d, mine))


@dataclass(frozen=True)
class TaskPlan:
    department: str
    lead: bool
    indicators: tuple[int, ...]
    prerequisites: tuple[str, ...]
    checks: tuple[str, ...]
    attachments: tuple[Mapping, ...]
    entries: Mapping[str, Mapping] = field(default_factory=lambda: MappingProxyType({}))
    not_applicable: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {"department": self.department, "lead": self.lead, "indicators": list(self.indicators),
                "prerequisites": list(self.prerequisites), "checks": list(self.checks),
                "attachments": [dict(a) for a in self.attachments],
                "entries": {k: dict(v) for k, v in self.entries.items()},
                "not_applicable": list(self.not_applicable)}


@dataclass(frozen=True)
class RoutingResult:
    tasks: tuple[TaskPlan, ...]
    applicable_indicators: tuple[int, ...]
    warnings: tuple[str, ...] = ()

    def task_for(self, department: str) -> TaskPlan | None:
        return next((t for t in self.tasks if t.department == department), None)

    @property
    def departments(self) -> tuple[str, ...]:
        return tuple(t.department for t in self.tasks)


MINING_METHODS = {"open_pit": "露天开采", "underground": "地下开采", "oil_gas": "油气开采"}


def _fact_label(catalog: Catalog, key: str, value) -> str:
    """A branch or a mining method as people read it (never its code)."""
    if key == "mining_method":
        return MINING_METHODS.get(value, "未知方式")
    try:
        return catalog.industry_group(int(value)).name
    except (KeyError, TypeError, ValueError):
        return "未知分支"


def route(catalog: Catalog, mine: MineProfile, assessment: Mapping | None = None,
          attachments: list[Mapping] | tuple[Mapping, ...] = ()) -> RoutingResult:
    """One task per department the index names for this mine (lead first, then the index's department order)."""
    assessment = assessment or {}
    entries = assessment.get("indicators") or {}
    warnings = []
    assessed_mine = assessment.get("mine") or {}
    for key, label in (("industry_group", "行业分支"), ("mining_method", "开采方式")):
        if key in assessed_mine and assessed_mine[key] != getattr(mine, key):
            said, registered = (_fact_label(catalog, key, assessed_mine[key]),
                                _fact_label(catalog, key, getattr(mine, key)))
            warnings.append(f"自评估填写的{label}（{said}）与矿山登记（{registered}）不一致，按矿山登记分派审核")

    applicable = catalog.indicators_for(mine.industry_group, mine.mining_method)
    indicators: dict[str, list[int]] = {}
    prerequisites: dict[str, list[str]] = {}
    for indicator in applicable:
        for department in indicator_departments(indicator, mine):
            indicators.setdefault(department, []).append(indicator.no)
    for prerequisite in catalog.prerequisites:
        for department in prerequisite.departments:
            prerequisites.setdefault(department, []).append(prerequisite.code)

    named = set(indicators) | set(prerequisites) | {LEAD_DEPARTMENT}
    order = [LEAD_DEPARTMENT] + [d for d in catalog.department_codes if d != LEAD_DEPARTMENT]
    applicable_nos = {i.no for i in applicable}
    check_materials = materials_of_checks()
    tasks = []
    for department in order:
        if department not in named:
            continue
        lead = department == LEAD_DEPARTMENT
        own_indicators = tuple(sorted(indicators.get(department, ())))
        own_prerequisites = tuple(sorted(prerequisites.get(department, ()), key=lambda c: int(c[1:])))
        own_set, own_pre = set(own_indicators), set(own_prerequisites)
        evidence = []
        for attachment in attachments:
            indicator_no = attachment.get("indicator")
            prerequisite = attachment.get("prerequisite")
            tied = (indicator_no in own_set) or (prerequisite in own_pre)
            kind = material_kind(attachment.get("kind"))
            if kind is not None and kind.reviewed_by(department, own_prerequisites):
                tied = True
            if lead:
                unplaced = (indicator_no is None or indicator_no not in applicable_nos) and (
                    prerequisite is None or prerequisite not in catalog.prerequisite_codes)
                tied = tied or attachment.get("kind") in check_materials or unplaced
            if tied:
                evidence.append(MappingProxyType(dict(attachment)))
        own_entries = {str(no): MappingProxyType(dict(entries[str(no)]))
                       for no in own_indicators if isinstance(entries.get(str(no)), Mapping)}
        not_applicable = tuple(no for no in own_indicators
                               if (own_entries.get(str(no)) or {}).get("not_applicable") is True)
        tasks.append(TaskPlan(
            department=department, lead=lead, indicators=own_indicators, prerequisites=own_prerequisites,
            checks=CHECK_CODES if lead else (), attachments=tuple(evidence),
            entries=MappingProxyType(own_entries), not_applicable=not_applicable))
    return RoutingResult(tasks=tuple(tasks), applicable_indicators=tuple(sorted(applicable_nos)),
                         warnings=tuple(warnings))
