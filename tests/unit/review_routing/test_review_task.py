"""The review task's state machine: claim, release, transfer (转办), opinions (never edited, only superseded),
reminders (催办), overdue detection and finalisation."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from review_builders import AT, full_opinion, judged, opinion_body, points, reviewer, routed, task_of

from review_routing.domain.access import Actor
from review_routing.domain.errors import InvalidInput, InvalidTransition
from review_routing.domain.task import (
    ACTIONS,
    STATUSES,
    TRANSITIONS,
    ReviewTask,
    allowed_actions,
    task_id_for,
)
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar

CAL = WorkingCalendar()
ECO = reviewer("ecology_environment")
ECO_2 = reviewer("ecology_environment", username="rv_ecology_2")


@pytest.fixture
def eco_task(catalog):
    return task_of(routed(catalog)[1], "ecology_environment")


def complete(task, data: dict) -> dict:
    """`data` with every item of the task judged (what the data leaves out: 认可自评, met, checks passed)."""
    data = dict(data)
    return full_opinion(task, data.pop("decision"), indicators=judged(data.pop("indicators", [])), **data)


def opine(task, catalog, actor, data, at=AT, photos=()):
    return task.give_opinion(actor, opinion_body(complete(task, data)), indicator_points=points(catalog, task),
                             photo_ids=set(photos), today=at.date(), at=at, opinion_id=f"op-{len(task.opinions) + 1}")


def test_a_new_task_is_open_with_a_deterministic_id_and_its_due_date(eco_task):
    assert eco_task.status == "open" and eco_task.claimed_by is None and not eco_task.opinions
    assert eco_task.task_id == task_id_for("app-1", 1, "ecology_environment") == "app-1.v1.ecology_environment"
    assert eco_task.due_date == date(2026, 3, 16)            # 10 working days from Monday 2 March 2026


def test_every_status_and_action_follows_the_table(eco_task):
    for status in STATUSES:
        assert set(allowed_actions(status)) == {a for (s, a) in TRANSITIONS if s == status}
    assert set(a for _, a in TRANSITIONS) <= set(ACTIONS)
    eco_task.status = "closed"
    with pytest.raises(InvalidTransition, match="已终止"):
        eco_task.claim(ECO, AT)


def test_claim_release_and_only_the_claimant_releases(eco_task):
    event = eco_task.claim(ECO, AT)
    assert (event.kind, eco_task.status, eco_task.claimed_by) == ("claimed", "claimed", "rv_ecology_environment")
    with pytest.raises(InvalidTransition, match="不能认领"):
        eco_task.claim(ECO_2, AT)
    with pytest.raises(InvalidTransition, match="只有办理人"):
        eco_task.unclaim(ECO_2, AT)
    assert eco_task.unclaim(ECO, AT).kind == "unclaimed"
    assert eco_task.status == "open" and eco_task.claimed_by is None


def test_transfer_within_the_department(eco_task):
    eco_task.claim(ECO, AT)
    with pytest.raises(InvalidInput) as raised:
        eco_task.transfer(ECO, "rv_ecology_2", "二号", "  ", AT)
    assert raised.value.errors[0].field == "reason"
    with pytest.raises(InvalidTransition, match="只有办理人"):
        eco_task.transfer(ECO_2, "rv_ecology_2", "二号", "我来办", AT)
    event = eco_task.transfer(ECO, "rv_ecology_2", "二号", "片区调整", AT)
    assert event.detail == {"from_user": "rv_ecology_environment", "to_user": "rv_ecology_2", "to_name": "二号",
                            "reason": "片区调整"}
    assert (eco_task.status, eco_task.claimed_by) == ("claimed", "rv_ecology_2")
    with pytest.raises(InvalidInput, match="转办"):
        eco_task.transfer(ECO_2, "rv_ecology_2", "二号", "再转", AT)


def test_opinion_needs_the_claimant_and_is_superseded_never_edited(catalog, eco_task):
    with pytest.raises(InvalidTransition, match="出具审核意见"):
        opine(eco_task, catalog, ECO, {"decision": "agree"})
    eco_task.claim(ECO, AT)
    with pytest.raises(InvalidTransition, match="请先由其转办"):
        opine(eco_task, catalog, ECO_2, {"decision": "agree"})
    first, event = opine(eco_task, catalog, ECO, {"decision": "return", "comments": "请补充环评批复"})
    assert event.kind == "opinion_recorded" and eco_task.status == "opinion_given"
    frozen = first.to_dict()
    later = AT + timedelta(days=1)
    second, _ = opine(eco_task, catalog, ECO_2, {"decision": "agree", "comments": "已补充"}, at=later)
    assert second.supersedes == first.opinion_id and second.sequence == 2
    assert eco_task.opinions[0].to_dict() == frozen and eco_task.current_opinion is second
    with pytest.raises(AttributeError):
        first.decision = "agree"                       # opinions are immutable values
    assert ReviewTask.from_dict({**eco_task.to_dict(), "version": 3}).opinions == eco_task.opinions


def test_reminders_and_the_overdue_sweep(eco_task):
    policy = DeadlinePolicy(remind_every_days=2)
    bureau = Actor("bureau", "bureau", "局", None, "鄂尔多斯市")
    assert eco_task.remind(bureau, "", AT).detail["reminder"].message == "请尽快办理"
    assert eco_task.flag_overdue(CAL, policy, date(2026, 3, 16), AT) == []            # due today: not late
    at = datetime(2026, 3, 17, 1, tzinfo=UTC)
    events = eco_task.flag_overdue(CAL, policy, date(2026, 3, 17), at)
    assert [e.kind for e in events] == ["overdue", "reminded"]
    assert events[0].detail["days_overdue"] == 1 and events[1].detail["reminder"].automatic
    assert eco_task.flag_overdue(CAL, policy, date(2026, 3, 18), at) == []            # 1 working day later
    assert [e.kind for e in eco_task.flag_overdue(CAL, policy, date(2026, 3, 19), at)] == ["reminded"]
    assert eco_task.flag_overdue(CAL, policy, date(2026, 3, 21), at) == []            # Saturday: nobody at work
    assert [r.no for r in eco_task.reminders] == [1, 2, 3]
    assert eco_task.is_overdue(date(2026, 3, 21)) and eco_task.days_overdue(CAL, date(2026, 3, 23)) == 5


def test_a_task_with_an_opinion_is_never_overdue(catalog, eco_task):
    eco_task.claim(ECO, AT)
    opine(eco_task, catalog, ECO, {"decision": "agree"})
    assert not eco_task.is_overdue(date(2026, 12, 1))
    assert eco_task.flag_overdue(CAL, DeadlinePolicy(), date(2026, 12, 1), AT) == []
    with pytest.raises(InvalidTransition):
        eco_task.remind(None, "", AT)


def test_finalising_closes_pending_tasks_and_locks_the_rest(catalog, eco_task):
    _, result = routed(catalog)
    done = task_of(result, "natural_resources")
    done.claim(Actor("bureau", "bureau", "局", None, "鄂尔多斯市"), AT)
    done.give_opinion(Actor("bureau", "bureau", "局", None, "鄂尔多斯市"), complete(done, {"decision": "agree"}),
                      indicator_points=points(catalog, done), photo_ids=set(), today=AT.date(), at=AT,
                      opinion_id="op-lead")
    assert done.finalise("returned", AT, "bureau") is None and done.status == "opinion_given"
    event = eco_task.finalise("returned", AT, "bureau")
    assert (event.kind, event.detail["reason"], eco_task.status) == ("closed", "case_returned", "closed")
    assert eco_task.finalise("forwarded", AT, "bureau") is None                          # once
    for action in (lambda: done.give_opinion(ECO, {}, indicator_points={}, photo_ids=set(), today=AT.date(),
                                             at=AT, opinion_id="x"),
                   lambda: eco_task.claim(ECO, AT)):
        with pytest.raises(InvalidTransition, match="已办结"):
            action()
    with pytest.raises(ValueError):
        eco_task.finalise("lost", AT, "x")


def test_storage_round_trip(catalog, eco_task):
    eco_task.claim(ECO, AT)
    eco_task.remind(None, "", AT)
    opine(eco_task, catalog, ECO, {"decision": "agree", "indicators": [{"indicator": 3, "score": "0.8"}],
                                   "site_checks": [{"inspectors": "张工、李工", "location": "采场",
                                                    "checked_on": "2026-03-01", "observations": "正常",
                                                    "photos": ["ph-1"]}]}, photos={"ph-1"})
    again = ReviewTask.from_dict(eco_task.to_dict())
    assert again.to_dict() == eco_task.to_dict()
    assert again.current_opinion.indicators[0].score == Decimal("0.8")
    assert again.current_opinion.site_checks[0].inspectors == ("张工", "李工")


class TaskMachine(RuleBasedStateMachine):
    """Random actions by random colleagues: the status only moves along the table, opinions only grow and are
    never changed, the claimant is set exactly when someone handles the task."""

    def __init__(self):
        super().__init__()
        from shared.catalog import load_catalog

        self.catalog = load_catalog("nm-2025")
        self.task = task_of(routed(self.catalog)[1], "ecology_environment")
        self.people = [ECO, ECO_2, reviewer("ecology_environment", username="rv_eco_3")]
        self.seen: list[dict] = []
        self.clock = AT

    def _try(self, fn):
        before = self.task.status
        try:
            fn()
        except (InvalidTransition, InvalidInput):
            assert self.task.status == before
            return False
        return True

    @rule(who=st.integers(0, 2))
    def claim(self, who):
        before = self.task.status
        if self._try(lambda: self.task.claim(self.people[who], self.clock)):
            assert TRANSITIONS[(before, "claim")] == "claimed"

    @rule(who=st.integers(0, 2))
    def unclaim(self, who):
        self._try(lambda: self.task.unclaim(self.people[who], self.clock))

    @rule(who=st.integers(0, 2), to=st.integers(0, 2))
    def transfer(self, who, to):
        target = self.people[to]
        self._try(lambda: self.task.transfer(self.people[who], target.username, target.name, "调整", self.clock))

    @rule(who=st.integers(0, 2), decision=st.sampled_from(["agree", "return", "disagree"]),
          score=st.sampled_from([None, "0", "0.6", "1", "1.5"]))
    def opinion(self, who, decision, score):
        data = complete(self.task, {"decision": decision, "comments": "意见", "indicators": [
            {"indicator": 3, "score": score}] if score is not None else []})
        self.clock += timedelta(minutes=1)
        self._try(lambda: self.task.give_opinion(self.people[who], opinion_body(data),
                                                 indicator_points=points(self.catalog, self.task), photo_ids=set(),
                                                 today=self.clock.date(), at=self.clock,
                                                 opinion_id=f"op-{len(self.seen)}"))

    @rule()
    def remind(self):
        self._try(lambda: self.task.remind(None, "", self.clock))

    @precondition(lambda self: self.task.outcome is None)
    @rule(outcome=st.sampled_from(["forwarded", "returned", "rejected", "superseded"]))
    def finalise(self, outcome):
        self.task.finalise(outcome, self.clock, "bureau")

    @invariant()
    def consistent(self):
        task = self.task
        assert task.status in STATUSES
        if task.status != "closed":            # a closed task remembers who held it
            assert (task.claimed_by is not None) == (task.status in ("claimed", "opinion_given"))
        assert (task.status == "opinion_given") == bool(task.opinions)
        current = [o.to_dict() for o in task.opinions]
        assert current[:len(self.seen)] == self.seen          # append-only
        self.seen = current
        for n, opinion in enumerate(task.opinions):
            assert opinion.sequence == n + 1
            assert opinion.supersedes == (task.opinions[n - 1].opinion_id if n else None)
        if task.status == "closed":
            assert task.outcome is not None


TestTaskMachine = TaskMachine.TestCase
TestTaskMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
