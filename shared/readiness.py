"""Readiness: what `/readyz` reports. A service is ready when its database and broker answer and its own
processes (consumer, relay) are beating; the portal is ready when it is and every service says so.

Under `greenmine up` the portal also shows what the supervisor sees (`GREENMINE_PROCESS_STATE`, the launcher's
`var/processes.json`): every process's state, its restarts and last exit, which ones are restarting and which
are in a crash loop. A restarting or crash-looping process makes the system not ready. In production the
orchestrator restarts processes (deploy/: restart policies and probes) and this part is absent."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import requests

from shared.config import SERVICES, Settings

HEARTBEAT_FRESH_S = 15
PROCESS_STATE_FRESH_S = 10  # the launcher rewrites the file every quarter second
RESTARTING_STATES = {"STARTING", "BACKOFF", "EXITED", "STOPPING", "STOPPED", "FATAL", "UNKNOWN"}


def supervised_processes(path: str | None = None) -> dict | None:
    """The launcher's view of its processes, for /readyz: None when not under `greenmine up`.

    {"ok", "detail", "restarting": [names], "crash_loop": [names], "processes": {name: {state, pid, restarts,
    last_exit, last_exit_at, last_restart_s, crash_loop, restart_at}}}"""
    path = path or os.environ.get("GREENMINE_PROCESS_STATE")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        age = (datetime.now().astimezone() - datetime.fromisoformat(state["updated_at"])).total_seconds()
    except (OSError, ValueError, KeyError) as exc:
        return {"ok": False, "detail": f"no process state from the launcher: {type(exc).__name__}",
                "restarting": [], "crash_loop": [], "processes": {}}
    processes = state.get("processes", {})
    restarting = sorted(n for n, p in processes.items() if p.get("state") in RESTARTING_STATES)
    crash_loop = sorted(n for n, p in processes.items() if p.get("crash_loop"))
    fresh = age <= PROCESS_STATE_FRESH_S
    ok = fresh and bool(processes) and not restarting and not crash_loop
    if not fresh:
        detail = f"the launcher's process state is {age:.0f}s old"
    elif crash_loop:
        detail = "crash loop: " + ", ".join(crash_loop)
    elif restarting:
        detail = "restarting: " + ", ".join(restarting)
    else:
        detail = f"{len(processes)} processes running"
    return {"ok": ok, "detail": detail, "restarting": restarting, "crash_loop": crash_loop,
            "processes": processes}


class Readiness:
    """Checks behind /readyz. Each returns (ok, detail); the checks are cheap and time-limited."""

    def __init__(self, settings: Settings, service: str, store_factory: Callable | None = None,
                 processes: Iterable[str] = ()):
        self.settings = settings
        self.service = service
        self.store_factory = store_factory
        self.processes = tuple(processes)
        self._admin = None
        self._lock = threading.Lock()

    def mongo(self) -> tuple[bool, str]:
        import pymongo

        from shared.storage import mongo_client

        try:
            with pymongo.timeout(2.0):  # a probe must answer quickly even when the database is away
                mongo_client(self.settings.mongodb_uri).admin.command("ping")
            return True, "ok"
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"[:200]

    def kafka(self) -> tuple[bool, str]:
        from kafka import KafkaAdminClient

        from shared.embedded import port_open

        servers = [server.rsplit(":", 1) for server in self.settings.kafka_bootstrap_servers.split(",")]
        if not any(port_open(host.strip("[]"), int(port), timeout=1.0) for host, port in servers):
            # kafka-python's client would spend its whole bootstrap timeout finding that out.
            return False, "no bootstrap server accepts connections"
        with self._lock:
            try:
                if self._admin is None:
                    self._admin = KafkaAdminClient(
                        bootstrap_servers=self.settings.kafka_bootstrap_servers.split(","),
                        client_id=f"greenmine-{self.service}-readyz", request_timeout_ms=3000)
                topics = self._admin.list_topics()
                return True, f"ok ({len(topics)} topics)"
            except Exception as exc:
                if self._admin is not None:
                    try:
                        self._admin.close()
                    except Exception:
                        pass
                self._admin = None
                return False, f"{type(exc).__name__}: {exc}"[:200]

    def heartbeats(self) -> dict[str, tuple[bool, str]]:
        if not self.processes or self.store_factory is None:
            return {}
        from shared.clock import utcnow

        try:
            beats = self.store_factory().heartbeats()
        except Exception as exc:
            return {p: (False, f"{type(exc).__name__}") for p in self.processes}
        out = {}
        for process in self.processes:
            beat = beats.get(process)
            if beat is None:
                out[process] = (False, "no heartbeat yet")
            else:
                age = (utcnow() - beat["at"]).total_seconds()
                out[process] = (age <= HEARTBEAT_FRESH_S, f"last heartbeat {age:.1f}s ago")
        return out

    def report(self) -> tuple[bool, dict]:
        checks = {"mongodb": self.mongo(), "kafka": self.kafka(), **self.heartbeats()}
        ok = all(result for result, _ in checks.values())
        return ok, {"service": self.service, "ready": ok,
                    "checks": {name: {"ok": result, "detail": detail} for name, (result, detail) in checks.items()}}


class AggregateReadiness(Readiness):
    """The portal is ready when its own database and broker answer AND every service reports ready."""

    def services(self) -> dict[str, tuple[bool, dict | str]]:
        urls = self.settings.service_urls

        def probe(name: str):
            url = urls.get(name)
            if not url:
                return name, (False, "no URL configured (GREENMINE_SERVICE_URLS)")
            try:
                response = requests.get(url + "/readyz", timeout=3)
                return name, (response.status_code == 200, response.json())
            except Exception as exc:
                return name, (False, f"{type(exc).__name__}: {exc}"[:200])

        with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
            return dict(pool.map(probe, SERVICES))

    def report(self):
        own_ok, own = super().report()
        services = self.services()
        ok = own_ok and all(result for result, _ in services.values())
        body = {"ready": ok, "portal": own,
                "services": {name: {"ready": result, "report": detail} for name, (result, detail) in services.items()}}
        supervised = supervised_processes()
        if supervised is not None:
            body["processes"] = supervised
            body["ready"] = ok = ok and supervised["ok"]
        return ok, body
