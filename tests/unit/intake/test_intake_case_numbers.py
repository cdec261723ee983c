"""办件编号: the format (盟市 division code, Beijing year, the 盟市's sequence), parsing back, the Beijing year at the
turn of the year, and the number an application keeps across 补正 resubmissions."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fakes import FakeCaseNumbers
from hypothesis import given
from hypothesis import strategies as st
from intake_builders import CREDIT_CODE

from intake.domain.application import Application
from intake.domain.case_numbers import CaseNumber, case_year, counter_key
from intake.domain.errors import SubmissionRefused
from intake.service_layer.submission import allocate_case_no
from shared import regions

DIVISIONS = [league.division_code for league in regions.LEAGUES]


def test_the_format_of_a_case_number():
    assert str(CaseNumber("150600", 2026, 12)) == "150600-2026-00012"
    assert str(CaseNumber("150100", 2026, 1)) == "150100-2026-00001"
    assert str(CaseNumber("152900", 2027, 123456)) == "152900-2027-123456"  # more digits only when needed
    assert counter_key("150600", 2026) == "150600-2026"


@given(st.sampled_from(DIVISIONS), st.integers(2000, 9999), st.integers(1, 10**7))
def test_a_case_number_reads_back_and_sorts_by_its_parts(division, year, sequence):
    number = CaseNumber(division, year, sequence)
    text = str(number)
    assert CaseNumber.parse(text) == number
    assert text.startswith(f"{division}-{year}-") and len(text.split("-")[2]) >= 5
    assert CaseNumber(division, year, sequence + 1) > number


@pytest.mark.parametrize("division, year, sequence", [
    ("150000", 2026, 1),   # the region itself is not a 盟市
    ("150627", 2026, 1),   # a 旗县 code
    ("110100", 2026, 1),   # not Inner Mongolia
    ("150600", 2026, 0),   # sequences start at 1
    ("150600", 1999, 1),
])
def test_what_is_not_a_case_number(division, year, sequence):
    with pytest.raises(ValueError):
        CaseNumber(division, year, sequence)


@pytest.mark.parametrize("text", ["", "150600-2026-12", "150600-26-00012", "ordos-2026-00012", "150600202600012"])
def test_parsing_refuses_other_text(text):
    with pytest.raises(ValueError):
        CaseNumber.parse(text)


def test_the_year_is_beijings():
    assert case_year(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == 2026
    assert case_year(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == 2027  # already 1 January in Beijing
    with pytest.raises(ValueError):
        case_year(datetime(2026, 12, 31, 16, 0))  # naive times are refused


AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _submittable() -> Application:
    app = Application.start("app-1", "mine-1", CREDIT_CODE, "nm-2025", AT, "ent")
    app.assessment = {"indicators": {"1": {"result": "pass"}}}
    app.declared_penalties = False
    return app


def _submit(app: Application, at: datetime, case_no):
    return app.submit(at, "ent", materials_checklist=[], case_no=case_no)


def test_the_first_submission_takes_the_number_and_resubmissions_keep_it():
    app = _submittable()
    calls = []
    _submit(app, AT, lambda: calls.append(1) or "150600-2026-00012")
    assert app.case_no == "150600-2026-00012" and calls == [1]
    assert app.history[-1].detail["case_no"] == "150600-2026-00012"
    app.mark_routed(AT + timedelta(days=1), "review_routing")
    app.return_for_correction(AT + timedelta(days=3), "bureau", {"3": "请补充"})
    app.records = {"3": "补充"}
    _submit(app, AT + timedelta(days=5), None)
    assert app.case_no == "150600-2026-00012" and len(app.versions) == 2
    again = Application.from_dict(app.to_dict())
    assert again.case_no == "150600-2026-00012"
    app.mark_routed(AT + timedelta(days=6), "review_routing")
    app.return_for_correction(AT + timedelta(days=6), "bureau", {"3": "请再补充"})
    app.records = {"3": "再补充"}
    with pytest.raises(ValueError):  # a second number for the same application is a programming error
        _submit(app, AT + timedelta(days=7), "150600-2026-00013")


def test_a_refused_submission_allocates_no_number():
    app = Application.start("app-2", "mine-1", CREDIT_CODE, "nm-2025", AT, "ent")
    calls = []
    with pytest.raises(SubmissionRefused):
        app.submit(AT, "ent", case_no=lambda: calls.append(1) or "150600-2026-00001")
    assert calls == [] and app.case_no is None


@given(st.lists(st.tuples(st.sampled_from([league.code for league in regions.LEAGUES]),
                          st.sampled_from([datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 12, 31, 17, tzinfo=UTC)])),
                max_size=40))
def test_allocation_gives_each_league_and_year_consecutive_numbers_from_one(submissions):
    uow = SimpleNamespace(case_numbers=FakeCaseNumbers())
    numbers = [CaseNumber.parse(allocate_case_no(uow, SimpleNamespace(league=league), at))
               for league, at in submissions]
    assert len(set(numbers)) == len(numbers)
    by_key: dict[tuple[str, int], list[int]] = {}
    for n in numbers:
        by_key.setdefault((n.division_code, n.year), []).append(n.sequence)
    for sequences in by_key.values():
        assert sequences == list(range(1, len(sequences) + 1))
    for (league, at), n in zip(submissions, numbers, strict=True):
        assert n.division_code == regions.league_by_code(league).division_code and n.year == case_year(at)
