"""The shape of a *draft* self-assessment, checked against the evaluation index.

A draft is the scoring contract's assessment (contracts/scoring/assessment.v1.schema.json) while it is being
filled: indicators may be missing and prerequisites undecided.  Here only what a draft can already get wrong is
refused, with the field named: unknown fields, indicators that are not in the mine's branch, values of the wrong
type, a mine profile that contradicts the registered mine.  Whether a score is one the rule can give, and whether
the whole assessment is complete, is the scoring engine's judgement (live in the form and again at submission).

``mine`` is filled in from the registered mine (industry branch and mining method); the enterprise chooses only
``industry_variant`` (branch (二): 砂石、建筑石材 / 水泥灰岩).  A ``record`` inside an indicator entry is moved to
the application's ``records`` (one place for the 检查记录).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from intake.domain.errors import FieldError
from intake.domain.mine import INDUSTRY_GROUPS, MINING_METHODS

TOP_KEYS = ("catalog", "mine", "prerequisites", "indicators")
ENTRY_KEYS = ("score", "findings", "deductions", "items", "not_applicable", "reason", "record")
REASON_MAX = 2000
_CANONICAL_NO = re.compile(r"[1-9][0-9]*")

#: Which sub-industry of branch (二) a mineral suggests (21/22 have one scoring text per sub-industry).
CEMENT_MINERALS = {"cement_limestone", "cement_clay", "cement_sandstone"}


def suggested_industry_variant(mine) -> str | None:
    if mine.industry_group != 2:
        return None
    for m in mine.minerals:
        if m.code in CEMENT_MINERALS:
            return "cement_limestone"
    return "sand_gravel_stone"


def _label(no: str) -> str:
    return f"先决条件{no}" if no.startswith("P") else f"第{no}项指标"


def normalise(raw: object, catalog, mine) -> tuple[dict | None, dict[str, str], list[FieldError]]:
    """(assessment ready to store, records found inside entries, errors)."""
    errors: list[FieldError] = []
    if raw is None:
        return None, {}, errors
    if not isinstance(raw, dict):
        return None, {}, [FieldError("assessment", "自评估：格式不正确，应为一个对象")]
    for key in raw:
        if key not in TOP_KEYS:
            errors.append(FieldError(f"assessment.{key}", f"自评估：不认识的字段“{key}”"))
    out: dict = {"catalog": catalog.id}
    cat = raw.get("catalog")
    if cat is not None and cat != catalog.id:
        errors.append(FieldError("assessment.catalog", f"自评估：评价指标版本应为“{catalog.id}”，不是“{cat}”"))

    # mine: from the register; the enterprise picks only the sub-industry of branch (二)
    given_mine = raw.get("mine") or {}
    profile = {"industry_group": mine.industry_group, "mining_method": mine.mining_method}
    if not isinstance(given_mine, dict):
        errors.append(FieldError("assessment.mine", "自评估：矿山信息格式不正确"))
        given_mine = {}
    for key in given_mine:
        if key not in ("industry_group", "mining_method", "industry_variant"):
            errors.append(FieldError(f"assessment.mine.{key}", f"自评估：不认识的字段“{key}”"))
    group = given_mine.get("industry_group")
    if group is not None and group != mine.industry_group:
        errors.append(FieldError("assessment.mine.industry_group",
                                 f"行业分支：应与矿山登记信息一致，即{INDUSTRY_GROUPS[mine.industry_group][:3]}"
                                 "（如需更改，请先修改矿山信息）"))
    method = given_mine.get("mining_method")
    if method is not None and method != mine.mining_method:
        errors.append(FieldError("assessment.mine.mining_method",
                                 f"开采方式：应与矿山登记信息一致，即“{MINING_METHODS[mine.mining_method]}”"
                                 "（如需更改，请先修改矿山信息）"))
    variant = given_mine.get("industry_variant")
    if variant not in (None, ""):
        if mine.industry_group != 2:
            errors.append(FieldError("assessment.mine.industry_variant", "子行业：只有行业分支（二）的矿山需要选择"))
        elif variant not in catalog.industry_variants:
            names = "、".join(catalog.industry_variants.values())
            errors.append(FieldError("assessment.mine.industry_variant", f"子行业：应为{names}之一"))
        else:
            profile["industry_variant"] = variant
    out["mine"] = profile

    prerequisites = raw.get("prerequisites") or {}
    out["prerequisites"] = {}
    if not isinstance(prerequisites, dict):
        errors.append(FieldError("assessment.prerequisites", "先决条件：格式不正确"))
    else:
        codes = catalog.prerequisite_codes
        for code, value in prerequisites.items():
            if code not in codes:
                errors.append(FieldError(f"assessment.prerequisites.{code}",
                                         f"先决条件：没有“{code}”（应为{'、'.join(codes)}）"))
            elif value is None:
                continue
            elif not isinstance(value, bool):
                errors.append(FieldError(f"assessment.prerequisites.{code}", f"先决条件{code}：应为“满足”或“不满足”"))
            else:
                out["prerequisites"][code] = value

    indicators = raw.get("indicators") or {}
    out["indicators"] = {}
    records: dict[str, str] = {}
    if not isinstance(indicators, dict):
        errors.append(FieldError("assessment.indicators", "指标：格式不正确"))
        return out, records, errors
    allowed = {str(i.no): i for i in catalog.indicators_in_group(mine.industry_group)}
    for no, entry in indicators.items():
        path = f"assessment.indicators.{no}"
        if not isinstance(no, str) or not _CANONICAL_NO.fullmatch(no) or not catalog.has_indicator(int(no)):
            errors.append(FieldError(path, f"指标：没有编号为“{no}”的指标"))
            continue
        if no not in allowed:
            errors.append(FieldError(path, f"第{no}项指标：不适用于行业分支{INDUSTRY_GROUPS[mine.industry_group][:3]}"))
            continue
        if entry is None:
            continue
        if not isinstance(entry, dict):
            errors.append(FieldError(path, f"第{no}项指标：格式不正确，应为一个对象"))
            continue
        clean = {}
        for key, value in entry.items():
            where = f"{path}.{key}"
            if key not in ENTRY_KEYS:
                errors.append(FieldError(where, f"第{no}项指标：不认识的字段“{key}”"))
            elif key == "record":
                if value is not None and not isinstance(value, str):
                    errors.append(FieldError(where, f"第{no}项指标检查记录：应为文字"))
                elif value and value.strip():
                    records[no] = value
            elif value is None:
                continue
            elif key == "score":
                if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
                    errors.append(FieldError(where, f"第{no}项指标得分：应为数字"))
                    continue
                try:
                    number = Decimal(str(value).strip())
                except InvalidOperation:
                    number = None
                if number is None or not number.is_finite():
                    errors.append(FieldError(where, f"第{no}项指标得分：“{value}”不是数字"))
                elif number < 0:
                    errors.append(FieldError(where, f"第{no}项指标得分：不能为负数"))
                elif number > allowed[no].points:
                    errors.append(FieldError(where, f"第{no}项指标得分：不能超过标准分{allowed[no].points}分"))
                else:
                    clean[key] = format(number, "f")
            elif key == "findings":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    errors.append(FieldError(where, f"第{no}项指标不符合处数：应为不小于0的整数"))
                else:
                    clean[key] = value
            elif key == "deductions":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    errors.append(FieldError(where, f"第{no}项指标扣分情形：格式不正确"))
                else:
                    clean[key] = value
            elif key == "items":
                if not isinstance(value, dict) or not all(
                        isinstance(v, bool) or (isinstance(v, int) and v >= 0) for v in value.values()):
                    errors.append(FieldError(where, f"第{no}项指标加分子项：格式不正确"))
                else:
                    clean[key] = value
            elif key == "not_applicable":
                if not isinstance(value, bool):
                    errors.append(FieldError(where, f"第{no}项指标不涉及：应为“是”或“否”"))
                elif value:
                    clean[key] = True
            elif key == "reason":
                if not isinstance(value, str):
                    errors.append(FieldError(where, f"第{no}项指标不涉及理由：应为文字"))
                elif len(value) > REASON_MAX:
                    errors.append(FieldError(where, f"第{no}项指标不涉及理由：过长（最多{REASON_MAX}字）"))
                elif value.strip():
                    clean[key] = value
        if clean:
            out["indicators"][no] = clean
    return out, records, errors
