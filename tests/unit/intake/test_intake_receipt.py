"""The receipt (回执) model and the progress view: the deadline of the initial review in working days on the
official calendar (as the review service counts it), Beijing dates, the materials as Chinese labels in the order
of 附件2 一, and where the case stands for every status."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from intake_builders import VALID_MINE, attachment

from intake.domain.plain import freeze
from intake.domain.progress import CURRENT, DONE, PENDING, STEPS, STOPPED, progress
from intake.domain.receipt import receipt_of
from intake.domain.status import STATUSES
from intake.domain.values import ApplicationVersion
from shared.workdays import DeadlinePolicy, WorkingCalendar

SNAPSHOT = {**VALID_MINE, "id": "mine-1", "county": "150627"}
MON_FRI = WorkingCalendar(lambda day: None)  # no official data: Monday–Friday


def version(number=1, at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC), attachments=()):
    return ApplicationVersion(number=number, submitted_at=at, submitted_by="ent", assessment=freeze({}),
                              records=freeze({}), declared_penalties=False, attachments=tuple(attachments),
                              mine=freeze(SNAPSHOT))


def test_the_receipt_names_everything_in_chinese_and_promises_the_deadline():
    files = [attachment("evidence", "9", filename="开采方式.pdf"), attachment("truthfulness_pledge"),
             attachment("evidence", "P1", filename="证照.pdf"), attachment("business_licence")]
    r = receipt_of("app-1", "150600-2026-00012", version(attachments=files), calendar=WorkingCalendar(),
                   policy=DeadlinePolicy(), indicator_names={"9": "开采方式", "P1": "手续齐全"})
    assert (r.case_no, r.version, r.resubmission) == ("150600-2026-00012", 1, False)
    assert (r.enterprise_name, r.credit_code) == ("内蒙古某某煤业有限责任公司", VALID_MINE["enterprise"]["credit_code"])
    assert (r.mine_name, r.league_name, r.county_name) == ("某某露天煤矿", "鄂尔多斯市", "伊金霍洛旗")
    assert r.submitted_on == date(2026, 3, 2)
    assert [(x.item, x.label) for x in r.lines] == [
        ("（一）", "营业执照"), ("（六）", "申报材料真实性承诺书"), ("证明材料", "先决条件P1「手续齐全」"),
        ("证明材料", "第9项指标「开采方式」")]
    # 15 working days of the lead task + 5 for the decision, counted from Monday 2 March 2026
    assert r.review_days == 20 and r.review_due == date(2026, 3, 30) and not r.review_due_estimated


def test_a_resubmission_gets_the_recheck_deadline_and_the_day_is_beijings():
    late_evening = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 2 March 00:30 in Beijing
    r = receipt_of("app-1", None, version(2, late_evening), calendar=MON_FRI, policy=DeadlinePolicy())
    assert r.resubmission and r.submitted_on == date(2026, 3, 2)
    assert r.review_days == 10 and r.review_due == date(2026, 3, 16) and r.review_due_estimated


def test_the_deadline_skips_the_national_day_holiday_and_counts_the_make_up_saturday():
    r = receipt_of("app-1", None, version(at=datetime(2025, 9, 29, 2, 0, tzinfo=UTC)), calendar=WorkingCalendar(),
                   policy=DeadlinePolicy(lead_days=3, decision_days=1))
    # 30 Sep works, 1–8 October are the holiday, 9 and 10 October work, Saturday 11 October is a 调休 working day
    assert r.review_due == date(2025, 10, 11)


@given(st.dates(date(2025, 1, 1), date(2026, 12, 31)), st.integers(1, 30), st.integers(1, 10))
def test_the_deadline_is_a_working_day_that_many_working_days_later(start, lead, decision):
    calendar = WorkingCalendar()
    policy = DeadlinePolicy(lead_days=lead, decision_days=decision)
    due = policy.initial_review_due(calendar, start, False)
    assert calendar.is_workday(due) and calendar.working_days_between(start, due) == lead + decision


@pytest.mark.parametrize("status, states", [
    ("draft", [CURRENT, PENDING, PENDING, PENDING, PENDING, PENDING]),
    ("submitted", [DONE, CURRENT, PENDING, PENDING, PENDING, PENDING]),
    ("routed", [DONE, CURRENT, PENDING, PENDING, PENDING, PENDING]),
    ("returned", [CURRENT, PENDING, PENDING, PENDING, PENDING, PENDING]),
    ("forwarded", [DONE, DONE, DONE, CURRENT, PENDING, PENDING]),
    ("rejected", [DONE, DONE, STOPPED, PENDING, PENDING, PENDING]),
    ("not_listed", [DONE, DONE, DONE, DONE, STOPPED, PENDING]),
    ("listed", [DONE] * 6),
])
def test_progress_by_status(status, states):
    steps = progress(status, date(2026, 3, 31))
    assert [s.label for s in steps] == ["提交", "部门审核", "初审决定", "自治区评估", "公示", "公告"]
    assert [s.state for s in steps] == states
    dues = {s.key: s.due for s in steps if s.due}
    assert dues == ({"decision": date(2026, 3, 31)} if status in ("submitted", "routed") else {})


def test_every_status_has_a_place_and_a_chinese_note():
    for status in STATUSES:
        steps = progress(status)
        assert len(steps) == len(STEPS)
        assert any(s.note for s in steps), status
        assert all(not any(c.isascii() and c.isalpha() for c in s.note + s.label + s.state_label) for s in steps)
