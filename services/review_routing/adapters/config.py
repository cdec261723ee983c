"""The review's settings from the environment (the domain takes values; this is the one reader).

The step lengths (working days) are read by `shared.workdays.deadline_policy`, the one reader intake uses too.

`GREENMINE_REVIEW_DEPARTMENT_DAYS`, `GREENMINE_REVIEW_LEAD_DAYS`, `GREENMINE_REVIEW_RECHECK_DAYS`,
`GREENMINE_REVIEW_DECISION_DAYS`, `GREENMINE_REVIEW_REMIND_EVERY_DAYS` (working days per step, 1–365),
`GREENMINE_REVIEW_PHOTO_MAX_BYTES` (at least 1024), `GREENMINE_REVIEW_SWEEP_SECONDS` (overdue sweep interval).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from review_routing.domain.photos import PhotoPolicy


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def photo_policy(env: Mapping[str, str] | None = None) -> PhotoPolicy:
    raw = _env(env).get("GREENMINE_REVIEW_PHOTO_MAX_BYTES")
    if raw in (None, ""):
        return PhotoPolicy()
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"环境变量 GREENMINE_REVIEW_PHOTO_MAX_BYTES 应为整数(字节),实为 {raw!r}") from None
    if value < 1024:
        raise ValueError("环境变量 GREENMINE_REVIEW_PHOTO_MAX_BYTES 不能小于 1024 字节")
    return PhotoPolicy(value)


def sweep_interval_s(env: Mapping[str, str] | None = None) -> float:
    raw = _env(env).get("GREENMINE_REVIEW_SWEEP_SECONDS", "")
    try:
        return max(1.0, float(raw)) if raw else 60.0
    except ValueError:
        raise ValueError(f"环境变量 GREENMINE_REVIEW_SWEEP_SECONDS 应为秒数,实为 {raw!r}") from None
