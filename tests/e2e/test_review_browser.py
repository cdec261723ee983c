"""One department reviewer's day in a real browser against the whole system (`greenmine up`): an enterprise
submits through intake's API, the case is routed to the departments; the 鄂尔多斯市 生态环境 reviewer signs in,
sees the task in the queue, opens it, opens the EIA approval (附件2 一) from its task in the browser's PDF viewer
(audited), claims, has an empty "同意" refused with every item named, judges every item, records a site check with
a photo and agrees; the task page fits a 390 px wide screen. 应急管理 opens the 安全生产许可证 P1 names. Then the
lead bureau's countersign page shows the opinion (issue 10, defects 1, 2, 3, 6, 7)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from browsing import sign_in, wait_until
from flows import JPEG, submit_application, token, wait_for_task

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def opened_in_browser(page, link) -> object:
    """Click a material's link (it opens in a new tab) and return that tab once the browser shows the file."""
    with page.context.expect_page() as info:
        link.click()
    viewer = info.value
    viewer.wait_for_load_state()
    return viewer


@pytest.fixture(scope="module")
def submitted(running_system):
    url = running_system["url"]
    return submit_application(url, prefix="审核演练煤矿", real_pdfs=True)


def test_a_department_reviewers_day(running_system, submitted, page, no_csp_violation):
    url = running_system["url"]
    app_id, mine_name = submitted
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

    catalog = load_catalog("nm-2025")
    indicator_19 = page.locator('[data-indicator="19"]')
    assert catalog.indicator(19).name in indicator_19.inner_text()
    indicator_19.get_by_text("评分说明").click()
    assert "矿井水" in indicator_19.locator(".rule").inner_text()

    # Defect 1: the EIA approval and acceptance reach 生态环境, listed under 申报材料 by their Chinese labels and as
    # P1's 相关材料, and open in the browser's PDF viewer (not a download), audited.
    materials = page.locator("#materials")
    assert "申报材料（附件2 一）" in materials.inner_text()
    for label in ("环境影响评价报告及批复", "环保竣工验收材料", "采矿许可证", "安全生产许可证", "绿色矿山自评报告"):
        assert label in materials.inner_text(), label
    assert "eia_approval" not in page.locator("main").inner_text()
    p1 = page.locator('[data-prerequisite="P1"]')
    assert "环评报告及批复.pdf" in p1.inner_text() and "安全生产许可证.pdf" in p1.inner_text()
    viewer = opened_in_browser(page, materials.get_by_role("link", name="环评报告及批复.pdf", exact=True))
    assert viewer.evaluate("document.contentType") == "application/pdf"
    assert f"/api/v1/applications/{app_id}/attachments/" in viewer.url and viewer.url.endswith("?inline=true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewer.wait_for_timeout(1000)
    viewer.screenshot(path=str(SCREENSHOTS / "task-eia-viewer.png"))
    viewer.close()
    # evidence of an indicator opens the same way; its download link still downloads
    viewer = opened_in_browser(page, indicator_19.get_by_role("link", name="矿井水处理台账.pdf", exact=True))
    assert viewer.evaluate("document.contentType") == "application/pdf"
    viewer.close()
    with page.expect_download() as download_info:
        indicator_19.get_by_role("link", name="下载 矿井水处理台账.pdf").click()
    assert download_info.value.suggested_filename == "矿井水处理台账.pdf"

    # Claim it, record a site check with a photo.
    page.get_by_role("button", name="认领").click()
    wait_until(page, "() => document.querySelector('#task-status').innerText === '办理中'")
    page.get_by_label("检查人员").fill("张工、李工")
    page.get_by_label("检查地点").fill("准格尔旗示范煤矿矿井水处理站")
    page.get_by_label("查看的内容和发现").fill("矿井水处理设施运行正常，回用管网完好")
    # a right-to-left override in the name as sent ("gpj.exe" shown reversed) is not kept
    page.get_by_label("现场照片").set_input_files({"name": "\u202e处理站.jpg", "mimeType": "image/jpeg",
                                                   "buffer": JPEG})
    photo = page.locator("#photo-list .photo-pick")
    photo.first.wait_for(state="attached")
    assert photo.first.is_checked()
    assert "处理站.jpg" in page.locator("#photo-list").inner_text()
    assert "\u202e" not in page.locator("#photo-list").inner_text()

    # Defect 2: an empty "同意" is refused, every item named; focus on the summary, the first faulty item marked.
    page.get_by_label("同意", exact=True).check()
    page.get_by_role("button", name="提交审核意见").click()
    summary = page.locator("#opinion-summary")
    summary.wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "opinion-summary"
    said = summary.inner_text()
    assert f"第 19 项 {catalog.indicator(19).name}：请给出判定" in said
    assert f"先决条件 P1 {catalog.prerequisite('P1').name}：请判定是否满足" in said
    cards = page.locator("[data-indicator]")
    assert said.count("请给出判定") == cards.count()
    first = page.locator("[aria-invalid=true]").first
    assert first.evaluate("e => e.closest('article').id") == "pre-P1"     # the first item of the form
    assert page.locator('#ind-19 [aria-invalid="true"]').count() == 1
    assert page.locator("#task-status").inner_text() == "办理中"          # nothing was recorded

    # Judge every item: 认可自评, the declared 不涉及 confirmed with its basis, a score with its reason.
    for n in range(cards.count()):
        card = cards.nth(n)
        no = card.get_attribute("data-indicator")
        if no == "16":
            card.get_by_label("确认不涉及", exact=True).check()
            card.get_by_label("第16项不涉及的判定依据").fill("储量年报显示无暂不能开采利用的共伴生矿产")
        elif no == "19":
            card.get_by_label("给分", exact=True).check()
            card.get_by_label("第19项得分").fill("3")
            card.get_by_label("第19项意见").fill("回用率达到设计要求")
            card.get_by_label("第19项检查记录").fill("张工、李工到矿井水处理站查看：设施运行正常")
        else:
            card.get_by_label("认可自评", exact=True).check()
    prerequisites = page.locator("[data-prerequisite]")
    for n in range(prerequisites.count()):
        prerequisites.nth(n).get_by_label("满足", exact=True).check()
    page.get_by_label("总体意见").fill("同意。现场核查符合要求。")
    page.get_by_role("button", name="提交审核意见").click()
    wait_until(page, "() => document.querySelector('#task-status').innerText === '已出具意见'")
    record = page.locator("[data-opinion]").first
    assert "同意" in record.inner_text() and "当前有效" in record.inner_text()
    assert "准格尔旗示范煤矿矿井水处理站" in record.locator(".site-check").inner_text()
    assert record.get_by_role("link", name="照片1").count() == 1
    record.get_by_text("逐项判定").click()
    assert f"第 19 项 {catalog.indicator(19).name}：给分 3 分" in record.inner_text()
    assert "确认不涉及（储量年报显示" in record.inner_text()
    stamp = record.locator(".muted").first.inner_text()             # Beijing time, never UTC's ISO text
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", stamp) and "T" not in stamp

    # Defect 6: at 390 px the task page does not scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.locator("#ind-19").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "task-390.png"), full_page=False)
    page.locator("#ind-19").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "task-390-indicator.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # The audit log holds the evidence views (inline or not); the queue shows the opinion.
    auth = token(url, "reviewer_eco")
    audit = requests.get(f"{url}/api/v1/review/tasks/{queued['task_id']}/audit", headers=auth, timeout=30).json()
    viewed = [a for a in audit if a["action"] == "evidence_viewed" and a["actor"] == "reviewer_eco"]
    assert {(a["detail"]["filename"], a["detail"]["inline"]) for a in viewed} >= {
        ("环评报告及批复.pdf", True), ("矿井水处理台账.pdf", True), ("矿井水处理台账.pdf", False)}
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
    page.locator(f'a[href="/review/cases/{app_id}"]').first.click()   # listed by its 办件编号
    page.wait_for_url(re.compile(rf".*/review/cases/{app_id}"))
    latest = page.locator("section[data-version]").first
    assert "生态环境部门" in latest.inner_text() and "同意" in latest.inner_text()
    assert "3分（生态环境）" in latest.inner_text()
    assert "按审核意见重新评分" in latest.inner_text()
    reminders = latest.locator("[data-remind]")
    assert reminders.count() == 9                       # every department but 生态环境 is still pending
    target = reminders.first.get_attribute("data-remind")
    reminders.first.click()                             # 催办: the reminder count of that department goes to 1
    wait_until(page, "id => document.querySelector(`[data-remind=\"${id}\"]`)"
             ".closest('tr').cells[5].innerText.includes('已催办 1 次')", arg=target)
    assert page.get_by_label("通过，报自治区自然资源厅").is_disabled()

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


def test_emergency_management_opens_the_safety_licence(running_system, submitted, page):
    """应急管理 reviews P1: the 安全生产许可证 is on its task, as 申报材料 and as P1's 相关材料, and opens in the
    browser's PDF viewer. Items it does not review (the 环评) are not on its task."""
    url = running_system["url"]
    app_id, _ = submitted
    queued = wait_for_task(url, app_id, "reviewer_safety", "emergency_management")
    sign_in(page, url, "reviewer_safety")
    page.goto(f"{url}/review/tasks/{queued['task_id']}")
    materials = page.locator("#materials")
    assert "安全生产许可证" in materials.inner_text()
    assert "安全生产许可证.pdf" in page.locator('[data-prerequisite="P1"]').inner_text()
    viewer = opened_in_browser(page, materials.get_by_role("link", name="安全生产许可证.pdf", exact=True))
    assert viewer.evaluate("document.contentType") == "application/pdf"
    viewer.close()
    assert "出让收益缴纳票据.pdf" not in materials.inner_text()     # 矿业权出让收益 is the natural-resources bureau's
    audit = requests.get(f"{url}/api/v1/review/tasks/{queued['task_id']}/audit",
                         headers=token(url, "reviewer_safety"), timeout=30).json()
    assert any(a["action"] == "evidence_viewed" and a["detail"]["filename"] == "安全生产许可证.pdf" for a in audit)
