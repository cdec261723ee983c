"""The situations file of contracts/ (`contracts/supervision/situations.yaml`), read once per process."""
from __future__ import annotations

from functools import cache

import yaml

from shared.catalog import load_catalog
from shared.config import contracts_path
from supervision.domain.situations import Situations, parse_situations

CATALOG = "nm-2025"


def department_names() -> dict[str, str]:
    return {d.code: d.name for d in load_catalog(CATALOG).departments}


@cache
def load_situations() -> Situations:
    data = yaml.safe_load(contracts_path("supervision", "situations.yaml").read_text(encoding="utf-8"))
    return parse_situations(data, department_names())
