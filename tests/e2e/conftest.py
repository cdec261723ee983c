"""Fixtures of the end-to-end tests. Browser test modules use `no_csp_violation` for every test
(`pytest.mark.usefixtures`); a test that wants the page's messages asks for it by name."""
from __future__ import annotations

import pytest
from browsing import report_console


@pytest.fixture
def no_csp_violation(page):
    """Issue 9 item 6: the pages work under the strict Content-Security-Policy, and the browser reports no
    violation of it on any page the test opens (console messages, and the securitypolicyviolation event)."""
    messages: list[str] = []
    report_console(page, messages)
    yield messages
    violations = [m for m in messages if "Content Security Policy" in m or "CSP violation" in m]
    assert not violations, violations
