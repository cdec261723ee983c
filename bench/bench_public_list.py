"""The public green-mine list API (`GET /api/v1/list`) with 5,000 listed mines, next to a bare pymongo find of the
same page on the same data in the same run.

- The app: the real public_notice web app under gunicorn (`deploy/gunicorn.conf.py`, gthread, BENCH_LIST_WORKERS
  workers × 4 threads) over HTTP on 127.0.0.1, anonymous (the list needs no sign-in), as the public calls it.
- The load: CLIENTS client threads, each with a keep-alive session, for SECONDS seconds, each request one page
  of 20 of a mix: a random page of the whole list (1 of 250), a 盟市's first page, a 矿种's first page, a listing
  year and scale, a name part (`q`). The app answers each with a count (X-Total-Count) and one page.
- The baseline: the same mix of pages by the same number of threads, each page as the app reads it (the same
  filter, projection, sort, skip and limit, plus the count) straight through pymongo, without HTTP or Flask.

Figures: `public_list.api_per_s` / `_p50_ms` / `_p99_ms` and `public_list.bare_find_per_s` / `_p50_ms` /
`_p99_ms` (baseline)."""
from __future__ import annotations

import os
import random
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
MINES = int(os.environ.get("BENCH_LIST_MINES", "5000"))
SECONDS = float(os.environ.get("BENCH_LIST_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_LIST_CLIENTS", "4"))
WORKERS = os.environ.get("BENCH_LIST_WORKERS", "2")
LEAGUES = ["呼和浩特市", "包头市", "呼伦贝尔市", "兴安盟", "通辽市", "赤峰市", "锡林郭勒盟", "乌兰察布市",
           "鄂尔多斯市", "巴彦淖尔市", "乌海市", "阿拉善盟"]
MINERALS = ["煤", "铁", "铜", "铅锌", "稀土", "萤石", "金", "建筑用砂", "石灰岩", "高岭土"]
SCALES = ["large", "medium", "small"]


def _documents(count: int) -> list[dict]:
    from public_notice.domain.listing import ListedMine

    rng = random.Random(12)
    docs = []
    start = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    for n in range(count):
        at = start + timedelta(days=n % 900)
        entry = {"application_id": f"app-{n:05d}", "review_id": f"app-{n:05d}.v1", "version_no": 1,
                 "mine_id": f"mine-{n:05d}", "mine_name": f"{rng.choice(LEAGUES)[:2]}{n:05d}号矿山",
                 "enterprise_name": f"内蒙古{rng.choice(['华', '蒙', '鑫', '泰', '元'])}{n:05d}矿业有限公司",
                 "credit_code": "91150600MA0N00001W", "league": LEAGUES[n % 12], "county": None,
                 "minerals": [MINERALS[n % 10]] + ([MINERALS[(n + 3) % 10]] if n % 7 == 0 else []),
                 "scale": SCALES[n % 3], "total": "90.00", "institution_name": "评估公司", "case_no": f"C{n}"}
        mine = ListedMine.enter(entry, batch_id=f"batch-{n // 100}", announcement_id=f"ann-{n // 100}",
                                announcement_no=f"内蒙古自治区绿色矿山名录公告〔{at.year}〕第{n // 100 + 1}号",
                                on=at.date(), at=at, by="region", by_name="自治区自然资源厅")
        if n % 25 == 0:
            mine.mark("抽查发现问题", at=at, by="region", by_name="自治区自然资源厅")
        doc = mine.to_dict()
        doc["version"] = 1
        docs.append(doc)
    return docs


def _queries(rng: random.Random) -> dict:
    pick = rng.randrange(6)
    if pick == 0:
        return {"page": rng.randint(1, MINES // 20)}
    if pick == 1:
        return {"league": rng.choice(LEAGUES)}
    if pick == 2:
        return {"mineral": rng.choice(MINERALS)}
    if pick == 3:
        return {"year": rng.choice([2024, 2025, 2026]), "scale": rng.choice(SCALES)}
    if pick == 4:
        return {"q": f"{rng.randrange(MINES):05d}"[:4]}
    return {"status": "marked"}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _drive(call, seconds: float, clients: int) -> tuple[float, list[float]]:
    """(requests per second, latencies in ms) of `call(query)` by `clients` threads for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        rng = random.Random(i)
        while time.perf_counter() < stop:
            query = _queries(rng)
            began = time.perf_counter()
            call(query)
            latencies[i].append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    every = [v for part in latencies for v in part]
    return len(every) / elapsed, every


def run(env: dict) -> list[dict]:
    from bench.bench_intake import _free_port, _gunicorn, _stop, _wait_http
    from public_notice.adapters import queries
    from public_notice.adapters.repository import ensure_indexes
    from shared.config import Settings
    from shared.storage import mongo_client

    run_id = uuid.uuid4().hex[:8]
    variables = {"MONGODB_URI": env["mongodb"], "KAFKA_BOOTSTRAP_SERVERS": env["kafka"],
                 "GREENMINE_SECRET_KEY": "bench-" + run_id, "GREENMINE_DB_PREFIX": f"bench{run_id}",
                 "GREENMINE_TOPIC_PREFIX": f"bench{run_id}.", "GREENMINE_LOG_LEVEL": "WARNING",
                 "GUNICORN_ACCESSLOG": ""}
    settings = Settings.from_env(variables)
    client = mongo_client(settings.mongodb_uri)
    db = client[settings.database_name("public_notice")]
    ensure_indexes(db)
    docs = _documents(MINES)
    for i in range(0, len(docs), 1000):
        db["listings"].insert_many(docs[i:i + 1000])
    # as the listing handlers leave it: the list's stamp (the app holds the list in memory and checks the stamp)
    db["list_stamps"].insert_one({"_id": "list", "changes": MINES // 100, "changed_at": None, "version": 1})
    port = _free_port()
    log = open(Path(env.get("scratch") or "/tmp") / f"bench_public_list_{run_id}.log", "wb")
    process = _gunicorn("public_notice.entrypoints.http:create_app()", port, {
        **os.environ, **variables, "PYTHONPATH": str(ROOT)}, log)
    sessions = threading.local()
    base = f"http://127.0.0.1:{port}/api/v1/list"

    def http(query: dict) -> None:
        if not hasattr(sessions, "s"):
            sessions.s = requests.Session()
            sessions.s.headers["Accept"] = "application/json"
        response = sessions.s.get(f"{base}?{urlencode(query)}", timeout=30)
        if response.status_code != 200 or "X-Total-Count" not in response.headers:
            raise RuntimeError(f"{response.status_code} {response.text[:200]}")

    def bare(query: dict) -> None:
        query = dict(query)
        page = query.pop("page", 1)
        rows, _total = queries.list_page(db, page=page, per_page=20, **query)
        if not rows and page == 1 and not query.get("q"):
            raise RuntimeError(f"no rows for {query}")

    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", timeout_s=60)
        total = requests.get(f"{base}?per_page=1", timeout=30).headers["X-Total-Count"]
        if int(total) != MINES:
            raise RuntimeError(f"the list has {total} mines, expected {MINES}")
        _drive(http, 1.0, CLIENTS)  # warm the workers and connections
        api_rate, api_ms = _drive(http, SECONDS, CLIENTS)
        _drive(bare, 1.0, CLIENTS)
        bare_rate, bare_ms = _drive(bare, SECONDS, CLIENTS)
    finally:
        _stop(process)
        log.close()
        client.drop_database(settings.database_name("public_notice"))
    where = f"{MINES} listed mines, {CLIENTS} clients, pages of 20"
    return [
        {"name": "public_list.api_per_s", "value": api_rate, "unit": "req/s", "baseline": "public_list.bare_find_per_s",
         "note": f"GET /api/v1/list, gunicorn {WORKERS}×4 gthread over HTTP, {where}"},
        {"name": "public_list.api_p50_ms", "value": _percentile(api_ms, 50), "unit": "ms",
         "baseline": "public_list.bare_find_p50_ms"},
        {"name": "public_list.api_p99_ms", "value": _percentile(api_ms, 99), "unit": "ms",
         "baseline": "public_list.bare_find_p99_ms"},
        {"name": "public_list.bare_find_per_s", "value": bare_rate, "unit": "req/s",
         "note": f"pymongo count + find of the same page (filter, projection, sort, skip, limit), {where}"},
        {"name": "public_list.bare_find_p50_ms", "value": _percentile(bare_ms, 50), "unit": "ms"},
        {"name": "public_list.bare_find_p99_ms", "value": _percentile(bare_ms, 99), "unit": "ms"},
    ]


if __name__ == "__main__":  # python -m bench.bench_public_list (servers from the environment)
    for figure in run({"mongodb": os.environ["MONGODB_URI"], "kafka": os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
                       "scratch": Path("/tmp")}):
        print(figure, file=sys.stdout)
