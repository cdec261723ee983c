"""The department queue read model: one pure projection per department-topic event."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from review_builders import AT, BUREAU, full_opinion, opinion_body, points, reviewer, routed, task_of

from review_routing.adapters import events
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar
from review_routing.service_layer.department_queues import project_queue
from review_routing.service_layer.presenters import queue_item


def lifecycle(catalog):
    """The envelopes of one task's life, in order: assigned, claimed, transferred, reminded, opinion, …"""
    _, result = routed(catalog)
    task = task_of(result, "ecology_environment")
    actor = reviewer("ecology_environment")
    out = [events.task_assigned(task, 1, None)]
    happened = [task.claim(actor, AT), task.transfer(actor, "rv_2", "二号", "片区调整", AT)]
    task.claimed_by = actor.username
    happened += task.flag_overdue(WorkingCalendar(), DeadlinePolicy(), date(2026, 3, 17), AT + timedelta(days=15))
    happened.append(task.give_opinion(actor, opinion_body(full_opinion(task)), indicator_points=points(catalog, task),
                                      photo_ids=set(), today=AT.date(), at=AT, opinion_id="op-1")[1])
    for n, event in enumerate(happened):
        out.append(events.task_event(task, event, n + 2))
    return out


def fold(envelopes):
    doc = None
    for envelope in envelopes:
        doc = project_queue(doc, envelope) or doc
    return doc


def test_the_queue_follows_the_task(catalog):
    envelopes = lifecycle(catalog)
    doc = project_queue(None, envelopes[0])
    assert (doc["status"], doc["due_date"], doc["mine_name"], doc["indicators"]) == (
        "open", "2026-03-16", "鄂尔多斯示范煤矿", 28)
    final = fold(envelopes)
    assert (final["status"], final["decision"], final["claimed_by"], final["reminders"], final["overdue_flagged"]) \
        == ("opinion_given", "agree", "rv_ecology_environment", 1, True)
    item = queue_item(final, date(2026, 3, 20), WorkingCalendar())
    assert item["status_label"] == "已出具意见" and not item["overdue"]
    open_item = queue_item(project_queue(None, envelopes[0]), date(2026, 3, 18), WorkingCalendar())
    assert open_item["overdue"] and open_item["days_overdue"] == 2


def test_replays_and_older_events_change_nothing(catalog):
    envelopes = lifecycle(catalog)
    final = fold(envelopes)
    for envelope in envelopes:
        assert project_queue(final, envelope) is None
    assert fold(envelopes + envelopes) == final


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_a_later_event_arriving_first_keeps_its_status(catalog, data):
    envelopes = lifecycle(catalog)
    cut = data.draw(st.integers(1, len(envelopes) - 1))
    reordered = envelopes[1:cut + 1] + [envelopes[0]] + envelopes[cut + 1:]
    assert {k: v for k, v in fold(reordered).items() if k != "updated_at"} == \
        {k: v for k, v in fold(envelopes).items() if k != "updated_at"}


def test_closed_tasks_leave_the_open_work(catalog):
    case, result = routed(catalog)
    lead = task_of(result, "natural_resources")
    lead.claim(BUREAU, AT)
    lead.give_opinion(BUREAU, opinion_body(full_opinion(lead)), indicator_points=points(catalog, lead),
                      photo_ids=set(), today=AT.date(), at=AT, opinion_id="op")
    _, closed = case.decide(1, "return", [{"text": "补正"}], BUREAU, AT, result.tasks, None, catalog, lambda c: c)
    eco = task_of(result, "ecology_environment")
    event = next(e for e in closed if e.task_id == eco.task_id)
    doc = fold([events.task_assigned(eco, 1, None), events.task_event(eco, event, 2)])
    assert doc["status"] == "closed" and doc["closed_reason"] == "case_returned"
    assert not queue_item(doc, date(2026, 12, 1), WorkingCalendar())["overdue"]
