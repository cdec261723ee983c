"""Periods in years and months as 民法典第二百零三条 counts them (shared.periods)."""
from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.periods import add_months, add_years


@pytest.mark.parametrize("start,months,end", [
    (date(2024, 8, 31), 6, date(2025, 2, 28)), (date(2023, 8, 31), 6, date(2024, 2, 29)),
    (date(2024, 1, 15), 6, date(2024, 7, 15)), (date(2024, 7, 31), 2, date(2024, 9, 30)),
    (date(2024, 3, 31), -1, date(2024, 2, 29)), (date(2024, 12, 1), 1, date(2025, 1, 1)),
    (date(2024, 5, 20), 0, date(2024, 5, 20))])
def test_months_end_on_the_corresponding_day_or_the_months_last(start, months, end):
    assert add_months(start, months) == end


def test_years_from_29_february():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2024, 2, 28), 3) == date(2027, 2, 28)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 12, 31)), st.integers(-1200, 1200))
def test_the_month_moves_by_exactly_that_many_and_the_day_only_down_to_the_months_end(day, months):
    end = add_months(day, months)
    assert (end.year * 12 + end.month) - (day.year * 12 + day.month) == months
    assert end.day == min(day.day, calendar.monthrange(end.year, end.month)[1])
    assert add_years(day, months // 12) == add_months(day, 12 * (months // 12))
