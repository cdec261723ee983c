"""The review-routing pipeline under load, shared by the throughput bench and the soak: the review_routing
consumer and relay as their own processes (as in production) against the servers in `env`, a load generator that
publishes `intake.application_submitted` at a steady rate, and a MongoDB change stream on the department queues
that records when every task of an application is visible."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.counting import WorkMeter

ROOT = Path(__file__).resolve().parent.parent
LEAGUES = ("鄂尔多斯市", "包头市", "赤峰市", "锡林郭勒盟", "乌海市", "阿拉善盟")
DRAIN_TIMEOUT_S = float(os.environ.get("BENCH_REVIEW_DRAIN_S", "240"))


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def resident_mb(pid: int) -> float | None:
    """Resident memory of a process in MB (Linux /proc); None elsewhere."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def payloads(catalog, count: int, run: str) -> list[tuple[dict, int]]:
    """(event payload, tasks expected): alternating branch (一) open-pit coal mines and branch (二)
    sand-and-gravel mines over six 盟市."""
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


class ReviewPipeline:
    """Start with `with ReviewPipeline(env, "review") as pipeline:`; `run_id` names this run's database prefix
    and topic prefix, both dropped or abandoned at the end."""

    def __init__(self, env: dict, name: str):
        from shared.catalog import load_catalog
        from shared.config import Settings

        self.run_id = uuid.uuid4().hex[:8]
        embedded_kafka = env.get("kind") == "embedded"
        self.variables = {
            "MONGODB_URI": env["mongodb"], "KAFKA_BOOTSTRAP_SERVERS": env["kafka"],
            "GREENMINE_SECRET_KEY": "bench-" + self.run_id, "GREENMINE_DB_PREFIX": f"bench{self.run_id}",
            "GREENMINE_TOPIC_PREFIX": f"bench{self.run_id}.",
            "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": "2000" if embedded_kafka else "6000",
            "GREENMINE_KAFKA_HEARTBEAT_MS": "300" if embedded_kafka else "1000",
            "GREENMINE_LOG_LEVEL": "WARNING", "GREENMINE_REVIEW_SWEEP_SECONDS": "3600",
        }
        self.settings = Settings.from_env(self.variables)
        self.catalog = load_catalog("nm-2025")
        self.scratch = Path(env.get("scratch") or "/tmp")
        self.logs = self.scratch / f"bench-{name}-{self.run_id}.log"
        self.meter = WorkMeter(self.settings, self.scratch / f"db-work-{name}-{self.run_id}")
        self.expected: dict[str, int] = {}
        self.sent_at: dict[str, float] = {}
        self.done_at: dict[str, float] = {}
        self.processes: list[subprocess.Popen] = []
        self._stop = threading.Event()

    def batch(self, count: int, tag: str) -> list[tuple[dict, int]]:
        out = payloads(self.catalog, count, self.run_id + tag)
        self.expected.update((p["application_id"], n) for p, n in out)
        return out

    def __enter__(self) -> ReviewPipeline:
        from shared.contracts import ContractRegistry
        from shared.messaging import ensure_topics, make_producer
        from shared.storage import mongo_client

        ensure_topics(self.settings, ContractRegistry.of(self.settings.contracts_dir))
        self.client = mongo_client(self.settings.mongodb_uri)
        queue = self.client[self.settings.database_name("review_routing")]["queue"]
        seen: dict[str, int] = {}
        ready = threading.Event()

        def watch() -> None:
            with queue.watch([{"$match": {"operationType": "insert"}}]) as stream:
                ready.set()
                while not self._stop.is_set():
                    change = stream.try_next()
                    if change is None:
                        time.sleep(0.005)
                        continue
                    app = change["fullDocument"]["application_id"]
                    seen[app] = seen.get(app, 0) + 1
                    if seen[app] == self.expected.get(app):
                        self.done_at[app] = time.perf_counter()

        self._watcher = threading.Thread(target=watch, daemon=True, name="queue-watch")
        self._watcher.start()
        ready.wait(30)
        child_env = {**os.environ, **self.variables, "PYTHONUNBUFFERED": "1",
                     "GREENMINE_DB_WORK_DIR": str(self.meter.dump_dir)}
        self._log_file = open(self.logs, "w")
        for command in (["-m", "review_routing.entrypoints.consumer"], ["-m", "shared.cli", "relay", "review_routing"]):
            self.processes.append(subprocess.Popen([sys.executable, *command], env=child_env, cwd=ROOT,
                                                   stdout=self._log_file, stderr=subprocess.STDOUT))
        self.producer = make_producer(self.settings)
        self.topic = self.settings.topic("intake.application.events")
        return self

    def publish(self, payload: dict) -> None:
        from shared.contracts import new_event
        from shared.messaging import encode

        envelope = new_event("intake.application_submitted", producer="intake", aggregate_type="application",
                             aggregate_id=payload["application_id"], aggregate_version=2, payload=payload)
        value = encode(envelope)
        self.sent_at[payload["application_id"]] = time.perf_counter()
        self.producer.send(self.topic, key=payload["application_id"].encode(), value=value)

    def warm_up(self) -> None:
        """Two applications through: the consumer group joined and the caches warm."""
        warmup = self.batch(2, "w")
        for payload, _ in warmup:
            self.publish(payload)
        self.producer.flush()
        deadline = time.monotonic() + 90
        while not all(p["application_id"] in self.done_at for p, _ in warmup):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"review_routing did not start; see {self.logs}")
            time.sleep(0.1)

    def steady(self, batch: list[tuple[dict, int]], rate: float) -> tuple[float, float]:
        """Publish at a steady rate (a schedule, not a burst); returns (seconds offered, seconds until every
        task of the batch was in the queues)."""
        started = time.perf_counter()
        for n, (payload, _) in enumerate(batch):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.publish(payload)
            if n % 20 == 19:
                self.producer.flush()
        self.producer.flush()
        offered = time.perf_counter() - started
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline and not all(p["application_id"] in self.done_at for p, _ in batch):
            time.sleep(0.2)
        return offered, time.perf_counter() - started

    def latencies_ms(self, batch: list[tuple[dict, int]]) -> list[float]:
        return [(self.done_at[p["application_id"]] - self.sent_at[p["application_id"]]) * 1000 for p, _ in batch
                if p["application_id"] in self.done_at]

    def cpu(self) -> list[float | None]:
        return [cpu_seconds(p.pid) for p in self.processes]

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.producer.close(timeout=5)
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self._log_file.close()
        self._watcher.join(timeout=5)
        for name in list(self.client.list_database_names()):
            if name.startswith(self.settings.db_prefix + "_"):
                self.client.drop_database(name)
