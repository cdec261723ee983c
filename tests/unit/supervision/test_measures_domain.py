"""The measures' state machines, permissions and deadlines (domain/measures.py), pure: 标注 placed and lifted,
限期整改 raised / submitted / accepted / rejected / missed, 移出 reported / returned / prepared / decided; who may act
on which mine; due dates in working days on the official calendar, overdue flagged once."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.errors import InvalidInput, InvalidTransition, NotPermitted
from shared.identity import Principal
from shared.workdays import WorkingCalendar
from supervision.adapters.situations import department_names, load_situations
from supervision.domain.measures import SYSTEM, Measure, MineRef, StepDays

AT = datetime(2026, 9, 24, 2, 0, tzinfo=UTC)
ON = date(2026, 9, 24)          # a Thursday before the National Day holiday (1–8 October 2026)
CAL = WorkingCalendar()
DAYS = StepDays()
MINE = MineRef("mine-1", "示范煤矿", "示范矿业有限公司", "91150000MA0000000X", "鄂尔多斯市", "准格尔旗", True)
BUREAU = Principal("bureau-ordos", "bureau", display_name="鄂尔多斯市自然资源局", area="鄂尔多斯市")
OTHER_BUREAU = Principal("bureau-baotou", "bureau", area="包头市")
ECOLOGY = Principal("eco-ordos", "department_reviewer", department="ecology_environment", area="鄂尔多斯市")
REGIONAL_ECOLOGY = Principal("eco-region", "department_reviewer", department="ecology_environment", area="自治区")
TAX = Principal("tax-ordos", "department_reviewer", department="taxation", area="鄂尔多斯市")
OFFICE = Principal("office", "region_office", area="自治区")
ENTERPRISE = Principal("ent", "enterprise", enterprise=MINE.credit_code)
OTHER_ENTERPRISE = Principal("ent2", "enterprise", enterprise="91150000MA0000001X")
EVIDENCE = [{"text": "2026年9月20日现场检查记录：排土场未复绿"}, {"ref": "doc-123"}]


def situation(code):
    return load_situations().get(code)


def rectify(actor=BUREAU, code="rectify.2", deadline=date(2026, 11, 30), **kw) -> Measure:
    return Measure.raise_measure(measure_id="ms-1", kind="rectify", mine=MINE, situation=situation(code),
                                 actor=actor, reason="排土场未按方案复绿", evidence=EVIDENCE, at=AT, on=ON, days=DAYS,
                                 calendar=CAL, deadline=deadline, names=department_names(), **kw)


def report(actor=BUREAU, code="remove.4") -> Measure:
    return Measure.raise_measure(measure_id="ms-2", kind="remove", mine=MINE, situation=situation(code),
                                 actor=actor, reason="越界开采", evidence=EVIDENCE, at=AT, on=ON, days=DAYS,
                                 calendar=CAL, names=department_names())


def test_a_rectification_is_raised_with_its_deadline_and_the_enterprise_must_act():
    m = rectify()
    assert (m.state, m.step, m.due_on, m.deadline) == ("rectifying", "rectify", "2026-11-30", "2026-11-30")
    assert (m.department, m.raised_area, m.situation) == ("natural_resources", "鄂尔多斯市", "rectify.2")
    assert m.who_acts() == [{"role": "enterprise", "enterprise": MINE.credit_code}]
    assert [h["action"] for h in m.history] == ["raised"]
    assert m.history[0]["by"] == "bureau-ordos" and m.history[0]["at"] == AT


def test_accepted_after_the_report_and_the_review_is_due_in_working_days_across_the_holiday():
    m = rectify()
    m.submit_rectification(ENTERPRISE, report="已完成复绿", evidence=[{"ref": "photo-1"}], at=AT, on=ON, days=DAYS,
                           calendar=CAL)
    # 15 working days from Thu 24 Sep 2026 (25 Sep 中秋, 1–7 Oct 国庆, Sat 10 Oct 调休 worked): 28–30 Sep (3),
    # 8–10 Oct (6), 12–16 Oct (11), 19–22 Oct (15)
    assert m.state == "submitted" and m.due_on == "2026-10-22"
    m.accept(BUREAU, opinion="现场核查整改到位", at=AT, on=ON)
    assert m.state == "accepted" and m.due_on is None and not m.is_open
    assert [h["action"] for h in m.history] == ["raised", "submitted", "accepted"]


def test_rejected_goes_back_to_the_enterprise_with_the_same_or_a_new_deadline():
    m = rectify()
    m.submit_rectification(ENTERPRISE, report="r", evidence=[{"text": "t"}], at=AT, on=ON, days=DAYS, calendar=CAL)
    m.reject(BUREAU, opinion="复绿面积不足", deadline=None, at=AT, on=ON, days=DAYS, calendar=CAL)
    assert (m.state, m.deadline, m.rounds) == ("rectifying", "2026-11-30", 1)
    m.submit_rectification(ENTERPRISE, report="r2", evidence=[{"text": "t"}], at=AT, on=ON, days=DAYS, calendar=CAL)
    m.reject(BUREAU, opinion="仍不足", deadline=date(2026, 12, 31), at=AT, on=ON, days=DAYS, calendar=CAL)
    assert (m.state, m.deadline, m.due_on, m.rounds) == ("rectifying", "2026-12-31", "2026-12-31", 2)
    later = date(2026, 12, 1)
    m.submit_rectification(ENTERPRISE, report="r3", evidence=[{"text": "t"}], at=AT, on=later, days=DAYS,
                           calendar=CAL)
    with pytest.raises(InvalidInput) as refused:   # the old deadline has passed: a new one is needed
        m.reject(BUREAU, opinion="x", deadline=None, at=AT, on=date(2027, 1, 5), days=DAYS, calendar=CAL)
    assert "deadline" in refused.value.error_map()


def test_a_missed_deadline_is_seen_the_day_after():
    m = rectify(deadline=date(2026, 10, 9))
    assert not m.deadline_missed(date(2026, 10, 9)) and m.deadline_missed(date(2026, 10, 10))
    m.miss(AT, date(2026, 10, 10), "ms-removal")
    assert (m.state, m.proposed_removal, m.is_open) == ("missed", "ms-removal", False)
    assert not m.flag_overdue(date(2027, 1, 1), AT)


def test_only_the_enterprise_of_the_mine_reports_and_only_the_raising_department_reviews():
    m = rectify()
    for who in (OTHER_ENTERPRISE, BUREAU):
        with pytest.raises(NotPermitted):
            m.submit_rectification(who, report="r", evidence=[{"text": "t"}], at=AT, on=ON, days=DAYS, calendar=CAL)
    m.submit_rectification(ENTERPRISE, report="r", evidence=[{"text": "t"}], at=AT, on=ON, days=DAYS, calendar=CAL)
    for who in (ECOLOGY, OTHER_BUREAU, ENTERPRISE):
        with pytest.raises(NotPermitted):
            m.accept(who, opinion="ok", at=AT, on=ON)
    with pytest.raises(InvalidInput):
        m.accept(BUREAU, opinion=" ", at=AT, on=ON)


def test_a_bureau_cannot_raise_outside_its_league_and_says_which_it_may_act_on():
    with pytest.raises(NotPermitted) as refused:
        rectify(actor=OTHER_BUREAU)
    assert "包头市" in refused.value.message and "鄂尔多斯市" in refused.value.message


def test_a_regional_department_raises_anywhere_but_only_what_its_duties_cover():
    assert rectify(actor=REGIONAL_ECOLOGY).raised_area == "自治区"
    assert rectify(actor=ECOLOGY).department == "ecology_environment"
    with pytest.raises(NotPermitted) as refused:
        rectify(actor=TAX)                       # 矿区环境较差: 自然资源、生态环境
    assert "生态环境" in refused.value.message
    with pytest.raises(NotPermitted):
        rectify(actor=ENTERPRISE)


def test_raising_refuses_incomplete_input_naming_the_fields():
    with pytest.raises(InvalidInput) as refused:
        Measure.raise_measure(measure_id="x", kind="rectify", mine=MINE, situation=situation("remove.4"),
                              actor=BUREAU, reason="", evidence=[{"ref": "a", "text": "b"}], at=AT, on=ON, days=DAYS,
                              calendar=CAL, deadline=ON)
    assert set(refused.value.error_map()) == {"situation", "reason", "evidence.0", "deadline"}
    with pytest.raises(InvalidTransition):
        rectify(code="rectify.2").__class__.raise_measure(
            measure_id="x", kind="mark", mine=MINE, situation=situation("mark.3"), actor=BUREAU, reason="r",
            evidence=EVIDENCE, at=AT, on=ON, days=DAYS, calendar=CAL)
    off_list = MineRef(**{**MINE.__dict__, "listed": False})
    with pytest.raises(InvalidTransition):
        Measure.raise_measure(measure_id="x", kind="mark", mine=off_list, situation=situation("mark.1"),
                              actor=BUREAU, reason="停产", evidence=EVIDENCE, at=AT, on=ON, days=DAYS, calendar=CAL)


def test_a_mark_is_placed_and_lifted_by_its_department_and_overdue_flagged_once():
    m = Measure.raise_measure(measure_id="ms-m", kind="mark", mine=MINE, situation=situation("mark.1"), actor=SYSTEM,
                              reason="矿山停产1年以上（2025年9月1日起）", evidence=None, at=AT, on=ON, days=DAYS,
                              calendar=CAL, finding_key="stopped:mine-1")
    assert (m.state, m.department, m.raised_by, m.public_reason) == (
        "placed", "natural_resources", "system", "矿山停产1年以上（2025年9月1日起）")
    due = date.fromisoformat(m.due_on)
    assert not m.flag_overdue(due, AT)
    assert m.flag_overdue(date(2027, 1, 4), AT) and m.is_overdue
    assert not m.flag_overdue(date(2027, 1, 5), AT)
    with pytest.raises(NotPermitted):
        m.lift(OTHER_BUREAU, reason="已复产", at=AT, on=ON)
    m.lift(BUREAU, reason="已于2026年9月复产", at=AT, on=ON)
    assert (m.state, m.lift_reason) == ("lifted", "已于2026年9月复产")
    assert [h["action"] for h in m.history] == ["placed", "overdue", "lifted"]


def test_a_removal_is_reviewed_returned_resubmitted_prepared_and_decided_by_the_region_office():
    m = report()
    assert (m.state, m.who_acts()) == ("reported", [{"role": "region_office"}])
    with pytest.raises(NotPermitted):
        m.review(BUREAU, action="prepare", opinion="x", at=AT, on=ON, days=DAYS, calendar=CAL)
    m.review(OFFICE, action="return", opinion="请补充越界开采的测量报告", at=AT, on=ON, days=DAYS, calendar=CAL)
    assert m.state == "returned" and {"role": "bureau", "area": "鄂尔多斯市"} in m.who_acts()
    m.resubmit(BUREAU, note="已补充", evidence=[{"ref": "survey-1"}], at=AT, on=ON, days=DAYS, calendar=CAL)
    m.review(OFFICE, action="prepare", opinion="情形属实", at=AT, on=ON, days=DAYS, calendar=CAL)
    assert m.state == "prepared" and m.due_on == CAL.add_working_days(ON, 20).isoformat()
    with pytest.raises(InvalidInput) as refused:
        m.record_decision(OFFICE, meeting_on=None, document_no="", outcome="x", reason="", follow_up_department=None,
                          follow_up_note="", at=AT, on=ON)
    assert set(refused.value.error_map()) == {"meeting_on", "document_no", "outcome", "reason"}
    m.record_decision(OFFICE, meeting_on=date(2026, 9, 23), document_no="内绿矿协〔2026〕3号", outcome="removed",
                      reason="越界开采", follow_up_department="natural_resources", follow_up_note="督促恢复治理",
                      at=AT, on=ON)
    assert m.state == "removed" and m.decision["document_no"] == "内绿矿协〔2026〕3号"
    assert m.follow_up == {"department": "natural_resources", "note": "督促恢复治理"}
    assert [h["action"] for h in m.history] == ["reported", "returned", "resubmitted", "prepared", "decided"]
    with pytest.raises(InvalidTransition):
        m.record_decision(OFFICE, meeting_on=ON, document_no="x", outcome="kept", reason="r",
                          follow_up_department=None, follow_up_note="", at=AT, on=ON)


def test_the_round_trip_keeps_everything():
    m = rectify()
    again = Measure.from_dict(m.to_dict())
    assert again.to_dict() == m.to_dict() and again.id == "ms-1"
