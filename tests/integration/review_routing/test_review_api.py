"""The review API on real servers: department and area scoping (403), queue filters, transfer, reminders,
photos, evidence views in the audit log, the overdue sweep."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from review_builders import SAND_MINE, submission, submitted_event
from review_harness import wait_for

from review_routing.domain.commands import SweepOverdue

pytestmark = pytest.mark.integration

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


def route_two_cases(review, catalog):
    review.publish(submitted_event(submission(catalog, "app-ordos")))
    review.publish(submitted_event(submission(catalog, "app-baotou", mine=SAND_MINE)))
    for app_id in ("app-ordos", "app-baotou"):
        tasks = wait_for(lambda app_id=app_id: review.routed_tasks(app_id, 1), what=f"routing {app_id}")
        wait_for(lambda app_id=app_id, tasks=tasks: len(review.queued(app_id, 1)) == len(tasks),
                 what=f"queue {app_id}")
    return ({t["department"]: t["_id"] for t in review.routed_tasks("app-ordos", 1)},
            {t["department"]: t["_id"] for t in review.routed_tasks("app-baotou", 1)})


def status(response):
    return response.status_code


def test_scoping_filters_transfer_remind_photos_and_audit(review, catalog):
    ordos, baotou = route_two_cases(review, catalog)
    eco_task, energy_task = ordos["ecology_environment"], ordos["energy"]

    # A 生态环境 reviewer of 包头市: its own queue shows only 包头市; 鄂尔多斯市 is 403 everywhere.
    queue = review.call("GET", "/api/v1/review/queues/ecology_environment", "reviewer_eco_baotou").get_json()
    assert [i["task_id"] for i in queue["items"]] == [baotou["ecology_environment"]]
    for method, path in [("GET", "/api/v1/review/queues/ecology_environment?league=鄂尔多斯市"),
                         ("GET", f"/api/v1/review/tasks/{eco_task}"),
                         ("POST", f"/api/v1/review/tasks/{eco_task}/claim"),
                         ("POST", f"/api/v1/review/tasks/{eco_task}/opinion"),
                         ("GET", f"/api/v1/review/tasks/{eco_task}/evidence/att-3"),
                         ("GET", f"/api/v1/review/tasks/{eco_task}/audit"),
                         ("GET", f"/review/tasks/{eco_task}")]:
        body = {"decision": "agree"} if path.endswith("opinion") else None
        response = review.call(method, path, "reviewer_eco_baotou", body)
        assert status(response) == 403, (method, path, response.get_data(as_text=True)[:200])
    photo = review.call("POST", f"/api/v1/review/tasks/{eco_task}/photos", "reviewer_eco_baotou",
                        data={"photo": (io.BytesIO(JPEG), "a.jpg", "image/jpeg")}, content_type="multipart/form-data")
    assert status(photo) == 403
    # ... and the 鄂尔多斯市 生态环境 reviewer cannot touch another department's queue or task.
    assert status(review.call("GET", "/api/v1/review/queues/energy", "rv_ecology_environment")) == 403
    assert status(review.call("GET", f"/api/v1/review/tasks/{energy_task}", "rv_ecology_environment")) == 403
    assert status(review.call("POST", f"/api/v1/review/tasks/{energy_task}/claim", "rv_ecology_environment")) == 403
    forbidden = review.call("GET", f"/api/v1/review/tasks/{energy_task}", "rv_ecology_environment").get_json()
    assert "仅限本部门、本辖区" in forbidden["message"]
    # The bureau of 包头市 cannot see or decide a 鄂尔多斯市 case; the region office reads but does not act.
    assert status(review.call("GET", "/api/v1/review/cases/app-ordos", "bureau_baotou")) == 403
    assert status(review.call("POST", "/api/v1/review/cases/app-ordos/decision", "bureau_baotou",
                              {"decision": "reject", "reasons": [{"text": "x"}]})) == 403
    assert status(review.call("GET", "/api/v1/review/cases/app-ordos", "region")) == 200
    assert status(review.call("GET", f"/api/v1/review/tasks/{eco_task}", "region")) == 200
    assert status(review.call("POST", f"/api/v1/review/tasks/{eco_task}/claim", "region")) == 403
    assert status(review.call("GET", "/api/v1/review/queues/energy?league=包头市", "region")) == 200
    assert status(review.call("GET", "/api/v1/review/tasks/nope", "rv_ecology_environment")) == 404
    assert status(review.call("GET", "/api/v1/review/queues/finance_dept", "region")) == 404
    cases = review.call("GET", "/api/v1/review/cases", "bureau").get_json()
    assert [c["application_id"] for c in cases] == ["app-ordos"]

    # Queue filters.
    def items(query, user="rv_ecology_environment"):
        response = review.call("GET", f"/api/v1/review/queues/ecology_environment{query}", user)
        assert response.status_code == 200, response.get_json()
        return [i["task_id"] for i in response.get_json()["items"]]

    assert items("") == [eco_task]
    assert items("?status=claimed") == [] and items("?status=open,claimed") == [eco_task]
    assert items("?mine=示范煤") == [eco_task] and items("?mine=砂石") == []
    assert items("?due_before=2000-01-01") == [] and items("?overdue=true") == []
    assert sorted(items("?league=包头市", "region")) == [baotou["ecology_environment"]]
    bad = review.call("GET", "/api/v1/review/queues/ecology_environment?status=done", "rv_ecology_environment")
    assert status(bad) == 422 and "状态应为" in str(bad.get_json()["errors"])

    # Transfer within the department and area only.
    assert status(review.call("POST", f"/api/v1/review/tasks/{eco_task}/claim", "rv_ecology_environment")) == 200
    colleagues = review.call("GET", f"/api/v1/review/tasks/{eco_task}/colleagues", "rv_ecology_environment").get_json()
    assert [c["username"] for c in colleagues] == ["rv_ecology_2"]
    refused = review.call("POST", f"/api/v1/review/tasks/{eco_task}/transfer", "rv_ecology_environment",
                          {"to_user": "reviewer_eco_baotou", "reason": "忙"})
    assert (status(refused) == 422
            and "不是生态环境部门在鄂尔多斯市的审核人员" in refused.get_json()["errors"]["to_user"][0])
    moved = review.call("POST", f"/api/v1/review/tasks/{eco_task}/transfer", "rv_ecology_environment",
                        {"to_user": "rv_ecology_2", "reason": "片区调整"})
    assert status(moved) == 200 and moved.get_json()["claimed_by"] == "rv_ecology_2"
    wait_for(lambda: review.db["queue"].find_one({"_id": eco_task})["claimed_by"] == "rv_ecology_2",
             what="queue shows the transfer")

    # Reminders: the lead bureau only.
    assert status(review.call("POST", f"/api/v1/review/tasks/{eco_task}/remind", "rv_ecology_environment",
                              {"message": "快"})) == 403
    reminded = review.call("POST", f"/api/v1/review/tasks/{eco_task}/remind", "bureau", {"message": "请本周内办结"})
    assert status(reminded) == 200 and reminded.get_json()["reminders"] == 1
    wait_for(lambda: review.db["queue"].find_one({"_id": eco_task})["reminders"] == 1, what="queue reminder")

    # Photos: refused types, stored ones served as attachments, the view audited.
    svg = review.call("POST", f"/api/v1/review/tasks/{eco_task}/photos", "rv_ecology_2",
                      data={"photo": (io.BytesIO(b"<svg/>"), "x.svg", "image/svg+xml")},
                      content_type="multipart/form-data")
    assert status(svg) == 422 and "JPEG 或 PNG" in svg.get_json()["errors"]["photo"][0]
    assert review.db["site_photos.files"].count_documents({}) == 0
    stored = review.call("POST", f"/api/v1/review/tasks/{eco_task}/photos", "rv_ecology_2",
                         data={"photo": (io.BytesIO(JPEG), "排土场.jpg", "image/jpeg")},
                         content_type="multipart/form-data").get_json()
    download = review.call("GET", stored["url"], "bureau")
    assert status(download) == 200 and download.data == JPEG
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Type"] == "image/jpeg" and download.headers["X-Content-Type-Options"] == "nosniff"
    assert status(review.call("GET", stored["url"], "reviewer_eco_baotou")) == 403

    # Opinions are validated with Chinese reasons; evidence views are audited.
    invalid = review.call("POST", f"/api/v1/review/tasks/{eco_task}/opinion", "rv_ecology_2",
                          {"decision": "agree", "indicators": [{"indicator": 3, "score": "9"}]})
    assert status(invalid) == 422 and "不能超过该项标准分" in invalid.get_json()["errors"]["indicators[0].score"][0]
    not_mine = review.call("POST", f"/api/v1/review/tasks/{eco_task}/opinion", "rv_ecology_environment",
                           {"decision": "agree"})
    assert status(not_mine) == 409 and "请先由其转办" in not_mine.get_json()["message"]
    assert status(review.call("GET", f"/api/v1/review/tasks/{eco_task}/evidence/att-3", "rv_ecology_2")) == 302
    assert status(review.call("GET", f"/api/v1/review/tasks/{eco_task}/evidence/att-report", "rv_ecology_2")) == 302
    assert status(review.call("GET", f"/api/v1/review/tasks/{eco_task}/evidence/att-nowhere", "rv_ecology_2")) == 404
    assert status(review.call("GET", "/api/v1/review/cases/app-ordos/evidence/1/att-report", "bureau")) == 302
    audit = review.call("GET", f"/api/v1/review/tasks/{eco_task}/audit", "rv_ecology_2").get_json()
    actions = [(a["action"], a["actor"]) for a in audit]
    for expected in [("evidence_viewed", "rv_ecology_2"), ("photo_viewed", "bureau"),
                     ("photo_uploaded", "rv_ecology_2"), ("task_reminded", "bureau"),
                     ("task_transferred", "rv_ecology_environment"), ("task_claimed", "rv_ecology_environment")]:
        assert expected in actions
    viewed = next(a for a in audit if a["action"] == "evidence_viewed" and a["target"] == "att-3")
    assert viewed["detail"]["filename"] == "标牌照片.jpg"
    case_audit = review.call("GET", "/api/v1/review/cases/app-ordos/audit", "bureau").get_json()
    assert {"case_routed", "evidence_viewed"} <= {a["action"] for a in case_audit}


def test_overdue_sweep_flags_and_reminds_and_queues_show_it(review, catalog):
    ordos, _ = route_two_cases(review, catalog)
    latest_due = max(date.fromisoformat(t["due_date"]) for t in review.db["tasks"].find())
    day = latest_due + timedelta(days=3)
    while not review.bus.dependencies["calendar"].is_workday(day):
        day += timedelta(days=1)
    late = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)      # 10:00 北京时间, a working day
    review.clock.fixed = late
    try:
        sent = review.bus.handle(SweepOverdue())
        assert sent == 2 * len(ordos) + 2 * len(_)         # overdue + automatic reminder for every task
        assert review.bus.handle(SweepOverdue()) == 0       # once per day at most
        queue = review.call("GET", "/api/v1/review/queues/water_resources?overdue=true", "rv_water_resources")
        body = queue.get_json()
        assert [i["task_id"] for i in body["items"]] == [ordos["water_resources"]]
        assert body["items"][0]["overdue"] and body["items"][0]["days_overdue"] >= 1 and body["overdue"] == 1
        wait_for(lambda: review.db["queue"].find_one({"_id": ordos["water_resources"]})["overdue_flagged"],
                 what="overdue event in the queue")
        wait_for(lambda: review.db["queue"].find_one({"_id": ordos["water_resources"]})["reminders"] == 1,
                 what="automatic reminder in the queue")
        case = review.call("GET", "/api/v1/review/cases/app-ordos", "bureau").get_json()
        assert len(case["versions"][0]["late"]) == len(ordos)
    finally:
        review.clock.fixed = None
