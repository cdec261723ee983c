"""The case page's 办件编号, progress (提交 → 部门审核 → 初审决定 → 自治区评估 → 公示 → 公告) with the initial review's
deadline, and the receipt (回执) PDF read back with pypdf: case number, enterprise, credit code, mine, place,
Beijing submission time, version, the materials handed in (Chinese labels) and the deadline."""
from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from intake_api_support import COAL_MINE, full_assessment, headers, upload_required
from pypdf import PdfReader

from shared.clock import beijing_time
from shared.workdays import DeadlinePolicy, WorkingCalendar

pytestmark = pytest.mark.integration


def get(client, settings, principal, path, accept="text/html"):
    return client.get(path, headers={**headers(settings, principal), "Accept": accept})


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_case_number_progress_and_receipt(ent1, bureau, ent2, client, intake_settings):
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id, "assessment": full_assessment(),
                                                "declared_penalties": False}).json["id"]
    html = get(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}").get_data(as_text=True)
    assert "办件编号：提交后分配" in html and "receipt.pdf" not in html
    assert get(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}/receipt.pdf").status_code \
        == 404  # a draft has no receipt
    upload_required(ent1, app_id)
    evidence = ent1.upload(app_id, "evidence", filename="P1证照.pdf", indicator="P1")
    assert evidence.status_code == 201
    submitted = ent1.post(f"/api/v1/applications/{app_id}/submit").json
    case_no = submitted["case_no"]
    assert re.fullmatch(r"150600-\d{4}-\d{5}", case_no)
    submitted_at = beijing_time(datetime.fromisoformat(submitted["versions"][0]["submitted_at"]))
    due = DeadlinePolicy().initial_review_due(WorkingCalendar(), submitted_at.date(), False)
    assert submitted["initial_review_due"] == due.isoformat()
    assert [(s["label"], s["state"]) for s in submitted["progress"]] == [
        ("提交", "done"), ("部门审核", "current"), ("初审决定", "pending"), ("自治区评估", "pending"),
        ("公示", "pending"), ("公告", "pending")]

    html = get(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}").get_data(as_text=True)
    assert f'<strong id="case-no">{case_no}</strong>' in html
    assert f"应于 <strong>{due.year}年{due.month}月{due.day}日</strong>前作出" in html
    assert 'data-step="review" aria-current="step"' in html.replace('class="step current" ', '')
    assert "（enterprise）" not in html and "T0" not in re.sub(r'datetime="[^"]*"', "", html)
    assert submitted_at.strftime("%Y-%m-%d %H:%M") in html  # the version's time in Beijing time

    response = get(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}/receipt.pdf",
                   accept="application/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "inline" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    compact = re.sub(r"\s+", "", text)
    for expected in (case_no, "申报受理回执", "鄂尔多斯示范煤业有限公司", "91150600MA0N00001W", COAL_MINE["name"],
                     "鄂尔多斯市准格尔旗", submitted_at.strftime("%Y-%m-%d%H:%M"), "第1版", "营业执照", "采矿许可证",
                     "申报材料真实性承诺书", "先决条件P1", f"{due.year}年{due.month}月{due.day}日", "20个工作日"):
        assert expected in compact, (expected, text)
    assert "business_licence" not in compact and "truthfulness_pledge" not in compact

    # the bureau of the 盟市 may print it too; another enterprise may not
    assert get(client, intake_settings, bureau.principal, f"/intake/applications/{app_id}/receipt.pdf").status_code \
        == 200
    assert get(client, intake_settings, ent2.principal, f"/intake/applications/{app_id}/receipt.pdf").status_code \
        == 403
