"""The evaluator's on-site evaluation in a real browser against the whole system (`greenmine up` with demo data):
a case is forwarded, the region office commissions the demo institution (内蒙古绿原矿山评估咨询有限公司) and its
evaluator accepts with both pledges (through the API); the evaluator signs in, finds the case in its evaluations,
judges the last indicator on its card (a score above 0 with its 核查记录 from the institution's staff, a photo), sees
the live total, is refused submission while a record is missing (named on the card), completes it and submits after
the confirmation; the form is read-only with the report afterwards, the 评估报告 PDF carries the case number, the
total and the pledge hash, and the region office reads the submitted evaluation. The form fits a 390 px screen."""
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
import requests
from browsing import sign_in, wait_until
from flows import agree_everywhere, submit_application, token

from shared.cli import DEMO_INSTITUTION

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
BOTH = [{"code": "truthfulness", "accepted": True}, {"code": "no_fee", "accepted": True}]


def photo() -> bytes:
    """A real JPEG (the browser decodes and shows it on the card)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (46, 125, 70))
    ImageDraw.Draw(image).rectangle((200, 150, 600, 450), fill=(210, 180, 60))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def evaluation_under_way(url: str) -> tuple[str, str]:
    """A forwarded case commissioned to the demo institution and accepted: (evaluation id, mine name)."""
    app_id, mine_name = submit_application(url, prefix="评估演练煤矿")
    agree_everywhere(url, app_id)
    bureau, region, evaluator = token(url, "bureau"), token(url, "region"), token(url, "evaluator")
    decided = requests.post(f"{url}/api/v1/review/cases/{app_id}/decision", headers=bureau, timeout=60,
                            json={"version_no": 1, "decision": "forward"})
    assert decided.status_code == 201, decided.text
    rid = f"{app_id}.v1"
    draw = requests.post(f"{url}/api/v1/evaluation/commissions/draw", headers=region, timeout=30,
                         json={"review_ids": [rid], "entered_value": f"{time.time():.0f}"})
    assert draw.status_code == 201, draw.text
    body = {"review_ids": [rid], "institution_id": DEMO_INSTITUTION, "draw_id": draw.json()["draw_id"]}
    if draw.json()["proposal"]["id"] != DEMO_INSTITUTION:
        body["reason"] = "演练：指定该机构"
    made = requests.post(f"{url}/api/v1/evaluation/commissions", headers=region, json=body, timeout=30)
    assert made.status_code == 201, made.text
    commission = made.json()["commissions"][0]
    accepted = requests.post(f"{url}/api/v1/evaluation/commissions/{commission['commission_id']}/accept",
                             headers=evaluator, timeout=30,
                             json={"pledges": BOTH, "signer_name": "李明远", "signer_title": "项目负责人"})
    assert accepted.status_code == 200, accepted.text
    return f"{commission['commission_id']}.eval", mine_name


def test_an_evaluators_on_site_evaluation(running_system, page):
    url = running_system["url"]
    eid, mine_name = evaluation_under_way(url)
    api = f"{url}/api/v1/evaluation/evaluations/{eid}"
    evaluator = token(url, "evaluator")
    view = requests.get(api, headers=evaluator, timeout=30).json()
    assert "李明远" in view["staff"] and view["case_no"]
    case_no = view["case_no"]
    today = view["today"]
    record = {"inspectors": ["李明远", "张晓燕"], "location": "一号露天采场", "date": today,
              "observations": "查看采场边坡、排土场复绿和洒水降尘设施，运行正常"}
    *rest, last = view["indicators"]
    # Every indicator but the last through the API (as the form saves as it goes); the last one in the browser.
    saved = requests.put(api, headers=evaluator, timeout=30, json={
        "indicators": {str(i["no"]): {"score": i["points"], "record": record} for i in rest},
        "prerequisites": {p["code"]: {"met": True} for p in view["prerequisites"]}})
    assert saved.status_code == 200, saved.text

    sign_in(page, url, "evaluator")
    page.goto(url + "/evaluation/evaluations")
    row = page.locator(f'tr[data-evaluation="{eid}"]')
    assert mine_name in row.inner_text() and "现场评估中" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/evaluation/evaluations/.+"))
    assert page.get_by_role("heading", level=1).inner_text().startswith(mine_name)
    card = page.locator(f'[data-indicator="{last["no"]}"]')
    card.locator('input.verdict[value="score"]').check()
    card.locator(".score").fill(last["points"])
    card.locator(".score").dispatch_event("change")
    wait_until(page, "document.getElementById('save-state').textContent === '已保存'")
    wait_until(page, "/^\\d+\\.\\d\\d$/.test(document.getElementById('live-total').textContent)")
    card.locator(".image-input").set_input_files(files=[{"name": "采场.jpg", "mimeType": "image/jpeg",
                                                         "buffer": photo()}])
    card.locator("figure img").wait_for()
    wait_until(page, f"document.querySelector('[data-indicator=\"{last['no']}\"] figure img').naturalWidth === 800")

    # Without its 核查记录 the score above 0 is refused at submission, named on the card.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#submit-evaluation")
    card.locator(f'[data-error-for="indicators.{last["no"]}"]', has_text="评估机构给分须附核查记录").wait_for()
    card.locator(".inspectors").fill("李明远、张晓燕")
    card.locator(".location").fill("一号露天采场")
    card.locator(".date").fill(today)
    card.locator(".observations").fill("查看矿区和谐共建台账与现场")
    card.locator(".observations").dispatch_event("change")
    wait_until(page, "document.getElementById('todo-count').textContent.startsWith('已全部完成')")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SCREENSHOTS / "evaluation-card-390.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#submit-evaluation")
    page.locator("#status-label", has_text="评估报告已提交").wait_for()
    assert page.locator("#submit-evaluation").count() == 0
    total = page.locator("#live-total").inner_text()
    assert re.fullmatch(r"\d+\.\d\d", total)
    page.screenshot(path=str(SCREENSHOTS / "evaluation-submitted.png"))

    from pypdf import PdfReader

    pdf = requests.get(api + "/report.pdf", headers=evaluator, timeout=120)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace("\n", "")
    pledge = requests.get(api, headers=evaluator, timeout=30).json()["pledges"][0]["sha256"]
    for expected in (case_no, "内蒙古绿原矿山评估咨询有限公司", total, "一号露天采场", pledge):
        assert expected in text, expected

    office = page.context.browser.new_context().new_page()
    sign_in(office, url, "region")
    office.goto(f"{url}/evaluation/evaluations/{eid}")
    assert office.locator("#live-total").inner_text() == total
    assert office.locator("#submit-evaluation").count() == 0 and office.locator(".item-judge").count() == 0
    assert office.get_by_role("link", name="评估报告（PDF）").is_visible()
    office.context.close()
