"""双随机、一公开 on real servers (issue 13 item 5): listings published on the real broker fill supervision's register
through its real consumer; the region office keeps the pool, sets and publishes the plan and draws (a pool too small
first refused); the departments record their results; supervision's relay puts the events on the broker and the
public notice's real consumer tells the departments and the enterprise in their inbox; the public API (no sign-in)
returns the plan, every input of the draw and the results, and the draw is recomputed here with hashlib alone; a
replay of everything changes nothing."""
from __future__ import annotations

import copy
import hashlib
import json
import math
import sys
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from polling import wait_for

from shared import identity
from shared.clock import beijing_date
from shared.config import REPO_ROOT
from shared.messaging import EventConsumer, OutboxRelay, encode, make_producer
from shared.regions import LEAGUE_NAMES
from shared.runtime import service_store
from supervision.bootstrap import event_handlers
from supervision.entrypoints.http import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "public_notice"))
from notice_harness import start as start_notice  # noqa: E402

from shared.storage import outbox_messages

pytestmark = pytest.mark.integration
EXAMPLE = json.loads((REPO_ROOT / "contracts" / "examples" / "public_notice.mine_listed.v1.json").read_text("utf-8"))
ORDOS, BAOTOU = "鄂尔多斯市", "包头市"
API = "/api/v1/supervision/inspections"


def h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def listed(n: int, league: str) -> dict:
    envelope = copy.deepcopy(EXAMPLE)
    envelope["event_id"] = str(uuid.uuid4())
    envelope["aggregate_id"] = f"mine-{n:04d}"
    envelope["payload"].update({"mine_id": f"mine-{n:04d}", "league": league, "application_id": f"app-{n:04d}",
                                "review_id": f"app-{n:04d}.v1", "announcement_id": f"ann-{n:04d}",
                                "mine": {**EXAMPLE["payload"]["mine"], "name": f"示范矿山{n}号", "county": None}})
    return envelope


def token(settings, username, role, **fields) -> dict:
    principal = identity.Principal(username, role, **fields)
    return {"Authorization": "Bearer " + identity.issue_token(settings.secret_key, principal),
            "Accept": "application/json"}


@pytest.fixture
def system(settings, registry):
    """Supervision's consumer and relay, the public notice (consumer, relay, users) in threads; yields
    (publish a listing and wait, supervision's store, the public notice's harness)."""
    notice, finish_notice = start_notice(settings, registry)
    store = service_store(settings, "supervision")
    store.ensure_indexes()
    outcomes: list = []

    class Recording(EventConsumer):
        def handle(self, record):
            outcome = super().handle(record)
            outcomes.append(outcome)
            return outcome

    consumer = Recording("supervision", settings, store, event_handlers(settings, store))
    relay = OutboxRelay(store, make_producer(settings))
    stop = threading.Event()
    threads = [threading.Thread(target=consumer.run, args=(stop,), daemon=True, name="supervision-consumer"),
               threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_sleep_s": 0.05}, daemon=True,
                                name="supervision-relay")]
    for thread in threads:
        thread.start()
    producer = make_producer(settings)

    def publish(envelope) -> str:
        seen = len(outcomes)
        producer.send(settings.topic("public_notice.listing.events"), key=envelope["aggregate_id"].encode(),
                      value=encode(envelope)).get(30)
        return wait_for(lambda: next((o for o in outcomes[seen:] if getattr(o, "event_id", None) ==
                                      envelope["event_id"]), None), what=envelope["type"]).status

    yield publish, store, notice
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    relay.producer.close(timeout=5)
    producer.close(timeout=5)
    finish_notice()


def recompute(record: dict) -> list[tuple[str, list[str]]]:
    """The draw recomputed from its published inputs with hashlib alone: (mine, its two inspectors) in order."""
    out = []
    for lg in record["leagues"]:
        population = lg["population"]
        if not population:
            continue
        seed = h(h("\n".join(population)) + ":" + record["entered_value"])
        ranked = sorted(population, key=lambda i: h(seed + ":" + i))
        ids = [p["id"] for p in lg["pool"]]
        department = {p["id"]: p["department"] for p in lg["pool"]}
        for mine_id in ranked[:math.ceil(Decimal(lg["ratio"]) * len(population))]:
            order = sorted(ids, key=lambda i: h(h(h("\n".join(ids)) + ":" + record["entered_value"] + ":" + mine_id)
                                                + ":" + i))
            out.append((mine_id, [order[0], next(i for i in order if department[i] != department[order[0]])]))
    return out


def snapshot(store) -> dict:
    return {name: sorted(store.db[name].find(), key=lambda d: d["_id"])
            for name in ("mines", "inspectors", "inspection_plans", "inspections")}


def inbox(notice, username: str, event_type: str | None = None) -> list[dict]:
    query = {"username": username} | ({"event_type": event_type} if event_type else {})
    return sorted(notice.db["inbox"].find(query), key=lambda d: d["_id"])


def times_handled(notice, event_id: str) -> int:
    return sum(1 for o in notice.consumer.outcomes if getattr(o, "event_id", None) == event_id)


def test_plan_draw_results_published_and_recomputed(settings, system):
    publish, store, notice = system
    listings = [listed(n, ORDOS) for n in range(1, 6)]
    for envelope in listings:
        assert publish(envelope) == "processed"
    for n in range(6, 8):
        assert publish(listed(n, BAOTOU)) == "processed"
    client = create_app(settings).test_client()
    office = token(settings, "region", "region_office", area="自治区")
    year = beijing_date(datetime.now(UTC)).year
    today = beijing_date(datetime.now(UTC)).isoformat()

    def call(method, path, headers=None, body=None):
        return client.open(path, method=method, headers=headers or {"Accept": "application/json"}, json=body)

    people = {}
    for name, department, league in [("张一", "natural_resources", ORDOS), ("李二", "ecology_environment", ORDOS),
                                     ("王三", "natural_resources", ORDOS), ("赵四", "natural_resources", BAOTOU)]:
        added = call("POST", f"{API}/inspectors", office, {"name": name, "department": department, "league": league})
        assert added.status_code == 201, added.get_data(as_text=True)
        people[name] = added.json["inspector_id"]
    bureau = token(settings, "bureau", "bureau", area=ORDOS)
    assert call("POST", f"{API}/inspectors", bureau, {"name": "某", "department": "energy",
                                                     "league": ORDOS}).status_code == 403

    ratios = {league: "0.1" for league in LEAGUE_NAMES} | {ORDOS: "0.4", BAOTOU: "0.5"}
    assert call("PUT", f"{API}/plans/{year}", office, {"ratios": {**ratios, ORDOS: "1.5"}}).status_code == 422
    assert call("PUT", f"{API}/plans/{year}", office, {"ratios": ratios}).status_code == 200
    assert call("GET", f"{API}/plans/{year}").status_code == 404              # a draft is not public
    published = call("POST", f"{API}/plans/{year}/publish", office)
    assert published.status_code == 200 and published.json["status_label"] == "已公布"
    assert call("PUT", f"{API}/plans/{year}", office, {"ratios": ratios | {ORDOS: "0.6"}}).status_code == 409

    too_small = call("POST", f"{API}/plans/{year}/draw", office, {"entered_value": "20260415-3350.12"})
    assert too_small.status_code == 422
    assert too_small.json["errors"] == {f"pool.{BAOTOU}": [
        "包头市抽中 1 座矿山，每座需2名不同部门的检查人员，但在岗检查人员仅 1 人、1 个部门（自然资源部门）："
        "请先在检查人员库中补充其他部门的人员"]}
    people["钱五"] = call("POST", f"{API}/inspectors", office, {"name": "钱五", "department": "water_resources",
                                                               "league": BAOTOU}).json["inspector_id"]
    drawn = call("POST", f"{API}/plans/{year}/draw", office, {"entered_value": "20260415-3350.12"})
    assert drawn.status_code == 200, drawn.get_data(as_text=True)

    public = call("GET", f"{API}/plans/{year}")                               # anonymous
    assert public.status_code == 200
    plan = public.json
    assert plan["status"] == "drawn" and plan["draw"]["algorithm"] == "sha256-rank-v1"
    ordos = next(lg for lg in plan["draw"]["leagues"] if lg["league"] == ORDOS)
    assert ordos["population"] == [f"mine-{n:04d}" for n in range(1, 6)] and ordos["k"] == 2
    pairs = recompute(plan["draw"])
    assert {i["mine_id"]: [p["inspector_id"] for p in i["parts"]] for i in plan["inspections"]} == dict(pairs)
    assert len(pairs) == 3 and [m for m, _ in pairs] == [m for lg in plan["draw"]["leagues"] for m in lg["selected"]]
    for inspection in plan["inspections"]:
        assert len({p["department"] for p in inspection["parts"]}) == 2 and inspection["outcome_label"] == "检查中"
    assert [p["year"] for p in call("GET", f"{API}/plans").json] == [year]

    # the departments' tasks and results
    nr = token(settings, "reviewer_nr", "department_reviewer", department="natural_resources", area=ORDOS)
    eco = token(settings, "reviewer_eco", "department_reviewer", department="ecology_environment", area=ORDOS)
    tasks = call("GET", f"{API}/tasks", eco).json
    assert [t["league"] for t in tasks] == [ORDOS, ORDOS]
    first, second = (t["inspection_id"] for t in tasks)
    problems = {"outcome": "problems", "problems": "排土场未按方案复垦", "suggest_measure": True,
                "situation": "rectify.5", "inspected_on": today}
    conforms = {"outcome": "conforms", "inspected_on": today}
    assert call("POST", f"{API}/tasks/{first}/results/natural_resources", eco, conforms).status_code == 403
    assert call("POST", f"{API}/tasks/{first}/results/ecology_environment", eco,
                {**problems, "situation": "rectify.99"}).status_code == 422
    recorded = call("POST", f"{API}/tasks/{first}/results/ecology_environment", eco, problems)
    assert recorded.status_code == 200 and recorded.json["status"] == "assigned"
    under_way = next(i for i in call("GET", f"{API}/plans/{year}").json["inspections"] if i["inspection_id"] == first)
    assert [p["result"] for p in under_way["parts"]] == [None, None]          # public once the inspection is done
    for inspection_id in (first, second):
        assert call("POST", f"{API}/tasks/{inspection_id}/results/natural_resources", nr,
                    conforms).status_code == 200
    assert call("POST", f"{API}/tasks/{second}/results/ecology_environment", eco, conforms).status_code == 200
    baotou = next(i for i in plan["inspections"] if i["league"] == BAOTOU)
    for part in baotou["parts"]:                                              # the office acts for the departments
        assert call("POST", f"{API}/tasks/{baotou['inspection_id']}/results/{part['department']}", office,
                    conforms).status_code == 200

    results = {i["inspection_id"]: i for i in call("GET", f"{API}/plans/{year}").json["inspections"]}
    assert {k: v["outcome"] for k, v in results.items()} == {first: "problems", second: "conforms",
                                                            baotou["inspection_id"]: "conforms"}
    found = next(p for p in results[first]["parts"] if p["department"] == "ecology_environment")["result"]
    assert found == {"outcome": "problems", "outcome_label": "发现问题", "problems": "排土场未按方案复垦",
                     "suggest_measure": True, "situation": "rectify.5", "inspected_on": today}
    page = call("GET", "/supervision/inspections/public").get_data(as_text=True)
    assert f"{year}年度抽查计划（已抽取）" in page and "排土场未按方案复垦" in page and "20260415-3350.12" in page
    staff = call("GET", "/supervision/inspections", eco).get_data(as_text=True)
    assert "检查任务（2 项）" in staff
    desk = call("GET", f"/supervision/inspections/{year}", office).get_data(as_text=True)
    assert "检查人员库（5 人）" in desk and "检查任务（3 项）" in desk and "钱五" in desk
    assert call("GET", f"/supervision/inspections/public/{year}").status_code == 200
    assert call("GET", f"/supervision/inspections/public/{year + 1}").status_code == 404
    assert "待完成的检查任务：0 项" in call("GET", "/supervision/", eco).get_data(as_text=True)

    # the public notice told the departments of their tasks and the enterprise and bureau of the results
    wait_for(lambda: len(inbox(notice, "enterprise", "supervision.inspection_result_recorded")) == 6,
             what="result notifications")
    for reviewer in ("reviewer_eco", "reviewer_nr", "reviewer_nr_baotou"):
        wait_for(lambda r=reviewer: inbox(notice, r, "supervision.inspections_drawn"), what=f"{reviewer}'s tasks")
        assert [e["title"] for e in inbox(notice, reviewer)] == [f"{year}年度双随机抽查任务"]
    assert inbox(notice, "reviewer_forestry") == []
    texts = [e["text"] for e in inbox(notice, "bureau", "supervision.inspection_result_recorded")]
    assert len(texts) == 4 and any("发现问题。排土场未按方案复垦" in t for t in texts)

    # a replay changes nothing: listings redelivered, the draw and a result again, the events again
    ours = {"event_type": {"$regex": "^supervision\\."}}
    before, inbox_before = snapshot(store), sorted(notice.db["inbox"].find(ours), key=lambda d: d["_id"])
    assert publish(listings[0]) == "duplicate"                               # redelivered
    assert publish({**listings[0], "event_id": str(uuid.uuid4())}) == "processed"   # the same 公告 again
    assert call("POST", f"{API}/plans/{year}/draw", office, {"entered_value": "20260415-3350.12"}).json == \
        call("GET", f"{API}/plans/{year}").json
    assert call("POST", f"{API}/plans/{year}/draw", office, {"entered_value": "another"}).status_code == 409
    assert call("POST", f"{API}/plans/{year}/publish", office).status_code == 200
    assert call("POST", f"{API}/tasks/{first}/results/ecology_environment", eco, problems).status_code == 200
    events = [m["envelope"] for m in outbox_messages(store.db) if m["type"].startswith("supervision.")]
    assert sorted(e["type"] for e in events) == ["supervision.inspection_plan_published"] + [
        "supervision.inspection_result_recorded"] * 6 + ["supervision.inspections_drawn"]
    for envelope in events:                                                   # redelivered to the public notice
        handled = times_handled(notice, envelope["event_id"])
        notice.publish(envelope)
        wait_for(lambda e=envelope, n=handled: times_handled(notice, e["event_id"]) > n, what=envelope["type"])
    assert snapshot(store) == before
    assert sorted(notice.db["inbox"].find(ours), key=lambda d: d["_id"]) == inbox_before
