"""The demo's 目标进度 (supervision's targets area), through the public API as the users would:

* the region office enters every 盟市's yearly target for this year (正文 二（二）): green mines by the end of the
  year, per scale, from the 盟市's demo mines (about half the large ones, a third of the medium ones);
* three 盟市 bureaux record a green-mine construction contract with one of their mines' 采矿权人: one completed, one
  in progress, one breached (a task past its due date and unfinished).

The mine register the targets count is intake's (the demo region's 60 licensed producing mines of every scale, in
every 盟市, `shared.demo_region.mine_data`), which reaches supervision through `intake.mine_recorded`.
Idempotent: a yearly target already set is not changed, a contract already recorded (its number) is not added."""
from __future__ import annotations

import math
import time
from datetime import UTC, date, datetime, timedelta

import requests

from shared import regions


def beijing_today() -> date:
    return (datetime.now(UTC) + timedelta(hours=8)).date()


def yearly_targets(year: int) -> dict[str, dict]:
    """{盟市: the body of its yearly target} for `year`, from the demo region's mines."""
    from shared.demo_region import demo_mines

    out = {}
    for league in regions.LEAGUES:
        mines = [m for m in demo_mines() if m.league_code == league.code]
        count = {scale: sum(1 for m in mines if m.scale == scale) for scale in ("large", "medium", "small")}
        out[league.name] = {"large": math.ceil(count["large"] / 2), "medium": math.ceil(count["medium"] / 3),
                            "small": None, "basis": f"{league.name}{year}年绿色矿山建设目标任务"}
    return out


def contracts(today: date) -> list[tuple[str, dict, list[int]]]:
    """(mine id, contract, progress per task) of the three demo contracts, dated around `today`."""
    from shared.demo_region import mine_id

    def day(delta: int) -> str:
        return (today + timedelta(days=delta)).isoformat()

    year = today.year
    return [
        (mine_id("ordos", 1), {"contract_no": f"鄂绿矿合〔{year}〕1号", "signed_on": day(-300), "deadline": day(-20),
                               "liability": "逾期未完成建设任务的，暂停新增用地指标支持并通报",
                               "tasks": [{"text": "排土场边坡复绿与截排水", "due_on": day(-200)},
                                         {"text": "建成矿区智能化调度中心", "due_on": day(-30)}]}, [100, 100]),
        (mine_id("baotou", 1), {"contract_no": f"包绿矿合〔{year}〕1号", "signed_on": day(-120),
                                "deadline": day(400), "liability": "逾期未完成的，按合同约定承担违约责任",
                                "tasks": [{"text": "矿区道路硬化与洒水降尘", "due_on": day(60)},
                                          {"text": "废水循环利用设施", "due_on": day(300)}]}, [60, 20]),
        (mine_id("chifeng", 1), {"contract_no": f"赤绿矿合〔{year}〕1号", "signed_on": day(-250),
                                 "deadline": day(200), "liability": "逾期未完成的，纳入矿业权人异常名录管理建议",
                                 "tasks": [{"text": "尾矿库生态修复", "due_on": day(-15)},
                                           {"text": "选矿废水零排放改造", "due_on": day(150)}]}, [70, 30]),
    ]


def _sign(s, bureau: str, body: dict, timeout: float = 120) -> dict | None:
    """Record the contract once supervision's register knows the mine (intake's event is on its way: 404 until
    then); None at the timeout."""
    from shared.demo_flows import _check

    deadline = time.monotonic() + timeout
    while True:
        answer = requests.post(f"{s.url}/api/v1/supervision/contracts", headers=s.headers(bureau), json=body,
                               timeout=60)
        _check(answer.status_code in (201, 404), f"POST /api/v1/supervision/contracts as {bureau}: "
                                                 f"{answer.status_code} {answer.text}")
        if answer.status_code == 201:
            return answer.json()
        if time.monotonic() > deadline:
            return None
        time.sleep(1)


def set_up(s, progress=print) -> dict:
    """Yearly targets for this year and the three contracts; what was done."""
    from shared.demo_region import bureau_of

    today = beijing_today()
    done = {"yearly": 0, "contracts": []}
    for league, body in yearly_targets(today.year).items():
        existing = s.call("GET", f"/api/v1/supervision/targets?year={today.year}&league={league}", "region")
        if not existing["leagues"][0]["yearly_set"]:
            s.call("PUT", f"/api/v1/supervision/targets/yearly/{today.year}/{league}", "region", body)
            done["yearly"] += 1
    for mine, contract, progress_of in contracts(today):
        league = regions.league_by_code(mine.split("-")[2]).name
        bureau = bureau_of(league)
        have = s.call("GET", "/api/v1/supervision/contracts", bureau)
        if any(c["contract_no"] == contract["contract_no"] for c in have):
            continue
        made = _sign(s, bureau, {"mine_id": mine, **contract})
        if made is None:
            progress(f"demo targets: {mine} never reached supervision's register; its contract is left out")
            continue
        for no, value in enumerate(progress_of, 1):
            if value:
                s.call("POST", f"/api/v1/supervision/contracts/{made['contract_id']}/progress", bureau,
                       {"task_no": no, "progress": value, "note": "按合同推进"})
        done["contracts"].append(contract["contract_no"])
    progress(f"demo targets: {done['yearly']} yearly targets set for {today.year}, "
             f"{len(done['contracts'])} construction contracts recorded")
    return done
