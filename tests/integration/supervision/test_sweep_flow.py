"""The daily sweep on real servers: intake's `intake.mine_recorded` and the list's `public_notice.mine_listed`
published on the real broker reach supervision's real consumer; the sweep (through the bus, and through
`greenmine supervision sweep --on`) runs on days around the National Day holiday of 2026; the natural-resources
records arrive through the API (an .xlsx import and a grade); each trigger is recorded once, a repeated sweep changes
nothing, and the relay puts each warning and the re-evaluation request on `supervision.case.events` exactly once."""
from __future__ import annotations

import copy
import io
import json
import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime

import openpyxl
import pytest
from click.testing import CliRunner
from polling import wait_for

from shared import identity
from shared.cli import main as greenmine
from shared.config import REPO_ROOT
from shared.messaging import EventConsumer, OutboxRelay, encode, ensure_topics, make_producer, read_topic
from shared.runtime import service_store
from supervision.bootstrap import bootstrap, event_handlers
from supervision.domain.commands import Sweep
from supervision.entrypoints.http import create_app

pytestmark = pytest.mark.integration
EXAMPLES = REPO_ROOT / "contracts" / "examples"
LISTED = json.loads((EXAMPLES / "public_notice.mine_listed.v1.json").read_text("utf-8"))
RECORDED = json.loads((EXAMPLES / "intake.mine_recorded.v1.json").read_text("utf-8"))
LICENCE = RECORDED["payload"]["licences"]["mining"]["number"]


def recorded(mine_id: str, version: int, on: str, *, safety_to: str = "2026-09-30", **mine) -> dict:
    envelope = copy.deepcopy(RECORDED)
    envelope.update(event_id=str(uuid.uuid4()), aggregate_id=mine_id, aggregate_version=version)
    payload = envelope["payload"]
    payload.update(mine_id=mine_id, register_version=version, recorded_on=on,
                   change="imported" if version == 1 else "updated", changed=[] if version == 1 else ["mine.scale"])
    payload["mine"].update(mine)
    payload["licences"]["safety"]["valid_to"] = safety_to
    if mine_id != "mine-0001":
        payload["licences"]["mining"]["number"] = f"C-{mine_id}"
    return envelope


def listed(mine_id: str) -> dict:
    envelope = copy.deepcopy(LISTED)
    envelope.update(event_id=str(uuid.uuid4()), aggregate_id=mine_id)
    envelope["payload"].update(mine_id=mine_id, listed_on="2024-06-10")
    return envelope


def bearer(settings, username, role, area, **more):
    principal = identity.Principal(username, role, area=area, **more)
    return {"Authorization": "Bearer " + identity.issue_token(settings.secret_key, principal)}


@pytest.fixture
def running(settings, registry):
    """Supervision's real consumer in a thread; yields (publish(envelope) -> outcome, store)."""
    ensure_topics(settings, registry)
    store = service_store(settings, "supervision")
    store.ensure_indexes()
    outcomes: list = []

    class Recording(EventConsumer):
        def handle(self, record):
            outcome = super().handle(record)
            outcomes.append(outcome)
            return outcome

    consumer = Recording("supervision", settings, store, event_handlers(settings, store))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True, name="supervision-consumer")
    thread.start()
    producer = make_producer(settings)

    def publish(envelope):
        seen = len(outcomes)
        topic = store.registry.topic_for(envelope["type"])
        producer.send(settings.topic(topic), key=envelope["aggregate_id"].encode(), value=encode(envelope)).get(30)
        return wait_for(lambda: next((o for o in outcomes[seen:] if getattr(o, "event_id", None) ==
                                      envelope["event_id"]), None), what=envelope["type"])

    yield publish, store
    stop.set()
    thread.join(timeout=15)
    producer.close(timeout=5)


def test_each_trigger_fires_once_around_the_national_day_holiday(settings, running):
    publish, store = running
    for envelope in (recorded("mine-0001", 1, "2026-01-05"), listed("mine-0001"),
                     recorded("mine-0009", 1, "2025-10-09", production_start_date="2025-10-01",
                              safety_to="2030-12-31", name="新建示范煤矿")):
        assert publish(envelope).status == "processed"

    def sweep(day: date) -> int:
        """The whole sweep of a day; how many findings it recorded."""
        moment = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
        before = store.db["findings"].count_documents({})
        bootstrap(settings, store, clock=lambda: moment).handle(Sweep())
        return store.db["findings"].count_documents({}) - before

    def cli(day: str):
        env = {"MONGODB_URI": settings.mongodb_uri, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
               "GREENMINE_DB_PREFIX": settings.db_prefix, "GREENMINE_TOPIC_PREFIX": settings.topic_prefix}
        return CliRunner().invoke(greenmine, ["supervision", "sweep", "--on", day], env=env)

    def findings() -> list[tuple]:
        return sorted((d["mine_id"], d["action"], d["situation"], d["found_on"]) for d in store.db["findings"].find())

    # 30 days before the safety licence expires: a warning, once
    assert sweep(date(2026, 8, 28)) == 0
    assert sweep(date(2026, 8, 31)) == 1 and sweep(date(2026, 8, 31)) == 0 and sweep(date(2026, 9, 30)) == 0
    # it expires on 30 September; 1–7 October are the holiday: nothing until Thursday 8 October
    for holiday in ("2026-10-01", "2026-10-03", "2026-10-07"):
        result = cli(holiday)
        assert result.exit_code == 0, result.output
        assert "新记录 0 项（非工作日" in result.output
    first = cli("2026-10-08")
    # two findings, and the removal proposal opened as a measure (a 移出 report to the region office)
    assert first.exit_code == 0 and "2026-10-08：监管巡查完成，新记录 3 项" in first.output, first.output
    assert "新记录 0 项" in cli("2026-10-08").output
    assert findings() == [("mine-0001", "propose_removal", "remove.1", "2026-10-08"),
                          ("mine-0001", "warn", None, "2026-08-31"),
                          ("mine-0009", "warn", None, "2026-10-08")]          # the new mine's first year is up

    # a major change in intake's register: a mark and a re-evaluation request, once however often it arrives
    change = recorded("mine-0001", 2, "2026-10-09", scale="medium")
    assert publish(change).status == "processed"
    assert publish(change).status == "duplicate"
    assert publish({**copy.deepcopy(change), "event_id": str(uuid.uuid4())}).status == "processed"
    assert sweep(date(2026, 10, 9)) == 2 and sweep(date(2026, 10, 9)) == 0 and sweep(date(2026, 10, 12)) == 0

    # the natural-resources department's records, through the API: an abnormal-list import and two grades
    client = create_app(settings).test_client()
    nr = bearer(settings, "nr", "department_reviewer", "鄂尔多斯市", department="natural_resources")
    book = openpyxl.Workbook()
    book.active.append(["采矿许可证号", "列入日期", "移出日期"])
    book.active.append([LICENCE, datetime(2026, 3, 2), None])
    raw = io.BytesIO()
    book.save(raw)
    bad = client.post("/api/v1/supervision/records/import", headers=nr, content_type="multipart/form-data",
                      data={"kind": "abnormal", "file": (io.BytesIO("采矿许可证号,列入日期\nC-x,2026-13-01\n".encode()),
                                                         "abnormal.csv")})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"第2行 采矿许可证号", "第2行 列入日期"}
    assert store.db["mine_records"].count_documents({}) == 0
    imported = client.post("/api/v1/supervision/records/import", headers=nr, content_type="multipart/form-data",
                           data={"kind": "abnormal", "file": (io.BytesIO(raw.getvalue()), "abnormal.xlsx")})
    assert imported.status_code == 200, imported.get_data(as_text=True)
    assert (imported.json["changed"], imported.json["mines"]) == (1, ["mine-0001"])
    for year in (2024, 2025):
        graded = client.post("/api/v1/supervision/mines/mine-0001/utilisation-grades", headers=nr,
                             json={"year": year, "grade": "落后"})
        assert graded.status_code == 200, graded.get_data(as_text=True)
    other = bearer(settings, "bureau_baotou", "bureau", "包头市")
    refused = client.post("/api/v1/supervision/mines/mine-0001/abnormal-listings", headers=other,
                          json={"listed_on": "2026-01-01"})
    assert refused.status_code == 403
    assert sweep(date(2026, 10, 12)) == 2 and sweep(date(2026, 10, 13)) == 0
    assert Counter((a, s) for _, a, s, _ in findings()) == Counter({
        ("propose_removal", "remove.1"): 1, ("warn", None): 2, ("mark", "mark.2"): 1,
        ("request_re_evaluation", "mark.2"): 1, ("propose_removal", "remove.9"): 1,
        ("propose_removal", "remove.10"): 1})

    # the relay puts each warning and the re-evaluation request on the topic once
    producer = make_producer(settings)
    try:
        OutboxRelay(store, producer).publish_pending()
    finally:
        producer.close(timeout=5)
    envelopes = [json.loads(r.value) for r in read_topic(settings, settings.topic("supervision.case.events"))]
    assert Counter(e["type"] for e in envelopes) == Counter({
        "supervision.warning_issued": 2, "supervision.re_evaluation_requested": 1,
        # the two measures the findings opened: each raised (progress), and the 标注 placed on the public list
        "supervision.measure_progressed": 2, "supervision.mark_placed": 1})
    warnings = sorted((e["payload"]["mine_id"], e["payload"]["kind"], e["payload"]["deadline"])
                      for e in envelopes if e["type"] == "supervision.warning_issued")
    assert warnings == [("mine-0001", "licence_expiring", "2026-09-30"),
                        ("mine-0009", "new_mine_assessment", "2027-10-01")]
    [request] = [e["payload"] for e in envelopes if e["type"] == "supervision.re_evaluation_requested"]
    assert request["changes"] == [{"field": "scale", "changed_on": "2026-10-09", "before": "大型", "after": "中型"}]
    assert request["requested_on"] == "2026-10-09"

    # who reads what
    region = bearer(settings, "region", "region_office", "自治区")
    everything = client.get("/api/v1/supervision/findings", headers=region)
    assert everything.status_code == 200 and len(everything.json) == 7
    marks = client.get("/api/v1/supervision/findings?status=open&league=鄂尔多斯市", headers=nr)
    assert {f["action_label"] for f in marks.json} == {"预警提醒", "复核评估请求"}
    # the marks and removal proposals became measures raised by the platform: one 标注, and one 移出 report that
    # the later grounds (异常名录, 落后) join while it is open
    turned = client.get("/api/v1/supervision/findings?status=measure&league=鄂尔多斯市", headers=nr).json
    assert sorted(f["situation"] for f in turned) == ["mark.2", "remove.1", "remove.10", "remove.9"]
    measures = sorted((d["kind"], d["situation"], d["finding_key"] is not None) for d in store.db["measures"].find())
    assert measures == [("mark", "mark.2", True), ("remove", "remove.1", True)]
    assert {f["measure_id"] for f in turned if f["situation"].startswith("remove")} == {
        d["_id"] for d in store.db["measures"].find({"kind": "remove"})}
    assert client.get("/api/v1/supervision/findings?league=鄂尔多斯市", headers=other).status_code == 403
    assert client.get("/api/v1/supervision/findings", headers=other).json == []
    new_mines = client.get("/api/v1/supervision/new-mines", headers=region)
    assert [(m["mine_id"], m["due_on"]) for m in new_mines.json] == [("mine-0009", "2027-10-01")]
    page = client.get("/supervision/", headers=nr).get_data(as_text=True)
    assert "监管巡查发现（共 7 项）" in page and "新建示范煤矿" in page and "2026-03-02 列入" in page
