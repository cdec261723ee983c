"""Account administration on the real database (issue 10 items 8 and 11): the JSON API and the pages, each
change audited in the same transaction, a forced password change, the reason shown on the sign-in page."""
from __future__ import annotations

import re

import pytest

from shared import identity
from shared.portal import create_app as create_portal
from shared.storage import mongo_client

pytestmark = pytest.mark.integration
PASSWORD = "Greenmine-2025"


@pytest.fixture
def directory(settings):
    directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
    directory.add("admin", PASSWORD, "admin", display_name="系统管理员")
    directory.add("bureau", PASSWORD, "bureau", area="鄂尔多斯市", display_name="鄂尔多斯市自然资源局")
    directory.add("reviewer_eco_baotou", PASSWORD, "department_reviewer", department="ecology_environment",
                  area="包头市", display_name="包头市生态环境局")
    return directory


@pytest.fixture
def portal(settings, directory):
    return create_portal(settings).test_client()


def bearer(portal, username, password=PASSWORD) -> dict:
    answer = portal.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {"Authorization": f"Bearer {answer.json['access_token']}"}


def csrf_of(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def browser_sign_in(client, username, password=PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_of(page)})


def test_the_api_creates_resets_disables_and_audits(portal, directory):
    admin = bearer(portal, "admin")
    created = portal.post("/api/v1/auth/users", headers=admin, json={
        "username": "reviewer_forestry", "role": "department_reviewer", "display_name": "鄂尔多斯市林草局",
        "department": "forestry_grassland", "area": "鄂尔多斯市"})
    assert created.status_code == 201, created.get_data(as_text=True)
    one_time = created.json["one_time_password"]
    account = created.json["account"]
    assert (account["department_label"], account["status_label"], account["must_change"]) == ("林草部门", "启用", True)

    # The new user signs in with the one-time password and can do nothing but change it.
    reviewer = bearer(portal, "reviewer_forestry", one_time)
    refused = portal.get("/portal/whoami", headers={**reviewer, "Accept": "application/json"})
    assert refused.status_code == 200 and refused.json["must_change"] is True
    blocked = portal.get("/api/v1/auth/users", headers=reviewer)
    assert blocked.status_code == 403 and blocked.json["message"] == "密码已重置，请先修改密码"
    weak = portal.post("/api/v1/auth/password", headers=reviewer,
                       json={"current_password": one_time, "new_password": "abc"})
    assert weak.status_code == 422
    assert weak.json["errors"]["new_password"] == ["密码至少10位", "密码须包含字母、数字、符号中的至少两类"]
    changed = portal.post("/api/v1/auth/password", headers=reviewer,
                          json={"current_password": one_time, "new_password": "Forest-land-2026"})
    assert changed.status_code == 200 and changed.json["ended_sign_ins"] >= 1
    assert portal.get("/api/v1/auth/me", headers=reviewer).status_code == 401   # that sign-in ended too
    assert bearer(portal, "reviewer_forestry", "Forest-land-2026")

    reset = portal.post("/api/v1/auth/users/reviewer_forestry/password", headers=admin, json={})
    assert reset.status_code == 200 and reset.json["account"]["must_change"] is True
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", reset.json["one_time_password"])
    disabled = portal.post("/api/v1/auth/users/reviewer_forestry/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json["account"]["status_label"] == "停用"
    assert portal.post("/api/v1/auth/token", json={"username": "reviewer_forestry",
                                                   "password": reset.json["one_time_password"]}).status_code == 401

    audit = portal.get("/api/v1/auth/audit?target=reviewer_forestry", headers=admin)
    assert [e["action_label"] for e in audit.json["items"]] == ["停用账号", "重置密码", "修改本人密码", "新建账号"]
    assert {e["actor"] for e in audit.json["items"]} == {"admin", "reviewer_forestry"}
    assert "forestry_grassland" not in str(audit.json) and one_time not in str(audit.json)
    stored = directory.users.database["account_audit"].find_one({"action": "create"})
    assert stored["actor"] == "admin" and stored["at"].tzinfo is not None


def test_api_errors_name_the_fields_and_store_nothing(portal, directory):
    admin = bearer(portal, "admin")
    bad = portal.post("/api/v1/auth/users", headers=admin, json={
        "username": "r", "role": "department_reviewer", "department": "forestry", "area": "火星",
        "password": "short"})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"username", "department", "area", "password"}
    assert bad.json["errors"]["area"] == ["部门审核人员须选择层级：自治区或一个盟市"]
    missing = portal.post("/api/v1/auth/users", headers=admin, json={"username": "someone"})
    assert missing.status_code == 422 and missing.json["errors"] == {"role": ["必填项缺失"]}
    assert portal.get("/api/v1/auth/users/nobody", headers=admin).status_code == 404
    assert directory.get("r") is None
    assert directory.users.database["account_audit"].count_documents({}) == 0


def test_a_bureau_manages_its_own_leagues_reviewers_only(portal, directory):
    bureau = bearer(portal, "bureau")
    own = portal.post("/api/v1/auth/users", headers=bureau, json={
        "username": "reviewer_water", "role": "department_reviewer", "display_name": "鄂尔多斯市水利局",
        "department": "water_resources"})
    assert own.status_code == 201 and own.json["account"]["area"] == "鄂尔多斯市"
    other = portal.post("/api/v1/auth/users", headers=bureau, json={
        "username": "reviewer_water_baotou", "role": "department_reviewer", "department": "water_resources",
        "area": "包头市"})
    assert other.status_code == 403
    assert other.json["message"] == "盟市自然资源局只能管理本盟市（鄂尔多斯市）部门审核人员的账号"
    assert portal.post("/api/v1/auth/users/reviewer_eco_baotou/disable", headers=bureau).status_code == 403
    listed = portal.get("/api/v1/auth/users", headers=bureau).json["items"]
    assert [a["username"] for a in listed] == ["reviewer_water"]
    reviewer = bearer(portal, "reviewer_eco_baotou")
    assert portal.get("/api/v1/auth/users", headers=reviewer).status_code == 403
    assert directory.get("reviewer_water_baotou") is None


def test_the_sign_in_page_says_why(settings, portal, directory):
    from review_routing.entrypoints.http import create_app as create_review

    review = create_review(settings).test_client()

    def follow(client):
        """Open the workspace as a browser; return the sign-in page it sends us to (its text)."""
        answer = client.get("/review/", headers={"Accept": "text/html"})
        assert answer.status_code == 401
        login = re.search(r'url=(/login\?[^"]+)"', answer.get_data(as_text=True)).group(1).replace("&amp;", "&")
        assert login.startswith("/login?next=%2Freview%2F")
        return portal.get(login).get_data(as_text=True)

    assert "请先登录" in follow(review)
    browser_sign_in(portal, "reviewer_eco_baotou")
    review.set_cookie("greenmine_session", portal.get_cookie("greenmine_session").value)
    assert review.get("/review/").status_code == 200
    directory.set_active("reviewer_eco_baotou", False)
    assert "账号已停用" in follow(review)

    refused = browser_sign_in(portal, "reviewer_eco_baotou")
    assert refused.status_code == 401 and "账号已停用，请联系管理员" in refused.get_data(as_text=True)
    wrong = browser_sign_in(portal, "reviewer_eco_baotou", "not-the-password-1")
    assert "用户名或密码错误" in wrong.get_data(as_text=True)     # the state is told only to who knows the password

    directory.set_active("reviewer_eco_baotou", True)
    browser_sign_in(portal, "reviewer_eco_baotou")
    review.set_cookie("greenmine_session", portal.get_cookie("greenmine_session").value)
    directory.users.update_one({"_id": "reviewer_eco_baotou"}, {"$set": {"must_change": True}})
    directory.revoke("reviewer_eco_baotou")
    assert "密码已重置，请修改" in follow(review)

    page = portal.get("/?stay=1")
    out = portal.post("/logout", data={"csrf_token": re.search(r'name="csrf-token" content="([^"]+)"',
                                                               page.get_data(as_text=True)).group(1)})
    assert out.headers["Location"] == "/login?reason=signed_out"
    assert "您已退出登录" in portal.get(out.headers["Location"]).get_data(as_text=True)
    assert "登录已过期，请重新登录" in portal.get("/login?reason=expired").get_data(as_text=True)
    echoed = portal.get("/login?reason=<b>hacked</b>").get_data(as_text=True)
    assert "hacked" not in echoed


def test_forced_change_in_the_browser_then_the_workspace(settings, portal, directory):
    admin = bearer(portal, "admin")
    reset = portal.post("/api/v1/auth/users/reviewer_eco_baotou/password", headers=admin,
                        json={"password": "Temporary-2026"})
    assert reset.status_code == 200 and reset.json["one_time_password"] is None
    signed_in = browser_sign_in(portal, "reviewer_eco_baotou", "Temporary-2026")
    assert signed_in.headers["Location"] == "/review/"
    from review_routing.entrypoints.http import create_app as create_review

    review = create_review(settings).test_client()
    review.set_cookie("greenmine_session", portal.get_cookie("greenmine_session").value)
    sent = review.get("/review/", headers={"Accept": "text/html"})
    assert sent.status_code == 302 and sent.headers["Location"] == "/portal/password?next=%2Freview%2F"
    form = portal.get("/portal/password?next=/review/")
    assert "您的密码由管理员设定" in form.get_data(as_text=True)
    mismatch = portal.post("/portal/password", data={"csrf_token": csrf_of(form), "next": "/review/",
                                                     "current_password": "Temporary-2026",
                                                     "new_password": "Eco-baotou-2027", "confirm_password": "x"})
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.get_data(as_text=True)
    done = portal.post("/portal/password", data={"csrf_token": csrf_of(form), "next": "/review/",
                                                 "current_password": "Temporary-2026",
                                                 "new_password": "Eco-baotou-2027",
                                                 "confirm_password": "Eco-baotou-2027"})
    assert done.status_code == 302 and done.headers["Location"] == "/review/"
    review.set_cookie("greenmine_session", portal.get_cookie("greenmine_session").value)
    assert review.get("/review/").status_code == 200
    assert directory.get("reviewer_eco_baotou").must_change is False


def test_admin_pages_show_labels_and_beijing_times(portal, directory):
    browser_sign_in(portal, "admin")
    page = portal.get("/portal/admin")
    created = portal.post("/portal/admin/users", data={
        "csrf_token": csrf_of(page), "username": "reviewer_energy", "display_name": "鄂尔多斯市能源局",
        "role": "department_reviewer", "department": "energy", "area": "鄂尔多斯市", "password_mode": "generate"})
    text = created.get_data(as_text=True)
    assert created.status_code == 201 and "一次性密码" in text and "已新建账号 reviewer_energy" in text
    assert re.search(r'id="one-time-password">\w{4}-\w{4}-\w{4}<', text)
    listing = portal.get("/portal/admin").get_data(as_text=True)
    assert "能源部门" in listing and "部门审核人员" in listing and "启用" in listing
    assert "department_reviewer<" not in listing and ">energy<" not in listing
    refused = portal.post("/portal/admin/users", data={
        "csrf_token": csrf_of(page), "username": "x", "role": "department_reviewer", "password_mode": "typed",
        "password": "short"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert "密码至少10位" in refused.get_data(as_text=True)
    audit = portal.get("/portal/admin/audit").get_data(as_text=True)
    stored = directory.users.database["account_audit"].find_one({"target": "reviewer_energy"})
    from shared.display import local_time

    assert local_time(stored["at"]) in audit and "新建账号" in audit and "能源部门" in audit


def test_hostile_text_is_refused_by_field_never_a_server_error(portal, directory):
    import json

    def post(path, body, headers=None):     # JSON with \u escapes: lone surrogates travel as the text says
        return portal.post(path, data=json.dumps(body), content_type="application/json", headers=headers or {})

    admin = bearer(portal, "admin")
    bad = post("/api/v1/auth/users", {
        "username": "reviewer_odd", "role": "department_reviewer", "department": "energy", "area": "包头市",
        "display_name": "包头\u202e局", "password": "Abc-12345\ud800x"}, admin)
    assert bad.status_code == 422, bad.get_data(as_text=True)
    assert set(bad.json["errors"]) == {"display_name", "password"}
    odd_path = portal.get("/api/v1/auth/users/%ED%A0%80", headers=admin)
    assert odd_path.status_code in (403, 404)
    reviewer = bearer(portal, "reviewer_eco_baotou")
    change = post("/api/v1/auth/password", {"current_password": "\ud800", "new_password": "\ud800\ud800"}, reviewer)
    assert change.status_code == 422 and set(change.json["errors"]) == {"current_password", "new_password"}
    sign_in = post("/api/v1/auth/token", {"username": "reviewer_eco_baotou", "password": "\ud800"})
    assert sign_in.status_code == 401


def test_evaluator_accounts_belong_to_an_institution_and_the_region_office_manages_them(settings, portal, directory):
    directory.add("region", PASSWORD, "region_office", display_name="自治区自然资源厅")
    office = bearer(portal, "region")
    missing = portal.post("/api/v1/auth/users", headers=office, json={"username": "eval_lvyuan", "role": "evaluator"})
    assert missing.status_code == 422 and "所属评估机构" in missing.json["errors"]["institution"][0]
    created = portal.post("/api/v1/auth/users", headers=office, json={
        "username": "eval_lvyuan", "role": "evaluator", "display_name": "绿原评估", "password": "Lvyuan-2026-pw",
        "must_change": False, "institution": "inst-91150100ma0p00011n"})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["account"]["institution"] == "inst-91150100ma0p00011n"
    refused = portal.post("/api/v1/auth/users", headers=office, json={
        "username": "reviewer_water", "role": "department_reviewer", "department": "water_resources",
        "area": "鄂尔多斯市"})
    assert refused.status_code == 403
    assert [a["username"] for a in portal.get("/api/v1/auth/users", headers=office).json["items"]] == ["eval_lvyuan"]
    me = portal.get("/api/v1/auth/me", headers=bearer(portal, "eval_lvyuan", "Lvyuan-2026-pw"))
    assert me.status_code == 200 and me.json["institution"] == "inst-91150100ma0p00011n"
    moved = portal.patch("/api/v1/auth/users/eval_lvyuan", headers=office,
                         json={"institution": "inst-91150200ma0p000220"})
    assert moved.status_code == 200 and moved.json["ended_sign_ins"] == 1
    page = portal.get("/portal/admin/users/eval_lvyuan", headers={**office, "Accept": "text/html"})
    assert "inst-91150200ma0p000220" in page.get_data(as_text=True) and "所属评估机构" in page.get_data(as_text=True)
