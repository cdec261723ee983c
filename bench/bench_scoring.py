"""Scoring engine throughput on one core, beside the cost of merely parsing the same assessment JSON.

The assessment is a realistic full one: a branch (一) open-pit mine, all 46 indicators answered with a mix of
direct scores, per-finding deductions, conditional deductions, sub-items and not-applicable items, each with a
检查记录 of typical length. Figures (best of many short timed batches, the three operations taking turns,
single thread):

* `scoring.json_parse_per_s` — json.loads of the assessment text (Decimal floats, as the CLI and API read it);
  the baseline.
* `scoring.assessments_per_s` — score_assessment + report.to_dict on the parsed assessment (engine alone).
* `scoring.end_to_end_per_s` — parse + score + json.dumps of the report: what one request costs in CPU.
* `scoring.engine_us_per_assessment` — the engine's time per assessment, in microseconds.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal

from scoring.domain.engine import score_assessment
from shared.catalog import load_catalog

BATCH_SECONDS = 0.002
SECONDS = 1.5


def realistic_assessment(catalog) -> dict:
    record = "2025年7月2日评估组张某、李某到采场、排土场和破碎车间现场查看,并查阅了开发利用方案、台账和影像资料。"
    indicators = {str(i.no): {"score": str(i.points), "record": record} for i in catalog.indicators_for(1, "open_pit")}
    indicators.update({
        "1": {"deductions": ["management_living_unclear"], "record": record},
        "2": {"findings": 1, "record": record}, "3": {"findings": 2, "record": record},
        "5": {"findings": 1, "record": record},
        "9": {"items": {"drilling": True, "blasting": True, "loading": True, "dumping": False}, "record": record},
        "11": {"findings": 1, "record": record},
        "14": {"not_applicable": True, "reason": "单一矿种,无共伴生矿产"},
        "16": {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产"},
        "17": {"items": {"solid_waste_use": True, "topsoil_reuse": True}, "record": record},
        "19": {"items": {"treatment_facilities": True, "clean_disposal": True}, "record": record},
        "26": {"items": {"annual_energy_plan": True, "energy_management_system": True}, "record": record},
        "36": {"score": "0", "record": record},
        "44": {"items": {"rd_team": True}, "record": record},
        "45": {"items": {"invention_patents": 3, "catalogue_listings": 0}, "record": record},
        "46": {"findings": 1, "record": record}, "48": {"findings": 2, "record": record},
    })
    return {"catalog": catalog.id, "mine": {"industry_group": 1, "mining_method": "open_pit"},
            "prerequisites": {code: True for code in catalog.prerequisite_codes}, "indicators": indicators}


def _rates(operations: dict) -> dict:
    """Operations per second of each: the best of many short batches (about BATCH_SECONDS each), the operations
    taking turns batch by batch for about SECONDS each. On a shared machine a batch this short often runs
    without being preempted, and the operations meet the same load, so their ratio holds."""
    sizes = {}
    for name, operation in operations.items():
        operation()                               # warm caches (catalog look-ups, memoised rule resolution)
        started = time.perf_counter()
        operation()
        sizes[name] = max(1, int(BATCH_SECONDS / max(time.perf_counter() - started, 1e-7)))
    best = dict.fromkeys(operations, 0.0)
    deadline = time.perf_counter() + SECONDS * len(operations)
    while time.perf_counter() < deadline:
        for name, operation in operations.items():
            count, started = sizes[name], time.perf_counter()
            for _ in range(count):
                operation()
            best[name] = max(best[name], count / (time.perf_counter() - started))
    return best


def run(env) -> list[dict]:
    catalog = load_catalog("nm-2025")
    text = json.dumps(realistic_assessment(catalog), ensure_ascii=False)
    parsed = json.loads(text, parse_float=Decimal)
    assert score_assessment(parsed, catalog).verdict == "qualified"

    rates = _rates({
        "parse": lambda: json.loads(text, parse_float=Decimal),
        "engine": lambda: score_assessment(parsed, catalog).to_dict(),
        "end_to_end": lambda: json.dumps(
            score_assessment(json.loads(text, parse_float=Decimal), catalog).to_dict(), ensure_ascii=False)})
    parse_rate, engine_rate, end_to_end_rate = rates["parse"], rates["engine"], rates["end_to_end"]
    return [
        {"name": "scoring.json_parse_per_s", "value": parse_rate, "unit": "1/s"},
        {"name": "scoring.assessments_per_s", "value": engine_rate, "unit": "1/s",
         "baseline": "scoring.json_parse_per_s"},
        {"name": "scoring.end_to_end_per_s", "value": end_to_end_rate, "unit": "1/s",
         "baseline": "scoring.json_parse_per_s"},
        {"name": "scoring.engine_us_per_assessment", "value": 1e6 / engine_rate, "unit": "us"},
    ]


if __name__ == "__main__":
    for figure in run({}):
        print(f"{figure['name']}: {figure['value']:.6g} {figure['unit']}")
