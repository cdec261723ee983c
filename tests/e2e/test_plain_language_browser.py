"""Issue 10, defects 3 and 4, as a user meets them: no page of the demo flow shows an internal code (a department
code, a material kind, a service name, a sub-item key, an English status) or a UTC time.

A case is submitted through the real APIs; then each demo role signs in and the test walks every page it can
reach from its workspace by following links (same origin, HTML pages, up to a bound), reading each page's text
as the person sees it."""
from __future__ import annotations

import re
from collections import deque
from datetime import datetime, timedelta
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
import requests
from browsing import report_console, sign_in
from flows import submit_application, token, wait_for_task
from playwright.sync_api import Error as PlaywrightError

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("no_csp_violation")]

ROLES = ["enterprise", "reviewer_eco", "reviewer_safety", "bureau", "region", "evaluator", "admin"]
MAX_PAGES = 40
TABS = 4
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00|\bUTC\b|\d\d:\d\d(:\d\d)?Z\b")
SNAKE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.@/-])")
# Pages that are not the flow's: sign-out, files, the API, machine-readable documents.
SKIP = re.compile(r"^/(api/|logout|login|static/|metrics|readyz|healthz|[a-z_]+/openapi)|\.(pdf|xlsx|csv|json)$")


def internal_words() -> set[str]:
    """Codes that exist only inside the system: departments, material kinds, services, statuses."""
    from intake.domain.materials import KINDS
    from shared.catalog import load_catalog

    words = {d.code for d in load_catalog("nm-2025").departments} | {k.code for k in KINDS}
    words |= {"intake", "review_routing", "scoring", "public_notice", "supervision", "natural_resources"}
    words |= {"open", "claimed", "opinion_given", "closed", "draft", "submitted", "returned", "forwarded",
              "rejected", "agree", "disagree", "return", "open_pit", "underground", "oil_gas", "large", "medium",
              "small", "in_production", "coal"}
    return words


def problems_on(text: str, words: set[str], usernames: set[str]) -> list[str]:
    found = [f"UTC time {m.group(0)!r}" for m in ISO_TIME.finditer(text)]
    found += [f"code {m.group(0)!r}" for m in SNAKE.finditer(text) if m.group(0) not in usernames]
    found += [f"code {w!r}" for w in re.findall(r"(?<![\w.@/-])[a-z]{3,}(?![\w.@/-])", text)
              if w in words and w not in usernames]
    return found


def test_the_checker_finds_what_it_is_meant_to_find():
    words = internal_words()
    assert problems_on("提交于 2026-03-02T08:15:00+00:00", words, set())
    assert problems_on("分工部门:ecology_environment", words, set())
    assert problems_on("加分子项:solid_waste_use、topsoil_reuse", words, set())
    assert problems_on("材料:eia_approval", words, set()) and problems_on("（scoring）", words, set())
    assert not problems_on("办理人:鄂尔多斯市生态环境局(reviewer_eco) 2026-12-01 16:15 PDF JPEG", words,
                           {"reviewer_eco"})


def watched(page, messages: list[str]):
    """Another tab of the signed-in context, its console and CSP violations reported like the first tab's."""
    tab = page.context.new_page()
    report_console(tab, messages)
    return tab


def walk(tabs: list, url: str, start: str) -> dict[str, str]:
    """Every HTML page reachable from `start` by links (breadth first, at most MAX_PAGES): path -> text.

    The pages load TABS at a time, one per tab: each waits for network idle (500 ms without a request, so that
    what the page fetches is drawn before its text is read), and those waits overlap instead of adding up."""
    seen, texts, queue = {start}, {}, deque([start])
    while queue and len(texts) < MAX_PAGES:
        batch = [queue.popleft() for _ in range(min(len(queue), len(tabs), MAX_PAGES - len(texts)))]
        loaded = []
        for tab, path in zip(tabs, batch, strict=False):
            try:
                response = tab.goto(url + path, wait_until="commit")
            except PlaywrightError as exc:      # a link to a file (xlsx, an attachment): not a page
                if "Download is starting" in str(exc):
                    continue
                raise
            if response is not None and "text/html" in (response.headers.get("content-type") or ""):
                loaded.append((tab, path))
        for tab, path in loaded:
            tab.wait_for_load_state("networkidle")
            texts[path] = tab.locator("body").inner_text()
            for href in tab.eval_on_selector_all("a[href]:not([download])", "els => els.map(e => e.href)"):
                target = urlparse(urldefrag(urljoin(tab.url, href))[0])
                if target.netloc != urlparse(url).netloc:
                    continue
                link = target.path + (f"?{target.query}" if target.query else "")
                if link not in seen and not SKIP.search(target.path):
                    seen.add(link)
                    queue.append(link)
    return texts


def test_no_page_of_the_demo_flow_shows_a_code_or_a_utc_time(running_system, page, no_csp_violation):
    url = running_system["url"]
    app_id, _ = submit_application(url)
    for username, department in (("reviewer_eco", "ecology_environment"), ("reviewer_safety", "emergency_management"),
                                 ("bureau", "natural_resources")):
        wait_for_task(url, app_id, username, department)

    # The times the pages show are Beijing's: the submission time on the enterprise's case page is UTC + 8 h.
    case = requests.get(f"{url}/api/v1/applications/{app_id}", headers=token(url, "enterprise"), timeout=30).json()
    stamp = case["versions"][-1]["submitted_at"]
    submitted = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    beijing = (submitted + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")

    from shared.cli import DEMO_USERS

    # A username is what a person types to sign in (shown beside the name in lists), not an internal code.
    words, usernames = internal_words(), {user[0] for user in DEMO_USERS}
    found: dict[str, list[str]] = {}
    walked = 0
    tabs = [page] + [watched(page, no_csp_violation) for _ in range(TABS - 1)]
    for username in ROLES:
        page.context.clear_cookies()
        sign_in(page, url, username)
        start = urlparse(page.url).path
        texts = walk(tabs, url, start)
        walked += len(texts)
        print(username, "walked", sorted(texts))  # shown when the test fails: which pages were read
        for path, text in texts.items():
            if problems := problems_on(text, words, usernames):
                found[f"{username} {path}"] = problems
        if username == "enterprise":
            pages = [t for p, t in texts.items() if app_id in p]
            assert pages, f"the enterprise's walk never reached its case {app_id}: {sorted(texts)}"
            if not any(beijing in t for t in pages):
                found[f"enterprise {app_id}"] = [f"no page shows the submission time {beijing} (Beijing time)"]
    assert walked >= 20, walked
    assert not found, "\n".join(f"{where}: {'; '.join(sorted(set(p))[:8])}" for where, p in found.items())
