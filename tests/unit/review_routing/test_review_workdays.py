"""Deadlines in working days on the Chinese official calendar, with 调休 make-up days."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar, beijing_date
from shared.workdays import deadline_policy

CAL = WorkingCalendar()


@pytest.mark.parametrize("start,days,due", [
    (date(2026, 3, 2), 10, date(2026, 3, 16)),      # two ordinary weeks
    (date(2026, 2, 13), 1, date(2026, 2, 14)),      # 调休: Saturday 14 Feb 2026 is a working day
    (date(2026, 2, 13), 2, date(2026, 2, 24)),      # then the Spring Festival holiday (15–23 Feb)
    (date(2026, 9, 30), 1, date(2026, 10, 8)),      # National Day holiday 1–7 Oct
    (date(2026, 10, 9), 1, date(2026, 10, 10)),     # 调休 Saturday 10 Oct
    (date(2025, 12, 31), 1, date(2026, 1, 4)),      # New Year's Day off, 调休 Sunday 4 Jan
    (date(2026, 3, 7), 0, date(2026, 3, 7)),
])
def test_due_dates_follow_the_official_calendar(start, days, due):
    assert CAL.add_working_days(start, days) == due
    assert CAL.working_days_between(start, due) == days


def test_holidays_and_make_up_days():
    assert not CAL.is_workday(date(2026, 10, 1)) and not CAL.is_workday(date(2026, 2, 17))
    assert CAL.is_workday(date(2026, 2, 28)) and CAL.is_workday(date(2026, 9, 20))
    assert not CAL.is_estimated(date(2026, 6, 1))


def test_a_year_without_official_data_falls_back_to_weekdays_and_says_so():
    assert CAL.is_estimated(date(2099, 1, 1))
    assert CAL.add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)   # Friday → Monday
    assert CAL.estimated_between(date(2026, 12, 20), date(2099, 1, 5))
    assert not CAL.estimated_between(date(2026, 3, 2), date(2026, 3, 16))


def test_injected_calendar():
    every_day = WorkingCalendar(lambda day: True)
    assert every_day.add_working_days(date(2026, 10, 1), 3) == date(2026, 10, 4)
    with pytest.raises(ValueError):
        every_day.add_working_days(date(2026, 10, 1), -1)


def test_beijing_date():
    assert beijing_date(datetime(2026, 3, 1, 16, 30, tzinfo=UTC)) == date(2026, 3, 2)
    assert beijing_date(datetime(2026, 3, 1, 15, 59, tzinfo=UTC)) == date(2026, 3, 1)
    with pytest.raises(ValueError):
        beijing_date(datetime(2026, 3, 1))


def test_policy_defaults_and_environment():
    policy = DeadlinePolicy()
    assert (policy.task_days(lead=False, resubmission=False), policy.task_days(lead=True, resubmission=False),
            policy.task_days(lead=False, resubmission=True)) == (10, 15, 5)
    custom = deadline_policy({"GREENMINE_REVIEW_DEPARTMENT_DAYS": "7", "GREENMINE_REVIEW_LEAD_DAYS": "",
                                      "GREENMINE_REVIEW_DECISION_DAYS": "3"})
    assert (custom.department_days, custom.lead_days, custom.decision_days) == (7, 15, 3)
    assert custom.task_due(CAL, date(2026, 3, 2), lead=False, resubmission=False) == date(2026, 3, 11)
    assert custom.decision_due(CAL, date(2026, 9, 30)) == date(2026, 10, 10)


@pytest.mark.parametrize("value,message", [("ten", "应为整数"), ("0", "1 至 365"), ("400", "1 至 365")])
def test_policy_refuses_bad_environment_values(value, message):
    with pytest.raises(ValueError, match=message) as raised:
        deadline_policy({"GREENMINE_REVIEW_RECHECK_DAYS": value})
    assert "GREENMINE_REVIEW_RECHECK_DAYS" in str(raised.value)


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(2024, 1, 1), date(2026, 11, 30)), days=st.integers(0, 40))
def test_working_day_properties(start, days):
    due = CAL.add_working_days(start, days)
    assert due >= start
    assert CAL.working_days_between(start, due) == days
    if days:
        assert CAL.is_workday(due)
        assert CAL.add_working_days(start, days - 1) < due
    assert (due - start) <= timedelta(days=days * 3 + 10)     # never runs away (longest holiday is 9 days)
