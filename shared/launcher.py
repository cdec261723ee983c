"""`greenmine up` / `make run`: the whole system on one machine, supervised by supervisord.

Starts the embedded Tansu and SecantusDB unless KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI are set, creates the
topics, then runs every web app (gunicorn), consumer and relay plus Caddy as the one address under supervisord,
waits until `/readyz` says every service is ready, loads the demo data and prints the URL and the demo logins.

Supervision: a process that dies is started again at once by supervisord (the others keep serving); one that
dies again while starting is retried with a growing delay (supervisord's BACKOFF: 1 s, 2 s, 3 s, ...) and then
given up (FATAL). The launcher's monitor reports every exit and restart on its output, and a crash loop (FATAL,
or CRASH_LOOP_EXITS exits within CRASH_LOOP_WINDOW_S) loudly; it starts a crash-looping process again after a
cool-down that doubles up to COOLDOWN_MAX_S. It writes what it sees to `var/processes.json`, which the portal's
`/readyz` shows (shared.readiness), so a restarting or crash-looping process is visible, not hidden.
Each process's output is in `var/logs/<process>.log`.

Ctrl-C stops everything: supervisord stops its processes (each with its process group), then the embedded
servers are stopped.
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import xmlrpc.client
from datetime import UTC, datetime
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


def processes(http_port: int, var: Path, web_ports: dict[str, int] = WEB_PORTS,
              mail_port: int | None = None) -> dict[str, str]:
    """The supervised processes; with `mail_port`, the local SMTP receiver `mail` too (no real SMTP server)."""
    python = sys.executable
    procs = {"portal": _gunicorn("shared.portal:create_app()", web_ports["portal"])}
    for service in SERVICES:
        procs[f"{service}-web"] = _gunicorn(f"{service}.entrypoints.http:create_app()", web_ports[service])
        procs[f"{service}-consumer"] = f"{python} -m {service}.entrypoints.consumer"
        procs[f"{service}-relay"] = f"{_bin('greenmine')} relay {service}"
    procs["proxy"] = f"{_bin('caddy')} run --config {var / 'Caddyfile'} --adapter caddyfile"
    if mail_port is not None:
        procs["mail"] = f"{_bin('greenmine')} mail-receiver --port {mail_port} --dir {var / 'mail'}"
    return procs


MAIL_PORT_OFFSET = 50   # the local mail receiver listens on the web port base + 50


def local_mail(env: dict, ports: dict[str, int], var: Path) -> int | None:
    """No GREENMINE_SMTP_HOST: the local receiver's port, and every process's SMTP settings pointing at it."""
    if env.get("GREENMINE_SMTP_HOST"):
        return None
    port = ports["portal"] + MAIL_PORT_OFFSET
    env["GREENMINE_SMTP_HOST"], env["GREENMINE_SMTP_PORT"] = "127.0.0.1", str(port)
    env["GREENMINE_SMTP_SECURITY"] = "none"
    env["GREENMINE_MAIL_DIR"] = str(var / "mail")
    return port


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


# --- supervision -----------------------------------------------------------------------------------------------
PROCESS_STATE_FILE = "processes.json"
START_SECONDS = 1          # a process must stay up this long to count as started (supervisord's startsecs)
START_RETRIES = 4          # exits while starting before supervisord gives up (FATAL); its delays grow 1 s, 2 s, ...
CRASH_LOOP_EXITS = 5       # this many exits ...
CRASH_LOOP_WINDOW_S = 60.0  # ... within this window is a crash loop, even of a process that starts fine
COOLDOWN_S = 10.0          # a crash-looping process waits this long before it is started again, doubling ...
COOLDOWN_MAX_S = 300.0     # ... up to this
STOP_WAIT_S = 10           # SIGTERM, then SIGKILL after this many seconds (to the process's whole group)
GROUP = "greenmine"


def supervisord_conf(procs: dict[str, str], var: Path, socket_path: str) -> str:
    """supervisord's configuration: every process restarted when it dies, its output in var/logs/<name>.log."""
    logs = var / "logs"
    lines = ["[supervisord]", "nodaemon=true", f"logfile={logs / 'supervisord.log'}", "logfile_maxbytes=20MB",
             f"pidfile={var / 'supervisord.pid'}", f"childlogdir={logs}", "loglevel=info", "",
             "[unix_http_server]", f"file={socket_path}", "chmod=0700", "",
             "[rpcinterface:supervisor]",
             "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", ""]
    for name, command in procs.items():
        lines += [f"[program:{name}]", f"command={command.replace('%', '%%')}", f"directory={REPO_ROOT}",
                  "autostart=true", "autorestart=true", f"startsecs={START_SECONDS}",
                  f"startretries={START_RETRIES}", "stopsignal=TERM", f"stopwaitsecs={STOP_WAIT_S}",
                  "stopasgroup=true", "killasgroup=true", "redirect_stderr=true",
                  f"stdout_logfile={logs / (name + '.log')}", "stdout_logfile_maxbytes=20MB",
                  "stdout_logfile_backups=2", ""]
    # One group, so that supervisord stops them all at once (it stops groups one after the other).
    lines += [f"[group:{GROUP}]", "programs=" + ",".join(procs), ""]
    return "\n".join(lines)


def _socket_path(var: Path) -> str:
    path = str(var / "supervisor.sock")
    if len(path) > 100:  # AF_UNIX paths are limited to 108 bytes
        import hashlib

        path = f"/tmp/greenmine-{hashlib.sha1(str(var).encode()).hexdigest()[:12]}.sock"
    return path


def supervisor_rpc(socket_path: str):
    from supervisor.xmlrpc import SupervisorTransport

    return xmlrpc.client.ServerProxy("http://127.0.0.1",
                                     transport=SupervisorTransport(None, None, f"unix://{socket_path}"))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ProcessMonitor:
    """Watches supervisord's view of the processes: reports exits, restarts and crash loops on the output and in
    `var/processes.json` (read by the portal's /readyz), and starts a crash-looping process again after a cool-down.
    """

    def __init__(self, rpc_factory, state_path: Path, say=print):
        self.rpc_factory = rpc_factory
        self.rpc = rpc_factory()
        self.state_path = state_path
        self.say = say
        self.procs: dict[str, dict] = {}

    def _entry(self, name: str) -> dict:
        return self.procs.setdefault(name, {
            "state": "UNKNOWN", "pid": 0, "restarts": 0, "exits": 0, "last_exit": None, "last_exit_at": None,
            "last_restart_s": None, "crash_loop": False, "restart_at": None, "_exit_times": [], "_exited": None,
            "_cooldown": COOLDOWN_S, "_retry": None, "_running_since": None})

    def _exited(self, name: str, entry: dict, info: dict, now: float) -> None:
        entry["exits"] += 1
        entry["_exit_times"] = [t for t in entry["_exit_times"] if now - t < CRASH_LOOP_WINDOW_S] + [now]
        entry["_exited"] = now
        entry["_running_since"] = None
        status = info.get("exitstatus")
        how = "killed by a signal" if status == -1 else f"exit status {status}"  # supervisord's -1: a signal
        if info["statename"] in ("BACKOFF", "FATAL") and info.get("spawnerr"):
            how += f"; {info['spawnerr']}"
        entry["last_exit"], entry["last_exit_at"] = how, _now_iso()
        self.say(f"[greenmine] {name} (pid {entry['pid']}) exited ({how}); supervisord starts it again")

    def _crash_loop(self, name: str, entry: dict, now: float, why: str) -> None:
        cooldown = entry["_cooldown"]
        entry["crash_loop"] = True
        entry["_retry"] = now + cooldown
        entry["restart_at"] = datetime.fromtimestamp(time.time() + cooldown, UTC).isoformat(timespec="seconds")
        entry["_cooldown"] = min(cooldown * 2, COOLDOWN_MAX_S)
        self.say(f"[greenmine] CRASH LOOP: {name} {why}; next start in {cooldown:.0f}s "
                 f"(log: var/logs/{name}.log)")
        if entry["state"] not in ("FATAL", "STOPPED", "EXITED"):
            try:
                self.rpc.supervisor.stopProcess(f"{GROUP}:{name}", False)
            except xmlrpc.client.Fault:
                pass  # already stopped

    def poll(self) -> None:
        now = time.monotonic()
        for info in self.rpc.supervisor.getAllProcessInfo():
            name, state, pid = info["name"], info["statename"], info["pid"]
            entry = self._entry(name)
            if entry["pid"] and pid != entry["pid"]:
                self._exited(name, entry, info, now)            # the process we knew is gone
            if pid and pid != entry["pid"]:
                if entry["_exited"] is not None:
                    entry["restarts"] += 1
                    entry["last_restart_s"] = round(now - entry["_exited"], 3)
                    self.say(f"[greenmine] {name} started again (pid {pid}, restart {entry['restarts']}, "
                             f"{entry['last_restart_s']:.2f}s after the exit was seen)")
                entry["_exited"] = None
            entry["pid"], entry["state"] = pid, state
            if state == "RUNNING":
                entry["_running_since"] = entry["_running_since"] or now
                if entry["crash_loop"] and now - entry["_running_since"] >= CRASH_LOOP_WINDOW_S:
                    entry.update(crash_loop=False, restart_at=None, _cooldown=COOLDOWN_S)
                    self.say(f"[greenmine] {name} has been running for {CRASH_LOOP_WINDOW_S:.0f}s: crash loop over")
            if entry["_retry"] is None:
                if state == "FATAL":
                    self._crash_loop(name, entry, now, f"gave up starting ({info.get('spawnerr') or 'exits at once'})")
                elif len(entry["_exit_times"]) >= CRASH_LOOP_EXITS:
                    self._crash_loop(name, entry, now, f"exited {len(entry['_exit_times'])} times within "
                                                       f"{CRASH_LOOP_WINDOW_S:.0f}s")
                    entry["_exit_times"] = []
            elif now >= entry["_retry"] and state in ("FATAL", "STOPPED", "EXITED"):
                entry["_retry"], entry["restart_at"] = None, None
                self.say(f"[greenmine] starting {name} again after its cool-down")
                try:
                    self.rpc.supervisor.startProcess(f"{GROUP}:{name}", False)
                except xmlrpc.client.Fault as fault:
                    self.say(f"[greenmine] {name} could not be started: {fault.faultString}")
        self.write()

    def snapshot(self) -> dict:
        return {"updated_at": _now_iso(),
                "processes": {name: {k: v for k, v in entry.items() if not k.startswith("_")}
                              for name, entry in sorted(self.procs.items())}}

    def write(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot(), ensure_ascii=False, indent=1))
        os.replace(tmp, self.state_path)

    def run(self, stop: threading.Event, every_s: float = 0.25) -> None:
        while not stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # supervisord stopping: the launcher notices through its process
                if not stop.is_set():
                    self.say(f"[greenmine] process monitor: {type(exc).__name__}: {exc}")
                self.rpc = self.rpc_factory()
                stop.wait(1.0)
            stop.wait(every_s)


def _start_supervisord(conf: Path, socket_path: str, env: dict) -> tuple[subprocess.Popen, object]:
    if os.path.exists(socket_path):
        os.unlink(socket_path)  # left by a launcher that was killed
    process = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)], env=env,
                               cwd=str(REPO_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    try:
        while True:
            rpc = supervisor_rpc(socket_path)  # a fresh one each time: a failed request spoils its connection
            try:
                if rpc.supervisor.getState()["statename"] == "RUNNING":
                    return process, rpc
            except (OSError, xmlrpc.client.Error, http.client.HTTPException):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise embedded.EmbeddedServerError(f"supervisord did not start (rc {process.poll()}); see "
                                                   f"{conf.parent / 'logs' / 'supervisord.log'}")
            time.sleep(0.1)
    except BaseException:
        if process.poll() is None:  # never leave it behind: it would run its processes on its own
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_WAIT_S + 20)
            except subprocess.TimeoutExpired:
                process.kill()
        raise


def run_system(http_port: int = 8080, demo: bool = True, var: Path | None = None,
               ready_timeout_s: float = 90.0, demo_scenario: bool = False) -> int:
    embedded.require_local("supervisor", "the process supervisor supervisord")
    if not Path(_bin("caddy")).is_file() and shutil.which("caddy") is None:
        raise embedded.EmbeddedServerError(f"the proxy Caddy (caddyserver) is not installed: "
                                           f"{embedded.LOCAL_EXTRA_HINT}")
    from shared.cli import DEMO_PASSWORD, SYSTEM_ENV, demo_logins, write_system_env
    from shared.contracts import ContractRegistry
    from shared.logging import configure_logging
    from shared.messaging import ensure_topics

    var = Path(var or os.environ.get("GREENMINE_VAR", REPO_ROOT / "var")).resolve()
    (var / "logs").mkdir(parents=True, exist_ok=True)
    configure_logging("launcher")
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    servers = []
    supervisord: subprocess.Popen | None = None
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
        # The one-machine system: a subscribing system tried out here listens on this machine (production keeps
        # webhooks away from private and loopback addresses).
        env.setdefault("GREENMINE_WEBHOOK_ALLOW_PRIVATE", "1")
        env["GREENMINE_SERVICE_URLS"] = ",".join(f"{s}=http://127.0.0.1:{ports[s]}" for s in SERVICES)
        env["GREENMINE_PROCESS_STATE"] = str(var / PROCESS_STATE_FILE)
        env["PYTHONUNBUFFERED"] = "1"
        mail_port = local_mail(env, ports, var)
        settings = Settings.from_env(env)
        # For the operator's other commands (a second terminal): where this system's servers are.
        write_system_env(var / SYSTEM_ENV, {**env, "GREENMINE_SECRET_KEY_FILE": secret_file})
        created = ensure_topics(settings, ContractRegistry.of(settings.contracts_dir))
        print(f"[greenmine] {len(created)} topics ready")
        (var / "Caddyfile").write_text(caddyfile(http_port, ports))

        socket_path = _socket_path(var)
        conf = var / "supervisord.conf"
        conf.write_text(supervisord_conf(processes(http_port, var, ports, mail_port), var, socket_path))
        if stop.is_set():
            return 0
        supervisord, _rpc = _start_supervisord(conf, socket_path, env)
        count = len(processes(http_port, var, ports, mail_port))
        print(f"[greenmine] supervisord runs {count} processes; their output is in {var / 'logs'}", flush=True)
        monitor = ProcessMonitor(lambda: supervisor_rpc(socket_path), var / PROCESS_STATE_FILE,
                                 say=lambda text: print(text, flush=True))
        threading.Thread(target=monitor.run, args=(stop,), daemon=True).start()

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
                result = subprocess.run([_bin("greenmine"), "demo-data"], env=env, cwd=str(REPO_ROOT),
                                        capture_output=True, text=True)
                if result.returncode != 0:
                    print(f"[greenmine] demo data failed:\n{result.stderr}", flush=True)
            logins = demo_logins()  # grouped by role; the department reviewers as a table by 盟市
            print("\n" + "=" * 72 + f"\n  greenmine is ready in {elapsed:.1f}s:  {public_url}\n"
                  + (f"  demo logins (password {DEMO_PASSWORD}):\n{logins}\n" if demo else "")
                  + "  Ctrl-C stops everything.\n" + "=" * 72 + "\n", flush=True)
            if demo and demo_scenario:   # the cases of every step, built through the API while people look around
                print("[greenmine] building the demo cases in the background (about three minutes)…", flush=True)
                scenario = subprocess.Popen([_bin("greenmine"), "demo-scenario", "--url", public_url], env=env,
                                            cwd=str(REPO_ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                            text=True)
                for line in scenario.stdout:     # each step as it happens
                    print(f"[greenmine] {line.rstrip()}", flush=True)
                scenario.wait()

        threading.Thread(target=announce, daemon=True).start()
        while not stop.is_set() and supervisord.poll() is None:
            stop.wait(0.5)
        if supervisord.poll() is not None and not stop.is_set():
            print(f"[greenmine] supervisord exited (rc {supervisord.returncode}); stopping", flush=True)
            return supervisord.returncode or 1
        return 0
    finally:
        stop.set()
        if supervisord is not None and supervisord.poll() is None:
            print("[greenmine] stopping every process", flush=True)
            supervisord.send_signal(signal.SIGTERM)  # it stops each process group, SIGKILL after stopwaitsecs
            try:
                supervisord.wait(timeout=STOP_WAIT_S + 20)
            except subprocess.TimeoutExpired:
                supervisord.kill()
                supervisord.wait(timeout=5)
        for server in reversed(servers):
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
