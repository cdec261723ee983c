"""Support for the process-fault and chaos tests (tests/e2e/test_process_faults.py, tests/e2e/test_chaos.py):
servers that can be restarted and killed on fixed ports, `greenmine up` on them, applications prepared through
intake's bus and submitted through the API by a client that retries like a careful user, and the count of what
every service made of them. A uniquely named module: tests/* has no packages."""
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
from collections import Counter
from pathlib import Path

import requests

from shared import embedded, identity
from shared.config import REPO_ROOT, Settings

PDF = b"%PDF-1.4\n" + b"0" * 512 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 512 + b"\xff\xd9"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
ENTERPRISE = identity.Principal("enterprise", "enterprise", display_name="鄂尔多斯示范煤业有限公司",
                                enterprise="91150600MA0N00001W")
CONSUMERS = [f"{s}-consumer" for s in ("intake", "review_routing", "scoring", "public_notice", "supervision")]
RELAYS = [f"{s}-relay" for s in ("intake", "review_routing", "scoring", "public_notice", "supervision")]


class Servers:
    """Tansu and SecantusDB (durable, with a data directory) on ports that stay the same across restarts."""

    def __init__(self, base: Path):
        self.dir = base
        self.kafka_port = embedded.free_port()
        self.mongo_port = embedded.free_port()
        self.broker: embedded.EmbeddedServer | None = None
        self.database: embedded.EmbeddedServer | None = None
        self.broker_restarts = 0
        self.database_kills = 0
        self.start_broker()
        self.start_database()

    @property
    def kafka(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongodb(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/"

    def start_broker(self) -> None:
        self.broker = embedded.start_tansu(self.kafka_port, log_dir=self.dir)  # a new cluster id every start

    def restart_broker(self) -> None:
        """The embedded broker keeps its log in memory: a restart loses every topic, record and group offset."""
        self.broker.stop()
        self.start_broker()
        self.broker_restarts += 1

    def start_database(self) -> None:
        self.database = embedded.start_secantus(self.mongo_port, data_dir=self.dir / "mongo",
                                                config_path=self.dir / "secantusd.toml", log_dir=self.dir)

    def kill_database(self) -> None:
        self.database.process.send_signal(signal.SIGKILL)
        self.database.process.wait(timeout=10)
        self.database_kills += 1

    def stop(self) -> None:
        for server in (self.broker, self.database):
            if server is not None:
                server.stop()


class System:
    """`greenmine up` on given servers, with demo data; `stop()` is Ctrl-C."""

    def __init__(self, servers: Servers, var: Path, run: str):
        self.servers = servers
        self.var = var
        self.http_port = embedded.free_port()
        self.web_base = embedded.free_port_block(6)
        self.url = f"http://127.0.0.1:{self.http_port}"
        names = ["portal", "intake", "review_routing", "scoring", "public_notice", "supervision"]
        self.web_ports = {name: self.web_base + i for i, name in enumerate(names)}
        self.env = {**os.environ, "MONGODB_URI": servers.mongodb, "KAFKA_BOOTSTRAP_SERVERS": servers.kafka,
                    "GREENMINE_SECRET_KEY": "faults-" + run, "GREENMINE_DB_PREFIX": f"f{run}",
                    "GREENMINE_TOPIC_PREFIX": f"f{run}.", "GREENMINE_VAR": str(var),
                    "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": "2000", "GREENMINE_KAFKA_HEARTBEAT_MS": "300",
                    "GREENMINE_WEB_PORT_BASE": str(self.web_base),
                    "GREENMINE_LOG_LEVEL": os.environ.get("GREENMINE_FAULTS_LOG_LEVEL", "WARNING"),
                    "GUNICORN_ACCESSLOG": "", "PYTHONUNBUFFERED": "1"}
        self.settings = Settings.from_env({
            **{k: v for k, v in self.env.items() if k.startswith(("GREENMINE_", "MONGODB", "KAFKA"))},
            "GREENMINE_CONTRACTS_DIR": str(REPO_ROOT / "contracts"),
            "GREENMINE_SERVICE_URLS": ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in self.web_ports.items()
                                               if n != "portal")})
        self.output: list[str] = []
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120.0) -> None:
        greenmine = str(Path(sys.executable).parent / "greenmine")
        self.process = subprocess.Popen([greenmine, "up", "--port", str(self.http_port)], cwd=REPO_ROOT,
                                        env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        threading.Thread(target=lambda: self.output.extend(self.process.stdout), daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while not any("greenmine is ready" in line for line in self.output):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"greenmine up did not become ready (rc {self.process.poll()}):\n"
                                   + "".join(line for line in self.output[-100:] if '"time":' not in line))
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    # -- the processes, as the launcher's supervisor sees them --------------------------------------------------
    def processes(self) -> dict[str, dict]:
        return json.loads((self.var / "processes.json").read_text())["processes"]

    def pid(self, name: str) -> int:
        return self.processes()[name]["pid"]

    def kill(self, name: str) -> tuple[int, float]:
        """kill -9 a supervised process; returns its pid and the moment."""
        pid = self.pid(name)
        assert pid, f"{name} is not running: {self.processes()[name]}"
        os.kill(pid, signal.SIGKILL)
        return pid, time.monotonic()

    def kill_web_worker(self, name: str) -> int:
        """kill -9 the gunicorn worker of a web process (its master starts another one)."""
        master = self.pid(name)
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        assert children, f"{name} (pid {master}) has no worker"
        os.kill(int(children[0]), signal.SIGKILL)
        return int(children[0])

    def wait_restarted(self, name: str, old_pid: int, since: float, timeout_s: float = 60.0) -> tuple[float, float]:
        """(seconds until a new process was spawned, seconds until supervisord saw it RUNNING) after `since`."""
        spawned = None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.processes()[name]
            if state["pid"] and state["pid"] != old_pid:
                spawned = spawned or time.monotonic() - since
                if state["state"] == "RUNNING":
                    return spawned, time.monotonic() - since
            time.sleep(0.05)
        raise AssertionError(f"{name} not running again within {timeout_s}s: {self.processes()[name]}")

    def readiness(self) -> dict:
        """The portal's detail, asked from inside (not through the proxy, which tells the public only yes/no)."""
        return requests.get(f"http://127.0.0.1:{self.web_ports['portal']}/readyz", timeout=10).json()

    def logs(self, pattern: str) -> dict[str, int]:
        """How many lines of each process's log contain `pattern`."""
        found = {}
        for path in (self.var / "logs").glob("*.log"):
            count = sum(1 for line in path.read_text(errors="replace").splitlines() if pattern in line)
            if count:
                found[path.stem] = count
        return found


# -- applications ---------------------------------------------------------------------------------------------------
def _mine(n: int) -> dict:
    return {
        "name": f"故障测试煤矿{n:04d}",
        "mining_licence": {"number": f"C150600201506{random.randint(0, 10**10 - 1):010d}", "valid_from": "2020-01-01",
                           "valid_to": "2040-12-31"},
        "safety_licence": {"number": f"（蒙）MK安许证字〔2024〕{n:04d}号", "valid_from": "2024-01-01",
                           "valid_to": "2039-12-31"},
        "business_licence": {"valid_from": "2008-01-01", "valid_to": None},
        "league": "ordos", "county": "准格尔旗", "minerals": ["coal"], "scale": "large", "industry_group": 1,
        "mining_method": "open_pit", "production_status": "in_production", "production_start_date": "2012-05-01",
        "remaining_reserve_years": "25",
    }


def prepare_applications(settings: Settings, count: int, workers: int = 2) -> list[str]:
    """`count` complete drafts of the demo enterprise (mine, 46-indicator assessment, required materials), made
    through intake's bus the way the enterprise's clicks would; submitting is left to the API."""
    from concurrent.futures import ThreadPoolExecutor

    from intake.bootstrap import bootstrap
    from intake.domain import materials as mat
    from intake.domain.commands import AddAttachment, RegisterMine, StartApplication
    from shared.catalog import load_catalog

    catalog = load_catalog("nm-2025")
    # Binding items and 2, 9, 11, 43 at full marks (62.00, qualified), the other improvement items 0: a score above
    # 0 needs its evidence file (缺少支撑材料或证明材料不得分), and 200 drafts must stay quick to prepare.
    indicators = {str(i.no): {"score": format(i.points.normalize(), "f") if i.binding or i.no in (2, 9, 11, 43)
                              else "0"} for i in catalog.indicators_for(1, "open_pit")}
    indicators["16"] = {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产"}
    record = "2026年4月1日安环部张工、李工到采场、排土场和破碎车间现场查看，并查阅开发利用方案和台账，符合要求。"
    assessment = {"catalog": catalog.id, "mine": {"industry_group": 1, "mining_method": "open_pit"},
                  "prerequisites": {code: True for code in catalog.prerequisite_codes}, "indicators": indicators}
    records = {key: record for key in indicators}
    service = bootstrap(settings)

    def one(n: int) -> str:
        mine = service.handle(RegisterMine(ENTERPRISE, _mine(n))).mine
        app_id = service.handle(StartApplication(ENTERPRISE, mine.id, assessment=assessment, records=records,
                                                 declared_penalties=False)).app.id
        for kind in mat.KINDS:
            if kind.requirement == mat.REQUIRED:
                content, name = {"site_photos": (JPEG, "现场.jpg"), "promo_video": (MP4, "宣传片.mp4")}.get(
                    kind.code, (PDF, f"{kind.label}.pdf"))
                service.handle(AddAttachment(ENTERPRISE, app_id, kind=kind.code, indicator=None,
                                             stream=io.BytesIO(content), filename=name))
        for key, entry in indicators.items():    # 缺少支撑材料或证明材料不得分: evidence for every score above 0
            if entry.get("score", "0") != "0":
                service.handle(AddAttachment(ENTERPRISE, app_id, kind="evidence", indicator=key,
                                             stream=io.BytesIO(PDF), filename=f"第{key}项佐证.pdf"))
        return app_id

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


class Submitter:
    """Submits applications through the API like a careful client: a refused connection, a 5xx or a timeout is
    tried again; a 409 after an attempt whose answer was lost means the submission went through."""

    def __init__(self, url: str, settings: Settings):
        self.url = url
        self.token = identity.issue_token(settings.secret_key, ENTERPRISE)
        self.local = threading.local()
        self.retries = Counter()

    def http(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers.update({"Authorization": f"Bearer {self.token}", "Accept": "application/json"})
        return self.local.session

    def submit(self, app_id: str, deadline_s: float = 180.0) -> str:
        deadline = time.monotonic() + deadline_s
        tried = False
        while True:
            try:
                response = self.http().post(f"{self.url}/api/v1/applications/{app_id}/submit", timeout=30)
                if response.status_code == 200:
                    return "submitted"
                if response.status_code == 409 and tried:
                    state = self.http().get(f"{self.url}/api/v1/applications/{app_id}", timeout=30)
                    if state.status_code == 200 and state.json().get("status") != "draft":
                        return "submitted (answer lost)"
                if response.status_code < 500 and response.status_code not in (409, 429):
                    raise AssertionError(f"submit {app_id}: {response.status_code} {response.text[:300]}")
                self.retries[response.status_code] += 1
            except requests.RequestException as exc:
                self.retries[type(exc).__name__] += 1
            tried = True
            if time.monotonic() > deadline:
                raise AssertionError(f"submit {app_id}: no success within {deadline_s}s ({dict(self.retries)})")
            time.sleep(0.5)


# -- what became of them ----------------------------------------------------------------------------------------
def outcome(settings: Settings, app_ids: list[str]) -> dict:
    """Per application: its case, its routed tasks (and queue entries), its self-assessment score report; the
    figures and every application that is missing something or has something twice."""
    from shared.storage import mongo_client

    client = mongo_client(settings.mongodb_uri)
    review = client[settings.database_name("review_routing")]
    scoring = client[settings.database_name("scoring")]
    cases = {d["_id"]: d for d in review["cases"].find({"_id": {"$in": app_ids}}, {"versions.assessment": 0})}
    tasks: dict[str, list[dict]] = {}
    for task in review["tasks"].find({"application_id": {"$in": app_ids}}, {"_id": 1, "application_id": 1,
                                                                          "department": 1}):
        tasks.setdefault(task["application_id"], []).append(task)
    queue = Counter(d["application_id"] for d in review["queue"].find({"application_id": {"$in": app_ids}},
                                                                      {"application_id": 1}))
    reports = Counter(d["subject"]["id"] for d in scoring["assessments"].find(
        {"subject.id": {"$in": app_ids}, "stage": "self_assessment"}, {"subject.id": 1}))
    problems: dict[str, list[str]] = {}
    routed_total = 0
    for app_id in app_ids:
        issues = []
        case = cases.get(app_id)
        if case is None:
            issues.append("no case")
        else:
            routed = {t["task_id"]: t["department"] for t in case["versions"][-1]["tasks"]}
            routed_total += len(routed)
            stored = tasks.get(app_id, [])
            departments = [t["department"] for t in stored]
            if not routed:
                issues.append("case without routed tasks")
            if {t["_id"] for t in stored} != set(routed):
                issues.append(f"tasks {sorted(t['_id'] for t in stored)} != routed {sorted(routed)}")
            if len(departments) != len(set(departments)):
                issues.append(f"a department twice: {sorted(departments)}")
            if queue[app_id] != len(routed):
                issues.append(f"{queue[app_id]} queue entries for {len(routed)} tasks")
        if reports[app_id] != 1:
            issues.append(f"{reports[app_id]} score reports")
        if issues:
            problems[app_id] = issues
    return {"applications": len(app_ids), "cases": len(cases), "routed_tasks": routed_total,
            "stored_tasks": sum(len(v) for v in tasks.values()), "queue_entries": sum(queue.values()),
            "score_reports": sum(reports.values()), "problems": problems}


def wait_for_outcome(settings: Settings, app_ids: list[str], timeout_s: float, say=print) -> dict:
    started = time.monotonic()
    last_said = started
    while True:
        result = outcome(settings, app_ids)
        now = time.monotonic()
        if not result["problems"] or now - started > timeout_s:
            return result
        if now - last_said >= 5:
            last_said = now
            say(f"  {now - started:.0f}s: " + ", ".join(f"{k} {v}" for k, v in result.items() if k != "problems")
                + f", {len(result['problems'])} applications incomplete")
        time.sleep(1.0)


def dead_letters(settings: Settings) -> dict[str, int]:
    """Dead letters on every service's dead-letter topic (those on the current broker)."""
    from shared.config import SERVICES
    from shared.contracts import ContractRegistry
    from shared.messaging import list_dead_letters

    registry = ContractRegistry([settings.contracts_dir])
    return {service: len(list_dead_letters(settings, registry, service)) for service in SERVICES}


def shown(capsys, *parts) -> None:
    """Print past pytest's capture: the figures belong in the log of every run, passing or not."""
    with capsys.disabled():
        print(*parts, flush=True)
