"""Intake throughput on the servers in use: submissions through the real API, and submit → event consumed.

Started here, against env's MongoDB and Kafka, with a fresh database and topic prefix:
- the intake web app and the scoring web app under gunicorn (the same ``deploy/gunicorn.conf.py``; a submission
  calls the scoring service over HTTP, as in production);
- the intake outbox relay (``greenmine relay intake``);
- an in-process Kafka reader of ``intake.application.events`` that records when each submitted event arrives;
- the baseline: a bare Flask app under the same gunicorn settings that inserts the same-sized JSON document
  with pymongo and answers 201.

Applications are prepared through the message bus (mine, draft with a full 46-indicator assessment and 检查记录,
the penalty declaration, the 12 required materials and 2 evidence files in GridFS: 14 attachments of metadata
per submission), then submitted through HTTP by ``CONCURRENCY`` clients.

Figures:
* ``intake.submissions_per_s`` — ``POST /api/v1/applications/{id}/submit`` answered 200 per second (each one:
  load, scoring over HTTP, freeze the version, the event into the outbox, audit, in one transaction);
* ``intake.baseline_insert_per_s`` — the bare Flask+gunicorn+pymongo insert of the same payload (baseline);
* ``intake.submit_to_consumed_p50_ms`` / ``_p99_ms`` — from sending the submit request to the
  ``intake.application_submitted`` event arriving at a Kafka consumer (through outbox, relay and broker).
"""
from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.counting import WorkMeter

ROOT = Path(__file__).resolve().parent.parent
APPLICATIONS = int(os.environ.get("BENCH_INTAKE_APPS", "30"))
CONCURRENCY = int(os.environ.get("BENCH_INTAKE_CONCURRENCY", "4"))
WORKERS = os.environ.get("BENCH_INTAKE_WORKERS", "2")
PDF = b"%PDF-1.4\n" + b"0" * 2048 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 2048 + b"\xff\xd9"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
BASELINE_COLLECTION = "submissions"


# -- the baseline app (gunicorn 'bench.bench_intake:baseline_app()') -------------------------------------------------

def baseline_app():
    from flask import Flask, jsonify, request
    from pymongo import MongoClient

    app = Flask("baseline")
    client = MongoClient(os.environ["MONGODB_URI"], tz_aware=True)
    collection = client[os.environ["BASELINE_DB"]][BASELINE_COLLECTION]

    @app.post("/insert")
    def insert():
        doc = request.get_json()
        doc["_id"] = str(uuid.uuid4())
        collection.insert_one(doc)
        return jsonify({"id": doc["_id"]}), 201

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


# -- helpers -------------------------------------------------------------------------------------------------------

def _free_port() -> int:
    from shared.embedded import free_port

    return free_port(40000, 49000)


def _gunicorn(app: str, port: int, env: dict, log) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--workers", WORKERS, "--threads", "4", "--worker-class", "gthread",
               app]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def _wait_http(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f}s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def _mine(n: int) -> dict:
    return {
        "name": f"基准测试煤矿{n:04d}",
        "mining_licence": {"number": f"C150600201506{random.randint(0, 10**10 - 1):010d}", "valid_from": "2020-01-01",
                           "valid_to": "2040-12-31"},
        "safety_licence": {"number": f"（蒙）MK安许证字〔2024〕{n:04d}号", "valid_from": "2024-01-01",
                           "valid_to": "2039-12-31"},
        "business_licence": {"valid_from": "2008-01-01", "valid_to": None},
        "league": "ordos", "county": "准格尔旗", "minerals": ["coal"], "scale": "large", "industry_group": 1,
        "mining_method": "open_pit", "production_status": "in_production", "production_start_date": "2012-05-01",
        "remaining_reserve_years": "25",
    }


def _assessment(catalog) -> tuple[dict, dict]:
    indicators = {str(i.no): {"score": format(i.points.normalize(), "f")}
                  for i in catalog.indicators_for(1, "open_pit")}
    indicators["16"] = {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产"}
    record = "2026年4月1日安环部张工、李工到采场、排土场和破碎车间现场查看，并查阅开发利用方案和台账，符合要求。"
    records = {key: record for key in indicators}
    return ({"catalog": catalog.id, "mine": {"industry_group": 1, "mining_method": "open_pit"},
             "prerequisites": {code: True for code in catalog.prerequisite_codes}, "indicators": indicators}, records)


def _prepare(service, principal, count: int) -> list[str]:
    from intake.domain import materials as mat
    from intake.domain.commands import AddAttachment, RegisterMine, StartApplication
    from shared.catalog import load_catalog

    assessment, records = _assessment(load_catalog("nm-2025"))
    ids = []
    for n in range(count):
        mine = service.handle(RegisterMine(principal, _mine(n))).mine
        loaded = service.handle(StartApplication(principal, mine.id, assessment=assessment, records=records,
                                                 declared_penalties=False))
        app_id = loaded.app.id
        for kind in mat.KINDS:
            if kind.requirement == mat.REQUIRED:
                content, name = {"site_photos": (JPEG, "现场.jpg"), "promo_video": (MP4, "宣传片.mp4")}.get(
                    kind.code, (PDF, f"{kind.label}.pdf"))
                service.handle(AddAttachment(principal, app_id, kind=kind.code, indicator=None,
                                             stream=io.BytesIO(content), filename=name))
        # 缺少支撑材料或证明材料不得分: evidence for every scored indicator.
        for indicator, entry in assessment["indicators"].items():
            if not entry.get("not_applicable"):
                service.handle(AddAttachment(principal, app_id, kind="evidence", indicator=indicator,
                                             stream=io.BytesIO(JPEG), filename=f"第{indicator}项佐证.jpg"))
        ids.append(app_id)
    return ids


class ArrivalRecorder(threading.Thread):
    """Reads the submitted events from the beginning of the topic and notes when each one arrives."""

    def __init__(self, settings, topic: str):
        super().__init__(daemon=True)
        self.settings = settings
        self.topic = topic
        self.arrivals: dict[tuple[str, int], float] = {}
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        from kafka import TopicPartition

        from shared.messaging import make_consumer

        consumer = make_consumer(self.settings, group_id=None)
        try:
            partitions = None
            while not partitions and not self.stop.is_set():
                partitions = consumer.partitions_for_topic(self.topic)
                time.sleep(0.1)
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            consumer.poll(timeout_ms=200)
            self.ready.set()
            while not self.stop.is_set():
                for records in consumer.poll(timeout_ms=100).values():
                    now = time.perf_counter()
                    for record in records:
                        payload = json.loads(record.value)["payload"]
                        self.arrivals[(payload["application_id"], payload["version_no"])] = now
        finally:
            consumer.close()


def run(env: dict) -> list[dict]:
    from intake.bootstrap import bootstrap
    from shared import identity
    from shared.config import Settings
    from shared.contracts import ContractRegistry
    from shared.messaging import ensure_topics
    from shared.storage import mongo_client, outbox_messages

    run_id = uuid.uuid4().hex[:8]
    scoring_port, intake_port, baseline_port = _free_port(), _free_port(), _free_port()
    variables = {
        "MONGODB_URI": env["mongodb"], "KAFKA_BOOTSTRAP_SERVERS": env["kafka"],
        "GREENMINE_SECRET_KEY": "bench-" + run_id, "GREENMINE_DB_PREFIX": f"bench{run_id}",
        "GREENMINE_TOPIC_PREFIX": f"bench{run_id}.", "GREENMINE_LOG_LEVEL": "WARNING", "GUNICORN_ACCESSLOG": "",
        "GREENMINE_SERVICE_URLS": f"scoring=http://127.0.0.1:{scoring_port},intake=http://127.0.0.1:{intake_port}",
        "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": "2000" if env.get("kind") == "embedded" else "10000",
        "GREENMINE_KAFKA_HEARTBEAT_MS": "300" if env.get("kind") == "embedded" else "3000",
        "BASELINE_DB": f"bench{run_id}_baseline",
    }
    work_dir = Path(env["scratch"]) / f"db-work-intake-{run_id}"
    process_env = {**os.environ, **variables, "PYTHONPATH": str(ROOT), "GREENMINE_DB_WORK_DIR": str(work_dir)}
    settings = Settings.from_env(variables)
    meter = WorkMeter(settings, work_dir)
    ensure_topics(settings, ContractRegistry([settings.contracts_dir]))
    log = open(Path(env["scratch"]) / f"bench_intake_{run_id}.log", "wb")
    processes = []
    recorder = ArrivalRecorder(settings, settings.topic("intake.application.events"))
    try:
        processes.append(_gunicorn("scoring.entrypoints.http:create_app()", scoring_port, process_env, log))
        processes.append(_gunicorn("intake.entrypoints.http:create_app()", intake_port, process_env, log))
        processes.append(_gunicorn("bench.bench_intake:baseline_app()", baseline_port, process_env, log))
        processes.append(subprocess.Popen([str(Path(sys.executable).parent / "greenmine"), "relay", "intake"],
                                          cwd=ROOT, env=process_env, stdout=log, stderr=log,
                                          start_new_session=True))
        for port in (scoring_port, intake_port, baseline_port):
            _wait_http(f"http://127.0.0.1:{port}/healthz")

        principal = identity.Principal("enterprise", "enterprise", display_name="鄂尔多斯示范煤业有限公司",
                                       enterprise="91150600MA0N00001W")
        service = bootstrap(settings)
        app_ids = _prepare(service, principal, APPLICATIONS)
        recorder.start()
        recorder.ready.wait(30)
        token = identity.issue_token(settings.secret_key, principal)
        intake = f"http://127.0.0.1:{intake_port}"
        sessions = threading.local()

        def http() -> requests.Session:
            if not hasattr(sessions, "s"):
                sessions.s = requests.Session()
                sessions.s.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
            return sessions.s

        http().post(f"{intake}/api/v1/applications/{app_ids[0]}/submit", timeout=30)  # warm both apps
        sent: dict[str, float] = {}

        def submit(app_id: str) -> None:
            sent[app_id] = time.perf_counter()
            response = http().post(f"{intake}/api/v1/applications/{app_id}/submit", timeout=60)
            if response.status_code != 200:
                raise RuntimeError(f"submit {app_id}: {response.status_code} {response.text[:300]}")

        measured = app_ids[1:]
        work_before = meter.reading()
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(submit, measured))
        submit_s = time.perf_counter() - started

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all((a, 1) in recorder.arrivals for a in measured):
            time.sleep(0.05)
        latencies = [(recorder.arrivals[(a, 1)] - sent[a]) * 1000 for a in measured if (a, 1) in recorder.arrivals]
        if len(latencies) != len(measured):
            raise RuntimeError(f"only {len(latencies)} of {len(measured)} submitted events arrived")
        work_after = meter.reading()       # intake, scoring and intake's relay: the submit path

        # the baseline: the same payload size, the same clients, a bare insert
        payload = outbox_messages(service.db)[0]["envelope"]
        baseline = f"http://127.0.0.1:{baseline_port}/insert"
        plain = threading.local()

        def bare() -> requests.Session:
            if not hasattr(plain, "s"):
                plain.s = requests.Session()
            return plain.s

        bare().post(baseline, json=payload, timeout=30)

        def insert(_n: int) -> None:
            response = bare().post(baseline, json=payload, timeout=30)
            if response.status_code != 201:
                raise RuntimeError(f"baseline insert: {response.status_code}")

        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(insert, range(len(measured))))
        baseline_s = time.perf_counter() - started
        payload_kb = len(json.dumps(payload, ensure_ascii=False).encode()) / 1024
    finally:
        recorder.stop.set()
        for process in processes:
            _stop(process)
        log.close()
        client = mongo_client(settings.mongodb_uri)
        for name in client.list_database_names():
            if name.startswith(f"bench{run_id}"):
                client.drop_database(name)

    return [
        {"name": "intake.submissions_per_s", "value": len(measured) / submit_s, "unit": "req/s",
         "baseline": "intake.baseline_insert_per_s"},
        {"name": "intake.baseline_insert_per_s", "value": len(measured) / baseline_s, "unit": "req/s"},
        {"name": "intake.submit_to_consumed_p50_ms", "value": _percentile(latencies, 50), "unit": "ms"},
        {"name": "intake.submit_to_consumed_p99_ms", "value": _percentile(latencies, 99), "unit": "ms"},
        {"name": "intake.submitted_event_kb", "value": payload_kb, "unit": "KB"},
        *WorkMeter.per_application("intake", work_before, work_after, len(measured)),
    ]
