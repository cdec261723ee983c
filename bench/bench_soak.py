"""Soak (issue 14 item 3): BENCH_SOAK_APPLICATIONS (default 10,000) applications through the review-routing
pipeline (bench/review_pipeline.py: submission event on Kafka → consumer → every task in its department queue,
the department events through the relay to Kafka) at BENCH_SOAK_RATE per second (default 20, the rate the review
bench holds; the pipeline's capacity is above it, so queueing does not pass for growth), in slices of
BENCH_SOAK_SLICE (default 500).

After each slice it reads every pipeline process's resident memory and CPU time; the figures compare the first
slice with the last: resident MB at the start and end, CPU ms per application (the time per application that
does not depend on what else the machine runs) and the median submit → all-queues latency. Growth of CPU per
application at the end would mean work that grows with the data (a scan where an index should answer); growth
of memory, a leak. The database server grows with the data by design and is not a pipeline process; on the
embedded servers its CPU per application is reported too (`soak.database_cpu_ms_per_application_*`), because
work of the database that grows with the data would show there first.
"""
from __future__ import annotations

import os
import statistics
import sys

from bench.review_pipeline import ReviewPipeline, cpu_seconds, resident_mb

APPLICATIONS = int(os.environ.get("BENCH_SOAK_APPLICATIONS", "10000"))
RATE = float(os.environ.get("BENCH_SOAK_RATE", "20"))
SLICE = int(os.environ.get("BENCH_SOAK_SLICE", "500"))
PROCESSES = ("consumer", "relay")
ONLY_WHEN_NAMED = True   # not part of `make bench`: `.venv/bin/python -m bench.run soak`


def run(env: dict) -> list[dict]:
    slices = []
    database = env.get("database_pid")
    with ReviewPipeline(env, "soak") as pipeline:
        batches = [pipeline.batch(min(SLICE, APPLICATIONS - start), f"s{start}")
                   for start in range(0, APPLICATIONS, SLICE)]
        pipeline.warm_up()
        start_rss = [resident_mb(p.pid) for p in pipeline.processes]
        for n, batch in enumerate(batches):
            cpu_before = [*pipeline.cpu(), cpu_seconds(database) if database else None]
            pipeline.steady(batch, RATE)
            cpu_after = [*pipeline.cpu(), cpu_seconds(database) if database else None]
            latencies = pipeline.latencies_ms(batch)
            entry = {"applications": len(batch), "completed": len(latencies),
                     "p50_ms": statistics.median(latencies) if latencies else None,
                     "rss_mb": [resident_mb(p.pid) for p in pipeline.processes],
                     "cpu_ms_per_application": [(a - b) * 1000 / len(batch) if a is not None and b is not None
                                                else None for a, b in zip(cpu_after, cpu_before, strict=True)]}
            slices.append(entry)
            print(f"# soak slice {n + 1}/{len(batches)}: p50 {entry['p50_ms'] or 0:.0f} ms, rss "
                  + ", ".join(f"{name} {mb or 0:.0f} MB" for name, mb in zip(PROCESSES, entry["rss_mb"], strict=True))
                  + ", cpu/app " + ", ".join(f"{name} {ms or 0:.1f} ms" for name, ms in
                                             zip((*PROCESSES, "database"), entry["cpu_ms_per_application"],
                                                 strict=True)),
                  file=sys.stderr, flush=True)
    completed = sum(s["completed"] for s in slices)
    if completed < APPLICATIONS:
        raise RuntimeError(f"{APPLICATIONS - completed} of {APPLICATIONS} applications did not reach the queues; "
                           f"see {pipeline.logs}")
    first, last = slices[0], slices[-1]
    figures = [{"name": "soak.applications", "value": completed, "unit": "applications"},
               {"name": "soak.first_slice_p50_ms", "value": first["p50_ms"], "unit": "ms"},
               {"name": "soak.last_slice_p50_ms", "value": last["p50_ms"], "unit": "ms",
                "baseline": "soak.first_slice_p50_ms"}]
    for i, name in enumerate(PROCESSES):
        if start_rss[i] is None:
            continue
        figures += [
            {"name": f"soak.{name}_rss_start_mb", "value": start_rss[i], "unit": "MB"},
            {"name": f"soak.{name}_rss_end_mb", "value": last["rss_mb"][i], "unit": "MB",
             "baseline": f"soak.{name}_rss_start_mb"},
            {"name": f"soak.{name}_rss_max_mb", "value": max(s["rss_mb"][i] for s in slices), "unit": "MB"},
            {"name": f"soak.{name}_cpu_ms_per_application_first_slice",
             "value": first["cpu_ms_per_application"][i], "unit": "ms"},
        ]
    for i, name in enumerate((*PROCESSES, "database")):
        if first["cpu_ms_per_application"][i] is None:
            continue
        figures += [
            {"name": f"soak.{name}_cpu_ms_per_application_first_slice",
             "value": first["cpu_ms_per_application"][i], "unit": "ms"},
            {"name": f"soak.{name}_cpu_ms_per_application_last_slice",
             "value": last["cpu_ms_per_application"][i], "unit": "ms",
             "baseline": f"soak.{name}_cpu_ms_per_application_first_slice"},
        ]
    return figures
