"""The daily sweep's rules (issue 13 item 4): each finding falls due on the day the notice's rule says, counted as
民法典 counts periods, stays due with the same key (so a repeated sweep raises nothing twice), and what falls due on
a holiday is raised on the next working day of the official calendar."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.workdays import official_is_workday
from supervision.adapters.situations import load_situations
from supervision.domain.triggers import (
    PROPOSE_REMOVAL,
    WARN,
    Licence,
    MajorChange,
    MineFacts,
    sweep,
    sweep_days,
)


def keys(facts, day):
    return [f.key for f in sweep(facts, day)]


def first_raised(facts, key, start, end):
    """The first sweep day (official working days from `start`) on which `key` is due."""
    return next(d for d in sweep_days(start, end, official_is_workday) if key in keys(facts, d))


def test_a_licence_is_announced_thirty_days_before_and_proposed_for_removal_the_day_after_it_expires():
    facts = MineFacts("m1", licences=(Licence("safety", "（蒙）FM安许证字〔2023〕001号", date(2026, 9, 30)),))
    assert sweep(facts, date(2026, 8, 30)) == []
    [warning] = sweep(facts, date(2026, 8, 31))
    assert warning.action == WARN and warning.situation is None and "2026年9月30日到期" in warning.reason
    assert [f.action for f in sweep(facts, date(2026, 9, 30))] == [WARN]
    removal = sweep(facts, date(2026, 10, 1))[-1]
    assert (removal.action, removal.situation, removal.due_on) == (PROPOSE_REMOVAL, "remove.1", date(2026, 10, 1))
    assert "安全生产许可证" in removal.reason and "未及时延续" in removal.reason
    # 1–7 October 2026 are the National Day holiday: the sweep first raises it on Thursday 8 October.
    assert first_raised(facts, removal.key, date(2026, 9, 28), date(2026, 10, 20)) == date(2026, 10, 8)


def test_a_renewed_licence_is_a_new_expiry_and_a_long_term_one_never_expires():
    old = MineFacts("m1", licences=(Licence("mining", "C150000", date(2026, 3, 31)),))
    renewed = MineFacts("m1", licences=(Licence("mining", "C150000", date(2031, 3, 31)),))
    assert not set(keys(renewed, date(2026, 4, 1))) & set(keys(old, date(2026, 4, 1)))
    assert sweep(renewed, date(2026, 4, 1)) == []
    assert sweep(MineFacts("m1", licences=(Licence("business", "9115", None),)), date(2099, 1, 1)) == []


def test_a_revoked_licence_is_proposed_for_removal_from_the_day_of_revocation():
    facts = MineFacts("m1", licences=(Licence("mining", "C1", date(2030, 1, 1), revoked_on=date(2026, 5, 6)),))
    assert [f.situation for f in sweep(facts, date(2026, 5, 6))] == ["remove.1"]
    assert "被吊销" in sweep(facts, date(2026, 5, 6))[0].reason


def test_a_stoppage_marks_after_a_year_and_proposes_removal_after_more_than_three():
    facts = MineFacts("m1", stopped_on=date(2025, 2, 28))
    assert sweep(facts, date(2026, 2, 27)) == []
    assert [(f.action, f.situation) for f in sweep(facts, date(2026, 2, 28))] == [("mark", "mark.1")]
    assert [f.situation for f in sweep(facts, date(2028, 2, 28))] == ["mark.1"]          # three years, not more
    assert [f.situation for f in sweep(facts, date(2028, 2, 29))] == ["mark.1", "remove.3"]


def test_the_abnormal_list_counts_six_months_to_the_corresponding_day():
    listed = date(2025, 8, 31)                                     # six months end on 28 February 2026
    in_time = MineFacts("m1", abnormal_listed_on=listed, abnormal_removed_on=date(2026, 2, 28))
    assert sweep(in_time, date(2027, 1, 1)) == []
    late = MineFacts("m1", abnormal_listed_on=listed, abnormal_removed_on=date(2026, 3, 1))
    still = MineFacts("m1", abnormal_listed_on=listed)
    for facts in (late, still):
        assert sweep(facts, date(2026, 2, 28)) == []
        [finding] = sweep(facts, date(2026, 3, 1))
        assert finding.situation == "remove.9" and "2026年2月28日前" in finding.reason


def test_backward_two_years_running():
    running = MineFacts("m1", utilisation_grades={2024: "落后", 2025: "落后", 2023: "中等"})
    assert sweep(running, date(2025, 12, 31)) == []
    [finding] = sweep(running, date(2026, 1, 1))
    assert finding.situation == "remove.10" and "2024年、2025年" in finding.reason
    assert sweep(MineFacts("m1", utilisation_grades={2023: "落后", 2024: "中等", 2025: "落后"}), date(2030, 1, 1)) == []


def test_a_major_change_marks_the_mine_and_asks_for_a_re_evaluation():
    facts = MineFacts("m1", changes=(MajorChange("scale", date(2026, 6, 1), "中型", "大型"),))
    found = sweep(facts, date(2026, 6, 1))
    assert [(f.action, f.situation) for f in found] == [("mark", "mark.2"), ("request_re_evaluation", "mark.2")]
    assert "开采规模于2026年6月1日发生变更（中型 → 大型）" in found[0].reason


def test_every_situation_the_sweep_cites_is_one_the_situations_file_says_the_sweep_finds():
    swept = {f"{m.code}.{s.no}" for m in load_situations().measures for s in m.situations if s.detection == "sweep"}
    facts = MineFacts("m1", licences=(Licence("mining", "C1", date(2020, 1, 1), revoked_on=date(2020, 1, 1)),),
                      stopped_on=date(2010, 1, 1), abnormal_listed_on=date(2010, 1, 1),
                      utilisation_grades={2011: "落后", 2012: "落后"},
                      changes=(MajorChange("area", date(2020, 1, 1)),))
    cited = {f.situation for f in sweep(facts, date(2030, 1, 1)) if f.situation}
    assert cited == swept


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))
facts_strategy = st.builds(
    MineFacts, mine_id=st.just("m1"),
    licences=st.lists(st.builds(Licence, kind=st.sampled_from(["mining", "safety", "business"]),
                                number=st.sampled_from(["A", "B"]), valid_to=st.none() | days,
                                revoked_on=st.none() | days), max_size=3).map(tuple),
    stopped_on=st.none() | days, abnormal_listed_on=st.none() | days, abnormal_removed_on=st.none() | days,
    utilisation_grades=st.dictionaries(st.integers(2020, 2032), st.sampled_from(["先进", "中等", "落后"]), max_size=6),
    changes=st.lists(st.builds(MajorChange, field=st.sampled_from(["area", "method", "minerals", "scale"]),
                               changed_on=days), max_size=3).map(tuple))


@given(facts_strategy, days, st.integers(0, 2000))
def test_once_due_a_finding_stays_due_with_the_same_key_and_keys_never_repeat(facts, day, later):
    now, then = sweep(facts, day), sweep(facts, day + timedelta(later))
    assert {f.key for f in now} <= {f.key for f in then}
    assert all(f.due_on <= day for f in now)
    by_key: dict = {}
    for finding in then:          # one key, one finding (a fact given twice is the same finding, raised once)
        assert by_key.setdefault(finding.key, finding) == finding
