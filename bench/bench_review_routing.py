"""Review routing end to end: from intake.application_submitted on Kafka to every department task visible in
its department queue (the read model built from the department topics), at a steady offered load.

The pipeline (bench/review_pipeline.py) runs the review_routing consumer and relay as their own processes; the
load generator publishes submissions at BENCH_REVIEW_RATE per second (default 20) for BENCH_REVIEW_SECONDS
(default 60). A second, light phase first (BENCH_REVIEW_LIGHT_RATE, default 4/s, for BENCH_REVIEW_LIGHT_SECONDS,
default 20) shows the latency of the pipeline itself when nothing queues up.
"""
from __future__ import annotations

import os
import statistics

from bench.counting import WorkMeter
from bench.review_pipeline import ReviewPipeline, percentile

RATE = float(os.environ.get("BENCH_REVIEW_RATE", "20"))
SECONDS = float(os.environ.get("BENCH_REVIEW_SECONDS", "60"))
LIGHT_RATE = float(os.environ.get("BENCH_REVIEW_LIGHT_RATE", "4"))
LIGHT_SECONDS = float(os.environ.get("BENCH_REVIEW_LIGHT_SECONDS", "20"))


def run(env: dict) -> list[dict]:
    total = int(RATE * SECONDS)
    with ReviewPipeline(env, "review") as pipeline:
        light = pipeline.batch(int(LIGHT_RATE * LIGHT_SECONDS), "l")
        load = pipeline.batch(total, "")
        pipeline.warm_up()
        pipeline.steady(light, LIGHT_RATE)
        work_before = pipeline.meter.reading()
        cpu_before = pipeline.cpu()
        offered_s, drained_s = pipeline.steady(load, RATE)
        cpu_after = pipeline.cpu()
        work_after = pipeline.meter.reading()
    latencies, light_latencies = pipeline.latencies_ms(load), pipeline.latencies_ms(light)
    if not latencies or not light_latencies:
        raise RuntimeError(f"applications did not reach the queues; see {pipeline.logs}")
    tasks = sum(n for _, n in load)
    return [
        {"name": "review_routing.offered_rate", "value": total / offered_s, "unit": "applications/s"},
        {"name": "review_routing.submit_to_all_queues_p50_ms", "value": statistics.median(latencies), "unit": "ms"},
        {"name": "review_routing.submit_to_all_queues_p99_ms", "value": percentile(latencies, 0.99), "unit": "ms"},
        {"name": "review_routing.submit_to_all_queues_max_ms", "value": max(latencies), "unit": "ms"},
        {"name": "review_routing.completed_ratio", "value": len(latencies) / total, "unit": "ratio"},
        {"name": "review_routing.tasks_per_s", "value": tasks / drained_s, "unit": "tasks/s"},
        # CPU per application: unlike latencies, these do not depend on what else the machine is running.
        *[{"name": f"review_routing.{name}_cpu_ms_per_application", "value": (after - before) * 1000 / total,
           "unit": "ms"} for name, before, after in zip(("consumer", "relay"), cpu_before, cpu_after, strict=True)
          if before is not None and after is not None],
        # What each application asked of MongoDB (consumer + relay) and put on Kafka, the input event included.
        *WorkMeter.per_application("review_routing", work_before, work_after, total),
        {"name": "review_routing.light_load_rate", "value": LIGHT_RATE, "unit": "applications/s"},
        {"name": "review_routing.light_load_p50_ms", "value": statistics.median(light_latencies), "unit": "ms"},
        {"name": "review_routing.light_load_p99_ms", "value": percentile(light_latencies, 0.99), "unit": "ms"},
    ]
