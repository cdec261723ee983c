"""Re-evaluations after a 重大变化, over real Kafka and MongoDB: supervision's `re_evaluation_requested` (the
contract's example, published on the supervision topic and received by review_routing's real consumer) opens a
re-evaluation, listed by the API (due in 20 working days on the official calendar) and on the region office's
workspace; the office records the outcome (in Chromium, on its workspace), published once as
`re_evaluation_concluded`; the same event again is a duplicate, the same request under another event id is
processed and changes nothing."""
from __future__ import annotations

import copy
import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect
from review_harness import wait_for
from werkzeug.serving import make_server

from shared import embedded
from shared.messaging import read_topic
from shared.workdays import WorkingCalendar, beijing_date

pytestmark = pytest.mark.integration

EXAMPLE = json.loads((Path(__file__).resolve().parents[3] / "contracts" / "examples" /
                      "supervision.re_evaluation_requested.v1.json").read_text(encoding="utf-8"))
TOPIC = "supervision.case.events"
REGION = "review_routing.region.events"
API = "/api/v1/evaluation/re-evaluations"
NOW = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)   # Friday before 国庆 2025: the due date skips the holiday


def outcomes_of(review, envelope: dict) -> list[str]:
    return [o.status for o in review.consumer.outcomes if o.event_id == envelope["event_id"]]


def listed(review, who: str = "region", query: str = "") -> list[dict]:
    answer = review.call("GET", API + query, who)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def record_in_the_browser(review, page, request_id: str) -> None:
    """The region office's workspace in Chromium (the app on a local port, the office's bearer token): a refused
    outcome shows the field's message, the corrected one reloads the page with the conclusion."""
    server = make_server("127.0.0.1", embedded.free_port(), review.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="review-http")
    thread.start()
    try:
        page.set_extra_http_headers({"Authorization": review.headers("region")["Authorization"]})
        page.goto(f"http://127.0.0.1:{server.server_port}/evaluation/")
        row = page.locator(f'tr[data-re-evaluation="{request_id}"]')
        row.locator("summary", has_text="记录核查结论").click()
        form = row.locator("form.re-evaluation-form")
        form.get_by_label("不符合绿色矿山标准").check()
        form.get_by_label("实地核查日期").fill("2025-10-09")
        form.get_by_role("button", name="保存结论").click()
        expect(form.locator(".errors")).to_contain_text("不符合的理由：核查结论为“不符合绿色矿山标准”时须写明理由")
        form.get_by_label("理由（不符合时必填）").fill("扩界后新增采区未按设计复绿")
        form.get_by_role("button", name="保存结论").click()
        expect(row.locator(".re-evaluation-outcome")).to_have_text(
            "不符合绿色矿山标准：扩界后新增采区未按设计复绿（实地核查 2025-10-09）", timeout=30000)
    finally:
        server.shutdown()


def test_a_request_is_listed_concluded_and_a_replay_changes_nothing(review, page):
    review.clock.fixed = NOW
    request_id = "reeval-" + uuid.uuid4().hex[:12]
    event = copy.deepcopy(EXAMPLE)
    event["event_id"] = str(uuid.uuid4())
    event["payload"].update(request_id=request_id, requested_on="2025-09-26")
    review.publish(event, TOPIC)
    wait_for(lambda: "processed" in outcomes_of(review, event), what="the request consumed")

    [item] = listed(review)
    assert (item["request_id"], item["mine_name"], item["league"], item["status_label"]) == (
        request_id, "鄂尔多斯示范煤矿", "鄂尔多斯市", "待实地核查")
    assert item["due_date"] == WorkingCalendar().add_working_days(beijing_date(NOW), 20).isoformat() == "2025-10-30"
    assert item["changes_text"] == "开采规模：大型 → 中型（2026-09-01）" and item["overdue"] is False
    assert [x["request_id"] for x in listed(review, "bureau")] == [request_id]
    assert listed(review, "bureau_baotou") == []
    assert review.call("GET", API, "rv_energy").status_code == 403
    html = review.call("GET", "/evaluation/", "region").get_data(as_text=True)
    assert "重大变化复核评估（待核查 1 件，共 1 件）" in html and "记录核查结论" in html
    html = review.call("GET", "/evaluation/", "bureau").get_data(as_text=True)       # read-only for its 盟市
    assert "开采规模：大型 → 中型（2026-09-01）" in html and "记录核查结论" not in html
    assert "重大变化复核评估（待核查 0 件，共 0 件）" in review.call("GET", "/evaluation/", "bureau_baotou").get_data(
        as_text=True)

    refused = review.call("POST", f"{API}/{request_id}/outcome", "region", {"result": "fails", "checked_on": ""})
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"reason", "checked_on"}
    assert review.call("POST", f"{API}/{request_id}/outcome", "bureau",
                       {"result": "meets", "checked_on": "2025-09-26"}).status_code == 403
    review.clock.fixed = datetime(2025, 10, 9, 2, 0, tzinfo=UTC)
    record_in_the_browser(review, page, request_id)                 # the office's form on its workspace
    body = {"result": "fails", "reason": "扩界后新增采区未按设计复绿", "checked_on": "2025-10-09"}
    done = review.call("GET", f"{API}/{request_id}", "region")
    assert done.get_json()["outcome"]["result_label"] == "不符合绿色矿山标准", done.get_json()
    again = review.call("POST", f"{API}/{request_id}/outcome", "region", body)
    assert again.status_code == 200 and again.get_json() == done.get_json()
    other = review.call("POST", f"{API}/{request_id}/outcome", "region", {**body, "result": "meets"})
    assert other.status_code == 409

    stored = review.db["re_evaluations"].find_one({"_id": request_id})
    review.publish(event, TOPIC)                                     # redelivered: the inbox stops it
    wait_for(lambda: "duplicate" in outcomes_of(review, event), what="the duplicate")
    same = {**copy.deepcopy(event), "event_id": str(uuid.uuid4())}  # the same request under another event id
    review.publish(same, TOPIC)
    wait_for(lambda: "processed" in outcomes_of(review, same), what="the same request again")
    assert review.db["re_evaluations"].find_one({"_id": request_id}) == stored
    concluded = wait_for(lambda: [e for e in (json.loads(r.value) for r in read_topic(
        review.settings, review.settings.topic(REGION))) if e["type"] == "review_routing.re_evaluation_concluded"
        and e["payload"]["request_id"] == request_id], what="re_evaluation_concluded")
    assert len(concluded) == 1 and concluded[0]["payload"]["result"] == "fails"
    assert listed(review, query="?status=open") == []
    assert [x["outcome"]["reason"] for x in listed(review, query="?status=concluded")] == ["扩界后新增采区未按设计复绿"]
    html = review.call("GET", "/evaluation/", "region").get_data(as_text=True)
    assert "不符合绿色矿山标准：扩界后新增采区未按设计复绿（实地核查 2025-10-09）" in html
