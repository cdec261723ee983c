"""Loading the evaluation index: YAML read with exact decimals, checked against `catalog.schema.json`, parsed
into the model of `shared.catalog.model`, and refused with every problem listed when it does not add up."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml
from jsonschema import Draft202012Validator, FormatChecker

from shared.catalog.model import (
    ALL_GROUPS,
    SCHEMA_FILE,
    AdditiveItem,
    AdditiveItems,
    AllOrNothing,
    ByIndustry,
    ByMiningMethod,
    Catalog,
    CatalogError,
    Category,
    Condition,
    ConditionalDeductions,
    DeductPerFinding,
    Department,
    Indicator,
    IndustryGroup,
    Prerequisite,
    Rule,
    ScoringRule,
    Subcategory,
    _leaf_rules,
)
from shared.config import contracts_path
from shared.contracts import DEPARTMENT_CODES


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML floats as exact Decimals from their source text."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def catalog_directory(directory: str | os.PathLike | None = None) -> Path:
    """Where catalogs live: the argument, else $GREENMINE_CONTRACTS_DIR/catalog, else this repo's contracts/."""
    if directory is not None:
        base = Path(directory)
    else:
        base = contracts_path()
    # Accept both the contracts/ root and contracts/catalog/ itself.
    return base if (base / SCHEMA_FILE).exists() and not (base / "catalog").is_dir() else base / "catalog"


def list_catalogs(directory: str | os.PathLike | None = None) -> list[str]:
    """Ids of the catalogs published in the directory, oldest name first."""
    folder = catalog_directory(directory)
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_catalog(catalog_id: str = "nm-2025", directory: str | os.PathLike | None = None) -> Catalog:
    """Load, validate and check one catalog. Cached per (id, directory, file modification time)."""
    folder = catalog_directory(directory).resolve()
    path = folder / f"{catalog_id}.yaml"
    if not path.is_file() or "/" in catalog_id or "\\" in catalog_id:
        known = ", ".join(list_catalogs(folder)) or "无"
        raise CatalogError(catalog_id, [f"未找到评价指标 {catalog_id}(目录 {folder},现有:{known})"])
    return _load_cached(catalog_id, str(folder), path.stat().st_mtime_ns)


@lru_cache(maxsize=32)
def _load_cached(catalog_id: str, folder: str, _mtime: int) -> Catalog:
    path = Path(folder) / f"{catalog_id}.yaml"
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        raise CatalogError(catalog_id, [f"YAML 语法错误:{exc}"]) from exc
    schema = json.loads((Path(folder) / SCHEMA_FILE).read_text(encoding="utf-8"))
    return parse_catalog(document, schema, expected_id=catalog_id)


def _schema_problems(document, schema) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(根)"
        problems.append(f"格式不符 {where}:{error.message}")
    return problems


def _decimal(value) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"不是十进制数:{value!r}") from None


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


def _scoring_rule(raw: Mapping) -> ScoringRule:
    kind, text = raw["kind"], raw.get("text", "")
    if kind == "all_or_nothing":
        return AllOrNothing(text=text)
    if kind == "deduct_per_finding":
        return DeductPerFinding(amount=_decimal(raw["amount"]), unit=raw.get("unit", "处"), text=text)
    if kind == "conditional_deductions":
        return ConditionalDeductions(
            conditions=tuple(Condition(c["id"], c["text"], _decimal(c["amount"])) for c in raw["conditions"]),
            text=text)
    if kind == "additive_items":
        return AdditiveItems(items=tuple(
            AdditiveItem(id=i["id"], text=i["text"], points=_decimal(i["points"]),
                         per_unit=bool(i.get("per_unit", False)),
                         cap=_decimal(i["cap"]) if i.get("cap") is not None else None,
                         inferred=i.get("inferred"))
            for i in raw["items"]), text=text)
    raise ValueError(f"未知规则类型 {kind}")


def _rule(raw: Mapping) -> Rule:
    if raw["kind"] == "by_mining_method":
        return ByMiningMethod(variants=_frozen({k: _scoring_rule(v) for k, v in raw["variants"].items()}))
    if raw["kind"] == "by_industry":
        return ByIndustry(variants=_frozen({k: _scoring_rule(v) for k, v in raw["variants"].items()}))
    return _scoring_rule(raw)


def parse_catalog(document, schema: Mapping, expected_id: str | None = None) -> Catalog:
    """Build a Catalog from a parsed document, refusing it with every problem found."""
    catalog_id = (document or {}).get("id", expected_id or "?") if isinstance(document, dict) else "?"
    problems = _schema_problems(document, schema)
    if problems:
        raise CatalogError(catalog_id, problems)
    if expected_id is not None and document["id"] != expected_id:
        raise CatalogError(catalog_id, [f"文件名为 {expected_id}.yaml,但 id 为 {document['id']}"])

    categories, indicators = [], []
    for raw_category in document["categories"]:
        subcategories = []
        for raw_sub in raw_category["subcategories"]:
            group = raw_sub["industry_group"]
            key = (f"{raw_category['no']}.{raw_sub['no']}" if group == ALL_GROUPS
                   else f"{raw_category['no']}.{group}.{raw_sub['no']}")
            for raw in raw_sub["indicators"]:
                indicators.append(Indicator(
                    no=raw["no"], name=raw["name"], points=_decimal(raw["points"]), binding=raw["binding"],
                    industry_group=raw["industry_group"], category_no=raw_category["no"], subcategory_key=key,
                    text=raw["text"], rule=_rule(raw["rule"]), methods=tuple(raw["methods"]),
                    basis=raw.get("basis"), departments=tuple(raw["departments"]),
                    departments_open_ended=bool(raw.get("departments_open_ended", False)),
                    department_scopes=_frozen(raw.get("department_scopes")),
                    notes=tuple(raw.get("notes", ())), inferred=_frozen(raw.get("inferred"))))
            subcategories.append(Subcategory(
                key=key, no=raw_sub["no"], name=raw_sub["name"], points=_decimal(raw_sub["points"]),
                category_no=raw_category["no"], industry_group=group,
                indicator_nos=tuple(i["no"] for i in raw_sub["indicators"]),
                inferred=_frozen(raw_sub.get("inferred"))))
        categories.append(Category(
            no=raw_category["no"], numeral=raw_category["numeral"], name=raw_category["name"],
            points=_decimal(raw_category["points"]), subcategories=tuple(subcategories),
            inferred=_frozen(raw_category.get("inferred"))))

    catalog = Catalog(
        id=document["id"], version=str(document["version"]), title=document["title"],
        issued=date.fromisoformat(document["issued"]), source=document["source"],
        total_points=_decimal(document["total_points"]), binding_count=document["binding_count"],
        pass_total=_decimal(document["pass_total"]),
        industry_groups=tuple(IndustryGroup(g["id"], g["name"], tuple(g.get("industries", ())))
                              for g in document["industry_groups"]),
        mining_methods=_frozen({m["code"]: m["name"] for m in document["mining_methods"]}),
        industry_variants=_frozen({v["code"]: v["name"] for v in document["industry_variants"]}),
        industry_variant_groups=_frozen({v["code"]: v["industry_group"] for v in document["industry_variants"]}),
        categories=tuple(categories), indicators=tuple(indicators),
        prerequisites=tuple(
            Prerequisite(code=p["code"], name=p["name"], requirement=p["requirement"],
                         departments=tuple(p["departments"]),
                         departments_open_ended=bool(p.get("departments_open_ended", False)),
                         inferred=_frozen(p.get("inferred")))
            for p in document["prerequisites"]),
        departments=tuple(Department(d["code"], d["name"], d["duty"], tuple(d.get("aliases", ())))
                          for d in document["departments"]),
        scoring_rules=_frozen(document.get("scoring_rules")))
    problems = consistency_problems(catalog)
    if problems:
        raise CatalogError(catalog.id, problems)
    return catalog


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


def consistency_problems(catalog: Catalog) -> list[str]:
    """Every way the index fails to add up. Empty for a usable catalog."""
    problems: list[str] = []
    groups = catalog.industry_group_ids
    group_set = set(groups)

    # Numbering exactly 1..N in document order: the notice's numbers are what people cite.
    numbers = [i.no for i in catalog.indicators]
    if numbers != list(range(1, len(numbers) + 1)):
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        detail = []
        if duplicates:
            detail.append(f"重复 {duplicates}")
        if missing:
            detail.append(f"缺少 {missing}")
        if not detail:
            detail.append("顺序不是 1..N")
        problems.append(f"三级指标编号应恰为 1..{len(numbers)}:" + ",".join(detail))

    category_nos = [c.no for c in catalog.categories]
    if category_nos != list(range(1, len(category_nos) + 1)):
        problems.append(f"一级指标编号应恰为 1..{len(category_nos)},实为 {category_nos}")

    for group in (g for c in catalog.categories for s in c.subcategories for g in [s.industry_group]):
        if group != ALL_GROUPS and group not in group_set:
            problems.append(f"二级指标引用了未定义的行业分支 {group}")
    for indicator in catalog.indicators:
        if indicator.industry_group != ALL_GROUPS and indicator.industry_group not in group_set:
            problems.append(f"第 {indicator.no} 项引用了未定义的行业分支 {indicator.industry_group}")

    for category in catalog.categories:
        for sub in category.subcategories:
            members = [catalog._by_no[n] for n in sub.indicator_nos if n in catalog._by_no]
            total = sum((i.points for i in members), Decimal(0))
            if total != sub.points:
                problems.append(
                    f"二级指标 {category.numeral}-{sub.no}「{sub.name}」标准分 {_fmt(sub.points)},"
                    f"但其三级指标合计 {_fmt(total)}")
            for indicator in members:
                if indicator.industry_group != sub.industry_group:
                    problems.append(f"第 {indicator.no} 项的行业分支 {indicator.industry_group} 与所属二级指标"
                                    f"「{sub.name}」的 {sub.industry_group} 不一致")
        # Branch-aware: category 三 is 18 points for each branch separately, not 36.
        for group in groups:
            total = sum((s.points for s in category.subcategories_for(group)), Decimal(0))
            if total != category.points:
                problems.append(f"一级指标 {category.label} 标准分 {_fmt(category.points)},"
                                f"但行业分支({group})下二级指标合计 {_fmt(total)}")

    for group in groups:
        total = catalog.points_for(group)
        if total != catalog.total_points:
            problems.append(f"行业分支({group})的三级指标合计 {_fmt(total)} 分,应为 {_fmt(catalog.total_points)} 分")

    binding = sum(1 for i in catalog.indicators if i.binding)
    if binding != catalog.binding_count:
        problems.append(f"约束性指标应为 {catalog.binding_count} 项,实为 {binding} 项")

    known_codes = set(DEPARTMENT_CODES)
    for department in catalog.departments:
        if department.code not in known_codes:
            problems.append(f"未知部门代码 {department.code}")
    listed = set(catalog.department_codes)
    if len(listed) != len(catalog.departments):
        problems.append("部门代码重复")
    for indicator in catalog.indicators:
        for code in (*indicator.departments, *indicator.department_scopes):
            if code not in listed:
                problems.append(f"第 {indicator.no} 项的分工部门代码 {code} 未在 departments 中定义")
    codes = [p.code for p in catalog.prerequisites]
    if len(set(codes)) != len(codes):
        problems.append(f"先决条件编号重复:{codes}")
    for prerequisite in catalog.prerequisites:
        for code in prerequisite.departments:
            if code not in listed:
                problems.append(f"先决条件 {prerequisite.code} 的部门代码 {code} 未在 departments 中定义")

    for indicator in catalog.indicators:
        problems.extend(_rule_problems(catalog, indicator))
    return problems


def _rule_problems(catalog: Catalog, indicator: Indicator) -> list[str]:
    problems = []
    where = f"第 {indicator.no} 项「{indicator.name}」"
    if indicator.points <= 0:
        problems.append(f"{where}标准分须大于0")
    rule = indicator.rule
    if isinstance(rule, ByMiningMethod):
        for method in rule.variants:
            if method not in catalog.mining_methods:
                problems.append(f"{where}有未知开采方式变体 {method}")
    if isinstance(rule, ByIndustry):
        for variant in rule.variants:
            if variant not in catalog.industry_variants:
                problems.append(f"{where}有未知子行业变体 {variant}")
            elif (indicator.industry_group != ALL_GROUPS
                  and catalog.industry_variant_groups[variant] != indicator.industry_group):
                problems.append(f"{where}的子行业变体 {variant} 不属于行业分支({indicator.industry_group})")
    for leaf in _leaf_rules(rule):
        if isinstance(leaf, DeductPerFinding) and not (0 < leaf.amount <= indicator.points):
            problems.append(f"{where}每处扣分 {_fmt(leaf.amount)} 应大于0且不超过标准分 {_fmt(indicator.points)}")
        if isinstance(leaf, ConditionalDeductions):
            ids = [c.id for c in leaf.conditions]
            if len(set(ids)) != len(ids):
                problems.append(f"{where}扣分条件编号重复")
            for condition in leaf.conditions:
                if not (0 < condition.amount <= indicator.points):
                    problems.append(f"{where}条件「{condition.text}」扣分应大于0且不超过标准分")
        if isinstance(leaf, AdditiveItems):
            ids = [i.id for i in leaf.items]
            if len(set(ids)) != len(ids):
                problems.append(f"{where}加分子项编号重复")
            reachable = leaf.reachable
            # Caps exceeded by design (26, 44, 45) are fine; items that can never reach full marks are not.
            if reachable is not None and reachable < indicator.points:
                problems.append(f"{where}各子项最多合计 {_fmt(reachable)} 分,达不到标准分 {_fmt(indicator.points)}")
    return problems
