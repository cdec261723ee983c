"""The region stage end to end on the whole system (`greenmine up`, real Kafka and MongoDB servers): `make run`'s
demo scenario puts cases at every point of the stage through the public API; the published draws recompute with an
independent sha256-rank-v1; the enterprise follows its cases without ever seeing an evaluation score; and, in a real
browser, the region office's day (commission a case from its page after a public draw, open a check round and draw
it, record the departments' document checks, propose a case for 公示) and the evaluator's (find the commission, sign
both pledges, accept) run from sign-in to decision."""
from __future__ import annotations

import hashlib
import io
import math
from decimal import Decimal

import pytest
import requests
from browsing import sign_in, wait_until
from flows import token

from shared import demo_scenario

pytestmark = [pytest.mark.e2e]


def independent_draw(record: dict) -> list[str]:
    """sha256-rank-v1 written again from its published description (no project code)."""
    k = record["count"] if record.get("count") is not None else \
        math.ceil(Decimal(record["ratio"]) * len(record["population"]))
    ranked = sorted(record["population"],
                    key=lambda i: (hashlib.sha256(f"{record['seed']}:{i}".encode()).hexdigest(), i))
    return ranked[:k]


@pytest.fixture(scope="module")
def scenario(running_system):
    steps: list[str] = []
    built = demo_scenario.run(running_system["url"], progress=steps.append)
    assert len(steps) == 2 * demo_scenario.CASES + 3 and steps[-1].endswith("one returned")
    return {**built, "url": running_system["url"]}


def reviews(url: str) -> dict[str, dict]:
    answer = requests.get(f"{url}/api/v1/evaluation/reviews", headers=token(url, "region"), timeout=30)
    assert answer.status_code == 200, answer.text
    return {r["review_id"]: r for r in answer.json()}


def test_the_demo_scenario_has_a_case_at_every_point_and_public_draws_anyone_can_recompute(scenario):
    url, rids = scenario["url"], scenario["reviews"]
    statuses = {rid: reviews(url)[rid]["status"] for rid in rids}
    assert [statuses[r] for r in rids] == ["awaiting_commission", "commissioned", "under_evaluation", "evaluated",
                                           "proposed", "in_check", "returned"]
    listed = requests.get(f"{url}/api/v1/evaluation/draws?limit=50", timeout=30)     # no sign-in
    assert listed.status_code == 200, listed.text
    purposes = {d["purpose"] for d in listed.json()["items"]}
    assert {"institutions", "spot_check_cases", "inspectors"} <= purposes
    for item in listed.json()["items"]:
        record = requests.get(f"{url}/api/v1/evaluation/draws/{item['draw_id']}", timeout=30).json()
        assert record["algorithm"] == "sha256-rank-v1"
        digest = hashlib.sha256("\n".join(record["population"]).encode()).hexdigest()
        assert record["seed"] == hashlib.sha256(
            f"{digest}:{record['seed_inputs']['entered_value']}".encode()).hexdigest()
        assert independent_draw(record) == record["selected"], record["draw_id"]
    page = requests.get(f"{url}/evaluation/draws/{listed.json()['items'][0]['draw_id']}", timeout=30)
    assert page.status_code == 200 and "sha256" in page.text


def test_the_enterprise_follows_its_cases_and_never_sees_an_evaluation_score(scenario):
    url, rids = scenario["url"], scenario["reviews"]
    auth = token(url, "enterprise")
    seen = {}
    for rid in rids:
        app_id = rid.rsplit(".v", 1)[0]
        answer = requests.get(f"{url}/api/v1/applications/{app_id}", headers=auth, timeout=30)
        assert answer.status_code == 200, answer.text
        seen[rid] = answer.json()
        text = answer.text
        assert "third_party_evaluation" not in text and "评估得分" not in text
    assert seen[rids[4]]["status"] == "proposed"
    assert seen[rids[6]]["status"] == "rectification"
    assert seen[rids[3]]["status"] == "under_evaluation"
    # The region's own pages are not the enterprise's.
    assert requests.get(f"{url}/api/v1/evaluation/reviews/{rids[4]}", headers=auth, timeout=30).status_code == 403


def test_an_evaluation_report_is_a_pdf_with_the_case_and_the_signed_pledges(scenario):
    url, rids = scenario["url"], scenario["reviews"]
    region = token(url, "region")
    evaluation = reviews(url)[rids[4]]
    view = requests.get(f"{url}/api/v1/evaluation/reviews/{rids[4]}", headers=region, timeout=30).json()
    report = requests.get(f"{url}/api/v1/evaluation/evaluations/{view['evaluation']['evaluation_id']}/report.pdf",
                          headers=region, timeout=60)
    assert report.status_code == 200 and report.headers["Content-Type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(report.content)).pages)
    assert view["case_no"] in text and evaluation["institution"]["name"] in text and "SHA-256" in text


@pytest.mark.browser
@pytest.mark.usefixtures("no_csp_violation")
def test_the_region_offices_and_the_evaluators_day_in_a_browser(scenario, browser, page):
    url, rids = scenario["url"], scenario["reviews"]
    awaiting, in_check = rids[0], rids[5]

    # The region office lands on its queue, opens the case waiting for a commission, draws and commissions.
    sign_in(page, url, "region")
    assert page.url == url + "/evaluation/"
    page.get_by_role("link", name=reviews(url)[awaiting]["case_no"]).first.click()
    page.wait_for_load_state("networkidle")
    section = page.locator("[data-commission]").first
    section.get_by_label("抽取随机值").fill("2026年12月1日上证综指收盘3412.57")
    section.get_by_role("button", name="抽取评估机构").click()
    section.get_by_role("button", name="委托所选评估机构").wait_for()
    assert "查看公开的抽取记录（可复算）" in section.inner_text() and "禁入至" in section.inner_text()
    section.get_by_role("button", name="委托所选评估机构").click()
    wait_until(page, "() => document.body.innerText.includes('已委托，待评估机构接受')")
    assert reviews(url)[awaiting]["status"] == "commissioned"

    # The evaluator finds the commission, reads both pledges in full, is told what is missing, signs and accepts.
    [commission] = requests.get(f"{url}/api/v1/evaluation/commissions", params={"review_id": awaiting},
                                headers=token(url, "region"), timeout=30).json()
    evaluator = browser.new_context(locale="zh-CN").new_page()
    sign_in(evaluator, url, "evaluator")
    assert evaluator.url == url + "/evaluation/commissions"
    form = evaluator.locator(f"form.accept-form[data-commission-id='{commission['commission_id']}']")
    assert "严禁向矿山企业收取评估费用" in form.inner_text()
    form.get_by_role("button", name="签署承诺并接受委托").click()
    wait_until(evaluator, "(id) => document.querySelector(`form[data-commission-id='${id}'] .errors`).innerText",
               commission["commission_id"])
    for box in form.locator("input[name=pledge]").all():
        box.check()
    form.get_by_label("签署人姓名").fill("李明远")
    form.get_by_label("签署人职务").fill("项目负责人")
    form.get_by_role("button", name="签署承诺并接受委托").click()
    evaluator.get_by_role("link", name="填写现场评估").wait_for()
    assert "所签全文 SHA-256" in evaluator.locator("main").inner_text()
    assert reviews(url)[awaiting]["status"] == "under_evaluation"
    evaluator.context.close()

    # The office works the open check round: records each department's document check, then proposes the case.
    page.goto(url + "/evaluation/checks")
    page.get_by_role("link", name=demo_scenario.ROUND_TITLE).first.click()
    page.wait_for_load_state("networkidle")
    selector = f"form.part-form[data-review='{in_check}']"
    while (left := page.locator(selector).count()) > 0:
        first = page.locator(selector).first
        first.locator("xpath=ancestor::details[1]").evaluate("d => { d.open = true; }")
        first.locator("input[name=passed][value=true]").check()
        first.get_by_label("核查意见").fill("资料齐全，与评估报告一致")
        first.get_by_role("button").click()
        wait_until(page, "([s, n]) => document.readyState === 'complete' && document.querySelectorAll(s).length < n",
                   [selector, left])
    round_view = requests.get(f"{url}/api/v1/evaluation/check-rounds/{scenario['round_id']}",
                              headers=token(url, "region"), timeout=30).json()
    if next(c for c in round_view["cases_detail"] if c["review_id"] == in_check)["selected"]:
        # Drawn for an on-site visit: the inspectors' spot check (its 50-item form is the spot-check page's; the
        # scenario's helper records the same through the API).
        demo_scenario.finish_check(demo_scenario.Session(url), scenario["round_id"], in_check)
    assert reviews(url)[in_check]["status"] == "checked"
    page.goto(f"{url}/evaluation/reviews/{in_check}")
    page.get_by_label("拟公示（评估与核查通过）").check()
    page.get_by_role("button", name="提交自治区决定").click()
    wait_until(page, "() => document.body.innerText.includes('自治区决定：拟公示')")
    assert reviews(url)[in_check]["status"] == "proposed"
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(url + "/evaluation/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
