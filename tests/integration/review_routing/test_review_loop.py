"""The whole initial review over real Kafka and MongoDB: submit → route → opinions → return → resubmit →
opinions → forward; then every event of the loop is delivered again and nothing changes."""
from __future__ import annotations

import io
import json

import pytest
from review_builders import full_opinion, judged, submission, submitted_event
from review_harness import wait_for

from shared.contracts import new_event
from shared.messaging import encode, read_topic

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
ALL_CHECKS = [{"check": f"C{n}", "passed": True, "note": ""} for n in range(1, 8)]


def worker(task: dict) -> str:
    return "bureau" if task["lead"] else f"rv_{task['department']}"


def opinion_for(task: dict, decision: str = "agree", **extra) -> dict:
    """A complete opinion on the task (every indicator and prerequisite judged, the lead's seven checks)."""
    return full_opinion(task, decision, indicators=judged(extra.pop("indicators", [])),
                        comments=extra.pop("comments", "同意。" if decision == "agree" else ""), checks=(
                            ALL_CHECKS if task["lead"] else None), **extra)


def give(review, task: dict, body: dict, username: str | None = None):
    username = username or worker(task)
    claimed = review.call("POST", f"/api/v1/review/tasks/{task['_id']}/claim", username)
    assert claimed.status_code in (200, 409), claimed.get_json()
    response = review.call("POST", f"/api/v1/review/tasks/{task['_id']}/opinion", username, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def events_on(review, topic: str, event_type: str | None = None) -> list[dict]:
    out = []
    for record in read_topic(review.settings, review.settings.topic(topic)):
        envelope = json.loads(record.value)
        if event_type is None or envelope["type"] == event_type:
            out.append(envelope)
    return out


def snapshot(review) -> dict:
    state = {}
    for name in ("cases", "tasks", "queue", "audit", "photos", "self_reports"):
        state[name] = sorted(review.db[name].find(), key=lambda d: str(d["_id"]))
    state["outbox"] = review.db["outbox"].count_documents({})
    return state


def test_submit_route_return_resubmit_forward_and_replay(review, catalog):
    app_id = "app-loop"
    review.publish(submitted_event(submission(catalog, app_id, 1)))
    tasks = wait_for(lambda: review.routed_tasks(app_id, 1), what="routing of version 1")
    wait_for(lambda: len(review.queued(app_id, 1)) == len(tasks), what="department queues")
    departments = {t["department"] for t in tasks}
    assert "finance" not in departments and "financial_regulation" not in departments

    # Each department's task was published on its own topic and its queue holds it.
    for task in tasks:
        assigned = events_on(review, f"review_routing.tasks.{task['department']}",
                             "review_routing.review_task_assigned")
        assert [e["payload"]["task_id"] for e in assigned] == [task["_id"]]
    routed = wait_for(lambda: events_on(review, "review_routing.case.events", "review_routing.case_routed"),
                      what="case_routed")
    assert {t["department"] for t in routed[0]["payload"]["tasks"]} == departments

    # 生态环境: opens the evidence, checks the site with a photo, and asks for a correction on indicator 3.
    eco = next(t for t in tasks if t["department"] == "ecology_environment")
    opened = review.call("GET", f"/api/v1/review/tasks/{eco['_id']}/evidence/att-3", "rv_ecology_environment")
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/api/v1/applications/{app_id}/attachments/att-3")
    viewed = review.call("GET", f"/api/v1/review/tasks/{eco['_id']}/evidence/att-licence?inline=true",
                         "rv_ecology_environment")                      # P1's licence reaches 生态环境 too
    assert viewed.status_code == 302
    assert viewed.headers["Location"].endswith(f"/api/v1/applications/{app_id}/attachments/att-licence?inline=true")
    assert review.call("POST", f"/api/v1/review/tasks/{eco['_id']}/claim", "rv_ecology_environment").status_code == 200
    photo = review.call("POST", f"/api/v1/review/tasks/{eco['_id']}/photos", "rv_ecology_environment",
                        data={"photo": (io.BytesIO(JPEG), "采场入口.jpg", "image/jpeg")},
                        content_type="multipart/form-data")
    assert photo.status_code == 201, photo.get_json()
    photo_id = photo.get_json()["photo_id"]
    site = {"inspectors": ["张工", "李工"], "location": "准格尔旗示范煤矿采场入口", "checked_on": "2026-03-02",
            "observations": "采场入口安全警示牌缺失2处", "photos": [photo_id]}
    give(review, eco, opinion_for(eco, "return", comments="标识标牌不全,请补设后重新提交",
                                  indicators=[{"indicator": 3, "score": "0.6", "opinion": "警示牌缺失2处",
                                               "record": "张工、李工到采场入口查看:警示牌缺失2处"}],
                                  site_checks=[site]))
    for task in tasks:
        if task["department"] != "ecology_environment":
            give(review, task, opinion_for(task))

    # The lead bureau sees every opinion side by side and the re-score; forwarding is refused.
    view = review.call("GET", f"/api/v1/review/cases/{app_id}", "bureau").get_json()
    latest = view["versions"][0]
    assert latest["side_by_side"]["indicators"][2]["cells"]["ecology_environment"]["score"] == "0.6"
    assert latest["report"]["indicator_scores"]["3"]["score"] == "0.6"
    refused = review.call("POST", f"/api/v1/review/cases/{app_id}/decision", "bureau",
                          {"version_no": 1, "decision": "forward"})
    assert refused.status_code == 409 and "生态环境部门" in refused.get_json()["message"]
    returned = review.call("POST", f"/api/v1/review/cases/{app_id}/decision", "bureau",
                           {"version_no": 1, "decision": "return",
                            "reasons": [{"indicator": 3, "text": "标识标牌缺失2处,请补设并提交整改照片"}]})
    assert returned.status_code == 201, returned.get_json()
    decided = wait_for(lambda: events_on(review, "review_routing.case.events",
                                         "review_routing.initial_review_decided"), what="decision event")
    assert decided[0]["payload"]["decision"] == "returned"
    assert decided[0]["payload"]["reasons"] == [{"indicator": 3, "prerequisite": None, "check": None,
                                                 "text": "标识标牌缺失2处,请补设并提交整改照片"}]

    # Resubmission: new tasks for version 2; version 1's opinions stay visible.
    review.publish(submitted_event(submission(catalog, app_id, 2, submitted_at="2026-03-10T02:00:00Z")))
    tasks2 = wait_for(lambda: review.routed_tasks(app_id, 2), what="routing of version 2")
    wait_for(lambda: len(review.queued(app_id, 2)) == len(tasks2), what="queues of version 2")
    assert {t["department"] for t in tasks2} == departments
    assert not {t["_id"] for t in tasks2} & {t["_id"] for t in tasks}
    eco2 = next(t for t in tasks2 if t["department"] == "ecology_environment")
    view2 = review.call("GET", f"/api/v1/review/tasks/{eco2['_id']}", "rv_ecology_environment").get_json()
    assert view2["previous"]["opinions"][0]["decision"] == "return"
    assert view2["returned_reasons"][0]["indicator"] == 3
    for task in tasks2:
        extra = {"indicators": [{"indicator": 3, "score": "1", "opinion": "已补设"}]} if task is eco2 else {}
        give(review, task, opinion_for(task, **extra))
    case = review.call("GET", f"/api/v1/review/cases/{app_id}", "bureau").get_json()
    assert [v["version_no"] for v in case["versions"]] == [2, 1]
    assert case["versions"][1]["side_by_side"]["columns"][0]["department"] == "natural_resources"
    assert case["versions"][0]["all_agreed"] is True
    forwarded = review.call("POST", f"/api/v1/review/cases/{app_id}/decision", "bureau",
                            {"version_no": 2, "decision": "forward"})
    assert forwarded.status_code == 201, forwarded.get_json()
    assert forwarded.get_json()["report"]["verdict"] == "qualified"
    wait_for(lambda: len(events_on(review, "review_routing.case.events",
                                   "review_routing.initial_review_decided")) == 2, what="forward event")
    wait_for(lambda: review.db["outbox"].count_documents({"published_at": None}) == 0, what="relay")
    wait_for(lambda: all(q["status"] == "opinion_given" for q in review.queued(app_id, 2)), what="queue status")

    # Every event review_routing consumed, delivered again; and the submissions re-sent with new event ids.
    before = snapshot(review)
    replayed = []
    for topic in ["intake.application.events"]:   # the department topics are not consumed here (issue 14)
        for record in read_topic(review.settings, review.settings.topic(topic)):
            envelope = json.loads(record.value)
            review.producer.send(record.topic, key=record.key, value=record.value).get(timeout=30)
            replayed.append(envelope["event_id"])
    reissued = []
    for version_no in (1, 2):
        original = json.loads(encode(submitted_event(submission(catalog, app_id, version_no))))
        again = new_event("intake.application_submitted", producer="intake", aggregate_type="application",
                          aggregate_id=app_id, aggregate_version=version_no + 1, payload=original["payload"])
        review.publish(again)
        reissued.append(again["event_id"])
    assert len(replayed) == 2                                # the two submitted versions

    def absorbed():
        seen = {(o.event_id, o.status) for o in review.consumer.outcomes}
        return (all((e, "duplicate") in seen for e in replayed)
                and all((e, "processed") in seen for e in reissued))

    wait_for(absorbed, timeout=120, what="the replay to be absorbed")
    after = snapshot(review)
    after_audit = after.pop("audit")
    before_audit = before.pop("audit")
    assert after == before
    # The re-sent submissions were recognised (already routed): no task, no event, no audit entry.
    assert after_audit == before_audit
