"""目标进度 on real servers: intake's register snapshots (`intake.mine_recorded`) and the list
(`public_notice.mine_listed`) published on the real broker reach supervision's real consumer; the targets API counts
them per 盟市 and scale for the region office, a bureau reads its own 盟市 only (another is 403), the region office
sets a yearly target, a bureau records a construction contract within its 盟市 only, and the xlsx export opens with
the same numbers; the dashboard page and its vendored chart library are served. Two mines of the list kept before
the platform (ids `hist-…`) meet their intake register entries by credit code and mine name, whichever came
first."""
from __future__ import annotations

import copy
import io
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from polling import wait_for

from shared import identity
from shared.config import REPO_ROOT
from shared.messaging import EventConsumer, encode, ensure_topics, make_producer
from shared.runtime import service_store
from supervision.bootstrap import event_handlers
from supervision.entrypoints.http import create_app
from supervision.entrypoints.targets import ECHARTS

pytestmark = pytest.mark.integration


def example(name: str) -> dict:
    return json.loads((REPO_ROOT / "contracts" / "examples" / f"{name}.v1.json").read_text("utf-8"))


RECORDED, LISTED = example("intake.mine_recorded"), example("public_notice.mine_listed")
TODAY = (datetime.now(UTC) + timedelta(hours=8)).date()
LATER, EARLIER = (TODAY + timedelta(days=400)).isoformat(), (TODAY - timedelta(days=10)).isoformat()


def recorded(n: int, league: str, scale: str, status="in_production", years="20", safety_to=LATER) -> dict:
    envelope = copy.deepcopy(RECORDED)
    p = envelope["payload"]
    envelope.update(event_id=str(uuid.uuid4()), aggregate_id=f"mine-{n}")
    p.update(mine_id=f"mine-{n}", register_version=1, change="registered", changed=[])
    p["mine"].update(name=f"示范矿山{n}号", league=league, scale=scale, production_status=status,
                     remaining_reserve_years=years)
    p["licences"]["mining"]["valid_to"] = LATER
    p["licences"]["safety"].update(valid_from="2020-01-01", valid_to=safety_to)
    return envelope


def listed(n: int, league: str, scale: str, mine_id: str | None = None, name: str | None = None) -> dict:
    envelope = copy.deepcopy(LISTED)
    mine_id = mine_id or f"mine-{n}"
    envelope.update(event_id=str(uuid.uuid4()), aggregate_id=mine_id)
    envelope["payload"].update(mine_id=mine_id, league=league, announcement_id=f"ann-{n}",
                               listed_on="2024-06-10", mine={**LISTED["payload"]["mine"], "scale": scale,
                                                             "name": name or f"示范矿山{n}号"})
    return envelope


# (n, 盟市, scale, production, reserve years, safety licence valid to, listed)
REGISTER = [(1, "鄂尔多斯市", "large", "in_production", "20", LATER, True),
            (2, "鄂尔多斯市", "large", "in_production", "20", LATER, False),
            (3, "鄂尔多斯市", "large", "in_production", "20", EARLIER, True),     # a licence has run out
            (4, "鄂尔多斯市", "medium", "in_production", "2.5", LATER, True),     # under 3 years: 参照
            (5, "鄂尔多斯市", "small", "in_production", "20", LATER, True),
            (6, "包头市", "medium", "in_production", "20", LATER, True),
            (7, "包头市", "large", "suspended", "20", LATER, False)]
# listed before the platform under the imported list's id, the name spaced otherwise: (n, 盟市, scale, snapshot first)
EARLIER_LIST = [(8, "乌海市", "large", True), (9, "乌海市", "medium", False)]


def bearer(settings, username, role, area):
    principal = identity.Principal(username, role, area=area)
    return {"Authorization": "Bearer " + identity.issue_token(settings.secret_key, principal)}


@pytest.fixture
def loaded(settings, registry):
    """The register above, through supervision's real consumer on the real broker; yields the store."""
    ensure_topics(settings, registry)
    store = service_store(settings, "supervision")
    store.ensure_indexes()
    seen: set[str] = set()

    class Recording(EventConsumer):
        def handle(self, record):
            outcome = super().handle(record)
            seen.add(getattr(outcome, "event_id", None))
            return outcome

    consumer = Recording("supervision", settings, store, event_handlers(settings, store))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True, name="supervision-consumer")
    thread.start()
    producer = make_producer(settings)
    sent = []
    for n, league, scale, status, years, safety_to, on_list in REGISTER:
        sent.append(("intake.mine.events", recorded(n, league, scale, status, years, safety_to)))
        if on_list:
            sent.append(("public_notice.listing.events", listed(n, league, scale)))
    for topic, envelope in sent:
        producer.send(settings.topic(topic), key=envelope["aggregate_id"].encode(), value=encode(envelope)).get(30)
    wait_for(lambda: all(e["event_id"] in seen for _, e in sent), what="the register's events", timeout=60)
    for n, league, scale, snapshot_first in EARLIER_LIST:
        pair = [("intake.mine.events", recorded(n, league, scale)),
                ("public_notice.listing.events", listed(n, league, scale, f"hist-{n}", f"示范矿山 {n}号 "))]
        for topic, envelope in pair if snapshot_first else pair[::-1]:     # one at a time: the order is the point
            producer.send(settings.topic(topic), key=envelope["aggregate_id"].encode(),
                          value=encode(envelope)).get(30)
            wait_for(lambda e=envelope: e["event_id"] in seen, what="a listing or snapshot", timeout=60)
    yield store
    stop.set()
    thread.join(timeout=15)
    producer.close(timeout=5)


def row(view, league, scale):
    return next(r for r in view["rows"] if (r["league"], r["scale"]) == (league, scale))


def test_the_targets_per_league_and_scale_for_each_reader_and_the_xlsx(settings, loaded):
    client = create_app(settings).test_client()
    office = bearer(settings, "region", "region_office", "自治区")
    year = TODAY.year
    answer = client.get(f"/api/v1/supervision/targets?year={year}", headers=office)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    view = answer.json
    assert view["as_of"] == TODAY.isoformat() and len(view["rows"]) == 12 * 3
    large = row(view, "鄂尔多斯市", "large")
    assert (large["licensed_producing"], large["base"], large["listed"], large["listed_total"]) == (2, 2, 1, 2)
    assert (large["share"], large["target"], large["needed"], large["met"]) == ("50.0", "90.0", 1, False)
    medium = row(view, "鄂尔多斯市", "medium")
    assert (medium["licensed_producing"], medium["short_reserve"], medium["base"], medium["listed"]) == (1, 1, 0, 0)
    small = row(view, "鄂尔多斯市", "small")
    assert (small["managed"], small["target"], small["listed"], small["share"]) == ("reference", None, 1, "100.0")
    assert (row(view, "包头市", "medium")["share"], row(view, "包头市", "large")["licensed_producing"]) == ("100.0", 0)
    for scale in ("large", "medium"):       # the earlier list's mines, each counted once, as listed
        wuhai = row(view, "乌海市", scale)
        assert (wuhai["licensed_producing"], wuhai["base"], wuhai["listed"], wuhai["unregistered"],
                wuhai["share"]) == (1, 1, 1, 0, "100.0")
    assert [(t["scale"], t["licensed_producing"], t["listed"]) for t in view["totals"]] == [
        ("large", 3, 2), ("medium", 3, 2), ("small", 1, 1)]
    mines = {d["_id"]: d for d in loaded.db["mines"].find({"league": "乌海市"})}
    assert {i: (d["status"], d.get("register_mine_id"), d.get("merged_into")) for i, d in mines.items()} == {
        "hist-8": ("listed", "mine-8", None), "mine-8": ("merged", "mine-8", "hist-8"),
        "hist-9": ("listed", "mine-9", None)}

    # the region office sets 鄂尔多斯市's yearly target; a bureau may not
    target = {"large": 2, "medium": 1, "basis": "鄂尔多斯市绿色矿山建设实施方案"}
    put = client.put(f"/api/v1/supervision/targets/yearly/{year}/鄂尔多斯市", json=target, headers=office)
    assert put.status_code == 200 and put.json["changed"], put.get_data(as_text=True)
    ordos = bearer(settings, "bureau_ordos", "bureau", "鄂尔多斯市")
    assert client.put(f"/api/v1/supervision/targets/yearly/{year}/鄂尔多斯市", json=target,
                      headers=ordos).status_code == 403
    wrong = client.put(f"/api/v1/supervision/targets/yearly/{year}/鄂尔多斯市", json={"large": -1}, headers=office)
    assert wrong.status_code == 422 and "large" in wrong.json["errors"]

    # a bureau records a contract of its own 盟市 only
    contract = {"mine_id": "mine-2", "contract_no": "EEDS-2026-001", "signed_on": TODAY.isoformat(),
                "deadline": LATER, "liability": "逾期未完成的按合同约定承担违约责任",
                "tasks": [{"text": "矿区绿化与生态修复", "due_on": LATER}]}
    signed = client.post("/api/v1/supervision/contracts", json=contract, headers=ordos)
    assert signed.status_code == 201, signed.get_data(as_text=True)
    assert (signed.json["status"], signed.json["league"], signed.json["progress"]) == ("in_progress", "鄂尔多斯市", 0)
    baotou_mine = client.post("/api/v1/supervision/contracts", json={**contract, "mine_id": "mine-6"}, headers=ordos)
    assert baotou_mine.status_code == 403 and "鄂尔多斯市" in baotou_mine.json["message"]
    moved = client.post(f"/api/v1/supervision/contracts/{signed.json['contract_id']}/progress",
                        json={"task_no": 1, "progress": 40}, headers=ordos)
    assert moved.status_code == 200 and moved.json["progress"] == 40

    # a bureau sees its 盟市 only; another 盟市 is 403
    own = client.get("/api/v1/supervision/targets", headers=ordos)
    assert own.status_code == 200 and {r["league"] for r in own.json["rows"]} == {"鄂尔多斯市"}
    assert row(own.json, "鄂尔多斯市", "large") == {**large, "yearly_target": 2, "yearly_met": False}
    assert own.json["leagues"][0]["contracts"] == {"signed": 1, "completed": 0, "in_progress": 1, "breached": 0}
    other = client.get("/api/v1/supervision/targets?league=包头市", headers=ordos)
    assert other.status_code == 403 and "鄂尔多斯市" in other.json["message"]
    assert client.get("/api/v1/supervision/targets.xlsx?league=包头市", headers=ordos).status_code == 403
    reviewer = bearer(settings, "reviewer", "department_reviewer", "鄂尔多斯市")
    assert client.get("/api/v1/supervision/targets", headers=reviewer).status_code == 403
    assert client.get("/api/v1/supervision/targets").status_code == 401
    assert client.get("/api/v1/supervision/targets?year=1999", headers=office).status_code == 422

    # the xlsx opens with the same numbers as the API
    from openpyxl import load_workbook

    export = client.get(f"/api/v1/supervision/targets.xlsx?year={year}", headers=office)
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(export.data)).worksheets[0]
    cells = list(sheet.iter_rows(min_row=3, values_only=True))
    api_view = client.get(f"/api/v1/supervision/targets?year={year}", headers=office).json
    assert len(cells) == len(api_view["rows"]) + 3
    for got, want in zip(cells, [*api_view["rows"], *api_view["totals"]], strict=True):
        assert got[0] == want["league"] and got[3:7] == (want["licensed_producing"], want["short_reserve"],
                                                         want["base"], want["listed"])
        assert got[7] == (None if want["share"] is None else float(want["share"]))
        assert got[10] == want["yearly_target"]
    assert ("鄂尔多斯市", "大型", "目标考核", 2, 0, 2, 1, 50.0, 90.0, 1, 2, 2, 0) in cells

    # the dashboard, with the vendored chart library and its licence
    page = client.get("/supervision/targets", headers=ordos).get_data(as_text=True)
    assert "绿色矿山建设目标进度" in page and "EEDS-2026-001" in page and "录入盟市年度目标" not in page
    assert ECHARTS.is_file(), "make setup fetches echarts (deploy/fetch_echarts.py)"
    assert 'id="chart-share"' in page and "vendor/echarts/echarts.min.js" in page
    script = client.get("/supervision/static/vendor/echarts/echarts.min.js")
    assert script.status_code == 200 and len(script.data) > 500_000
    assert "Apache License" in client.get("/supervision/static/vendor/echarts/LICENSE.txt").get_data(as_text=True)
    assert "录入盟市年度目标" in client.get("/supervision/targets", headers=office).get_data(as_text=True)


def test_without_the_chart_library_the_dashboard_says_so_and_shows_its_tables(settings, monkeypatch, tmp_path):
    from supervision.entrypoints import targets

    monkeypatch.setattr(targets, "ECHARTS", tmp_path / "echarts.min.js")
    page = create_app(settings).test_client().get(
        "/supervision/targets", headers=bearer(settings, "region", "region_office", "自治区"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="charts-missing"' in text and "make setup" in text
    assert "echarts.min.js" not in text and "各盟市、各规模" in text
