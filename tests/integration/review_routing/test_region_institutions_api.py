"""The register of evaluation institutions over real MongoDB and Kafka: the region office registers an institution
(with a declared conflict of interest), an evaluator bound to it reads it, a misconduct finding bans it for three
years, and the `misconduct_found` event travels through the outbox and Kafka to the public notice, which publishes
the 通报 (public page and API, no sign-in) once, however often the event is delivered."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from review_harness import PASSWORD, wait_for

from public_notice.bootstrap import event_handlers as notice_handlers
from public_notice.entrypoints.http import create_app as notice_app
from review_routing.adapters.unit_of_work import MongoReviewUnitOfWork
from review_routing.service_layer.region.institutions import eligible_institutions, report_refusal
from shared import identity
from shared.messaging import EventConsumer
from shared.runtime import service_store
from shared.storage import outbox_messages

pytestmark = pytest.mark.integration

CODE = "91150100MA0P00011N"
ENTERPRISE = {"name": "鄂尔多斯示范煤业有限公司", "credit_code": "91150600MA0N00001W"}
OTHER_ENTERPRISE = {"name": "包头示范砂石有限公司", "credit_code": "91150200MA0N00002B"}
BODY = {"name": "内蒙古绿原矿山评估咨询有限公司", "credit_code": CODE,
        "contact": {"person": "王工", "phone": "0471-6600001", "email": "lvyuan@example.cn", "address": "呼和浩特市"},
        "staff": [{"name": "李评", "title": "高级工程师"}, {"name": "赵核", "title": "工程师"}],
        "conflicts": [{"kind": "consulting", "credit_code": ENTERPRISE["credit_code"],
                       "enterprise_name": ENTERPRISE["name"], "note": "2025年为其编制绿色矿山建设方案"}]}


@pytest.fixture
def notice(settings, review):
    """The public notice's real consumer (its own database) and web app."""
    store = service_store(settings, "public_notice")
    store.ensure_indexes()
    consumer = EventConsumer("public_notice", settings, store, notice_handlers(settings, store))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True, name="notice-consumer")
    thread.start()
    try:
        yield store, notice_app(settings).test_client()
    finally:
        stop.set()
        thread.join(timeout=15)


def test_register_ban_and_the_public_bulletin(review, notice, settings):
    notice_store, public = notice
    created = review.call("POST", "/api/v1/evaluation/institutions", "region", BODY)
    assert created.status_code == 201, created.json
    inst_id = created.json["institution_id"]
    assert created.json["status"] == "active" and len(created.json["staff"]) == 2
    assert review.call("POST", "/api/v1/evaluation/institutions", "region", BODY).status_code == 409
    refused = review.call("POST", "/api/v1/evaluation/institutions", "region",
                          {**BODY, "credit_code": CODE[:17] + "0"})
    assert refused.status_code == 422 and "校验位" in refused.json["errors"]["credit_code"][0]
    assert review.db["institutions"].count_documents({}) == 1

    # An evaluator account bound to the institution reads it, and nothing else of the register.
    identity.UserDirectory(review.identity_db).add("eval_lvyuan", PASSWORD, "evaluator", institution=inst_id,
                                                   replace=True)
    assert review.principal("eval_lvyuan").institution == inst_id
    own = review.call("GET", f"/api/v1/evaluation/institutions/{inst_id}", "eval_lvyuan")
    assert own.status_code == 200 and own.json["conflicts"][0]["kind_label"] == "咨询服务"
    assert review.call("PATCH", f"/api/v1/evaluation/institutions/{inst_id}", "eval_lvyuan",
                       {"name": "改名"}).status_code == 403

    # Eligibility on the real unit of work: the conflict excludes it for that enterprise only.
    uow = MongoReviewUnitOfWork(review.store)
    today = date.today()
    eligible, excluded = uow.read(lambda: eligible_institutions(uow, ENTERPRISE, today))
    assert eligible == [] and "利益冲突" in excluded[0]["reason"]
    eligible, _ = uow.read(lambda: eligible_institutions(uow, OTHER_ENTERPRISE, today))
    assert [i.id for i in eligible] == [inst_id]

    staff_id = own.json["staff"][0]["staff_id"]
    found_on = today.replace(day=1).isoformat()
    finding = review.call("POST", f"/api/v1/evaluation/institutions/{inst_id}/findings", "region",
                          {"kind": "collusion_fraud", "facts": "以其他矿山的现场照片冒充本矿照片", "found_on": found_on,
                           "staff_id": staff_id, "document_no": "内自然资字〔2026〕12号"})
    assert finding.status_code == 201, finding.json
    until = finding.json["finding"]["banned_until"]
    assert until == date(today.year + 3, today.month, 1).isoformat()
    assert finding.json["institution"]["status"] == "banned"
    eligible, excluded = uow.read(lambda: eligible_institutions(uow, OTHER_ENTERPRISE, today))
    assert eligible == [] and "串通企业弄虚作假" in excluded[0]["reason"]
    assert "不再采信" in uow.read(lambda: report_refusal(uow, inst_id, today))
    audit = [e["action"] for e in review.db["audit"].find({"target": inst_id})]
    assert sorted(audit) == ["institution_registered", "misconduct_found"]

    # The 通报: outbox → Kafka → the public notice's consumer → the public page and API (no sign-in).
    bulletins = wait_for(lambda: public.get("/api/v1/notice/bulletins").json, timeout=90, what="the 通报")
    (bulletin,) = bulletins
    assert bulletin["institution_name"] == BODY["name"] and bulletin["person"] == "李评"
    assert bulletin["misconduct_label"] == "串通企业弄虚作假" and bulletin["banned_until"] == until
    assert bulletin["title"] == "关于内蒙古绿原矿山评估咨询有限公司串通企业弄虚作假的通报"
    page = public.get("/public/bulletins").get_data(as_text=True)
    for text in (BODY["name"], "评估人员李评", "以其他矿山的现场照片冒充本矿照片", "内自然资字〔2026〕12号", until):
        assert text in page, text

    # Delivered again (a replay under the same event): still one 通报.
    (envelope,) = [m["envelope"] for m in outbox_messages(review.db, "review_routing.misconduct_found")]
    review.publish(envelope, topic="review_routing.region.events")
    review.publish({**envelope, "event_id": "00000000-0000-4000-8000-000000000001"},
                   topic="review_routing.region.events")
    wait_for(lambda: notice_store.db["inbox"].count_documents({}) >= 2, timeout=60, what="the replays consumed")
    assert notice_store.db["bulletins"].count_documents({}) == 1


def test_the_demo_register_loads_once_and_binds_the_demo_evaluator(review):
    from review_routing.entrypoints.region.institutions import load_demo_data
    from shared.cli import DEMO_USERS

    first = load_demo_data(bus=review.bus)
    assert len(first["institutions"]) == 3 and len(first["findings"]) == 1
    assert load_demo_data(bus=review.bus) == {"institutions": [], "findings": []}
    username, role, options, name = next(u for u in DEMO_USERS if u[0] == "evaluator")
    identity.UserDirectory(review.identity_db).add(username, PASSWORD, role, display_name=name, replace=True,
                                                   **options)
    (own,) = review.call("GET", "/api/v1/evaluation/institutions", "evaluator").json
    assert own["institution_id"] == options["institution"] and own["status"] == "active"
    listing = review.call("GET", "/api/v1/evaluation/institutions", "region").json
    assert sorted(i["status"] for i in listing) == ["active", "active", "banned"]
    assert len(outbox_messages(review.db, "review_routing.misconduct_found")) == 1
