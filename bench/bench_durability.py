"""What durable acknowledgements cost, and what they buy: the same transaction (a ~2 KB state document and its
~1 KB outbox event, as `ServiceStore.transaction` writes them, with `shared.storage.DURABLE`,
WriteConcern("majority", j=True)) on a server that journals every commit before acknowledging it and on one
that does not.

On the embedded SecantusDB (which ignores the write concern of commitTransaction) the two are a server started
with and without `--sync-on-commit` (shared.embedded starts it with, when it has a data directory); on a real
MongoDB (MONGODB_URI set) the same server with WriteConcern("majority") and with j=True.

Figures:
* ``durability.tx_per_s_journaled`` against ``durability.tx_per_s_unjournaled`` (1 thread, and ``_4_threads``),
  each the median of ROUNDS interleaved runs; ``durability.tx_p50_ms_*`` the latency of one transaction;
* embedded only: ``durability.kill9_lost_of_300_*``, acknowledged transactions missing after `kill -9` of the
  server right after the last acknowledgement, and a restart.
"""
from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import uuid
from pathlib import Path

from pymongo import MongoClient
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

TRANSACTIONS = int(os.environ.get("BENCH_DURABILITY_TX", "400"))
ROUNDS = int(os.environ.get("BENCH_DURABILITY_ROUNDS", "3"))
STATE = {"status": "submitted", "note": "x" * 2000}
EVENT = {"type": "bench.state_changed", "payload": {"pad": "y" * 900}}
DURABLE = WriteConcern("majority", j=True)


def _run(client: MongoClient, db_name: str, concern: WriteConcern, count: int, threads: int) -> tuple[float, float]:
    db = client[db_name]
    latencies: list[float] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        mine = []
        for _ in range(n):
            started = time.perf_counter()
            with client.start_session() as session:
                def callback(s):
                    key = uuid.uuid4().hex
                    db["states"].insert_one({"_id": key, **STATE}, session=s)
                    db["outbox"].insert_one({"_id": key, "order": key, "messages": [{"key": key, **EVENT}], "count": 1,
                                             "published_at": None}, session=s)

                session.with_transaction(callback, read_concern=ReadConcern("snapshot"), write_concern=concern)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=work, args=(count // threads,)) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return len(latencies) / elapsed, latencies[len(latencies) // 2] * 1000


def _compare(targets: dict[str, tuple[MongoClient, WriteConcern]], db_name: str) -> list[dict]:
    figures = []
    for client, concern in targets.values():
        _run(client, db_name, concern, 100, 1)  # warm up
    for threads, suffix in ((1, ""), (4, "_4_threads")):
        rates: dict[str, list[float]] = {name: [] for name in targets}
        p50s: dict[str, list[float]] = {name: [] for name in targets}
        for _round in range(ROUNDS):  # interleaved, so that drift of the machine hits both alike
            for name, (client, concern) in targets.items():
                rate, p50 = _run(client, db_name, concern, TRANSACTIONS, threads)
                rates[name].append(rate)
                p50s[name].append(p50)
        for name in targets:
            rate_base = {} if name == "unjournaled" else {"baseline": f"durability.tx_per_s_unjournaled{suffix}"}
            p50_base = {} if name == "unjournaled" else {"baseline": f"durability.tx_p50_ms_unjournaled{suffix}"}
            figures.append({"name": f"durability.tx_per_s_{name}{suffix}", "value": statistics.median(rates[name]),
                            "unit": "tx/s", **rate_base})
            figures.append({"name": f"durability.tx_p50_ms_{name}{suffix}", "value": statistics.median(p50s[name]),
                            "unit": "ms", **p50_base})
    return figures


def _kill9_lost(scratch: Path, sync_on_commit: bool, count: int = 300) -> int:
    """Acknowledged transactions missing after kill -9 right after the last acknowledgement, and a restart."""
    from shared import embedded

    base = scratch / f"kill9-{'sync' if sync_on_commit else 'nosync'}-{uuid.uuid4().hex[:6]}"
    base.mkdir(parents=True)
    port = embedded.free_port()
    server = embedded.start_secantus(port, data_dir=base / "data", log_dir=base, sync_on_commit=sync_on_commit)
    client = MongoClient(embedded.mongodb_uri(server))
    try:
        for i in range(count):
            with client.start_session() as session:
                session.with_transaction(lambda s, i=i: client.t.states.insert_one({"_id": i, **STATE}, session=s),
                                         read_concern=ReadConcern("snapshot"), write_concern=DURABLE)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        client.close()
    server = embedded.start_secantus(port, data_dir=base / "data", log_dir=base, sync_on_commit=sync_on_commit)
    client = MongoClient(embedded.mongodb_uri(server))
    try:
        return count - client.t.states.count_documents({})
    finally:
        client.close()
        server.stop()


def run(env: dict) -> list[dict]:
    from shared import embedded

    db_name = f"bench_durability_{uuid.uuid4().hex[:8]}"
    scratch = Path(env["scratch"])
    servers, clients = [], []
    try:
        if env.get("kind") == "embedded":
            targets = {}
            for name, sync in (("unjournaled", False), ("journaled", True)):
                server = embedded.start_secantus(data_dir=scratch / f"durability-{name}", log_dir=scratch,
                                                 sync_on_commit=sync)
                servers.append(server)
                clients.append(MongoClient(embedded.mongodb_uri(server), tz_aware=True))
                targets[name] = (clients[-1], DURABLE)
        else:
            clients.append(MongoClient(env["mongodb"], tz_aware=True))
            targets = {"unjournaled": (clients[0], WriteConcern("majority")), "journaled": (clients[0], DURABLE)}
        figures = _compare(targets, db_name)
        for client in clients:
            client.drop_database(db_name)
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()
    if env.get("kind") == "embedded":
        figures += [{"name": "durability.kill9_lost_of_300_unjournaled", "value": _kill9_lost(scratch, False),
                     "unit": "tx"},
                    {"name": "durability.kill9_lost_of_300_journaled", "value": _kill9_lost(scratch, True),
                     "unit": "tx"}]
    return figures
