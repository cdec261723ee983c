"""The supervision service's settings beyond `shared.config.Settings`, read from the environment.

`GREENMINE_SUPERVISION_<STEP>_DAYS` (working days, 1–365): `MARK` (a 标注's situation checked, default 60),
`REVIEW` (a rectification report reviewed, 15), `OFFICE_REVIEW` (a removal report reviewed by the region office,
15), `RESUBMIT` (a returned removal report completed, 15), `DECISION` (the 协调机制 decides, 20)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields

from supervision.domain.measures import StepDays


def step_days(env: Mapping[str, str] | None = None) -> StepDays:
    """The step lengths of the measures; a bad value is refused (ValueError naming the variable)."""
    env = os.environ if env is None else env
    values = {}
    for f in fields(StepDays):
        variable = f"GREENMINE_SUPERVISION_{f.name.upper()}"
        raw = env.get(variable)
        if raw in (None, ""):
            continue
        if not raw.strip().isdigit() or not 1 <= int(raw) <= 365:
            raise ValueError(f"{variable} 须为1至365之间的工作日数，而不是 {raw!r}")
        values[f.name] = int(raw)
    return StepDays(**values)
