"""One department reviewer's day in a real browser against the whole system (`greenmine up`): an enterprise
submits through intake's API, the case is routed to the departments; the 鄂尔多斯市 生态环境 reviewer signs in,
sees the task in the queue, opens it, views the evidence (recorded in the audit log), records a site check with
a photo and agrees. Then the lead bureau's countersign page shows the opinion."""
from __future__ import annotations

import random
import re
import time

import pytest
import requests
from browsing import sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

PASSWORD = "Greenmine-2025"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
REQUIRED = ["business_licence", "mining_licence", "safety_licence", "mining_right_payment", "annual_sales_report",
            "eia_approval", "environmental_acceptance", "reserve_annual_report", "self_assessment_report",
            "application_form", "truthfulness_pledge", "site_photos"]


def token(url: str, username: str) -> dict:
    response = requests.post(url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                             timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def full_assessment() -> dict:
    from shared.catalog import load_catalog

    catalog = load_catalog("nm-2025")
    indicators = {str(i.no): {"score": format(i.points.normalize(), "f")}
                  for i in catalog.indicators_for(1, "open_pit")}
    indicators["16"] = {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产"}
    return {"catalog": "nm-2025", "mine": {"industry_group": 1, "mining_method": "open_pit"},
            "prerequisites": {f"P{n}": True for n in range(1, 6)}, "indicators": indicators}


def submit_through_intake(url: str) -> tuple[str, str]:
    """An open-pit coal mine in 鄂尔多斯市, its application and materials, submitted by the enterprise."""
    auth = token(url, "enterprise")
    name = f"审核演练煤矿{random.randint(1000, 9999)}"
    mine = requests.post(url + "/api/v1/mines", headers=auth, timeout=30, json={
        "name": name, "league": "ordos", "county": "准格尔旗", "minerals": ["coal"], "scale": "large",
        "industry_group": 1, "mining_method": "open_pit", "production_status": "in_production",
        "production_start_date": "2012-05-01", "remaining_reserve_years": "25.5",
        "mining_licence": {"number": f"C150600201506{random.randint(0, 10**10 - 1):010d}",
                           "valid_from": "2020-01-01", "valid_to": "2040-12-31"},
        "safety_licence": {"number": "（蒙）FM安许证字〔2023〕0001号", "valid_from": "2023-03-01",
                           "valid_to": "2039-02-28"},
        "business_licence": {"valid_from": "2005-06-01", "valid_to": None}})
    assert mine.status_code == 201, mine.text
    application = requests.post(url + "/api/v1/applications", headers=auth, json={"mine_id": mine.json()["id"]},
                                timeout=30)
    assert application.status_code == 201, application.text
    app_id = application.json()["id"]
    draft = requests.put(f"{url}/api/v1/applications/{app_id}", headers=auth, timeout=30,
                         json={"assessment": full_assessment(), "declared_penalties": False})
    assert draft.status_code == 200, draft.text
    uploads = [(kind, None, ("现场.jpg", JPEG, "image/jpeg") if kind == "site_photos" else
                (f"{kind}.pdf", PDF, "application/pdf")) for kind in REQUIRED]
    uploads.append(("evidence", 19, ("矿井水处理台账.pdf", PDF, "application/pdf")))
    for kind, indicator, file in uploads:
        data = {"kind": kind} | ({"indicator": str(indicator)} if indicator else {})
        response = requests.post(f"{url}/api/v1/applications/{app_id}/attachments", headers=auth, data=data,
                                 files={"file": file}, timeout=30)
        assert response.status_code == 201, response.text
    submitted = requests.post(f"{url}/api/v1/applications/{app_id}/submit", headers=auth, timeout=60)
    assert submitted.status_code == 200, submitted.text
    return app_id, name


def wait_for_task(url: str, app_id: str, username: str, department: str, timeout: float = 90) -> dict:
    auth = token(url, username)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = requests.get(f"{url}/api/v1/review/queues/{department}", headers=auth, timeout=30).json()
        found = [i for i in queue.get("items", []) if i["application_id"] == app_id]
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"{app_id} never reached the {department} queue")


def test_a_department_reviewers_day(running_system, page, no_csp_violation):
    url = running_system["url"]
    app_id, mine_name = submit_through_intake(url)
    queued = wait_for_task(url, app_id, "reviewer_eco", "ecology_environment")

    # Sign in: the workspace is the department's queue, with the new task on it.
    sign_in(page, url, "reviewer_eco")
    assert page.url == url + "/review/"
    assert page.get_by_role("heading", level=1).inner_text() == "审核工作台"
    assert page.get_by_role("heading", name="生态环境部门审核队列").is_visible()
    # the shared stylesheet reaches the page through the /review/ prefix the proxy routes here
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor") == "rgb(31, 111, 67)"
    row = page.locator(f'tr[data-task="{queued["task_id"]}"]')
    assert mine_name in row.inner_text() and "待认领" in row.inner_text()

    # Open the task: indicators with the index's rule text, the evidence attached to them.
    row.get_by_role("link", name=mine_name).click()
    page.wait_for_url(re.compile(r".*/review/tasks/.+"))
    assert page.get_by_role("heading", level=1).inner_text().startswith(mine_name)
    from shared.catalog import load_catalog

    indicator_19 = page.locator('tr[data-indicator="19"]')
    assert load_catalog("nm-2025").indicator(19).name in indicator_19.inner_text()
    indicator_19.get_by_text("评分说明").click()
    assert "矿井水" in indicator_19.locator(".rule").inner_text()

    # View the evidence: through review_routing (audited) to intake's download.
    with page.expect_download() as download_info:
        indicator_19.get_by_role("link", name="矿井水处理台账.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "矿井水处理台账.pdf"
    assert f"/api/v1/applications/{app_id}/attachments/" in download.url

    # Claim it, record a site check with a photo, agree.
    page.get_by_role("button", name="认领").click()
    wait_until(page, "() => document.querySelector('#task-status').innerText === '办理中'")
    page.get_by_label("检查人员").fill("张工、李工")
    page.get_by_label("检查地点").fill("准格尔旗示范煤矿矿井水处理站")
    page.get_by_label("查看的内容和发现").fill("矿井水处理设施运行正常,回用管网完好")
    # a right-to-left override in the name as sent ("gpj.exe" shown reversed) is not kept
    page.get_by_label("现场照片").set_input_files({"name": "\u202e处理站.jpg", "mimeType": "image/jpeg",
                                                   "buffer": JPEG})
    photo = page.locator("#photo-list .photo-pick")
    photo.first.wait_for(state="attached")
    assert photo.first.is_checked()
    assert "处理站.jpg" in page.locator("#photo-list").inner_text()
    assert "\u202e" not in page.locator("#photo-list").inner_text()
    indicator_19.get_by_text("填写").click()
    indicator_19.get_by_label("第19项得分").fill("3")
    indicator_19.get_by_label("第19项检查记录").fill("张工、李工到矿井水处理站查看:设施运行正常")
    page.get_by_label("同意", exact=True).check()
    page.get_by_label("总体意见").fill("同意。现场核查符合要求。")
    page.get_by_role("button", name="提交审核意见").click()
    wait_until(page, "() => document.querySelector('#task-status').innerText === '已出具意见'")
    record = page.locator("[data-opinion]").first
    assert "同意" in record.inner_text() and "当前有效" in record.inner_text()
    assert "准格尔旗示范煤矿矿井水处理站" in record.locator(".site-check").inner_text()
    assert record.get_by_role("link", name="照片1").count() == 1

    # The audit log holds the evidence view; the queue shows the opinion.
    auth = token(url, "reviewer_eco")
    audit = requests.get(f"{url}/api/v1/review/tasks/{queued['task_id']}/audit", headers=auth, timeout=30).json()
    viewed = [a for a in audit if a["action"] == "evidence_viewed" and a["actor"] == "reviewer_eco"]
    assert viewed and viewed[0]["detail"]["filename"] == "矿井水处理台账.pdf"
    assert {"task_claimed", "photo_uploaded", "opinion_recorded"} <= {a["action"] for a in audit}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.goto(url + "/review/")
        if "已出具意见" in page.locator(f'tr[data-task="{queued["task_id"]}"]').inner_text():
            break
        time.sleep(0.5)
    assert "同意" in page.locator(f'tr[data-task="{queued["task_id"]}"]').inner_text()

    # The lead bureau's countersign page: the opinion side by side, the score it implies, who is still pending.
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")
    sign_in(page, url, "bureau")
    page.get_by_role("link", name=app_id).click()
    page.wait_for_url(re.compile(rf".*/review/cases/{app_id}"))
    latest = page.locator("section[data-version]").first
    assert "生态环境部门" in latest.inner_text() and "同意" in latest.inner_text()
    assert "3 分(生态环境部门)" in latest.inner_text()
    assert "按审核意见重新评分" in latest.inner_text()
    reminders = latest.locator("[data-remind]")
    assert reminders.count() == 9                       # every department but 生态环境 is still pending
    target = reminders.first.get_attribute("data-remind")
    reminders.first.click()                             # 催办: the reminder count of that department goes to 1
    wait_until(page, "id => document.querySelector(`[data-remind=\"${id}\"]`)"
             ".closest('tr').cells[5].innerText.trim().startsWith('1')", arg=target)
    assert page.get_by_label("通过,报自治区自然资源厅").is_disabled()

    # The page runs under the strict policy: its own nonce-bearing script worked above, while script or style
    # injected into it (as an XSS would) is refused by the browser, and the refusal is what the watcher sees.
    policy = requests.get(page.url, cookies={c["name"]: c["value"] for c in page.context.cookies()}, timeout=30)
    assert "script-src 'self' 'nonce-" in policy.headers["Content-Security-Policy"]
    page.evaluate("""() => {
        const s = document.createElement("script"); s.textContent = "window.__injected = true";
        document.body.appendChild(s);
        document.body.insertAdjacentHTML("beforeend", '<img src="data:," onerror="window.__handler = true">');
    }""")
    deadline = time.monotonic() + 15
    while not [m for m in no_csp_violation if "CSP violation" in m] and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert page.evaluate("window.__injected === undefined && window.__handler === undefined")
    refused = [m for m in no_csp_violation if "CSP violation" in m or "Content Security Policy" in m]
    assert refused, no_csp_violation
    no_csp_violation.clear()
