"""The case: routing each submitted version once, the countersign, the lead bureau's decision and the
re-scored assessment it is taken on."""
from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from review_builders import (
    AT,
    BUREAU,
    full_opinion,
    judged,
    opinion_body,
    points,
    reasons_body,
    reviewer,
    routed,
    submission,
    task_of,
)

from review_routing.domain.case import (
    ReviewCase,
    chosen_entry,
    countersign_rows,
    decision_due,
    parse_reasons,
    rescore,
    reviewer_entries,
    unconfirmed_not_applicable,
)
from review_routing.domain.errors import InvalidInput, InvalidTransition
from review_routing.domain.opinion import IndicatorOpinion, Opinion
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar

CAL = WorkingCalendar()
QUALIFIED = {"verdict": "qualified", "verdict_label": "达标", "total": "100.00", "failed_binding": [],
             "failed_prerequisites": []}


def name(code):
    return {"ecology_environment": "生态环境部门", "emergency_management": "应急管理部门"}.get(code, code)


def act(task, catalog, decision="agree", at=AT, **extra):
    actor = BUREAU if task.lead else reviewer(task.department)
    if task.status == "open":
        task.claim(actor, at)
    data = full_opinion(task, decision, indicators=judged(extra.pop("indicators", [])),
                        prerequisites={p["prerequisite"]: p for p in extra.pop("prerequisites", [])},
                        comments=extra.pop("comments", "意见"), **extra)
    task.give_opinion(actor, opinion_body(data), indicator_points=points(catalog, task), photo_ids=set(),
                      today=at.date(), at=at, opinion_id=f"op-{task.department}-{len(task.opinions)}")
    return task


def test_a_version_is_routed_once_and_older_versions_change_nothing(catalog):
    case, first = routed(catalog)
    assert case.latest.version_no == 1 and case.latest.status == "under_review"
    assert [t.task_id for t in first.version.tasks] == [t.task_id for t in first.tasks]
    assert case.receive(submission(catalog), catalog, CAL, DeadlinePolicy(), AT) is None
    assert len(case.versions) == 1
    stored = ReviewCase.from_dict({**case.to_dict(), "version": 1})
    assert stored.to_dict() == case.to_dict()


def test_resubmission_routes_the_new_version_with_recheck_deadlines(catalog):
    case, first = routed(catalog)
    for task in first.tasks:
        act(task, catalog)
    case.decide(1, "return", [{"indicator": 3, "text": "补设警示牌"}], BUREAU, AT, first.tasks, None, catalog, name)
    later = datetime(2026, 3, 10, 2, tzinfo=UTC)
    _, second = routed(catalog, submission(catalog, version_no=2), at=later, case=case)
    assert second.version.resubmission and second.superseded is None
    assert {t.version_no for t in second.tasks} == {2}
    assert all(t.due_date == date(2026, 3, 17) for t in second.tasks)        # 5 working days (复核)
    assert [v.status for v in case.versions] == ["returned", "under_review"]
    assert case.receive(submission(catalog, version_no=1), catalog, CAL, DeadlinePolicy(), later) is None


def test_a_newer_version_supersedes_one_still_under_review(catalog):
    case, first = routed(catalog)
    _, second = routed(catalog, submission(catalog, version_no=2), case=case)
    assert second.superseded == 1 and case.versions[0].status == "superseded"


def test_forward_only_when_every_department_agreed_and_the_rescore_qualifies(catalog):
    case, result = routed(catalog)
    tasks = list(result.tasks)
    for task in tasks:
        if task.department != "ecology_environment":
            act(task, catalog)
    with pytest.raises(InvalidTransition, match=r"尚未同意：生态环境部门（待认领）"):
        case.decide(1, "forward", None, BUREAU, AT, tasks, QUALIFIED, catalog, name)
    eco = task_of(result, "ecology_environment")
    act(eco, catalog, "disagree")
    with pytest.raises(InvalidTransition, match="意见为“不同意”"):
        case.decide(1, "forward", None, BUREAU, AT, tasks, QUALIFIED, catalog, name)
    act(eco, catalog, "agree", at=AT + timedelta(hours=1))
    with pytest.raises(InvalidTransition, match="未取得"):
        case.decide(1, "forward", None, BUREAU, AT, tasks, None, catalog, name)
    failing = {**QUALIFIED, "verdict": "not_qualified", "verdict_label": "不达标", "failed_binding": [8, 12],
               "total": "88.00"}
    with pytest.raises(InvalidTransition, match="约束性指标 8、12 未得满分；总分 88.00"):
        case.decide(1, "forward", None, BUREAU, AT, tasks, failing, catalog, name)
    decision, closed = case.decide(1, "forward", None, BUREAU, AT, tasks, QUALIFIED, catalog, name)
    assert decision.decision == "forwarded" and closed == [] and case.status == "forwarded"
    assert all(t.outcome == "forwarded" for t in tasks)
    with pytest.raises(InvalidTransition, match="不能再作初审决定"):
        case.decide(1, "reject", [{"text": "x"}], BUREAU, AT, tasks, None, catalog, name)


def test_return_and_reject_need_reasons_and_close_what_is_pending(catalog):
    case, result = routed(catalog)
    tasks = list(result.tasks)
    act(tasks[0], catalog, "return", comments="证照过期")
    for decision, message in (("return", "逐项写明需补正的内容"), ("reject", "须写明理由")):
        with pytest.raises(InvalidInput) as raised:
            case.decide(1, decision, [], BUREAU, AT, tasks, None, catalog, name)
        assert message in raised.value.errors[0].message
    decision, closed = case.decide(1, "reject", [{"prerequisite": "P1", "text": "采矿许可证已过期"}], BUREAU, AT,
                                   tasks, None, catalog, name)
    assert decision.reasons[0].subject == "先决条件P1" and decision.label == "不予通过"
    assert len(closed) == len(tasks) - 1 and {e.detail["reason"] for e in closed} == {"case_rejected"}
    assert tasks[0].status == "opinion_given" and tasks[0].outcome == "rejected"


def test_unknown_decision_and_version(catalog):
    case, result = routed(catalog)
    with pytest.raises(InvalidInput, match="初审决定有误"):
        case.decide(1, "approve", [], BUREAU, AT, result.tasks, None, catalog, name)
    with pytest.raises(KeyError):
        case.decide(7, "reject", [{"text": "x"}], BUREAU, AT, result.tasks, None, catalog, name)


@pytest.mark.parametrize("reasons,field,message", [
    ("x", "reasons", "应为列表"),
    ([{"text": ""}], "reasons[0].text", "请写明理由"),
    ([{"indicator": 22, "text": "x"}], "reasons[0].indicator", "不适用于本矿山"),
    ([{"prerequisite": "P9", "text": "x"}], "reasons[0].prerequisite", "没有先决条件"),
    ([{"check": "C9", "text": "x"}], "reasons[0].check", "没有初审内容"),
    ([{"indicator": 3, "check": "C1", "text": "x"}], "reasons[0]", "只能对应一项"),
    (["x"], "reasons[0]", "应为对象"),
])
def test_reason_refusals(catalog, reasons, field, message):
    case, result = routed(catalog)
    with pytest.raises(InvalidInput) as raised:
        parse_reasons(reasons_body(reasons), result.version.applicable_indicators, catalog.prerequisite_codes)
    assert raised.value.errors[0].field == field and message in raised.value.errors[0].message


def test_reasons_per_indicator_prerequisite_check_or_general(catalog):
    case, result = routed(catalog)
    parsed = parse_reasons(reasons_body([{"indicator": "3", "text": " 缺 "}, {"prerequisite": "P4", "text": "储量不足"},
                                         {"check": "C3", "text": "修复未完成"}, {"text": "其他"}]),
                           result.version.applicable_indicators, catalog.prerequisite_codes)
    assert [r.subject for r in parsed] == ["第3项指标", "先决条件P4", "初审内容（三）", "总体"]
    assert parsed[0].text == "缺"


def test_rescore_lead_wins_else_the_lowest_score_and_a_score_beats_not_applicable(catalog):
    case, result = routed(catalog)
    lead, eco, em = (task_of(result, d) for d in ("natural_resources", "ecology_environment", "emergency_management"))
    act(eco, catalog, indicators=[{"indicator": 3, "score": "0.6", "record": "缺2处"},
                                  {"indicator": 4, "score": "1.5"},
                                  {"indicator": 16, "not_applicable": True, "reason": "无共伴生矿"},
                                  {"indicator": 19, "not_applicable": True, "reason": "不外排"}],
        prerequisites=[{"prerequisite": "P5", "met": False, "note": "涉及红线"}], decision="return")
    act(em, catalog, indicators=[{"indicator": 3, "score": "0.8"}, {"indicator": 4, "score": "1"}])
    act(lead, catalog, indicators=[{"indicator": 3, "score": "1", "opinion": "已整改"},
                                   {"indicator": 16, "score": "1", "opinion": ""}])  # = the claim
    assessment = submission(catalog)["assessment"]
    original = copy.deepcopy(assessment)
    out = rescore(assessment, result.tasks, name)
    assert assessment == original                                          # the input is not changed
    assert out["indicators"]["3"]["score"] == "1"                          # the lead bureau's entry
    assert out["indicators"]["4"]["score"] == "1"                          # the lowest of 1.5 and 1
    assert out["indicators"]["16"] == {"score": "1"}                          # lead says it applies
    assert out["indicators"]["19"]["not_applicable"] and out["indicators"]["19"]["reason"] == "不外排"
    assert "生态环境部门：缺2处" in out["indicators"]["3"]["record"]
    assert out["prerequisites"]["P5"] is False and out["prerequisites"]["P1"] is True
    assert out["indicators"]["10"] == original["indicators"]["10"]           # nobody scored it: self-assessment
    sources = reviewer_entries(result.tasks)
    assert [s.department for s in sources[3]] == ["natural_resources", "ecology_environment", "emergency_management"]
    assert chosen_entry(sources[4]).score == Decimal("1")


@settings(max_examples=100, deadline=None)
@given(scores=st.lists(st.sampled_from(["0", "0.2", "0.5", "0.8", "1", None]), min_size=3, max_size=3))
def test_rescore_never_exceeds_the_lowest_department_score_without_a_lead_entry(catalog, scores):
    case, result = routed(catalog)
    holders = [t for t in result.tasks if 3 in t.indicators and not t.lead]
    given_scores = []
    for task, score in zip(holders, scores, strict=False):
        items = [{"indicator": 3, "score": score}] if score is not None else []
        act(task, catalog, indicators=items)
        if score is not None:
            given_scores.append(Decimal(score))
    out = rescore(submission(catalog)["assessment"], result.tasks, name)
    expected = min(given_scores) if given_scores else Decimal("1")
    assert Decimal(out["indicators"]["3"]["score"]) == expected


def test_countersign_rows_and_who_is_late(catalog):
    case, result = routed(catalog)
    tasks = list(result.tasks)
    act(tasks[1], catalog)
    today = date(2026, 3, 18)
    rows = countersign_rows(tasks, CAL, today)
    assert rows[0]["lead"] and rows[0]["due_date"] == "2026-03-23" and not rows[0]["overdue"]   # 15 working days
    late = [r for r in rows if r["overdue"]]
    assert len(late) == len(tasks) - 2 and all(r["days_overdue"] == 2 for r in late)
    assert rows[1]["decision"] == "agree" and rows[1]["decision_label"] == "同意"
    assert decision_due(tasks, CAL, DeadlinePolicy()) is None
    for task in tasks:
        if not task.opinions:
            act(task, catalog, at=datetime(2026, 3, 12, 2, tzinfo=UTC))
    assert decision_due(tasks, CAL, DeadlinePolicy()) == date(2026, 3, 19)


def test_forward_needs_each_binding_not_applicable_confirmed_by_its_departments(catalog):
    """所有约束性指标必须得满分: a binding item 不涉及 in the re-score needs every department holding it to have
    confirmed it 不涉及; an "认可自评" (or an old opinion without a verdict) is not a confirmation."""
    case, result = routed(catalog)
    tasks = list(result.tasks)
    holders = sorted(t.department for t in tasks if 12 in t.indicators)
    assert holders == ["ecology_environment", "industry_it"]
    for task in tasks:
        act(task, catalog)              # everyone agrees: 认可自评 on 12 and 13
    binding_na = {**QUALIFIED, "not_applicable_binding": [12, 13]}
    with pytest.raises(InvalidTransition) as refused:
        case.decide(1, "forward", None, BUREAU, AT, tasks, binding_na, catalog, name)
    assert str(refused.value) == (
        "约束性指标须得满分，判定为不涉及须经负责该项的部门确认不涉及，不能通过初审。未经确认："
        "第12项「选矿加工工艺」（尚未确认：生态环境部门（意见为“认可自评”）、industry_it（意见为“认可自评”））；"
        "第13项「选矿回收率」（尚未确认：natural_resources（意见为“认可自评”）、生态环境部门（意见为“认可自评”））")
    assert case.status == "under_review" and all(t.outcome is None for t in tasks)
    # Confirmed by the holders of 12 and 13 (a later opinion supersedes): the forward goes through.
    later = AT + timedelta(hours=1)
    for task in tasks:
        held = [no for no in (12, 13) if no in task.indicators]
        if held:
            act(task, catalog, at=later, indicators=[
                {"indicator": no, "verdict": "not_applicable", "reason": "本矿不设选矿厂"} for no in held])
    decision, _ = case.decide(1, "forward", None, BUREAU, later, tasks, binding_na, catalog, name)
    assert decision.decision == "forwarded"


def test_an_old_opinion_without_a_verdict_does_not_confirm_not_applicable(catalog):
    case, result = routed(catalog)
    tasks = list(result.tasks)
    for task in tasks:
        act(task, catalog)
    eco = task_of(result, "ecology_environment")
    # An opinion stored before verdicts existed: 12 with neither a score nor an N/A judgement reads "agree".
    stored = eco.current_opinion.to_dict()
    stored["indicators"] = [{k: v for k, v in i.items() if k != "verdict"} for i in stored["indicators"]]
    old = Opinion.from_dict(stored)
    assert old.indicator(12) == IndicatorOpinion(12, opinion=old.indicator(12).opinion, verdict="agree")
    object.__setattr__(eco, "opinions", [*eco.opinions[:-1], old])
    waiting = unconfirmed_not_applicable({"not_applicable_binding": [12]}, tasks, [12], catalog)
    assert [t.department for t in waiting[12]] == ["ecology_environment", "industry_it"]
    # Items outside the version's applicable set (8 and 9 of an oil/gas mine, 不涉及 by the index) are not asked.
    assert unconfirmed_not_applicable({"not_applicable_binding": [12]}, tasks, [], catalog) == {}
