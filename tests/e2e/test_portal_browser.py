"""The one address, in a real browser: each role lands in its own workspace after signing in."""
from __future__ import annotations

import pytest
from browsing import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.mark.parametrize("username,workspace,heading", [
    ("enterprise", "/intake/", "申报工作台"),
    ("reviewer_eco", "/review/", "审核工作台"),
    ("region", "/notice/", "公示与名录管理"),
])
def test_sign_in_sends_each_role_to_its_workspace(running_system, page, username, workspace, heading):
    sign_in(page, running_system["url"], username)
    assert page.url == running_system["url"] + workspace
    assert page.get_by_role("heading", level=1).inner_text() == heading
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/login")


def test_wrong_password_is_told_in_chinese(running_system, page):
    sign_in(page, running_system["url"], "bureau", "wrong-password")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"


def test_signing_out_ends_the_session_on_the_server(running_system, page):
    import requests

    url = running_system["url"]
    sign_in(page, url, "reviewer_eco")
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "greenmine_session")
    old = {"greenmine_session": cookie}
    places = ["/review/", "/api/v1/review/queues/ecology_environment", "/intake/", "/api/v1/mines"]
    assert [requests.get(url + p, cookies=old, timeout=30).status_code for p in places] == [200] * 4
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")
    # A copy of the cookie from before signing out (another tab, a stolen one) is refused by every service.
    assert [requests.get(url + p, cookies=old, timeout=30, headers={"Accept": "application/json"}).status_code
            for p in places] == [401] * 4


def test_too_many_wrong_passwords_hold_the_account_and_say_so(running_system, page):
    for _ in range(5):
        sign_in(page, running_system["url"], "bureau_baotou", "wrong-password")
        assert page.get_by_role("alert").inner_text() == "用户名或密码错误"
    sign_in(page, running_system["url"], "bureau_baotou")  # the right password, but the account is held
    assert page.get_by_role("alert").inner_text().startswith("登录失败次数过多,请")
    assert page.url.endswith("/login")
