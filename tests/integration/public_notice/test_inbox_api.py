"""The inbox over the real broker and database: a department task for 鄂尔多斯市's natural-resources reviewer
becomes one entry → unread 1 → read → 0; a replay adds nothing; the page and the badge's count."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from notice_harness import wait_for

from shared.contracts import new_event
from shared.messaging import encode

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"


def task_assigned(department="natural_resources", league="鄂尔多斯市") -> dict:
    example = json.loads((EXAMPLES / "review_routing.review_task_assigned.v1.json").read_text(encoding="utf-8"))
    task_id = f"task-{uuid.uuid4().hex[:8]}"
    payload = {**example["payload"], "task_id": task_id, "department": department, "league": league}
    return new_event(example["type"], producer="review_routing", aggregate_type="review_task", aggregate_id=task_id,
                     aggregate_version=1, payload=payload)


def publish(notice, event: dict) -> None:
    """Onto its department's topic (review_routing.tasks.<department>), as review routing's relay would."""
    topic = notice.settings.topic(f"review_routing.tasks.{event['payload']['department']}")
    notice.producer.send(topic, key=event["aggregate_id"].encode(), value=encode(event)).get(timeout=30)


def deliver(notice, event: dict, times: int = 1) -> None:
    publish(notice, event)
    wait_for(lambda: times_handled(notice, event["event_id"]) >= times, what=event["type"])


def times_handled(notice, event_id) -> int:
    return sum(1 for o in notice.consumer.outcomes if getattr(o, "event_id", None) == event_id)


def test_a_task_reaches_the_reviewer_once_and_is_read(notice):
    event = task_assigned()
    deliver(notice, event)
    answer = notice.call("GET", "/api/v1/notice/inbox", "reviewer_nr")
    assert answer.status_code == 200 and answer.headers["X-Total-Count"] == "1"
    [entry] = answer.json
    assert entry["title"].startswith("新的审核任务") and entry["link"] == f"/review/tasks/{event['payload']['task_id']}"
    assert entry["read"] is False
    assert notice.call("GET", "/api/v1/notice/inbox/unread", "reviewer_nr").json == {"unread": 1}
    # Nobody else: not the other departments, not the same department of another 盟市.
    for other in ("reviewer_eco", "reviewer_nr_baotou", "bureau", "enterprise"):
        assert notice.call("GET", "/api/v1/notice/inbox/unread", other).json == {"unread": 0}
    assert notice.call("POST", f"/api/v1/notice/inbox/{entry['id']}/read", "reviewer_eco").status_code == 404

    deliver(notice, event, times=2)                          # the replay
    assert notice.db["inbox"].count_documents({"event_id": event["event_id"]}) == 1

    read = notice.call("POST", f"/api/v1/notice/inbox/{entry['id']}/read", "reviewer_nr")
    assert read.status_code == 200 and read.json["read"] is True
    assert notice.call("GET", "/api/v1/notice/inbox/unread", "reviewer_nr").json == {"unread": 0}
    assert notice.call("GET", "/api/v1/notice/inbox?unread_only=true", "reviewer_nr").json == []


def test_read_all_pages_and_sign_in(notice):
    first, second = task_assigned(), task_assigned()
    deliver(notice, first)
    deliver(notice, second)
    newest_first = notice.call("GET", "/api/v1/notice/inbox?per_page=1", "reviewer_nr")
    assert newest_first.headers["X-Total-Count"] == "2" and len(newest_first.json) == 1
    assert notice.call("GET", "/api/v1/notice/inbox/unread", None).status_code == 401
    page = notice.call("GET", "/notice/inbox", "reviewer_nr", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "消息通知" in page.get_data(as_text=True)
    assert page.get_data(as_text=True).count("标为已读") >= 2
    assert 'id="gm-inbox"' in page.get_data(as_text=True)        # the badge beside the name, on every page
    assert "/api/v1/notice/inbox/unread" in page.get_data(as_text=True)
    assert notice.call("POST", "/api/v1/notice/inbox/read-all", "reviewer_nr").json == {"marked": 2}
    assert notice.call("GET", "/api/v1/notice/inbox/unread", "reviewer_nr").json == {"unread": 0}
