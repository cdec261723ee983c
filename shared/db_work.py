"""How much a process asks of MongoDB: round trips (commands sent) and documents written, counted by pymongo's
command monitoring in every client `shared.storage.mongo_client` makes.

Machine-independent figures for the bench (issue 14: "ask the database for less"): a round trip costs the same
network turn on any server, and a document written costs the server the same work however fast the machine is.
Server heartbeats are not commands and are not counted.

The web apps expose the counts on /metrics (`greenmine_db_round_trips_total{command}`,
`greenmine_db_documents_written_total{command}`); a process started with `GREENMINE_DB_WORK_DIR` set also writes
them every second to `<dir>/<service-or-argv>-<pid>.json`, which is how the bench reads consumers and relays."""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from pymongo import monitoring

WRITES = frozenset({"insert", "update", "delete", "findAndModify"})
DUMP_EVERY_S = 1.0


class DatabaseWork(monitoring.CommandListener):
    """Counts per command name of this process: round trips, and documents written (the server's `n`)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.round_trips: Counter[str] = Counter()
        self.documents_written: Counter[str] = Counter()

    def started(self, event) -> None:
        with self._lock:
            self.round_trips[event.command_name] += 1

    def succeeded(self, event) -> None:
        if event.command_name not in WRITES:
            return
        reply = event.reply or {}
        if event.command_name == "findAndModify":
            written = (reply.get("lastErrorObject") or {}).get("n", 0)
        elif event.command_name == "update":
            # Matched documents rewritten, plus those inserted by an upsert.
            written = reply.get("nModified", 0) + len(reply.get("upserted") or ())
        else:
            written = reply.get("n", 0)
        if written:
            with self._lock:
                self.documents_written[event.command_name] += int(written)

    def failed(self, event) -> None:
        pass

    def snapshot(self) -> dict:
        with self._lock:
            return {"round_trips": dict(self.round_trips), "documents_written": dict(self.documents_written)}


WORK = DatabaseWork()
_dumping = threading.Lock()
_dumper: threading.Thread | None = None


def listeners() -> list[DatabaseWork]:
    """The listeners a new MongoClient gets; starts the file dump when GREENMINE_DB_WORK_DIR asks for it."""
    _start_dump(os.environ.get("GREENMINE_DB_WORK_DIR"))
    return [WORK]


def _start_dump(directory: str | None) -> None:
    global _dumper
    if not directory:
        return
    with _dumping:
        if _dumper is not None and _dumper.is_alive():
            return
        name = "-".join(a.rsplit(".", 1)[-1] for a in sys.argv[1:3] if not a.startswith("-")) or "process"
        path = Path(directory) / f"{name}-{os.getpid()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)

        def dump() -> None:
            while True:
                temporary = path.with_suffix(".tmp")
                try:
                    temporary.write_text(json.dumps({"pid": os.getpid(), "argv": sys.argv, **WORK.snapshot()}))
                    temporary.replace(path)        # readers never see half a file
                except OSError:                    # the directory went away: nobody is reading any more
                    return
                time.sleep(DUMP_EVERY_S)

        _dumper = threading.Thread(target=dump, daemon=True, name="db-work-dump")
        _dumper.start()


def read_dumps(directory: str | Path) -> dict[str, dict]:
    """Every process's last dump in `directory`: file stem → snapshot."""
    found = {}
    for path in sorted(Path(directory).glob("*.json")):
        try:
            found[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):   # being replaced right now: the previous second's figures are gone too
            continue
    return found


def total(snapshots, key: str) -> int:
    """The sum of one counter (`round_trips` / `documents_written`) over snapshots."""
    return sum(sum(s.get(key, {}).values()) for s in snapshots)


class WorkCollector:
    """Prometheus collector of this process's counts (added to each web app's registry)."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily

        snapshot = WORK.snapshot()
        trips = CounterMetricFamily("greenmine_db_round_trips", "MongoDB commands sent by this process",
                                    labels=["command"])
        for command, count in sorted(snapshot["round_trips"].items()):
            trips.add_metric([command], count)
        written = CounterMetricFamily("greenmine_db_documents_written", "documents inserted, updated or deleted",
                                      labels=["command"])
        for command, count in sorted(snapshot["documents_written"].items()):
            written.add_metric([command], count)
        yield trips
        yield written
