"""`greenmine up` / `make run`: the whole system on one machine under honcho.

Starts the embedded Tansu and SecantusDB unless KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI are set, creates the
topics, then runs every web app (gunicorn), consumer and relay plus Caddy as the one address, waits until
`/readyz` says every service is ready, loads the demo data and prints the URL and the demo logins.
Ctrl-C stops everything: honcho terminates its processes, then the embedded servers are stopped.
"""
from __future__ import annotations

import os
import secrets
import shutil
import sys
import threading
import time
from pathlib import Path

import requests

from shared import embedded
from shared.config import REPO_ROOT, SERVICES, Settings
from shared.proxy import caddyfile

WEB_PORTS = {"portal": 8100, "intake": 8101, "review_routing": 8102, "scoring": 8103, "public_notice": 8104,
             "supervision": 8105}
EMBEDDED_KAFKA_PORT = 19092
EMBEDDED_MONGO_PORT = 27027


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def _gunicorn(app: str, port: int) -> str:
    conf = REPO_ROOT / "deploy" / "gunicorn.conf.py"
    config = f"-c {conf} " if conf.exists() else ""
    return (f"{_bin('gunicorn')} {config}--bind 127.0.0.1:{port} --workers 1 --threads 4 "
            f"--worker-class gthread --graceful-timeout 5 '{app}'")


def processes(http_port: int, var: Path, web_ports: dict[str, int] = WEB_PORTS) -> dict[str, str]:
    python = sys.executable
    procs = {"portal": _gunicorn("shared.portal:create_app()", web_ports["portal"])}
    for service in SERVICES:
        procs[f"{service}-web"] = _gunicorn(f"{service}.entrypoints.http:create_app()", web_ports[service])
        procs[f"{service}-consumer"] = f"{python} -m {service}.entrypoints.consumer"
        procs[f"{service}-relay"] = f"{_bin('greenmine')} relay {service}"
    procs["proxy"] = f"{_bin('caddy')} run --config {var / 'Caddyfile'} --adapter caddyfile"
    return procs


def secret_key(var: Path) -> str:
    path = var / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def wait_ready(url: str, timeout_s: float, stop: threading.Event) -> tuple[bool, dict | None]:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline and not stop.is_set():
        try:
            response = requests.get(url + "/readyz", timeout=5)
            last = response.json()
            if response.status_code == 200:
                return True, last
        except Exception:
            pass
        stop.wait(0.5)
    return False, last


def ports_from(base: int) -> dict[str, int]:
    return {name: base + i for i, name in enumerate(WEB_PORTS)}


def run_system(http_port: int = 8080, demo: bool = True, var: Path | None = None,
               ready_timeout_s: float = 90.0) -> int:
    embedded.require_local("honcho", "the process runner honcho")
    if not Path(_bin("caddy")).is_file() and shutil.which("caddy") is None:
        raise embedded.EmbeddedServerError(f"the proxy Caddy (caddyserver) is not installed: "
                                           f"{embedded.LOCAL_EXTRA_HINT}")
    from honcho.manager import Manager

    from shared.cli import DEMO_PASSWORD, DEMO_USERS, SYSTEM_ENV, write_system_env
    from shared.contracts import ContractRegistry
    from shared.logging import configure_logging
    from shared.messaging import ensure_topics

    var = Path(var or os.environ.get("GREENMINE_VAR", REPO_ROOT / "var")).resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    configure_logging("launcher")
    servers = []
    env = dict(os.environ)
    ports = ports_from(int(env.get("GREENMINE_WEB_PORT_BASE", WEB_PORTS["portal"])))
    kafka_port = int(env.get("GREENMINE_EMBEDDED_KAFKA_PORT", EMBEDDED_KAFKA_PORT))
    mongo_port = int(env.get("GREENMINE_EMBEDDED_MONGO_PORT", EMBEDDED_MONGO_PORT))
    try:
        if not env.get("MONGODB_URI"):
            mongo = embedded.start_secantus(mongo_port, data_dir=var / "mongo",
                                            config_path=var / "secantusd.toml", log_dir=var / "logs")
            servers.append(mongo)
            env["MONGODB_URI"] = embedded.mongodb_uri(mongo)
            print(f"[greenmine] SecantusDB (MongoDB wire) on {env['MONGODB_URI']}, data in {var / 'mongo'}")
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            kafka = embedded.start_tansu(kafka_port, log_dir=var / "logs")
            servers.append(kafka)
            env["KAFKA_BOOTSTRAP_SERVERS"] = embedded.kafka_bootstrap(kafka)
            # Tansu holds its group joins for half the session timeout: short timeouts keep start-up quick.
            env.setdefault("GREENMINE_KAFKA_SESSION_TIMEOUT_MS", "2000")
            env.setdefault("GREENMINE_KAFKA_HEARTBEAT_MS", "300")
            print(f"[greenmine] Tansu (Kafka protocol, in memory) on {env['KAFKA_BOOTSTRAP_SERVERS']}")
        secret_file = ""
        if not env.get("GREENMINE_SECRET_KEY"):
            env["GREENMINE_SECRET_KEY"] = secret_key(var)
            secret_file = str(var / "secret_key")
        public_url = f"http://127.0.0.1:{http_port}"
        env.setdefault("GREENMINE_PUBLIC_URL", public_url)
        env["GREENMINE_SERVICE_URLS"] = ",".join(f"{s}=http://127.0.0.1:{ports[s]}" for s in SERVICES)
        env["PYTHONUNBUFFERED"] = "1"
        settings = Settings.from_env(env)
        # For the operator's other commands (a second terminal): where this system's servers are.
        write_system_env(var / SYSTEM_ENV, {**env, "GREENMINE_SECRET_KEY_FILE": secret_file})
        created = ensure_topics(settings, ContractRegistry([settings.contracts_dir]))
        print(f"[greenmine] {len(created)} topics ready")
        (var / "Caddyfile").write_text(caddyfile(http_port, ports))

        manager = Manager()
        for name, command in processes(http_port, var, ports).items():
            manager.add_process(name, command, env=env, cwd=str(REPO_ROOT))
        stop = threading.Event()

        def announce():
            started = time.monotonic()
            ok, report = wait_ready(public_url, ready_timeout_s, stop)
            if stop.is_set():
                return
            if not ok:
                try:  # the detail, which the proxy does not tell the public, straight from the portal
                    report = requests.get(f"http://127.0.0.1:{ports['portal']}/readyz", timeout=5).json()
                except Exception:
                    pass
                print(f"[greenmine] NOT READY after {ready_timeout_s:.0f}s: {report}", flush=True)
                return
            elapsed = time.monotonic() - started
            if demo:
                import subprocess

                result = subprocess.run([_bin("greenmine"), "demo-data"], env=env, cwd=str(REPO_ROOT),
                                        capture_output=True, text=True)
                if result.returncode != 0:
                    print(f"[greenmine] demo data failed:\n{result.stderr}", flush=True)
            logins = "\n".join(f"      {u:<22} {role}" for u, role, _o, _n in DEMO_USERS)
            print("\n" + "=" * 72 + f"\n  greenmine is ready in {elapsed:.1f}s:  {public_url}\n"
                  + (f"  demo logins (password {DEMO_PASSWORD}):\n{logins}\n" if demo else "")
                  + "  Ctrl-C stops everything.\n" + "=" * 72 + "\n", flush=True)

        threading.Thread(target=announce, daemon=True).start()
        manager.loop()
        stop.set()
        return manager.returncode or 0
    finally:
        for server in reversed(servers):
            server.stop()
