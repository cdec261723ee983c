"""Helpers for browser tests (importable: pytest puts tests/ on sys.path)."""
from __future__ import annotations


def sign_in(page, url: str, username: str, password: str = "Greenmine-2025") -> None:
    """Sign in through the real form, as a person would."""
    page.goto(url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")
