"""The lead bureau finishes a case in the browser, without the command line: an enterprise submits through
intake's API; every department's reviewer (the demo accounts, or accounts made through the platform's user
directory where a department has none) gives a complete "同意"; the bureau (demo `bureau`) opens the case from its
workspace, reads the side-by-side table (no sideways scroll at 1280 px, usable at 390 px), forwards the case,
sees the decision made instead of a form, and opens the printed 初审意见, 会签单 and 部门审核意见表, read back."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from browsing import sign_in, wait_until
from flows import agree_everywhere, submit_application
from pypdf import PdfReader

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def fits(page, selector: str = "html") -> bool:
    return page.evaluate("s => { const e = document.querySelector(s); return e.scrollWidth <= e.clientWidth; }",
                         selector)


def pdf_text(page, path: str) -> str:
    answer = page.request.get(page.url.split("/review/")[0] + path)
    assert answer.status == 200, answer.text()[:300]
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline")
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.body())).pages)


def test_the_bureau_forwards_a_case_in_the_browser_and_prints_the_sheets(running_system, page):
    url = running_system["url"]
    app_id, mine_name = submit_application(url, prefix="会签演练煤矿")
    agree_everywhere(url, app_id)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # The bureau's workspace lists the case by its 办件编号; the case page opens from it.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, url, "bureau")
    row = page.locator("tr", has_text=mine_name)
    case_no = row.locator("td").first.inner_text().strip()
    assert re.fullmatch(r"150600-\d{4}-\d{5,}", case_no), case_no
    row.get_by_role("link", name=case_no).click()
    page.wait_for_url(re.compile(rf".*/review/cases/{app_id}"))
    assert page.locator("[data-case-no]").inner_text() == case_no

    # The side-by-side table: one narrow column per department, no sideways scroll on a laptop.
    table = page.locator("table.sbs").first
    headers = table.locator("thead th").all_inner_texts()
    assert len(headers) == 3 + 10 + 1 and any(h.startswith("生态环境") for h in headers)
    assert all("_" not in h for h in headers)
    assert fits(page) and fits(page, ".sbs-wrap"), page.evaluate("document.documentElement.scrollWidth")
    assert page.evaluate("document.querySelector('table.sbs').getBoundingClientRect().right") <= 1280
    page.locator(".sbs-wrap").first.screenshot(path=str(SCREENSHOTS / "case-sbs-1280.png"))

    # Forward: every department agreed, so 通过 is offered; the page then shows the decision, not a form.
    forward = page.get_by_label("通过，报自治区自然资源厅")
    assert forward.is_enabled()
    forward.check()
    page.get_by_role("button", name="提交初审决定").click()
    wait_until(page, "() => !!document.getElementById('decision-made')", timeout=60)
    made = page.locator("#decision-made")
    assert "通过（报自治区自然资源厅）" in made.inner_text() and "鄂尔多斯市自然资源局" in made.inner_text()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} 作出", made.inner_text())
    assert page.locator("#decision-form").count() == 0 and page.locator("[data-remind]").count() == 0
    decided_at = re.search(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) 作出", made.inner_text()).group(1)

    # The printed sheets, as the links open them (inline PDFs), read back.
    decision = pdf_text(page, made.get_by_role("link", name="打印初审意见（PDF）").get_attribute("href"))
    for expected in ("绿色矿山初审意见", case_no, mine_name, "同意通过初审", "鄂尔多斯市自然资源局", decided_at,
                     "达标"):
        assert expected in decision, expected
    countersign = pdf_text(page, page.locator("[data-doc=countersign]").get_attribute("href"))
    for expected in ("会签单", case_no, "生态环境", "应急管理", "税务", "10/10 个部门同意", decided_at):
        assert expected in countersign, expected
    sheet_link = page.locator("a", has_text="意见表").first.get_attribute("href")
    opinion = pdf_text(page, sheet_link)
    assert "部门审核意见表" in opinion and case_no in opinion and "同意" in opinion
    for text in (decision, countersign, opinion):
        assert "ecology_environment" not in text and "forwarded" not in text and "agree" not in text

    # On a phone the table turns into cards: still no sideways scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert fits(page), page.evaluate("document.documentElement.scrollWidth")
    assert fits(page, ".sbs-wrap") and fits(page, "table.stack")
    page.screenshot(path=str(SCREENSHOTS / "case-390.png"), full_page=True)
