"""公示 batches on real servers (MongoDB-wire server, Kafka-protocol broker, the service's consumer and relay):
region_review_decided events become waiting proposals (replays change nothing); the office composes and publishes
a batch; the window opens and closes by the sweep with a fixed clock (and reads are right before it runs); the
public API and pages show it without sign-in."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from notice_harness import proposed_event

from public_notice.domain.commands import Sweep

pytestmark = pytest.mark.integration

TUESDAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)        # 10:00 in Beijing


def numbers(k: int) -> list[int]:
    return random.sample(range(10000, 99999), k)


def test_proposals_compose_publish_open_close(notice):
    notice.clock.fixed = TUESDAY
    a, b, c = numbers(3)
    first = proposed_event(a)
    notice.deliver(first)
    notice.deliver(proposed_event(b, league="包头市", enterprise=("包头示范矿业有限公司", "91150200MA0N00002B")))
    notice.deliver(proposed_event(c, decision="returned"))
    notice.deliver(first, "the replay")
    app_a, app_b, app_c = (f"app-{n:04d}" for n in (a, b, c))
    assert notice.db["proposals"].count_documents({"application_id": app_a}) == 1
    before = notice.db["proposals"].find_one({"_id": f"{app_a}.v1"})

    waiting = notice.call("GET", "/api/v1/notice/proposals", "region")
    assert waiting.status_code == 200
    ids = {p["application_id"] for p in waiting.json}
    assert {app_a, app_b} <= ids and app_c not in ids
    baotou = notice.call("GET", "/api/v1/notice/proposals?league=包头市", "region").json
    assert app_b in {p["application_id"] for p in baotou} and all(p["league"] == "包头市" for p in baotou)
    assert notice.call("GET", "/api/v1/notice/proposals").status_code == 401
    assert notice.call("GET", "/api/v1/notice/proposals", "bureau").status_code == 403

    # refusals, each naming its field
    saturday = notice.call("POST", "/api/v1/notice/batches", "region",
                           {"application_ids": [app_a], "start_date": "2026-12-05"})
    assert saturday.status_code == 422 and "start_date" in saturday.json["errors"]
    unknown = notice.call("POST", "/api/v1/notice/batches", "region", {"application_ids": [app_a], "colour": "红"})
    assert unknown.status_code == 422 and "colour" in unknown.json["errors"]
    foreign = notice.call("POST", "/api/v1/notice/batches", "region", {"application_ids": [app_c]})
    assert foreign.status_code == 422 and "application_ids" in foreign.json["errors"]
    assert notice.call("POST", "/api/v1/notice/batches", "admin", {"application_ids": [app_a]}).status_code == 403

    made = notice.call("POST", "/api/v1/notice/batches", "region", {"application_ids": [app_a, app_b]})
    assert made.status_code == 201, made.json
    draft = made.json
    assert (draft["status"], draft["window_start"], draft["window_end"]) == ("draft", "2026-12-02", "2026-12-08")
    assert draft["title"].startswith("内蒙古自治区2026年第") and draft["title"].endswith("批绿色矿山遴选结果公示")
    batch_id = draft["id"]
    public_ids = {x["batch_id"] for x in notice.call("GET", "/api/v1/notice/publicity").json}
    assert batch_id not in public_ids
    assert notice.call("GET", f"/api/v1/notice/publicity/{batch_id}").status_code == 404

    changed = notice.call("PATCH", f"/api/v1/notice/batches/{batch_id}", "region", {"working_days": 7})
    assert changed.status_code == 200 and changed.json["window_end"] == "2026-12-10"
    published = notice.call("POST", f"/api/v1/notice/batches/{batch_id}/publish", "region")
    assert published.status_code == 200 and published.json["status"] == "published"
    assert notice.call("DELETE", f"/api/v1/notice/batches/{batch_id}", "region").status_code == 409
    [event] = [p for p in notice.published("public_notice.publicity_published") if p["batch_id"] == batch_id]
    assert event["window_end"] == "2026-12-10" and {e["application_id"] for e in event["entries"]} == {app_a, app_b}

    listed = {x["batch_id"]: x for x in notice.call("GET", "/api/v1/notice/publicity").json}
    mine = listed[batch_id]
    assert mine["status"] == "published" and not mine["accepts_objections"]
    assert {m["league"] for m in mine["mines"]} == {"鄂尔多斯市", "包头市"}
    assert {m["total"] for m in mine["mines"]} == {"92.50"} and all(m["scale_label"] == "大型" for m in mine["mines"])

    # the window opens: right on read before the sweep, then stored by it
    notice.clock.fixed = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    one = notice.call("GET", f"/api/v1/notice/publicity/{batch_id}").json
    assert one["status"] == "open" and one["accepts_objections"] and one["days_left"] == 7
    notice.bus.handle(Sweep())
    assert notice.db["batches"].find_one({"_id": batch_id})["status"] == "open"

    # …and closes after the 7th working day
    notice.clock.fixed = datetime(2026, 12, 11, 1, 0, tzinfo=UTC)
    assert notice.call("GET", f"/api/v1/notice/publicity/{batch_id}").json["status"] == "closed"
    notice.bus.handle(Sweep())
    notice.bus.handle(Sweep())
    doc = notice.db["batches"].find_one({"_id": batch_id})
    assert doc["status"] == "closed" and doc["closed_on"] == "2026-12-11"
    assert {e["state"] for e in doc["entries"]} == {"clear"}
    closed = [p for p in notice.published("public_notice.publicity_closed") if p["batch_id"] == batch_id]
    assert len(closed) == 1
    assert [h["action"] for h in doc["history"]] == ["composed", "changed", "published", "opened", "closed"]

    # pages: the public's (no sign-in) and the office's
    html = {"Accept": "text/html"}
    page = notice.call("GET", f"/public/publicity/{batch_id}", headers=html)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "内政办发〔2025〕24号" in text and "2026年12月2日至2026年12月10日" in text
    assert f"示范矿山{b}号" in text
    assert notice.call("GET", "/public/publicity", headers=html).status_code == 200
    staff = notice.call("GET", "/notice/publicity", "region", headers=html)
    assert staff.status_code == 200 and "待公示案件" in staff.get_data(as_text=True)
    assert notice.call("GET", f"/notice/publicity/{batch_id}", "region", headers=html).status_code == 200
    overview = notice.call("GET", "/notice/", "region", headers=html)
    assert overview.status_code == 200 and "可列入名录的批次" in overview.get_data(as_text=True)

    # a replay long after changes nothing
    notice.deliver(first, "the late replay")
    after = notice.db["proposals"].find_one({"_id": f"{app_a}.v1"})
    assert after["status"] == "publicised" and after["version"] > before["version"]
    assert after["history"][0] == before["history"][0]


def test_window_preview_names_the_holidays(notice):
    notice.clock.fixed = TUESDAY
    answer = notice.call("GET", "/api/v1/notice/window?start=2026-09-30&working_days=5")
    assert answer.status_code == 200
    assert answer.json["end"] == "2026-10-12"
    assert any(d["holiday"] == "国庆节" for d in answer.json["skipped"])
    refused = notice.call("GET", "/api/v1/notice/window?start=2026-10-02")
    assert refused.status_code == 422 and "国庆节" in "".join(refused.json["errors"]["start"])
    default = notice.call("GET", "/api/v1/notice/window").json
    assert (default["start"], default["end"]) == ("2026-12-02", "2026-12-08")
    assert notice.call("GET", "/api/v1/notice/window?working_days=31").status_code == 422
