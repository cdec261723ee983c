"""Review routing end to end: from intake.application_submitted on Kafka to every department task visible in
its department queue (the read model built from the department topics), at a steady offered load.

The review_routing consumer and relay run as their own processes (as in production) against the servers in
`env`; the load generator publishes submissions at BENCH_REVIEW_RATE per second (default 20) for
BENCH_REVIEW_SECONDS (default 60) and watches the queue collection through a MongoDB change stream. A second,
light phase (BENCH_REVIEW_LIGHT_RATE, default 4/s, for BENCH_REVIEW_LIGHT_SECONDS, default 20) shows the
latency of the pipeline itself when nothing queues up.
"""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.counting import WorkMeter

RATE = float(os.environ.get("BENCH_REVIEW_RATE", "20"))
SECONDS = float(os.environ.get("BENCH_REVIEW_SECONDS", "60"))
DRAIN_TIMEOUT_S = float(os.environ.get("BENCH_REVIEW_DRAIN_S", "240"))
LIGHT_RATE = float(os.environ.get("BENCH_REVIEW_LIGHT_RATE", "4"))
LIGHT_SECONDS = float(os.environ.get("BENCH_REVIEW_LIGHT_SECONDS", "20"))
ROOT = Path(__file__).resolve().parent.parent
LEAGUES = ("鄂尔多斯市", "包头市", "赤峰市", "锡林郭勒盟", "乌海市", "阿拉善盟")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def _payloads(catalog, count: int, run: str):
    """Alternating branch (一) open-pit coal mines and branch (二) sand-and-gravel mines over six 盟市."""
    from review_routing.domain.routing import MineProfile, route

    coal = {"mine_id": "", "name": "", "league": "", "county": "某旗", "scale": "large", "industry_group": 1,
            "mining_method": "open_pit", "minerals": ["煤"]}
    sand = {**coal, "scale": "small", "industry_group": 2, "minerals": ["建筑用砂"],
            "industry_variant": "sand_gravel_stone"}
    out = []
    for n in range(count):
        mine = dict(coal if n % 2 == 0 else sand, mine_id=f"{run}-mine-{n}", name=f"基准矿山{n}",
                    league=LEAGUES[n % len(LEAGUES)])
        group = mine["industry_group"]
        assessment_mine = {"industry_group": group, "mining_method": "open_pit"}
        if group == 2:
            assessment_mine["industry_variant"] = "sand_gravel_stone"
        assessment = {"catalog": catalog.id, "mine": assessment_mine,
                      "prerequisites": {p: True for p in catalog.prerequisite_codes},
                      "indicators": {str(i.no): {"score": str(i.points)}
                                     for i in catalog.indicators_for(group, "open_pit")}}
        attachments = [{"attachment_id": f"att-{k}", "kind": "evidence", "indicator": k, "prerequisite": None,
                        "filename": f"证明材料{k}.pdf", "content_type": "application/pdf", "size": 2048,
                        "sha256": "c" * 64} for k in (3, 5, 19 if group == 1 else 23)]
        payload = {"application_id": f"{run}-app-{n}", "version_no": 1, "resubmission": False,
                   "submitted_at": "2026-03-02T08:15:00Z", "submitted_by": "enterprise",
                   "enterprise": {"name": f"基准企业{n}", "credit_code": "91150600MA0N00001W"},
                   "mine": mine, "catalog": catalog.id, "assessment": assessment, "attachments": attachments}
        expected = len(route(catalog, MineProfile.from_submission(mine, assessment), assessment, attachments).tasks)
        out.append((payload, expected))
    return out


def run(env: dict) -> list[dict]:
    from shared.catalog import load_catalog
    from shared.config import Settings
    from shared.contracts import ContractRegistry, new_event
    from shared.messaging import encode, ensure_topics, make_producer
    from shared.storage import mongo_client

    run_id = uuid.uuid4().hex[:8]
    embedded_kafka = env.get("kind") == "embedded"
    variables = {
        "MONGODB_URI": env["mongodb"], "KAFKA_BOOTSTRAP_SERVERS": env["kafka"],
        "GREENMINE_SECRET_KEY": "bench-" + run_id, "GREENMINE_DB_PREFIX": f"bench{run_id}",
        "GREENMINE_TOPIC_PREFIX": f"bench{run_id}.",
        "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": "2000" if embedded_kafka else "6000",
        "GREENMINE_KAFKA_HEARTBEAT_MS": "300" if embedded_kafka else "1000",
        "GREENMINE_LOG_LEVEL": "WARNING", "GREENMINE_REVIEW_SWEEP_SECONDS": "3600",
    }
    settings = Settings.from_env(variables)
    ensure_topics(settings, ContractRegistry([settings.contracts_dir]))
    catalog = load_catalog("nm-2025")
    total = int(RATE * SECONDS)
    light_total = int(LIGHT_RATE * LIGHT_SECONDS)
    warmup = _payloads(catalog, 2, run_id + "w")
    light = _payloads(catalog, light_total, run_id + "l")
    load = _payloads(catalog, total, run_id)
    expected = {p["application_id"]: n for p, n in warmup + light + load}

    client = mongo_client(settings.mongodb_uri)
    queue = client[settings.database_name("review_routing")]["queue"]
    seen: dict[str, int] = {}
    done_at: dict[str, float] = {}
    stop = threading.Event()
    ready = threading.Event()

    def watch() -> None:
        with queue.watch([{"$match": {"operationType": "insert"}}]) as stream:
            ready.set()
            while not stop.is_set():
                change = stream.try_next()
                if change is None:
                    time.sleep(0.005)
                    continue
                app = change["fullDocument"]["application_id"]
                seen[app] = seen.get(app, 0) + 1
                if seen[app] == expected.get(app):
                    done_at[app] = time.perf_counter()

    watcher = threading.Thread(target=watch, daemon=True, name="queue-watch")
    watcher.start()
    ready.wait(30)

    scratch = Path(env.get("scratch") or "/tmp")
    child_env = {**os.environ, **variables, "PYTHONUNBUFFERED": "1",
                 "GREENMINE_DB_WORK_DIR": str(scratch / f"db-work-review-{run_id}")}
    meter = WorkMeter(settings, scratch / f"db-work-review-{run_id}")
    logs = scratch / f"bench-review-{run_id}.log"
    log_file = open(logs, "w")
    python = sys.executable
    processes = [
        subprocess.Popen([python, "-m", "review_routing.entrypoints.consumer"], env=child_env, cwd=ROOT,
                         stdout=log_file, stderr=subprocess.STDOUT),
        subprocess.Popen([python, "-m", "shared.cli", "relay", "review_routing"], env=child_env, cwd=ROOT,
                         stdout=log_file, stderr=subprocess.STDOUT),
    ]
    producer = make_producer(settings)
    topic = settings.topic("intake.application.events")
    sent_at: dict[str, float] = {}

    def publish(payload: dict) -> None:
        envelope = new_event("intake.application_submitted", producer="intake", aggregate_type="application",
                             aggregate_id=payload["application_id"], aggregate_version=2, payload=payload)
        value = encode(envelope)
        sent_at[payload["application_id"]] = time.perf_counter()
        producer.send(topic, key=payload["application_id"].encode(), value=value)

    try:
        for payload, _ in warmup:                      # consumer group joined, caches warm
            publish(payload)
        producer.flush()
        deadline = time.monotonic() + 90
        while not all(p["application_id"] in done_at for p, _ in warmup):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"review_routing did not start; see {logs}")
            time.sleep(0.1)

        def steady(batch, rate):
            """Publish at a steady rate; returns (seconds offered, seconds until all were in the queues)."""
            started = time.perf_counter()
            for n, (payload, _) in enumerate(batch):   # a steady schedule, not a burst
                delay = started + n / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                publish(payload)
                if n % 20 == 19:
                    producer.flush()
            producer.flush()
            offered = time.perf_counter() - started
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while time.monotonic() < deadline and not all(p["application_id"] in done_at for p, _ in batch):
                time.sleep(0.2)
            return offered, time.perf_counter() - started

        steady(light, LIGHT_RATE)
        work_before = meter.reading()
        cpu_before = [_cpu_seconds(p.pid) for p in processes]
        offered_s, drained_s = steady(load, RATE)
        cpu_after = [_cpu_seconds(p.pid) for p in processes]
        work_after = meter.reading()
    finally:
        stop.set()
        producer.close(timeout=5)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        log_file.close()
        watcher.join(timeout=5)

    def latencies_of(batch):
        return [(done_at[p["application_id"]] - sent_at[p["application_id"]]) * 1000 for p, _ in batch
                if p["application_id"] in done_at]

    latencies, light_latencies = latencies_of(load), latencies_of(light)
    completed = len(latencies)
    for name in list(client.list_database_names()):
        if name.startswith(settings.db_prefix + "_"):
            client.drop_database(name)
    if not latencies or not light_latencies:
        raise RuntimeError(f"applications did not reach the queues; see {logs}")
    tasks = sum(n for _, n in load)
    return [
        {"name": "review_routing.offered_rate", "value": total / offered_s, "unit": "applications/s"},
        {"name": "review_routing.submit_to_all_queues_p50_ms", "value": statistics.median(latencies), "unit": "ms"},
        {"name": "review_routing.submit_to_all_queues_p99_ms", "value": _percentile(latencies, 0.99), "unit": "ms"},
        {"name": "review_routing.submit_to_all_queues_max_ms", "value": max(latencies), "unit": "ms"},
        {"name": "review_routing.completed_ratio", "value": completed / total, "unit": "ratio"},
        {"name": "review_routing.tasks_per_s", "value": tasks / drained_s, "unit": "tasks/s"},
        # CPU per application: unlike latencies, these do not depend on what else the machine is running.
        *[{"name": f"review_routing.{name}_cpu_ms_per_application", "value": (after - before) * 1000 / total,
           "unit": "ms"} for name, before, after in zip(("consumer", "relay"), cpu_before, cpu_after, strict=True)
          if before is not None and after is not None],
        # What each application asked of MongoDB (consumer + relay) and put on Kafka, the input event included.
        *WorkMeter.per_application("review_routing", work_before, work_after, total),
        {"name": "review_routing.light_load_rate", "value": LIGHT_RATE, "unit": "applications/s"},
        {"name": "review_routing.light_load_p50_ms", "value": statistics.median(light_latencies), "unit": "ms"},
        {"name": "review_routing.light_load_p99_ms", "value": _percentile(light_latencies, 0.99), "unit": "ms"},
    ]
