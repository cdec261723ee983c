"""The intake consumer on real servers follows the public notice: public_notice's listing events (the contract
examples, each validated by the real consumer and claimed in its inbox) move a 拟公示 case to 公示中 with the
window's dates on the enterprise's case page, tell the enterprise an objection is being verified (nothing about
who), apply an upheld objection's outcome (未纳入名录, or back to 自治区评估中) and list the mine with its
announcement number; a replay is a duplicate and out-of-order events end the same."""
from __future__ import annotations

import json

import pytest
from test_intake_region_consumer import case_page, consumer, deliver, example, forwarded  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration

TOPIC = "public_notice.listing.events"
PERSONAL = ("张三", "150102199003071234", "13800000000")


@pytest.fixture
def proposed(ent1, forwarded, consumer):  # noqa: F811 - the fixtures imported above
    app_id = forwarded
    decided = example("review_routing.region_review_decided", app_id, decision="proposed", reasons=[])
    assert deliver(consumer, decided) == "processed"
    assert ent1.get(f"/api/v1/applications/{app_id}").json["status"] == "proposed"
    return app_id


def notice(event_type: str, app_id: str, **payload) -> dict:
    envelope = example(event_type, app_id, **payload)
    if event_type == "public_notice.publicity_published":   # a batch: the case is one of its entries
        envelope["payload"].pop("application_id"), envelope["payload"].pop("version_no")
        envelope["payload"].pop("review_id")
        entry = {**envelope["payload"]["entries"][0], "application_id": app_id, "review_id": f"{app_id}.v1",
                 "version_no": 1}
        envelope["payload"]["entries"] = [entry]
    return envelope


def status(ent1, app_id):
    return ent1.get(f"/api/v1/applications/{app_id}").json


def test_publicised_then_an_objection_not_upheld_then_listed(ent1, proposed, consumer, client, intake_settings):  # noqa: F811
    app_id = proposed
    published = notice("public_notice.publicity_published", app_id)
    assert deliver(consumer, published, TOPIC) == "processed"
    assert deliver(consumer, published, TOPIC) == "duplicate"
    body = status(ent1, app_id)
    assert body["status"] == "publicised" and body["status_label"] == "公示中"
    window = published["payload"]
    html = case_page(client, intake_settings, ent1.principal, app_id)
    y, m, d = (int(x) for x in window["window_start"].split("-"))
    assert "公示中" in html and f"{y}年{m}月{d}日" in html and 'id="publicity-window"' in html

    filed = notice("public_notice.objection_filed", app_id)
    assert deliver(consumer, filed, TOPIC) == "processed"
    assert status(ent1, app_id)["status"] == "publicised"
    html = case_page(client, intake_settings, ent1.principal, app_id)
    assert "公示期内收到异议，有关部门正在核实" in html
    assert filed["payload"]["receipt_no"] not in html and not any(p in html for p in PERSONAL)

    concluded = notice("public_notice.objection_concluded", app_id, outcome="not_upheld", action=None,
                       reasons="经核实，异议反映的问题不存在")
    assert deliver(consumer, concluded, TOPIC) == "processed"
    assert status(ent1, app_id)["status"] == "publicised"
    assert 'id="publicity-objection"' not in case_page(client, intake_settings, ent1.principal, app_id)

    listed = notice("public_notice.mine_listed", app_id)
    assert deliver(consumer, listed, TOPIC) == "processed"
    body = status(ent1, app_id)
    assert body["status"] == "listed" and body["status_label"] == "已纳入绿色矿山名录"
    html = case_page(client, intake_settings, ent1.principal, app_id)
    assert listed["payload"]["announcement_no"] in html
    for replay in (published, filed, concluded, listed):
        assert deliver(consumer, replay, TOPIC) == "duplicate"
    assert status(ent1, app_id)["status"] == "listed"


def test_an_upheld_objection_refused_is_final(ent1, proposed, consumer):  # noqa: F811
    app_id = proposed
    # the objection's events overtake the batch's (they travel under different keys)
    assert deliver(consumer, notice("public_notice.objection_filed", app_id), TOPIC) == "processed"
    assert status(ent1, app_id)["status"] == "proposed"
    refused = notice("public_notice.objection_concluded", app_id, outcome="upheld", action="refuse")
    assert deliver(consumer, refused, TOPIC) == "processed"
    body = status(ent1, app_id)
    assert body["status"] == "not_listed"
    assert deliver(consumer, notice("public_notice.mine_listed", app_id), TOPIC) == "processed"
    assert status(ent1, app_id)["status"] == "not_listed"
    text = json.dumps(body, ensure_ascii=False)
    assert refused["payload"]["reasons"] in text and not any(p in text for p in PERSONAL)


def test_an_upheld_objection_returned_to_the_region_goes_back_to_evaluation(ent1, proposed, consumer):  # noqa: F811
    app_id = proposed
    # the objection's outcome overtakes the batch's event (they travel under different keys)
    returned = notice("public_notice.objection_concluded", app_id, outcome="upheld", action="return_to_region")
    assert deliver(consumer, returned, TOPIC) == "processed"
    assert deliver(consumer, notice("public_notice.publicity_published", app_id), TOPIC) == "processed"
    body = status(ent1, app_id)
    assert body["status"] == "under_evaluation" and body["status_label"].startswith("自治区评估中")
    again = example("review_routing.region_review_decided", app_id, decision="proposed", reasons=[])
    assert deliver(consumer, again) == "processed"
    assert status(ent1, app_id)["status"] == "proposed"
