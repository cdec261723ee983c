"""Shared fixtures for the scoring tests: the real nm-2025 catalog and an assessment builder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from shared.catalog import load_catalog

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"


@pytest.fixture(scope="session")
def catalog():
    return load_catalog("nm-2025")


def build_assessment(catalog, group=1, method="open_pit", variant=None, entries=None, prerequisites=None):
    """Every applicable indicator at full marks and all prerequisites met, then `entries` ("no" -> entry,
    None removes the entry) and `prerequisites` (code -> bool) applied on top."""
    mine = {"industry_group": group, "mining_method": method}
    if group == 2:
        mine["industry_variant"] = variant or "sand_gravel_stone"
    indicators = {str(i.no): {"score": str(i.points)} for i in catalog.indicators_for(group, method)}
    for key, entry in (entries or {}).items():
        if entry is None:
            indicators.pop(str(key), None)
        else:
            indicators[str(key)] = entry
    met = {code: True for code in catalog.prerequisite_codes}
    met.update(prerequisites or {})
    return {"catalog": catalog.id, "mine": mine, "prerequisites": met, "indicators": indicators}


@pytest.fixture(scope="session")
def assessment_for(catalog):
    def make(group=1, method="open_pit", variant=None, entries=None, prerequisites=None):
        return build_assessment(catalog, group, method, variant, entries, prerequisites)
    return make


def _validator(name):
    return Draft202012Validator(json.loads((CONTRACTS / "scoring" / f"{name}.schema.json").read_text()))


@pytest.fixture(scope="session")
def report_validator():
    return _validator("report.v1")


@pytest.fixture(scope="session")
def assessment_validator():
    return _validator("assessment.v1")
