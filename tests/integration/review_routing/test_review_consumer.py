"""The review consumer on real servers: submissions reach every department queue (written with the routing)
and their department topics; a chunk with a poison record still processes the good ones and dead-letters the
bad one alone."""
from __future__ import annotations

import json

import pytest
from review_builders import submission, submitted_event
from review_harness import wait_for

from shared.messaging import read_topic

pytestmark = pytest.mark.integration


def test_submission_reaches_every_department_queue(review, catalog):
    review.publish(submitted_event(submission(catalog, "app-smoke")))
    tasks = wait_for(lambda: review.routed_tasks("app-smoke", 1), what="tasks")
    queued = wait_for(lambda: len(review.queued("app-smoke", 1)) == len(tasks) and review.queued("app-smoke", 1),
                      what="queue")
    assert {q["department"] for q in queued} == {t["department"] for t in tasks}
    assert all(q["status"] == "open" and q["mine_name"] == "鄂尔多斯示范煤矿" for q in queued)


def test_a_poison_submission_is_dead_lettered_alone(review, catalog):
    unknown_catalog = submission(catalog, "app-poison")
    unknown_catalog["catalog"] = "nm-1999"
    unknown_catalog["assessment"]["catalog"] = "nm-1999"
    bad_league = submission(catalog, "app-nowhere", mine={**submission(catalog)["mine"], "league": "北京市"})
    for payload in (submission(catalog, "app-good-1"), unknown_catalog, bad_league,
                    submission(catalog, "app-good-2")):
        review.publish(submitted_event(payload))
    for app_id in ("app-good-1", "app-good-2"):
        wait_for(lambda app_id=app_id: review.routed_tasks(app_id, 1), what=app_id)
    review.producer.send(review.settings.topic("intake.application.events"), key=b"x", value=b"{not json").get(30)
    letters = wait_for(lambda: len(read_topic(review.settings, review.settings.topic("dlq.review_routing"))) >= 3
                       and read_topic(review.settings, review.settings.topic("dlq.review_routing")),
                       what="dead letters")
    reasons = [json.loads(r.value)["reason"] for r in letters]
    assert any("nm-1999" in r for r in reasons)
    assert any("无法识别盟市" in r for r in reasons)
    assert any("invalid message" in r for r in reasons)
    assert review.db["cases"].count_documents({"_id": {"$in": ["app-poison", "app-nowhere"]}}) == 0
    assert review.db["tasks"].count_documents({"application_id": {"$in": ["app-poison", "app-nowhere"]}}) == 0


def test_a_submission_seen_again_under_a_new_event_id_keeps_the_tasks_and_queue(review, catalog):
    """The queue entries of new tasks are inserted with the routing, in its transaction. The same submission
    again under a new event id (intake sent it again) routes nothing: no second task, and a claimed entry keeps
    its status; the department topic gets nothing new for it."""
    import uuid

    first = submitted_event(submission(catalog, "app-first"))
    review.publish(first)
    tasks = wait_for(lambda: review.routed_tasks("app-first", 1), what="routing")
    assert len(review.queued("app-first", 1)) == len(tasks)        # written with the tasks: nothing to wait for
    eco = next(t for t in tasks if t["department"] == "ecology_environment")
    assert review.call("POST", f"/api/v1/review/tasks/{eco['_id']}/claim", "rv_ecology_environment").status_code == 200
    assert review.db["queue"].find_one({"_id": eco["_id"]})["status"] == "claimed"
    topic = review.settings.topic("review_routing.tasks.ecology_environment")

    def task_events() -> list[str]:
        return [json.loads(r.value)["type"] for r in read_topic(review.settings, topic)]

    wait_for(lambda: len(task_events()) == 2, what="assigned and claimed on the department topic")
    again = {**first, "event_id": str(uuid.uuid4())}
    review.publish(again)
    review.publish(submitted_event(submission(catalog, "app-second")))
    wait_for(lambda: any(o.event_id == again["event_id"] and o.status == "processed"
                         for o in review.consumer.outcomes), what="the submission seen again")
    second = wait_for(lambda: review.routed_tasks("app-second", 1), what="routing of the second")
    assert len(review.queued("app-second", 1)) == len(second)
    entry = review.db["queue"].find_one({"_id": eco["_id"]})
    assert entry["status"] == "claimed" and entry["claimed_by"] == "rv_ecology_environment"
    assert review.db["queue"].count_documents({"application_id": "app-first"}) == len(tasks)
    assert review.db["tasks"].count_documents({"application_id": "app-first"}) == len(tasks)
    wait_for(lambda: len(task_events()) == 3, what="the second application's assignment on the topic")
    assert task_events().count("review_routing.review_task_claimed") == 1
