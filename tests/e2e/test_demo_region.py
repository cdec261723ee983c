"""The living demo region on the whole system (`greenmine up`: real Kafka and MongoDB servers): after
`greenmine demo-data` (accounts and intake's mines) and `shared.demo_region.run` (the cases through the public API),
the region counts — through the API, independently of the demo's own tables — at least 60 mines across the 12
盟市, both branches of 附件1 三 and every scale, and cases at every stage of the first half (draft, in initial review
with tasks in the departments' queues, returned for correction, forwarded) in several 盟市; after the demo
scenario, the later stages: the public list holds the imported earlier list (≥ 30 mines in the 12 盟市, with their
original announcements), a published 公示 batch of the proposed cases and — when today is a working day on the
official calendar (checked here with chinese_calendar, independently of the platform) — a real-name objection in
handling; a second run adds nothing (no second batch, objection or import)."""
from __future__ import annotations

import time
from collections import Counter

import pytest
import requests
from flows import token

from shared import demo_public_notice, demo_region, regions

pytestmark = [pytest.mark.e2e]


def get(url: str, path: str, username: str):
    answer = requests.get(url + path, headers=token(url, username), timeout=60)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def counts(url: str) -> dict:
    mines = get(url, "/api/v1/mines", "region")
    apps = get(url, "/api/v1/applications", "region")
    league_names = {m["id"]: m.get("league_name") for m in mines}
    by_status: dict[str, set] = {}
    for a in apps:
        by_status.setdefault(a["status"], set()).add(league_names.get(a["mine_id"]) or a.get("league_name"))
    return {"mines": mines, "apps": apps, "by_status": by_status}


@pytest.fixture(scope="module")
def region(running_system):
    from shared import demo_scenario

    url = running_system["url"]
    steps: list[str] = []
    started = time.monotonic()
    demo_scenario.run(url, progress=steps.append)   # `greenmine demo-scenario`: the scenario, then the region
    reached = demo_region.run(url, progress=steps.append)
    elapsed = time.monotonic() - started
    print(f"\ndemo scenario and region built in {elapsed:.0f}s:\n" + "\n".join(steps[-12:]))
    return {"url": url, "reached": reached, "steps": steps, "elapsed": elapsed}


def test_sixty_mines_in_every_league_both_branches_and_every_scale(region):
    mines = counts(region["url"])["mines"]
    assert len(mines) >= 60
    assert {m["league_name"] for m in mines} == set(regions.LEAGUE_NAMES)
    assert {m["industry_group"] for m in mines} == {1, 2}
    assert {m["scale"] for m in mines} == {"large", "medium", "small"}
    per_league = Counter(m["league_name"] for m in mines)
    assert min(per_league.values()) >= 5
    # every demo enterprise owns its 盟市's mines
    for enterprise in demo_region.DEMO_ENTERPRISES:
        own = get(region["url"], "/api/v1/mines", enterprise.username)
        assert len(own) == 5 and {m["league_name"] for m in own} == {enterprise.league}


def test_every_stage_of_the_first_half_in_several_leagues(region):
    by_status = counts(region["url"])["by_status"]
    assert len(by_status["draft"]) >= 12                  # a draft in every 盟市
    in_review = by_status.get("routed", set()) | by_status.get("submitted", set())
    assert len(in_review) >= 12
    assert len(by_status["returned"]) >= 12
    assert {"鄂尔多斯市", "赤峰市", "呼伦贝尔市", "锡林郭勒盟"} <= by_status["forwarded"]
    # the later stages took 包头市's forwarded case on through the region stage to 公示
    assert "包头市" in by_status.get("publicised", set()) | by_status.get("proposed", set())


def test_tasks_wait_in_the_departments_queues_and_the_bureaus_see_their_cases(region):
    url = region["url"]
    queue = get(url, "/api/v1/review/queues/natural_resources", "bureau_hohhot")
    assert queue["items"], "the 呼和浩特市 bureau's lead task should be in its queue"
    queue = get(url, "/api/v1/review/queues/ecology_environment", "reviewer_eco_chifeng")
    assert any(i["application_id"] for i in queue["items"])


def beijing_today():
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(hours=8)).date()


def public_list(url: str) -> tuple[int, list[dict]]:
    answer = requests.get(url + "/api/v1/list?per_page=100", timeout=60)
    assert answer.status_code == 200, answer.text
    return int(answer.headers["X-Total-Count"]), answer.json()


def later_stages(url: str) -> dict:
    batches = get(url, "/api/v1/notice/batches", "region")
    objections = get(url, "/api/v1/notice/objections", "region")
    total, _mines = public_list(url)
    return {"batches": sorted(b["id"] for b in batches), "objections": sorted(o["id"] for o in objections),
            "list": total, "announcements": len(requests.get(url + "/api/v1/notice/announcements", timeout=60).json())}


def test_the_public_list_holds_the_earlier_list_with_its_announcements(region):
    url = region["url"]
    total, mines = public_list(url)
    assert total >= 30 and {m["league"] for m in mines} == set(regions.LEAGUE_NAMES)
    assert {m["scale"] for m in mines} == {"large", "medium", "small"}
    assert {m["listed_on"][:4] for m in mines} >= {"2020", "2021", "2022", "2023", "2024", "2025"}
    notices = requests.get(url + "/api/v1/notice/announcements", timeout=60).json()
    historical = {a["number"] for a in notices if a["kind"] == "historical"}
    assert "内自然资字〔2023〕45号" in historical and not any("〔2026〕" in n for n in historical)
    assert {m["announcement_no"] for m in mines} <= {a["number"] for a in notices}
    page = requests.get(url + "/public/list?league=阿拉善盟", timeout=60)
    assert page.status_code == 200 and "阿拉善右旗雅布赖芒硝矿" in page.text


def test_the_publicity_batch_and_the_objection_in_handling(region):
    import chinese_calendar

    url = region["url"]
    published = requests.get(url + "/api/v1/notice/publicity", timeout=60).json()
    assert len(published) == 1, published
    batch = published[0]
    assert {m["league"] for m in batch["mines"]} >= {"鄂尔多斯市", "包头市"}   # the scenario's and the region's
    today = beijing_today()
    open_today = chinese_calendar.is_workday(today)
    assert (batch["window_start"] == today.isoformat()) == open_today
    objections = get(url, f"/api/v1/notice/objections?batch_id={batch['batch_id']}", "region")
    if open_today:
        assert batch["accepts_objections"] is True
        (row,) = objections
        view = get(url, f"/api/v1/notice/objections/{row['id']}", "region")
        assert view["status"] == "verified" and view["departments"] == ["natural_resources"]
        assert list(view["findings"]) == ["natural_resources"] and len(view["evidence"]) == 1
        assert view["objector"]["name"] == demo_public_notice.OBJECTOR["name"]
        detail = requests.get(url + f"/public/publicity/{batch['batch_id']}", timeout=60).text
        assert demo_public_notice.OBJECTOR["name"] not in detail and demo_public_notice.OBJECTOR["phone"] not in detail
    else:
        assert objections == []


def test_a_second_run_adds_nothing(region):
    before = counts(region["url"])
    stages_before = later_stages(region["url"])
    demo_region.run(region["url"], progress=lambda _line: None)
    after = counts(region["url"])
    assert len(after["mines"]) == len(before["mines"])
    def state(c):
        return sorted((a["id"], a["status"]) for a in c["apps"])

    assert state(after) == state(before)
    assert later_stages(region["url"]) == stages_before


def test_demo_data_creates_the_accounts_quickly_and_a_second_run_adds_nothing(running_system):
    """`greenmine demo-data` on fresh databases (its own prefix): every demo account and the region's mines, timed;
    run again, nothing is created."""
    import re
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    from shared.demo_accounts import DEMO_USERS

    env = {**running_system["env"], "GREENMINE_DB_PREFIX": f"demo{uuid.uuid4().hex[:6]}"}
    greenmine = str(Path(sys.executable).parent / "greenmine")
    runs = []
    for _ in range(2):
        started = time.monotonic()
        done = subprocess.run([greenmine, "demo-data"], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append((time.monotonic() - started, done.stdout))
    first = re.search(r"demo accounts: (\d+) created, (\d+) already there \(([\d.]+)s\)", runs[0][1])
    second = re.search(r"demo accounts: (\d+) created, (\d+) already there", runs[1][1])
    print(f"\ndemo-data: {first.group(1)} accounts in {first.group(3)}s; whole first run {runs[0][0]:.1f}s, "
          f"second run {runs[1][0]:.1f}s")
    assert int(first.group(1)) == len(DEMO_USERS) and float(first.group(3)) < 15
    assert (int(second.group(1)), int(second.group(2))) == (0, len(DEMO_USERS))
    assert "historical list: 30 imported, 0 already there" in runs[0][1]
    assert "historical list: 0 imported, 30 already there" in runs[1][1]
