"""The one address, in a real browser: each role lands in its own workspace after signing in; the administrator
and a bureau manage accounts in the browser (issue 10 items 5, 8, 11); error pages, navigation and the icon."""
from __future__ import annotations

import re

import pytest
import requests
from browsing import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]


@pytest.mark.parametrize("username,workspace,heading", [
    ("enterprise", "/intake/", "申报工作台"),
    ("reviewer_eco", "/review/", "审核工作台"),
    ("region", "/evaluation/", "自治区评估环节"),
])
def test_sign_in_sends_each_role_to_its_workspace(running_system, page, username, workspace, heading):
    sign_in(page, running_system["url"], username)
    assert page.url == running_system["url"] + workspace
    assert page.get_by_role("heading", level=1).inner_text() == heading
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/login?reason=signed_out")
    assert page.get_by_role("status").inner_text() == "您已退出登录"


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
    assert page.get_by_role("alert").inner_text().startswith("登录失败次数过多，请")
    assert page.url.endswith("/login")


def create_reviewer(page, username: str, name: str, department: str, area: str | None = None) -> str:
    """On the account page: fill the new-account form (a generated password); returns the one-time password."""
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("名称", exact=True).fill(name)
    role = page.get_by_label("角色", exact=True)
    if role.evaluate("e => e.options.length") > 1:
        role.select_option(label="部门审核人员")
    page.get_by_label("部门（部门审核人员）").select_option(label=department)
    if area:
        page.get_by_label("地区", exact=True).select_option(label=area)
    page.get_by_role("button", name="新建账号").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").first.inner_text() == f"已新建账号 {username}"
    return page.locator("#one-time-password").inner_text().strip()


def test_admin_creates_a_reviewer_who_must_change_the_password_then_disables_it(running_system, page, browser):
    url = running_system["url"]
    sign_in(page, url, "admin")
    assert page.url == url + "/portal/admin"
    listing = page.locator("table").inner_text()
    assert "鄂尔多斯市林草局" in listing and "包头市林草局" in listing and "林草部门" in listing
    assert "forestry_grassland" not in listing and "department_reviewer" not in listing
    one_time = create_reviewer(page, "reviewer_grass_e2e", "鄂尔多斯市草原站", "林草部门", "鄂尔多斯市")
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", one_time)
    assert page.locator("#account-status").inner_text() == "启用"

    reviewer = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    try:
        sign_in(reviewer, url, "reviewer_grass_e2e", one_time)
        assert reviewer.url == url + "/portal/password?next=%2Freview%2F"     # before anything else
        reviewer.goto(url + "/supervision/")
        assert reviewer.url.startswith(url + "/portal/password")
        reviewer.get_by_label("当前密码", exact=True).fill(one_time)
        reviewer.get_by_label("新密码", exact=True).fill("short")
        reviewer.get_by_label("确认新密码", exact=True).fill("short")
        reviewer.get_by_role("button", name="修改密码").click()
        reviewer.wait_for_load_state("networkidle")
        summary = reviewer.get_by_role("alert").inner_text()
        assert "密码至少10位" in summary and "新密码：" in summary
        assert reviewer.evaluate("document.activeElement.id") == "error-summary"
        reviewer.get_by_label("当前密码", exact=True).fill(one_time)
        reviewer.get_by_label("新密码", exact=True).fill("Grass-land-2026")
        reviewer.get_by_label("确认新密码", exact=True).fill("Grass-land-2026")
        reviewer.get_by_role("button", name="修改密码").click()
        reviewer.wait_for_load_state("networkidle")
        assert reviewer.url.startswith(url + "/supervision/") or reviewer.url == url + "/review/"
        reviewer.goto(url + "/review/")
        assert reviewer.get_by_role("heading", level=1).inner_text() == "审核工作台"
        assert reviewer.evaluate("document.documentElement.scrollWidth") <= 390

        page.get_by_role("button", name="停用账号").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#account-status").inner_text() == "停用"
        assert "已停用账号" in page.get_by_role("status").first.inner_text()

        reviewer.reload()
        reviewer.wait_for_url(re.compile(r".*/login\?.*reason=disabled.*"))
        reviewer.wait_for_load_state("networkidle")
        assert reviewer.get_by_role("status").inner_text() == "账号已停用"
    finally:
        reviewer.context.close()

    page.goto(url + "/portal/admin/audit")
    rows = page.locator("tbody tr").all_inner_texts()
    ours = [r for r in rows if "鄂尔多斯市草原站" in r]
    assert [next(a for a in ("停用账号", "修改本人密码", "新建账号") if a in r) for r in ours] == [
        "停用账号", "修改本人密码", "新建账号"]
    assert all(re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", r) for r in ours)


def test_a_bureau_manages_its_own_leagues_reviewers_and_is_refused_elsewhere(running_system, page):
    url = running_system["url"]
    sign_in(page, url, "bureau")
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="账号管理").is_visible()
    assert nav.get_by_role("link", name="公示与名录管理").count() == 0
    nav.get_by_role("link", name="账号管理").click()
    page.wait_for_load_state("networkidle")
    assert "鄂尔多斯市部门审核人员账号" in page.get_by_role("heading", level=2).all_inner_texts()[1]
    assert "包头市" not in page.locator("table").inner_text()
    create_reviewer(page, "reviewer_energy2_e2e", "鄂尔多斯市能源局（二）", "能源部门")
    assert "鄂尔多斯市" in page.locator("dl.facts").inner_text()

    refused = page.goto(url + "/portal/admin/users/reviewer_eco_baotou")
    assert refused.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "无权访问"
    assert "只能管理本盟市（鄂尔多斯市）部门审核人员的账号" in page.locator("main").inner_text()
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    posted = page.request.post(url + "/api/v1/auth/users", headers={"X-CSRFToken": csrf}, data={
        "username": "reviewer_energy_baotou2", "role": "department_reviewer", "department": "energy",
        "area": "包头市"})
    assert posted.status == 403 and "鄂尔多斯市" in posted.json()["message"]


def test_the_evaluator_following_a_review_link_gets_the_styled_page_and_a_way_back(running_system, page):
    url = running_system["url"]
    sign_in(page, url, "evaluator")
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="审核工作台").count() == 0
    answer = page.goto(url + "/review/")
    assert answer.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "无权访问"
    assert "当前角色（第三方评估机构）无权访问此功能" in page.locator("main").inner_text()
    background = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert background == "rgb(31, 111, 67)"                       # the shared stylesheet, not a bare page
    page.get_by_role("link", name="返回我的工作台").click()
    page.wait_for_load_state("networkidle")
    assert page.url == url + "/evaluation/commissions"     # the evaluator's workspace: its commissions
    missing = page.goto(url + "/review/no-such-page")
    assert missing.status == 404 and page.get_by_role("link", name="返回我的工作台").is_visible()


def test_the_sign_in_page_says_why_it_was_shown(running_system, page):
    url = running_system["url"]
    page.goto(url + "/review/")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").inner_text() == "请先登录"
    page.get_by_label("用户名").fill("reviewer_forestry")
    page.get_by_label("密码").fill("Greenmine-2025")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")
    assert page.url == url + "/review/"                           # back where the link pointed
    page.goto(url + "/login?reason=%3Cscript%3E")
    assert page.get_by_role("status").count() == 0


def test_every_page_has_the_icon(running_system, page):
    url = running_system["url"]
    icon = requests.get(url + "/favicon.ico", timeout=30)
    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/vnd.microsoft.icon"
    sign_in(page, url, "reviewer_eco")
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.ico"
