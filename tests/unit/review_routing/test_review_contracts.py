"""Every event review_routing publishes matches its contract (the translators, on real tasks and cases)."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from review_builders import AT, BUREAU, full_opinion, opinion_body, points, reviewer, routed, task_of

from review_routing.adapters import events
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar
from shared.contracts import ContractRegistry


@pytest.fixture(scope="module")
def registry():
    from review_builders import CONTRACTS

    return ContractRegistry([CONTRACTS])


def test_routing_and_every_task_event_validate(catalog, registry):
    case, result = routed(catalog)
    published = [events.case_routed(case, result.version, list(result.tasks), 1, None)]
    published += [events.task_assigned(t, 1, "cause") for t in result.tasks]
    eco = task_of(result, "ecology_environment")
    actor = reviewer("ecology_environment")
    happened = [eco.claim(actor, AT), eco.unclaim(actor, AT), eco.claim(actor, AT),
                eco.transfer(actor, "rv_2", "二号", "片区调整", AT)]
    eco.claimed_by = actor.username
    happened += eco.flag_overdue(WorkingCalendar(), DeadlinePolicy(), date(2026, 3, 17),
                                 datetime(2026, 3, 17, 1, tzinfo=UTC))
    _, opinion_event = eco.give_opinion(actor, opinion_body(full_opinion(
        eco, "agree", indicators={3: {"verdict": "score", "score": "0.8", "opinion": "缺1处", "record": "r"},
                                  16: {"verdict": "not_applicable", "reason": "无"}},
        site_checks=[{"inspectors": ["张"], "location": "采场", "checked_on": "2026-03-02",
                      "observations": "正常", "photos": ["ph-1"]}])),
        indicator_points=points(catalog, eco), photo_ids={"ph-1"}, today=date(2026, 3, 17), at=AT,
        opinion_id="op-1")
    happened.append(opinion_event)
    lead = task_of(result, "natural_resources")
    lead.claim(BUREAU, AT)
    lead_opinion = lead.give_opinion(BUREAU, opinion_body(full_opinion(lead)),
                                     indicator_points=points(catalog, lead), photo_ids=set(), today=AT.date(),
                                     at=AT, opinion_id="op-2")[1]
    decision, closed = case.decide(1, "return", [{"indicator": 3, "text": "补设"}], BUREAU, AT, result.tasks, None,
                                   catalog, lambda c: c)
    published += [events.task_event(eco, e, n + 2) for n, e in enumerate(happened)]
    published.append(events.task_event(lead, lead_opinion, 3))
    by_id = {t.task_id: t for t in result.tasks}
    published += [events.task_event(by_id[e.task_id], e, 2) for e in closed]
    published.append(events.initial_review_decided(case, 1, decision, 2))
    kinds = {e["type"] for e in published}
    assert kinds == {"review_routing.case_routed", "review_routing.initial_review_decided",
                     "review_routing.review_task_assigned", *events.TASK_TYPES.values()}
    for envelope in published:
        registry.validate(envelope)
    for envelope in published:
        if envelope["aggregate_type"] == "review_task":
            assert registry.topic_for(envelope["type"]) == "review_routing.tasks.{department}"
            assert envelope["payload"]["department"] in envelope["aggregate_id"]
        else:
            assert registry.topic_for(envelope["type"]) == "review_routing.case.events"


def test_publishing_a_department_event_without_its_topic_is_refused(registry):
    import json

    from review_builders import CONTRACTS

    from shared.contracts import ContractError
    from shared.storage import Transaction

    example = json.loads((CONTRACTS / "examples" / "review_routing.review_task_claimed.v1.json").read_text())
    tx = Transaction(db=None, session=None, registry=registry, service="review_routing")
    with pytest.raises(ContractError, match="pass topic="):
        tx.publish(example)
    tx.publish(example, topic="review_routing.tasks.ecology_environment")
    assert tx._pending[0]["topic"] == "review_routing.tasks.ecology_environment"
