"""The lead bureau finishes a case in the browser, without the command line: an enterprise submits through
intake's API; every department's reviewer (the demo accounts, or accounts made through the platform's user
directory where a department has none) gives a complete "同意"; the bureau (demo `bureau`) opens the case from its
workspace, reads the side-by-side table (no sideways scroll at 1280 px, usable at 390 px), forwards the case,
sees the decision made instead of a form, and opens the printed 初审意见, 会签单 and 部门审核意见表, read back."""
from __future__ import annotations

import io
import random
import re
import time
from pathlib import Path

import pytest
import requests
from browsing import sign_in, wait_until
from pypdf import PdfReader

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

PASSWORD = "Greenmine-2025"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
MATERIALS = {"business_licence": "营业执照.pdf", "mining_licence": "采矿许可证.pdf",
             "safety_licence": "安全生产许可证.pdf",
             "mining_right_payment": "出让收益缴纳票据.pdf", "annual_sales_report": "年度销售报表.pdf",
             "eia_approval": "环评批复.pdf", "environmental_acceptance": "环保竣工验收.pdf",
             "reserve_annual_report": "储量年度报告.pdf", "self_assessment_report": "自评报告.pdf",
             "application_form": "申请表.pdf", "truthfulness_pledge": "真实性承诺书.pdf", "site_photos": "现场.jpg"}
# The demo reviewers of 鄂尔多斯市 by department (shared.cli's naming); made here where the demo data has none.
REVIEWERS = {"development_reform": "reviewer_ndrc", "industry_it": "reviewer_industry",
             "ecology_environment": "reviewer_eco", "water_resources": "reviewer_water",
             "emergency_management": "reviewer_safety", "market_regulation": "reviewer_market",
             "energy": "reviewer_energy", "forestry_grassland": "reviewer_forestry", "taxation": "reviewer_tax"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def token(url: str, username: str) -> dict | None:
    response = requests.post(url + "/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                             timeout=30)
    if response.status_code != 200:
        return None
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def submit(url: str) -> tuple[str, str]:
    """An open-pit coal mine in 鄂尔多斯市 with every material, submitted by the demo enterprise."""
    from shared.catalog import load_catalog

    auth = token(url, "enterprise")
    name = f"会签演练煤矿{random.randint(1000, 9999)}"
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
    catalog = load_catalog("nm-2025")
    assessment = {"catalog": "nm-2025", "mine": {"industry_group": 1, "mining_method": "open_pit"},
                  "prerequisites": {f"P{n}": True for n in range(1, 6)},
                  "indicators": {str(i.no): {"score": format(i.points.normalize(), "f")}
                                 for i in catalog.indicators_for(1, "open_pit")}}
    draft = requests.put(f"{url}/api/v1/applications/{app_id}", headers=auth, timeout=30,
                         json={"assessment": assessment, "declared_penalties": False})
    assert draft.status_code == 200, draft.text
    for kind, filename in MATERIALS.items():
        file = (filename, JPEG, "image/jpeg") if filename.endswith(".jpg") else (filename, PDF, "application/pdf")
        response = requests.post(f"{url}/api/v1/applications/{app_id}/attachments", headers=auth,
                                 data={"kind": kind}, files={"file": file}, timeout=30)
        assert response.status_code == 201, response.text
    submitted = requests.post(f"{url}/api/v1/applications/{app_id}/submit", headers=auth, timeout=60)
    assert submitted.status_code == 200, submitted.text
    return app_id, name


def reviewer_of(url: str, env: dict, department: str) -> tuple[str, dict]:
    """The department's reviewer in 鄂尔多斯市: the demo account, else one made through the user directory."""
    username = REVIEWERS[department]
    auth = token(url, username)
    if auth is None:
        from pymongo import MongoClient

        from shared import identity
        from shared.config import Settings

        settings = Settings.from_env(env)
        client = MongoClient(settings.mongodb_uri)
        try:
            identity.UserDirectory(client[settings.database_name("identity")]).add(
                username, PASSWORD, "department_reviewer", department=department, area="鄂尔多斯市",
                display_name=f"鄂尔多斯市{department[:4]}审核员")
        finally:
            client.close()
        auth = token(url, username)
    assert auth is not None, username
    return username, auth


def complete_agreement(view: dict) -> dict:
    """A "同意" judging every item of the task view: every indicator 认可自评 (an item declared 不涉及 confirmed
    with its basis), every prerequisite met, the lead's seven checks passed."""
    items = [{"indicator": i["no"], "verdict": "not_applicable", "reason": "经核实确不涉及"} if i.get("not_applicable")
             else {"indicator": i["no"], "verdict": "agree"} for i in view["indicators"]]
    body = {"decision": "agree", "comments": "同意。", "indicators": items,
            "prerequisites": [{"prerequisite": p["code"], "met": True} for p in view["prerequisites"]]}
    if view["lead"]:
        body["checks"] = [{"check": c["code"], "passed": True} for c in view["checks"]]
    return body


def agree_everywhere(url: str, env: dict, app_id: str) -> None:
    bureau = token(url, "bureau")
    deadline = time.monotonic() + 120
    case = {}
    while time.monotonic() < deadline:
        answer = requests.get(f"{url}/api/v1/review/cases/{app_id}", headers=bureau, timeout=60)
        if answer.status_code == 200:
            case = answer.json()
            break
        time.sleep(0.5)
    assert case, f"{app_id} was never routed"
    for row in case["versions"][0]["tasks"]:
        auth = bureau if row["lead"] else reviewer_of(url, env, row["department"])[1]
        task = f"{url}/api/v1/review/tasks/{row['task_id']}"
        assert requests.post(task + "/claim", headers=auth, timeout=30).status_code == 200
        view = requests.get(task, headers=auth, timeout=30).json()
        given = requests.post(task + "/opinion", headers=auth, json=complete_agreement(view), timeout=30)
        assert given.status_code == 201, (row["department"], given.text)


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
    url, env = running_system["url"], running_system["env"]
    app_id, mine_name = submit(url)
    agree_everywhere(url, env, app_id)
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
