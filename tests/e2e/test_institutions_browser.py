"""The register of evaluation institutions in a real browser against the whole system (`greenmine up` with demo
data): the region office sees the demo register (one institution banned after a published finding), registers an
institution with its staff and a declared conflict, records a misconduct finding, and the 通报 appears on the public
page (outbox → Kafka → public notice) without signing in; the demo evaluator sees only its own institution; the
register fits a 390 px wide screen."""
from __future__ import annotations

import time

import pytest
import requests
from browsing import sign_in

from shared.accounts.rules import credit_code_check_char

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

NEW_CODE = "91150100MA0P00055" + credit_code_check_char("91150100MA0P00055")


def wait_for_text(url: str, text: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = requests.get(url, timeout=10).text
        if text in page:
            return page
        if time.monotonic() > deadline:
            raise AssertionError(f"{text} not on {url} after {timeout:.0f}s")
        time.sleep(0.5)


def test_the_register_the_ban_and_the_public_bulletin(running_system, page):
    url = running_system["url"]
    # The demo finding was published as a 通报 (no sign-in needed).
    wait_for_text(url + "/public/bulletins", "关于鄂尔多斯市金岩矿业技术服务有限公司串通企业弄虚作假的通报")

    sign_in(page, url, "region")
    page.goto(url + "/evaluation/institutions")
    rows = page.locator("table.register tbody tr")
    assert rows.count() == 3
    banned = page.locator("tr", has_text="鄂尔多斯市金岩矿业技术服务有限公司")
    assert "禁入期内（至2029年3月16日）" in banned.inner_text()

    page.fill("#f-name", "内蒙古演练评估有限公司")
    page.fill("#f-credit", NEW_CODE[:17] + ("0" if NEW_CODE[17] != "0" else "1"))
    page.fill("[name='contact.person']", "周工")
    page.fill("[name='contact.phone']", "0471-5550000")
    page.click("[data-add=staff]")
    page.fill("[data-rows=staff] [name=name]", "吴评")
    page.fill("[data-rows=staff] [name=title]", "高级工程师")
    page.click("[data-add=conflicts]")
    page.fill("[data-rows=conflicts] [name=credit_code]", "91150200MA0N00002B")
    page.fill("[data-rows=conflicts] [name=enterprise_name]", "包头示范砂石有限公司")
    page.click("#register-form button[type=submit]")
    page.locator("#register-errors", has_text="校验位").wait_for()
    page.fill("#f-credit", NEW_CODE)
    page.click("#register-form button[type=submit]")
    page.wait_for_url("**/evaluation/institutions/inst-*")
    assert page.inner_text("#status") == "正常"
    assert "包头示范砂石有限公司" in page.inner_text("#conflicts-heading + div")

    page.select_option("#k-kind", "seriously_false_conclusion")
    page.select_option("#k-staff", label="评估人员 吴评（高级工程师）")
    page.fill("#k-facts", "评估报告所列复垦面积与现场实测严重不符")
    page.fill("#k-date", "2026-11-30")
    page.fill("#k-doc", "内自然资字〔2026〕99号")
    page.click("#finding-form button[type=submit]")
    page.locator("#status", has_text="禁入期内").wait_for()
    assert "2026-11-30 至 2029-11-30" in page.inner_text("#findings")

    public = wait_for_text(url + "/public/bulletins", "关于内蒙古演练评估有限公司评估结论严重失实的通报")
    assert "评估人员吴评" in public and "内自然资字〔2026〕99号" in public
    api = requests.get(url + "/api/v1/notice/bulletins", timeout=10).json()
    assert {b["institution_name"] for b in api} >= {"内蒙古演练评估有限公司", "鄂尔多斯市金岩矿业技术服务有限公司"}

    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(url + "/evaluation/institutions")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_demo_evaluator_sees_its_own_institution(running_system, page):
    url = running_system["url"]
    sign_in(page, url, "evaluator")
    page.goto(url + "/evaluation/institutions")
    rows = page.locator("table.register tbody tr")
    assert rows.count() == 1 and "内蒙古绿原矿山评估咨询有限公司" in rows.inner_text()
    assert page.locator("#register-form").count() == 0
    other = page.goto(url + "/evaluation/institutions/inst-91150200ma0p000220")
    assert other.status == 403
