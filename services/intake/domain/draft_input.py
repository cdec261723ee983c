"""Readers of what people type into an application's draft and what reviewers send back: each returns the
clean value and appends a ``FieldError`` (dotted path, Chinese reason) for everything wrong, so a refusal
lists every problem at once.  The aggregate calls them and refuses the change when any error was found."""
from __future__ import annotations

from collections.abc import Mapping

from . import materials as mat
from .errors import FieldError
from .plain import to_plain
from .values import INDICATOR_KEY, REASON_MAX_LENGTH, RECORD_MAX_LENGTH, indicator_label

__all__ = ["read_assessment", "read_records", "read_declared_penalties", "reasons_problems", "is_reason_key"]


def read_assessment(assessment: object, catalog: str, errors: list[FieldError]) -> dict | None:
    """The draft self-assessment as a plain dict for ``catalog`` (its shape is checked by the service layer
    against the scoring contract; here only what makes it storable)."""
    if assessment is None:
        return None
    if not isinstance(assessment, Mapping):
        errors.append(FieldError("assessment", "自评估：格式不正确，应为一个对象"))
        return None
    try:
        plain = to_plain(assessment)
    except ValueError as exc:
        errors.append(FieldError("assessment", f"自评估：{exc}"))
        return None
    cat = plain.get("catalog")
    if cat is not None and cat != catalog:
        errors.append(FieldError("assessment.catalog", f"自评估：评价指标版本应为“{catalog}”，不是“{cat}”"))
    plain.setdefault("catalog", catalog)
    return plain


def read_records(records: object, errors: list[FieldError]) -> dict[str, str]:
    """检查记录: indicator key → text (empty texts dropped)."""
    if records is None:
        return {}
    if not isinstance(records, Mapping):
        errors.append(FieldError("records", "检查记录：格式不正确"))
        return {}
    out = {}
    for key, text in records.items():
        path = f"records.{key}"
        if not isinstance(key, str) or not INDICATOR_KEY.fullmatch(key):
            errors.append(FieldError(path, f"检查记录：“{key}”不是指标编号（1–50 或 P1–P5）"))
            continue
        if not isinstance(text, str):
            errors.append(FieldError(path, f"{indicator_label(key)}检查记录：应为文字"))
            continue
        if len(text) > RECORD_MAX_LENGTH:
            errors.append(FieldError(
                path, f"{indicator_label(key)}检查记录：过长（最多{RECORD_MAX_LENGTH}字，可在自评报告中详述）"))
            continue
        if text.strip():
            out[key] = text
    return out


def read_declared_penalties(value: object, errors: list[FieldError]) -> bool | None:
    if value is not None and not isinstance(value, bool):
        errors.append(FieldError("declared_penalties", "近3年行政处罚声明：应为“是”或“否”"))
    return value


def is_reason_key(key: object) -> bool:
    """An indicator ("1"–"50", "P1"–"P5"), a material kind ("materials.<kind>") or "general"."""
    return isinstance(key, str) and bool(
        INDICATOR_KEY.fullmatch(key) or (key.startswith("materials.") and mat.kind_by_code(key[10:]))
        or key == "general")


def reasons_problems(reasons: object, require: bool) -> list[FieldError]:
    """What is wrong with the reasons of a return or a rejection (key → text)."""
    if not isinstance(reasons, Mapping):
        return [FieldError("reasons", "退回理由：格式不正确")]
    errors = []
    if require and not reasons:
        errors.append(FieldError("reasons", "退回理由：请至少就一项指标或材料说明退回理由"))
    for key, text in reasons.items():
        if not is_reason_key(key):
            errors.append(FieldError(f"reasons.{key}", f"退回理由：“{key}”不是指标编号或材料类型"))
        elif not isinstance(text, str) or not text.strip():
            errors.append(FieldError(f"reasons.{key}", "退回理由：理由不能为空"))
        elif len(text) > REASON_MAX_LENGTH:
            errors.append(FieldError(f"reasons.{key}", f"退回理由：过长（最多{REASON_MAX_LENGTH}字）"))
    return errors
