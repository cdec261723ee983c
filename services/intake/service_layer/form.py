"""The self-assessment form as data, generated from the evaluation index (never written per indicator).

For a mine's branch and mining method: the prerequisites (with what the register can already tell), then the
categories → subcategories → indicators the mine is assessed on, each with its rule text, points, attribute
(约束性/提升性) and the kind of input its rule takes:

- ``all_or_nothing``: 符合 (full points) / 不符合 (0);
- ``deduct_per_finding``: the number of findings (每发现一处不符合扣X分);
- ``conditional_deductions``: the named shortcomings that hold;
- ``additive_items``: the sub-items achieved (a count for per-unit items);
- any rule: a direct score, or 不涉及 with its reason.

Branch (二)'s indicators 21 and 22 have one text per sub-industry (``by_industry``): both are carried and the
form shows the one of the chosen ``industry_variant``.  The ``provisional`` input of each indicator is the
lowest it can score; the running score fills unfilled indicators with it so the scoring engine can give a total
("未填项按0分计") before the form is complete.  All arithmetic stays in the scoring engine.
"""
from __future__ import annotations

from shared.catalog import (
    AdditiveItems,
    AllOrNothing,
    ByIndustry,
    ByMiningMethod,
    ConditionalDeductions,
    DeductPerFinding,
)
from shared.catalog.model import INFERRED_FIELD_LABELS
from shared.decimals import plain as _num


def _rule_input(rule) -> dict:
    if isinstance(rule, AllOrNothing):
        return {"kind": "all_or_nothing", "text": rule.text, "provisional": {"score": "0"}}
    if isinstance(rule, DeductPerFinding):
        return {"kind": "deduct_per_finding", "text": rule.text, "amount": _num(rule.amount), "unit": rule.unit,
                "provisional": {"score": "0"}}
    if isinstance(rule, ConditionalDeductions):
        return {"kind": "conditional_deductions", "text": rule.text,
                "conditions": [{"id": c.id, "text": c.text, "amount": _num(c.amount)} for c in rule.conditions],
                "provisional": {"deductions": [c.id for c in rule.conditions]}}
    if isinstance(rule, AdditiveItems):
        return {"kind": "additive_items", "text": rule.text,
                "items": [{"id": i.id, "text": i.text, "points": _num(i.points), "per_unit": i.per_unit,
                           "cap": _num(i.cap) if i.cap is not None else None, "inferred": plain_reason(i.inferred)}
                          for i in rule.items],
                "provisional": {"items": {}}}
    raise TypeError(f"unknown rule {rule!r}")


def plain_reason(text: str | None) -> str:
    """The catalog's reason for a reconstructed reading, in words for the enterprise (no “OCR” jargon)."""
    return (text or "").replace("OCR", "原件识别文字")


def indicator_model(indicator, mining_method: str, catalog) -> dict:
    rule = indicator.rule
    variants: dict[str, dict] = {}
    if isinstance(rule, ByMiningMethod):
        chosen = rule.variants.get(mining_method)
        base = _rule_input(chosen) if chosen is not None else None
        variant_by = "mining_method"
    elif isinstance(rule, ByIndustry):
        variants = {code: _rule_input(r) for code, r in rule.variants.items()}
        base = next(iter(variants.values()))
        variant_by = "industry_variant"
    else:
        base = _rule_input(rule)
        variant_by = None
    model = {
        "no": indicator.no,
        "key": str(indicator.no),
        "name": indicator.name,
        "points": _num(indicator.points),
        "binding": indicator.binding,
        "attribute": indicator.attribute,
        "text": indicator.text,
        "methods": list(indicator.methods),
        "basis": indicator.display_basis,  # without the reconstruction's OCR remarks
        "basis_reconstructed": indicator.basis_reconstructed,
        "reconstructed_fields": list(indicator.reconstructed_fields),
        # The readings other than the 依据 (marked beside it) that were reconstructed from the garbled original,
        # with the catalog's reasons (shown on hover): 据原件重建.
        "reconstructed": "、".join(INFERRED_FIELD_LABELS.get(k, k) for k in indicator.inferred if k != "basis"),
        "reconstructed_reasons": "；".join(f"{INFERRED_FIELD_LABELS.get(k, k)}：{plain_reason(v)}"
                                          for k, v in indicator.inferred.items() if k != "basis"),
        "basis_reason": plain_reason(indicator.inferred.get("basis")),
        "notes": list(indicator.notes),
        "variant_by": variant_by,
        "variants": variants,
        "variant_names": dict(catalog.industry_variants) if variants else {},
        "input": base,
        # no rule for this mining method (8, 9 for oil/gas): the index itself makes it not applicable
        "no_rule": base is None,
    }
    return model


def form_model(catalog, industry_group: int, mining_method: str) -> dict:
    indicators = {i.no: i for i in catalog.indicators_in_group(industry_group)}
    applicable = {i.no for i in catalog.indicators_for(industry_group, mining_method)}
    categories = []
    for category in catalog.categories:
        subs = []
        for sub in category.subcategories_for(industry_group):
            items = [indicator_model(indicators[n], mining_method, catalog) for n in sub.indicator_nos
                     if n in indicators]
            for item in items:
                item["applicable"] = item["no"] in applicable
            subs.append({"key": sub.key, "name": sub.name, "points": _num(sub.points), "indicators": items})
        categories.append({"no": category.no, "label": category.label, "points": _num(category.points),
                           "subcategories": subs})
    return {
        "catalog": catalog.id,
        "catalog_title": catalog.title,
        "industry_group": industry_group,
        "industry_group_name": catalog.industry_group(industry_group).name,
        "mining_method": mining_method,
        "mining_method_name": catalog.mining_methods.get(mining_method, mining_method),
        "industry_variants": dict(catalog.industry_variants) if industry_group == 2 else {},
        "prerequisites": [{"code": p.code, "name": p.name, "requirement": p.requirement}
                          for p in catalog.prerequisites],
        "categories": categories,
        "indicator_count": len(indicators),
        "applicable_count": len(applicable),
        "binding_count": sum(1 for i in indicators.values() if i.binding and i.no in applicable),
        "pass_total": _num(catalog.pass_total),
        "total_points": _num(catalog.total_points),
        "rules": dict(catalog.scoring_rules),
    }
