"""A citizen and the public notice in Chromium (issue 12): find a mine in an open 公示, file a real-name objection with
an evidence file, keep the receipt; the region office and a department handle it (API); the citizen later reads
the outcome with the lookup code and nothing else; after the window the mine is listed, and the QR code on its
certificate — read from the PDF as a phone would read it — opens the mine's public page.

The public notice runs on the real Kafka-protocol broker and MongoDB-wire server (its real consumer, relay and
web app served over HTTP); its clock is fixed on a working day, so the window is open whatever day the suite runs."""
from __future__ import annotations

import dataclasses
import io
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from pypdf import PdfReader
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "public_notice"))

from notice_harness import Clock, proposed_event, start  # noqa: E402

from public_notice.domain.commands import Sweep  # noqa: E402
from shared import embedded  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

WEDNESDAY = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)        # 10:00 in Beijing, a working day
AFTER_WINDOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)    # the 5-working-day window ended on 8 December
OBJECTOR = {"name": "王晓明", "id_number": "11010519491231002X", "phone": "13912345678",
            "organisation": "某某环保协会", "email": "wangxm@example.cn"}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ffff3f"
                    "0005fe02fea7d6a4cb0000000049454e44ae426082")


@pytest.fixture
def served(settings, registry):
    port = embedded.free_port()
    settings = dataclasses.replace(settings, public_url=f"http://127.0.0.1:{port}")
    clock = Clock()
    clock.fixed = WEDNESDAY
    notice, finish = start(settings, registry, clock=clock)
    server = make_server("127.0.0.1", port, notice.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="notice-http")
    thread.start()
    try:
        yield notice, f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        finish()


def test_a_citizen_objects_reads_the_outcome_and_checks_a_certificate(served, page):
    notice, url = served
    for n in (1, 2):
        notice.deliver(proposed_event(n))
    batch = notice.call("POST", "/api/v1/notice/batches", "region",
                        {"application_ids": ["app-0001", "app-0002"], "working_days": 5,
                         "start_date": "2026-12-02"})
    assert batch.status_code == 201, batch.json
    batch_id = batch.json["id"]
    assert batch.json["window_end"] == "2026-12-08"
    assert notice.call("POST", f"/api/v1/notice/batches/{batch_id}/publish", "region").status_code == 200
    notice.bus.handle(Sweep())

    # The citizen finds the mine in the open 公示 and follows the objection link of that mine.
    page.goto(url + "/public/publicity")
    page.get_by_role("link", name="内蒙古自治区2026年第1批绿色矿山遴选结果公示").first.click()
    page.wait_for_load_state("networkidle")
    assert "示范矿山1号" in page.content() and "公示期" in page.content()
    page.locator('a[href*="application=app-0001"]').first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#application_id").input_value().endswith("|app-0001")
    for field, value in OBJECTOR.items():
        page.locator(f"#{field}").fill(value)
    page.locator("#grounds").fill("该矿排土场复绿面积与公示材料不符，现场仍有大面积裸露地表，请核实。")
    page.locator('input[name="indicators"][value="3"]').check()
    page.locator("#files").set_input_files([{"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG}])
    page.locator("#consent").check()
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_load_state("networkidle")
    receipt_no = page.locator("#receipt-no").inner_text().strip()
    code = page.locator("#lookup-code").inner_text().strip()
    assert receipt_no.startswith("YY2026-") and len(code) >= 8

    # The office triages it, the department verifies, the office concludes: not upheld, with a reply.
    (objection,) = notice.call("GET", "/api/v1/notice/objections", "region").json
    oid = objection["id"]
    detail = notice.call("GET", f"/api/v1/notice/objections/{oid}", "region").json
    assert detail["objector"]["name"] == OBJECTOR["name"]          # the office sees who objected
    assert "natural_resources" in detail["proposed_departments"]    # indicator 3's departments, from the catalog
    triaged = notice.call("POST", f"/api/v1/notice/objections/{oid}/triage", "region",
                          {"departments": ["natural_resources", "forestry_grassland"]})
    assert triaged.status_code == 200, triaged.json
    for department in triaged.json["departments"]:
        who = {"natural_resources": "reviewer_nr", "ecology_environment": "reviewer_eco",
               "forestry_grassland": "reviewer_forestry"}.get(department)
        assert who, f"no demo reviewer of {department} in the harness"
        found = notice.call("POST", f"/api/v1/notice/objections/{oid}/findings", who,
                            {"finding": "not_supported", "text": "经现场核查，复绿面积与材料一致。",
                             "site_check": {"date": "2026-12-02", "place": "排土场", "observed": "植被覆盖良好"}})
        assert found.status_code == 200, found.json
    reply = "经核实，所反映问题不成立。感谢您对绿色矿山建设的监督。"
    concluded = notice.call("POST", f"/api/v1/notice/objections/{oid}/conclusion", "region",
                            {"outcome": "not_upheld", "reasons": "各部门核查均不支持异议。", "reply": reply})
    assert concluded.status_code == 200, concluded.json

    # Later, the citizen reads the outcome with the receipt number and the code — and only that.
    page.goto(url + "/public/objections/lookup")
    page.locator("#receipt_no").fill(receipt_no)
    page.locator("#code").fill(code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#outcome").inner_text().strip() == "异议不成立"
    assert page.locator("#reply").inner_text().strip() == reply
    shown = page.content()
    for value in OBJECTOR.values():
        assert value not in shown

    # After the window: the office lists the mines; the certificate's QR code opens the mine's public page.
    notice.clock.fixed = AFTER_WINDOW
    notice.bus.handle(Sweep())
    listed = notice.call("POST", f"/api/v1/notice/batches/{batch_id}/listing", "region", {})
    assert listed.status_code == 200, listed.json
    certificate = notice.call("GET", "/public/list/mine-0001/certificate.pdf")
    assert certificate.status_code == 200 and certificate.mimetype == "application/pdf"
    (pdf_page,) = PdfReader(io.BytesIO(certificate.data)).pages
    (image,) = pdf_page.images
    (code_read,) = zxingcpp.read_barcodes(image.image.convert("L").resize(
        (image.image.width * 4, image.image.height * 4)))
    assert code_read.text == f"{url}/public/list/mine-0001"
    page.goto(code_read.text)
    assert page.locator("h1").first.inner_text().strip().startswith("示范矿山1号")
    assert "内蒙古自治区绿色矿山名录公告〔2026〕第1号" in page.content()
