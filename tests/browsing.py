"""Helpers for browser tests (importable: pytest puts tests/ on sys.path)."""
from __future__ import annotations

import time

# Reports a violation of the Content-Security-Policy on the console, where the tests collect them.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " +
                e.sourceFile + ":" + e.lineNumber));"""


def report_console(page, messages: list[str]) -> None:
    """Collect `page`'s console messages, page errors and Content-Security-Policy violations into `messages`."""
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))


def sign_in(page, url: str, username: str, password: str = "Greenmine-2025") -> None:
    """Sign in through the real form, as a person would."""
    page.goto(url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def wait_until(page, expression: str, arg=None, timeout: float = 30) -> None:
    """Poll a JavaScript predicate until it holds. Playwright's wait_for_function polls by evaluating a string in
    the page, which the strict Content-Security-Policy (no 'unsafe-eval') refuses; page.evaluate is not affected."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression, arg):
                return
        except Error as exc:         # the page is navigating (a form posted): ask the next document
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)
