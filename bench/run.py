"""`make bench`: run every bench/bench_*.py, print `name: value unit` lines, write bench/results.json.

A module with `ONLY_WHEN_NAMED = True` (the soak, tens of minutes) runs only when named on the command line.
Each module exposes `run(env) -> list[dict]` with {"name", "value", "unit", "baseline"?}; `env` carries the
servers (started here unless KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI are set) and a scratch directory.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from shared import embedded

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = set(argv)
    scratch = Path(tempfile.mkdtemp(prefix="greenmine-bench-"))
    servers = []
    env = {"scratch": scratch, "kafka": os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
           "mongodb": os.environ.get("MONGODB_URI"), "kind": "environment"}
    try:
        if not env["kafka"]:
            broker = embedded.start_tansu(log_dir=scratch)
            servers.append(broker)
            env["kafka"], env["kind"] = embedded.kafka_bootstrap(broker), "embedded"
        if not env["mongodb"]:
            database = embedded.start_secantus(log_dir=scratch, data_dir=scratch / "mongo")
            servers.append(database)
            env["mongodb"], env["kind"] = embedded.mongodb_uri(database), "embedded"
            env["database_pid"] = database.process.pid    # the soak reads its CPU and memory
        results = []
        for path in sorted(HERE.glob("bench_*.py")):
            name = path.stem[len("bench_"):]
            if only and name not in only:
                continue
            started = time.perf_counter()
            module = importlib.import_module(f"bench.{path.stem}")
            if getattr(module, "ONLY_WHEN_NAMED", False) and name not in only:
                continue  # a long run (the soak): `python -m bench.run soak`
            figures = module.run(env)
            for figure in figures:
                figure.setdefault("group", name)
                baseline = f"  (baseline: {figure['baseline']})" if figure.get("baseline") else ""
                print(f"{figure['name']}: {figure['value']:.6g} {figure['unit']}{baseline}", flush=True)
            results.extend(figures)
            print(f"# {name} took {time.perf_counter() - started:.1f}s", file=sys.stderr)
        by_name = {f["name"]: f for f in results}
        for figure in results:  # ratios beside the baseline they compare to
            base = by_name.get(figure.get("baseline") or "")
            if base and base["value"] and base["unit"] == figure["unit"]:
                figure["ratio_to_baseline"] = figure["value"] / base["value"]
                print(f"{figure['name']}.ratio_to_{base['name']}: {figure['ratio_to_baseline']:.3f} x")
        out = {"generated_at": datetime.now(UTC).isoformat(), "machine": {
            "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "servers": env["kind"], "figures": results}
        (HERE / "results.json").write_text(json.dumps(out, ensure_ascii=False, indent=2))
        print(f"# wrote {HERE / 'results.json'}", file=sys.stderr)
        return 0
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
