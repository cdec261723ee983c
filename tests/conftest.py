"""Real servers for the tests, in this order:
1. KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI from the environment;
2. testcontainers (apache/kafka, mongo as a replica set) when a Docker engine answers a ping
   (set GREENMINE_TEST_INFRA=local to skip this step);
3. Tansu and SecantusDB started here on free ports.
Nothing is skipped for want of a server. Each test gets its own database prefix and topic prefix.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from shared import embedded
from shared.config import REPO_ROOT, Settings
from shared.contracts import ContractRegistry

TEST_CONTRACTS = Path(__file__).resolve().parent / "fixtures" / "contracts"


def docker_available(timeout: float = 2.0) -> bool:
    if os.environ.get("GREENMINE_TEST_INFRA") == "local":
        return False
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _kafka_container():
    """apache/kafka in KRaft mode; the host port is fixed up front so the advertised listener matches it."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    port = embedded.free_port()
    container = (
        DockerContainer("apache/kafka:3.9.1")
        .with_bind_ports(9092, port)
        .with_env("KAFKA_NODE_ID", "1")
        .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
        .with_env("KAFKA_LISTENERS", "PLAINTEXT://:9092,CONTROLLER://:9093")
        .with_env("KAFKA_ADVERTISED_LISTENERS", f"PLAINTEXT://127.0.0.1:{port}")
        .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
        .with_env("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT")
        .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
        .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .with_env("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "1000")
    )
    container.start()
    wait_for_logs(container, "Kafka Server started", timeout=120)
    return container, f"127.0.0.1:{port}"


def _mongo_container():
    """mongo:8 as a single-node replica set (transactions need one)."""
    from pymongo import MongoClient
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    port = embedded.free_port()
    container = DockerContainer("mongo:8").with_bind_ports(27017, port).with_command("--replSet rs0 --bind_ip_all")
    container.start()
    wait_for_logs(container, "Waiting for connections", timeout=120)
    client = MongoClient("127.0.0.1", port, directConnection=True)
    client.admin.command("replSetInitiate", {"_id": "rs0", "members": [{"_id": 0, "host": f"127.0.0.1:{port}"}]})
    client.close()
    return container, f"mongodb://127.0.0.1:{port}/?replicaSet=rs0"


@pytest.fixture(scope="session")
def infra(tmp_path_factory):
    """{"kafka": bootstrap, "mongodb": uri, "kind": ...} for the whole session."""
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    stoppers = []
    kind = "environment"
    if not (kafka and mongo) and docker_available():
        kind = "testcontainers"
        if not kafka:
            container, kafka = _kafka_container()
            stoppers.append(container.stop)
        if not mongo:
            container, mongo = _mongo_container()
            stoppers.append(container.stop)
    if not (kafka and mongo):
        kind = "embedded"
        logs = tmp_path_factory.mktemp("servers")
        if not kafka:
            broker = embedded.start_tansu(log_dir=logs)
            stoppers.append(broker.stop)
            kafka = embedded.kafka_bootstrap(broker)
        if not mongo:
            database = embedded.start_secantus(log_dir=logs)
            stoppers.append(database.stop)
            mongo = embedded.mongodb_uri(database)
    yield {"kafka": kafka, "mongodb": mongo, "kind": kind}
    for stop in reversed(stoppers):
        stop()


def make_settings(infra: dict, **overrides) -> Settings:
    run = uuid.uuid4().hex[:8]
    env = {
        "MONGODB_URI": infra["mongodb"],
        "KAFKA_BOOTSTRAP_SERVERS": infra["kafka"],
        "GREENMINE_SECRET_KEY": "test-secret-" + run,
        "GREENMINE_DB_PREFIX": f"t{run}",
        "GREENMINE_TOPIC_PREFIX": f"t{run}.",
        "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": "2000" if infra["kind"] == "embedded" else "6000",
        "GREENMINE_KAFKA_HEARTBEAT_MS": "300" if infra["kind"] == "embedded" else "1000",
        "GREENMINE_CONTRACTS_DIR": str(REPO_ROOT / "contracts"),
    }
    env.update(overrides)
    return Settings.from_env(env)


@pytest.fixture
def settings(infra):
    """Settings isolated for one test: its own databases and topics on the session's servers."""
    settings = make_settings(infra)
    yield settings
    from shared.storage import mongo_client

    client = mongo_client(settings.mongodb_uri)
    for name in client.list_database_names():
        if name.startswith(settings.db_prefix + "_"):
            client.drop_database(name)


@pytest.fixture
def registry():
    """The real contracts plus the test-only event types of tests/fixtures/contracts."""
    return ContractRegistry([REPO_ROOT / "contracts", TEST_CONTRACTS])


@pytest.fixture(scope="module")
def running_system(infra, tmp_path_factory):
    """The whole system (`greenmine up`) on the session's servers, with demo data, for e2e and browser tests.

    Module-scoped: each test module gets a fresh system, and no two systems run at once on the 2-core machine.

    Yields {"url", "env", "settings", "output"}; every process is stopped at the end of the session."""
    import signal
    import subprocess
    import sys
    import threading
    import time

    import requests

    settings = make_settings(infra)
    var = tmp_path_factory.mktemp("system-var")
    http_port = embedded.free_port()
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "GREENMINE_SECRET_KEY": settings.secret_key, "GREENMINE_DB_PREFIX": settings.db_prefix,
           "GREENMINE_TOPIC_PREFIX": settings.topic_prefix, "GREENMINE_VAR": str(var),
           "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka_session_timeout_ms),
           "GREENMINE_KAFKA_HEARTBEAT_MS": str(settings.kafka_heartbeat_ms),
           "GREENMINE_WEB_PORT_BASE": str(embedded.free_port_block(6)), "PYTHONUNBUFFERED": "1"}
    greenmine = str(Path(sys.executable).parent / "greenmine")
    process = subprocess.Popen([greenmine, "up", "--port", str(http_port)], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    url = f"http://127.0.0.1:{http_port}"
    try:  # from here on, whatever fails stops the system: a system left running loads every later module
        deadline = time.monotonic() + 120
        while not any("greenmine is ready" in line for line in output):
            if process.poll() is not None or time.monotonic() > deadline:
                time.sleep(0.5)  # let the reader thread collect the last lines
                raise RuntimeError(f"greenmine up did not become ready (rc {process.poll()}):\n"
                                   + "".join(line for line in output[-200:] if '"time":' not in line))
            time.sleep(0.3)
        assert requests.get(url + "/readyz", timeout=10).status_code == 200
        yield {"url": url, "env": env, "settings": settings, "output": output}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        kill_leftovers(var)


def kill_leftovers(var: Path) -> None:
    """Kill any process of a stopped system still running (found by its GREENMINE_VAR): on a loaded machine a
    shutdown can outlast the wait, and supervisord's children, in process groups of their own, would live on and
    spin against the servers that are gone, slowing every test after them."""
    import signal

    marker = f"GREENMINE_VAR={var}".encode()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0") and int(proc.name) != os.getpid():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download; `make test` installs chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=os.environ.get("GREENMINE_CHROMIUM", "/usr/bin/chromium"), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()



@pytest.fixture(scope="module")
def faulty_system_stopped(tmp_path_factory):
    """A tests/system_faults.System not started yet, on a Tansu and a durable SecantusDB of its own on fixed ports
    (`.servers`): for data prepared before the processes compete for the 2 cores."""
    from system_faults import Servers, System

    base = tmp_path_factory.mktemp("faulty-system")
    (base / "servers").mkdir()
    servers = Servers(base / "servers")
    system = System(servers, base / "var", uuid.uuid4().hex[:8])
    try:
        yield system
    finally:
        system.stop()
        servers.stop()


@pytest.fixture(scope="module")
def faulty_system(faulty_system_stopped):
    """`greenmine up` (with demo data) on a Tansu and a durable SecantusDB of its own, on fixed ports, so a test
    can kill -9 processes, restart the broker (which loses its log) and kill and restart the database.
    Yields a tests/system_faults.System (`.servers`, `.settings`, `.url`, `.kill(name)`, `.processes()`)."""
    faulty_system_stopped.start()
    return faulty_system_stopped
