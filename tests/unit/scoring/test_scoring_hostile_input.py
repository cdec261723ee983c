"""Issue 9 item 4: whatever a client puts anywhere in an assessment (numbers Decimal cannot hold, wrong types,
names of files), the engine answers a report or AssessmentInvalid naming the field, never another exception."""
from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from scoring.domain.engine import AssessmentInvalid, score_assessment
from shared.catalog import load_catalog

HOSTILE = [Decimal("1e400"), Decimal("-1e400"), Decimal("1e-400"), Decimal("1E+999999"), 10**400, -(10**400),
           Decimal("123456789012345678901234567890"), 2**63, {}, [], None, True, "1e400", "x" * 5000,
           "../regions/inner-mongolia", Decimal("0.001")]


def _paths(obj, prefix=()):
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _paths(value, (*prefix, index))


def _with(assessment, path, value):
    changed = copy.deepcopy(assessment)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _answers(assessment):
    try:
        json.dumps(score_assessment(assessment, load_catalog).to_dict(), default=str)
    except AssessmentInvalid as exc:
        assert exc.errors and all(e["field"] and e["message"] for e in exc.errors)


@pytest.mark.parametrize("group", [1, 2])
def test_every_place_of_an_assessment_takes_any_value_without_crashing(assessment_for, group):
    base = assessment_for(group=group)
    base["mine"]["industry_variant"] = base["mine"].get("industry_variant", "sand_gravel_stone")
    places = list(_paths(base))
    for path in places:
        for value in HOSTILE:
            _answers(_with(base, path, value))
    assert len(places) > 50


@pytest.mark.parametrize("no", ["1", "3", "5", "17", "30"])
@pytest.mark.parametrize("kind", ["score", "findings", "deductions", "items"])
def test_each_kind_of_entry_takes_any_value_without_crashing(assessment_for, no, kind):
    base = assessment_for()
    for value in HOSTILE + [{"a": 10**400}, {"1": Decimal("1e400")}, ["x", {}]]:
        _answers(_with(base, ("indicators", no), {kind: value}))


@pytest.mark.parametrize("number", [Decimal("1e400"), Decimal("123456789012345678901234567890")])
def test_a_score_beyond_the_points_is_a_field_error(assessment_for, number):
    with pytest.raises(AssessmentInvalid) as refused:
        score_assessment(_with(assessment_for(), ("indicators", "1", "score"), number), load_catalog)
    assert [e["field"] for e in refused.value.errors] == ["indicators.1.score"]


def test_a_catalog_id_is_a_name_not_a_path(assessment_for):
    for value in ["../regions/inner-mongolia", "x" * 5000, "NM-2025/../nm-2025"]:
        with pytest.raises(AssessmentInvalid) as refused:
            score_assessment(_with(assessment_for(), ("catalog",), value), load_catalog)
        assert [e["field"] for e in refused.value.errors] == ["catalog"]
