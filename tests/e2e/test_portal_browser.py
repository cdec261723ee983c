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
