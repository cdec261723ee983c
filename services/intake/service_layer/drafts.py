"""A *draft* self-assessment: the scoring contract's assessment while it is being filled.

The shape has one owner, the contract (contracts/scoring/assessment.v1.schema.json): a draft is checked against
that schema with only its completeness rules left out (the required keys and the "one input per indicator"
choice), since a draft may lack indicators and prerequisites.  What the schema cannot know is checked against the
evaluation index and the register: the index version, indicators and prerequisites that exist in the mine's branch,
scores within the indicator's points, and a mine profile that agrees with the registered mine.  Whether a score is
one the rule can give, and whether the whole assessment is complete, is the scoring engine's judgement (live in the
form and again at submission).

``mine`` is filled in from the registered mine (industry branch and mining method); the enterprise chooses only
``industry_variant`` (branch (二): 砂石、建筑石材 / 水泥灰岩).  A ``record`` inside an indicator entry is moved to
the application's ``records`` (one place for the 检查记录).
"""
from __future__ import annotations

import copy
import json
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from jsonschema import Draft202012Validator

from intake.domain.errors import FieldError
from intake.domain.mine import INDUSTRY_GROUPS, MINING_METHODS
from shared.config import contracts_path

SCHEMA_FILE = contracts_path("scoring", "assessment.v1.schema.json")
REASON_MAX = 2000

#: Which sub-industry of branch (二) a mineral suggests (21/22 have one scoring text per sub-industry).
CEMENT_MINERALS = {"cement_limestone", "cement_clay", "cement_sandstone"}
_ENTRY_LABELS = {"score": "得分", "findings": "不符合处数", "deductions": "扣分情形", "items": "加分子项",
                 "not_applicable": "不涉及", "reason": "不涉及理由", "record": "检查记录"}
_TYPES = {"integer": "整数", "number": "数字", "string": "文字", "boolean": "“是”或“否”", "object": "一个对象",
          "array": "列表"}


def suggested_industry_variant(mine) -> str | None:
    if mine.industry_group != 2:
        return None
    for m in mine.minerals:
        if m.code in CEMENT_MINERALS:
            return "cement_limestone"
    return "sand_gravel_stone"


@lru_cache(maxsize=1)
def draft_validator() -> Draft202012Validator:
    """The contract's schema without its completeness rules: what any draft must already respect."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    draft = copy.deepcopy(schema)
    draft.pop("required", None)
    draft["properties"]["mine"].pop("required", None)
    entry = draft["$defs"]["entry"]
    for key in ("oneOf", "anyOf", "allOf", "not", "required"):
        entry.pop(key, None)
    return Draft202012Validator(draft)


def normalise(raw: object, catalog, mine) -> tuple[dict | None, dict[str, str], list[FieldError]]:
    """(assessment ready to store, records found inside entries, errors)."""
    if raw is None:
        return None, {}, []
    if not isinstance(raw, dict):
        return None, {}, [FieldError("assessment", "自评估：格式不正确，应为一个对象")]
    filled = _without_blanks(raw)
    errors = [_schema_error(e) for e in draft_validator().iter_errors(filled)]
    failed = {e.field for e in errors}
    errors += _index_errors(filled, catalog, mine, failed)
    return _clean(filled, catalog, mine, failed), _records(filled), errors


# -- steps -----------------------------------------------------------------------------------------------------------

def _without_blanks(raw: dict) -> dict:
    """Undecided prerequisites (None) and unset entry fields are simply not there yet."""
    out = dict(raw)
    if isinstance(raw.get("prerequisites"), dict):
        out["prerequisites"] = {k: v for k, v in raw["prerequisites"].items() if v is not None}
    if isinstance(raw.get("indicators"), dict):
        indicators = {}
        for no, entry in raw["indicators"].items():
            if isinstance(entry, dict):
                entry = {k: v for k, v in entry.items() if v is not None}
                if entry.get("not_applicable") is False:
                    entry.pop("not_applicable")
                if isinstance(entry.get("reason"), str) and not entry["reason"].strip():
                    entry.pop("reason")
            if entry is not None:
                indicators[no] = entry
        out["indicators"] = indicators
    for key in ("mine", "prerequisites", "indicators"):
        if out.get(key) is None:
            out.pop(key, None)
    return out


def _schema_error(error) -> FieldError:
    path = [str(p) for p in error.absolute_path]
    keyword = error.validator
    if keyword == "additionalProperties":
        extra = [k for k in error.instance if k not in (error.schema.get("properties") or {})] \
            if isinstance(error.instance, dict) else []
        key = extra[0] if extra else ""
        return FieldError(_field(path + [key]), f"{_where(path)}：不认识的字段“{key}”")
    if "propertyNames" in error.schema_path:
        name = str(error.instance)
        what = "指标" if path == ["indicators"] else "先决条件" if path == ["prerequisites"] else "字段"
        return FieldError(_field(path + [name]), f"{_where(path)}：没有编号为“{name}”的{what}")
    if keyword == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
        reason = f"格式不正确，应为{_TYPES.get(expected, expected)}"
    elif keyword == "minimum":
        reason = f"应为不小于{error.validator_value}的整数"
    elif keyword == "enum":
        reason = "应为" + "、".join(str(v) for v in error.validator_value) + "之一"
    elif keyword in ("oneOf", "anyOf", "pattern"):
        reason = f"“{error.instance}”不是数字" if path[-1:] == ["score"] else "格式不正确"
    elif keyword == "uniqueItems":
        reason = "不能重复"
    else:
        reason = "格式不正确"
    return FieldError(_field(path), f"{_where(path)}：{reason}")


def _index_errors(draft: dict, catalog, mine, failed: set[str]) -> list[FieldError]:
    """What the schema cannot know: the index version, its indicators and points, the registered mine."""
    errors: list[FieldError] = []
    cat = draft.get("catalog")
    if cat is not None and cat != catalog.id:
        errors.append(FieldError("assessment.catalog", f"自评估：评价指标版本应为“{catalog.id}”，不是“{cat}”"))
    given = draft.get("mine") if isinstance(draft.get("mine"), dict) else {}
    if given.get("industry_group") not in (None, mine.industry_group):
        errors.append(FieldError("assessment.mine.industry_group",
                                 f"行业分支：应与矿山登记信息一致，即{INDUSTRY_GROUPS[mine.industry_group][:3]}"
                                 "（如需更改，请先修改矿山信息）"))
    if given.get("mining_method") not in (None, mine.mining_method):
        errors.append(FieldError("assessment.mine.mining_method",
                                 f"开采方式：应与矿山登记信息一致，即“{MINING_METHODS[mine.mining_method]}”"
                                 "（如需更改，请先修改矿山信息）"))
    variant = given.get("industry_variant")
    if variant not in (None, "") and "assessment.mine.industry_variant" not in failed:
        if mine.industry_group != 2:
            errors.append(FieldError("assessment.mine.industry_variant", "子行业：只有行业分支（二）的矿山需要选择"))
        elif variant not in catalog.industry_variants:
            names = "、".join(catalog.industry_variants.values())
            errors.append(FieldError("assessment.mine.industry_variant", f"子行业：应为{names}之一"))
    codes = catalog.prerequisite_codes
    for code in (draft.get("prerequisites") or {}) if isinstance(draft.get("prerequisites"), dict) else ():
        path = f"assessment.prerequisites.{code}"
        if path not in failed and code not in codes:
            errors.append(FieldError(path, f"先决条件：没有“{code}”（应为{'、'.join(codes)}）"))
    allowed = {str(i.no): i for i in catalog.indicators_in_group(mine.industry_group)}
    indicators = draft.get("indicators") if isinstance(draft.get("indicators"), dict) else {}
    for no, entry in indicators.items():
        path = f"assessment.indicators.{no}"
        if path in failed:
            continue
        if not catalog.has_indicator(int(no)):
            errors.append(FieldError(path, f"指标：没有编号为“{no}”的指标"))
        elif no not in allowed:
            errors.append(FieldError(path, f"第{no}项指标：不适用于行业分支{INDUSTRY_GROUPS[mine.industry_group][:3]}"))
        elif isinstance(entry, dict) and f"{path}.score" not in failed and "score" in entry:
            number = _decimal(entry["score"])
            if number is not None and number < 0:
                errors.append(FieldError(f"{path}.score", f"第{no}项指标得分：不能为负数"))
            elif number is not None and number > allowed[no].points:
                errors.append(FieldError(f"{path}.score", f"第{no}项指标得分：不能超过标准分{allowed[no].points}分"))
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str) and len(entry["reason"]) > REASON_MAX:
            errors.append(FieldError(f"{path}.reason", f"第{no}项指标不涉及理由：过长（最多{REASON_MAX}字）"))
    return errors


def _clean(draft: dict, catalog, mine, failed: set[str]) -> dict:
    """The draft to store: the index version, the registered mine's profile, entries without their records."""
    profile = {"industry_group": mine.industry_group, "mining_method": mine.mining_method}
    given = draft.get("mine") if isinstance(draft.get("mine"), dict) else {}
    if given.get("industry_variant") and mine.industry_group == 2 \
            and given["industry_variant"] in catalog.industry_variants:
        profile["industry_variant"] = given["industry_variant"]
    prerequisites = draft.get("prerequisites") if isinstance(draft.get("prerequisites"), dict) else {}
    indicators = draft.get("indicators") if isinstance(draft.get("indicators"), dict) else {}
    out_indicators = {}
    for no, entry in indicators.items():
        if not isinstance(entry, dict):
            continue
        clean = {k: v for k, v in entry.items() if k != "record"}
        if "score" in clean and _decimal(clean["score"]) is not None:
            clean["score"] = format(_decimal(clean["score"]), "f")
        if clean:
            out_indicators[no] = clean
    return {"catalog": catalog.id, "mine": profile,
            "prerequisites": {k: v for k, v in prerequisites.items() if isinstance(v, bool)},
            "indicators": out_indicators}


def _records(draft: dict) -> dict[str, str]:
    indicators = draft.get("indicators") if isinstance(draft.get("indicators"), dict) else {}
    return {no: e["record"] for no, e in indicators.items()
            if isinstance(e, dict) and isinstance(e.get("record"), str) and e["record"].strip()}


# -- wording ---------------------------------------------------------------------------------------------------------

def _field(path: list[str]) -> str:
    return ".".join(["assessment", *path]) if path else "assessment"


def _where(path: list[str]) -> str:
    if len(path) >= 2 and path[0] == "indicators":
        label = _ENTRY_LABELS.get(path[2], "") if len(path) >= 3 else ""
        return f"第{path[1]}项指标{label}"
    if len(path) >= 2 and path[0] == "prerequisites":
        return f"先决条件{path[1]}"
    return "自评估"


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
