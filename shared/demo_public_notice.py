"""The demo region's later stages on the public notice (`shared.demo_region`'s hooks call these): the region
stage taken on for another 盟市's case, the 公示 batch with an objection in handling and an email subscription,
and the public list's report — all through the platform's public API as the users, never writing a collection."""
from __future__ import annotations

import time

import requests


def _say(s, line: str) -> None:
    getattr(s, "progress", print)(line)


#: The 盟市 whose forwarded case the region takes to 拟公示 (so the 公示 batch holds mines of more than one 盟市; the
#: other review 盟市 keep theirs 初审通过，已报自治区 for the first half's picture).
EVALUATED_LEAGUES = ("baotou",)


def _region_review(s, review_id: str, timeout: float = 60) -> dict | None:
    """The region stage's case (made from the forwarding's event), or None when it never appears."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(f"{s.url}/api/v1/evaluation/reviews/{review_id}", headers=s.headers("region"),
                              timeout=60)
        if answer.status_code == 200:
            return answer.json()
        time.sleep(0.5)
    return None


def _finish_check(s, round_id: str, review_id: str, league: str) -> None:
    """Each department's reviewer of the case's 盟市 records its part still pending; the spot check when the
    case was drawn (as `shared.demo_scenario.finish_check` does for 鄂尔多斯市)."""
    from shared.demo_flows import demo_reviewer
    from shared.demo_scenario import _today

    view = s.call("GET", f"/api/v1/evaluation/check-rounds/{round_id}", "region")
    case = next(c for c in view["cases_detail"] if c["review_id"] == review_id)
    for part in case["parts"]:
        if part.get("status") == "pending":
            s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/cases/{review_id}/parts/"
                           f"{part['department']}", demo_reviewer(part["department"], league),
                   {"passed": True, "note": "资料齐全，与评估报告一致"})
    if case.get("selected"):
        evaluation = s.call("GET", f"/api/v1/evaluation/reviews/{review_id}", "region")["evaluation"]
        view = s.call("GET", f"/api/v1/evaluation/evaluations/{evaluation['evaluation_id']}", "region")
        spot = {"record": f"{_today()} 自治区抽查组在采场和排土场实地核查，现场情况与评估报告一致"}
        indicators = {str(i["no"]): dict(i["entry"]) if i["not_applicable"] else {"score": i["score"], **spot}
                      for i in view["indicators"]}
        s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/cases/{review_id}/spot-check", "region",
               {"indicators": indicators, "prerequisites": {p["code"]: True for p in view["prerequisites"]},
                "note": "实地抽查结论与评估报告一致"}, expect=(200, 201, 409))




def evaluate_other_leagues(s, cases: dict) -> dict:
    """自治区评估: the forwarded case of 包头市 (`EVALUATED_LEAGUES`) goes the way the demo scenario takes its
    鄂尔多斯市 cases (`shared.demo_scenario`: institutions drawn and commissioned, accepted with both pledges,
    evaluated and submitted; a check round with its draws, every department's check part by its reviewer of the
    case's 盟市, the spot check when drawn) and the region office proposes it (拟公示), so the 公示 batch holds
    mines of several 盟市. Resumed from the case's status (待委托评估, 待核查, 核查中, 待决定); a proposed case is
    left as it is, so a second run adds nothing."""
    from shared import demo_region
    from shared.demo_scenario import accept, check_round, commission, evaluate

    started = time.monotonic()
    status, league, rounds = {}, {}, {}
    for code in EVALUATED_LEAGUES:
        mine = next(m for m in demo_region.demo_mines() if m.league_code == code and m.stage == "forwarded")
        app = demo_region._application_of(s, mine)
        review = _region_review(s, f"{app['id']}.v1") if app else None
        if review is not None:
            rid = f"{app['id']}.v1"
            status[rid], league[rid] = review.get("status"), mine.enterprise.league
            if review.get("check_round_id"):
                rounds[rid] = review["check_round_id"]
    fresh = [rid for rid, st in status.items() if st == "awaiting_commission"]
    if fresh:
        commissions = dict(zip(fresh, commission(s, fresh, "2026年12月1日恒生指数收盘19876.54"), strict=True))
        for rid in fresh:
            evaluate(s, commissions[rid], accept(s, commissions[rid]), submit=True)
            status[rid] = "evaluated"
        _say(s, f"demo region: {len(fresh)} cases of other 盟市 commissioned and evaluated "
                f"({time.monotonic() - started:.0f}s)")
    to_check = [rid for rid, st in status.items() if st == "evaluated"]
    if to_check:
        round_id = check_round(s, to_check)["round_id"]
        rounds.update({rid: round_id for rid in to_check})
    proposed = []
    for rid, st in status.items():
        if st in ("evaluated", "in_check"):
            if rid in rounds:
                _finish_check(s, rounds[rid], rid, league[rid])
                st = "checked"
        if st == "checked":
            s.call("POST", f"/api/v1/evaluation/reviews/{rid}/decision", "region", {"decision": "propose"})
            proposed.append(rid)
    if proposed:
        _say(s, f"demo region: {len(proposed)} cases of other 盟市 checked and proposed for 公示 "
                f"({time.monotonic() - started:.0f}s)")
    cases["proposed"] = proposed   # the 公示 batch waits for these proposals to reach the public notice
    return {"proposed": proposed}


# -- 公示 with an objection in handling -----------------------------------------------------------------------------
OBJECTOR = {"name": "王晓明", "phone": "13904771234", "organisation": "鄂尔多斯市康巴什区某社区居民委员会"}
OBJECTION_GROUNDS = ("该矿山东侧排土场边坡部分区域复绿效果较差，雨季存在水土流失现象，与公示材料所述“排土场已全部复绿”"
                     "不一致，请有关部门现场核实。")
SUBSCRIBER = "demo-subscriber@example.org"


def gb11643_id_number(first17: str) -> str:
    """A 居民身份证号码 with its GB 11643-1999 check character (ISO 7064 MOD 11-2)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def _beijing_today():
    from shared.clock import utcnow
    from shared.workdays import beijing_date

    return beijing_date(utcnow())


def _evidence_png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (170, 150, 110))
    ImageDraw.Draw(image).rectangle((20, 120, 300, 190), fill=(120, 100, 80))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _public_session(s, page: str):
    """A browser-like session of the public: the page's CSRF token and its cookie."""
    import re

    web = requests.Session()
    answer = web.get(s.url + page, headers={"Accept": "text/html"}, timeout=60)
    from shared.demo_flows import DemoStepFailed

    found = re.search(r'name="csrf-token" content="([^"]+)"', answer.text)
    if answer.status_code != 200 or not found:
        raise DemoStepFailed(f"GET {page}: {answer.status_code}")
    web.headers.update({"X-CSRFToken": found.group(1), "Accept": "application/json"})
    return web


def _demo_batch(s, cases: dict) -> dict | None:
    """The demo's 公示 batch: the one made by an earlier run (published or a draft an interrupted run left), or
    a new one of every case proposed so far, starting today when today is a working day on the official
    calendar (else the default: the next working day), published."""
    from shared.workdays import WorkingCalendar

    batches = s.call("GET", "/api/v1/notice/batches", "region")
    batches = batches if isinstance(batches, list) else batches.get("items", [])
    batch = next((b for b in batches if b.get("status") != "draft"), None) or (batches[0] if batches else None)
    if batch is None:
        expected, deadline = set(cases.get("proposed") or ()), time.monotonic() + 60
        proposals = s.call("GET", "/api/v1/notice/proposals", "region")
        while not expected <= {p.get("review_id") for p in proposals} and time.monotonic() < deadline:
            time.sleep(1)
            proposals = s.call("GET", "/api/v1/notice/proposals", "region")
        if not proposals:
            _say(s, "demo region: 公示 — no case is 拟公示 yet, no batch")
            return None
        today = _beijing_today()
        body = {"application_ids": [p["application_id"] for p in proposals]}
        if WorkingCalendar().is_workday(today):
            body["start_date"] = today.isoformat()
        batch = s.call("POST", "/api/v1/notice/batches", "region", body)
    if batch.get("status") == "draft":
        batch = s.call("POST", f"/api/v1/notice/batches/{batch['id']}/publish", "region")
        _say(s, f"demo region: 公示 published — {batch['title']}, {len(batch['entries'])} mines, "
                f"{batch['window_start']} to {batch['window_end']}")
    return batch


def _objection(s, batch: dict) -> dict | None:
    """A real-name objection against one mine of the open batch, triaged to the 自然资源 department, whose
    reviewer records a finding: verified, left for the office to conclude. Resumed from where it stands."""
    from shared.demo_accounts import DEMO_LEAGUES
    from shared.demo_flows import _check, demo_reviewer

    public = requests.get(f"{s.url}/api/v1/notice/publicity/{batch['id']}", timeout=60).json()
    if not public.get("accepts_objections"):
        _say(s, f"demo region: 公示 window opens {public.get('window_start')}: no objection can be filed today")
        return None
    found = s.call("GET", f"/api/v1/notice/objections?batch_id={batch['id']}", "region")
    found = found if isinstance(found, list) else found.get("items", [])
    if found:
        objection = found[0]
        objection_id = objection.get("id") or objection.get("objection_id")
    else:
        leagues = dict(DEMO_LEAGUES)
        entries = [e for e in batch["entries"] if e.get("league") in leagues] or batch["entries"]
        target = entries[0]
        web = _public_session(s, f"/public/objections/new?batch={batch['id']}&application={target['application_id']}")
        form = {"batch_id": batch["id"], "application_id": target["application_id"], **OBJECTOR,
                "id_number": gb11643_id_number("15060319800315123"), "grounds": OBJECTION_GROUNDS,
                "indicators": ["30"], "consent": "true"}
        answer = web.post(s.url + "/api/v1/notice/objections", data=form, timeout=60,
                          files=[("files", ("排土场边坡现场照片.png", _evidence_png(), "image/png"))])
        _check(answer.status_code == 201, f"objection: {answer.status_code} {answer.text}")
        objection_id = answer.json()["objection_id"]
        _say(s, f"demo region: objection filed against {target.get('mine_name')} "
                f"(receipt {answer.json()['receipt_no']})")
    view = s.call("GET", f"/api/v1/notice/objections/{objection_id}", "region")
    if view["status"] == "received":
        view = s.call("POST", f"/api/v1/notice/objections/{objection_id}/triage", "region",
                      {"departments": ["natural_resources"], "working_days": 10})
        _say(s, "demo region: objection triaged to 自然资源部门")
    if view["status"] == "triaged" and not view.get("findings"):
        league = view.get("league") or next(e.get("league") for e in batch["entries"]
                                            if e["application_id"] == view.get("application_id"))
        reviewer = demo_reviewer("natural_resources", league if league in dict(DEMO_LEAGUES) else "鄂尔多斯市")
        today = _beijing_today().isoformat()
        view = s.call("POST", f"/api/v1/notice/objections/{objection_id}/findings", reviewer, {
            "finding": "not_supported",
            "text": "经现场核查，东侧排土场边坡已按复垦方案完成覆土和草灌种植，局部为今年新植区域，尚在养护期，"
                    "未发现明显水土流失，与公示材料基本一致。",
            "site_check": {"date": today, "place": "东侧排土场边坡", "observed": "边坡覆土完整，植被覆盖约七成，"
                                                                         "新植区域设有围栏养护"}})
        _say(s, f"demo region: finding recorded by {reviewer}; the objection waits for the office's conclusion")
    return {"objection_id": objection_id, "status": view["status"]}


def _subscription(s) -> str:
    """A public email subscription to the 公告 and 公示, confirmed through the link of the email the local mail
    receiver got (read through `/api/v1/notice/mail`); left pending when no email arrives within a minute."""
    import re

    web = _public_session(s, "/public/subscriptions")
    answer = web.post(s.url + "/api/v1/notice/subscriptions", timeout=60,
                      json={"email": SUBSCRIBER, "topics": ["announcements", "publicity"]})
    if answer.status_code != 202:
        _say(s, f"demo region: subscription not accepted ({answer.status_code}); skipped")
        return "skipped"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in _mail(s):
            if SUBSCRIBER not in (message.get("to") or "") or "确认" not in (message.get("subject") or ""):
                continue
            text = s.call("GET", f"/api/v1/notice/mail/{message['id']}", "region").get("text") or ""
            link = re.search(r"(\S*/public/subscriptions/confirm\?token=[\w.\-]+)", text)
            if link:
                url = link.group(1)
                path = url[url.index("/public/"):]
                page = requests.get(s.url + path, timeout=60)
                if page.status_code == 200:
                    _say(s, f"demo region: email subscription of {SUBSCRIBER} confirmed")
                    return "confirmed"
        time.sleep(2)
    _say(s, f"demo region: the confirmation email to {SUBSCRIBER} did not arrive: the subscription stays pending")
    return "pending"


def _mail(s) -> list[dict]:
    answer = requests.get(f"{s.url}/api/v1/notice/mail", headers=s.headers("region"), timeout=60)
    return answer.json() if answer.status_code == 200 else []


def publicise(s, cases: dict) -> dict:
    """公示 with an objection (public_notice's batches and objections): the region office composes one batch of
    the cases proposed so far and publishes it (today if a working day); while its window is open a citizen
    files a real-name objection with a photo, the office triages it and the department records its finding —
    left for the office to conclude. A public email subscription is confirmed through the local mail receiver.
    Webhooks are not registered (an endpoint pointing at nothing would fail forever). A second run adds no
    second batch, objection or subscription."""
    batch = _demo_batch(s, cases)
    if batch is None:
        return {}
    objection = _objection(s, batch)
    subscription = _subscription(s)
    return {"batch_id": batch["id"], "objection": objection, "subscription": subscription}


def report_list(s) -> dict:
    """Listed mines with their announcements: nothing to do through the 公示 window (it cannot close today); the
    earlier list (30 mines of the 12 盟市 with their original announcements) is imported by `greenmine demo-data`
    (public_notice's `list_import`). Reports what the public list holds."""
    answer = requests.get(f"{s.url}/api/v1/list?per_page=100", timeout=60)
    mines = answer.json() if answer.status_code == 200 else []
    total = int(answer.headers.get("X-Total-Count", len(mines))) if answer.status_code == 200 else 0
    notices = requests.get(f"{s.url}/api/v1/notice/announcements", timeout=60)
    count = len(notices.json()) if notices.status_code == 200 else 0
    leagues = sorted({m["league"] for m in mines})
    _say(s, f"demo region: the public list holds {total} mines in {len(leagues)} 盟市, {count} announcements")
    return {"mines": total, "leagues": leagues, "announcements": count}
