"""Issue 9, item 3: the chaos test. Under `greenmine up`, applications are submitted through the API while, at
random moments, every consumer and every relay and a web worker are killed with -9, the broker is restarted (it
comes back empty) and the database is killed with -9 and started again on its data directory. Afterwards every
application has exactly its routed tasks (none missing, none twice) and its queue entries, every score report
is there, and no event was dead-lettered. The figures are printed.

GREENMINE_CHAOS_APPLICATIONS sizes it (100 by default), GREENMINE_CHAOS_SEED repeats a run's faults (printed),
GREENMINE_CHAOS_WINDOW_S is the time within which the faults happen (25 s for 200 applications, scaled with the
count), while the submissions go on. Measured here: 200 applications submitted in ~30 s under the faults, all
complete ~60 s after the first fault. The drafts are prepared through intake's bus before the system starts
(with its 18 processes running, preparing them took 150-200 s instead); preparing is ~1 s an application, so the
suite runs 100 (every fault still lands while submissions go on) and GREENMINE_CHAOS_APPLICATIONS=200 or more
gives the longer run.
"""
from __future__ import annotations

import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from system_faults import (
    CONSUMERS,
    RELAYS,
    Submitter,
    dead_letters,
    outcome,
    prepare_applications,
    shown,
    wait_for_outcome,
)

pytestmark = pytest.mark.e2e
APPLICATIONS = int(os.environ.get("GREENMINE_CHAOS_APPLICATIONS", "100"))
SUBMITTERS = 4
FAULT_WINDOW_S = float(os.environ.get("GREENMINE_CHAOS_WINDOW_S", "25"))


@pytest.fixture(scope="module")
def drafts(faulty_system_stopped) -> tuple[list[str], float]:
    """The applications, complete but not submitted, prepared before the system's processes start."""
    started = time.monotonic()
    app_ids = prepare_applications(faulty_system_stopped.settings, APPLICATIONS)
    return app_ids, time.monotonic() - started


@pytest.mark.timeout(900)
def test_chaos_nothing_lost_nothing_twice(drafts, faulty_system, capsys):
    system = faulty_system
    seed = int(os.environ.get("GREENMINE_CHAOS_SEED", str(random.randrange(10**6))))
    rng = random.Random(seed)
    app_ids, prepared_s = drafts
    shown(capsys, f"\nchaos seed {seed}: {len(app_ids)} applications prepared in {prepared_s:.1f}s")

    faults: list[tuple[float, str]] = []
    restart_latency: dict[str, float] = {}
    errors: list[BaseException] = []
    watchers: list[threading.Thread] = []

    def kill(name: str):
        def act():
            pid, at = system.kill(name)

            def watch():  # how long until supervisord started it again (the faults go on meanwhile)
                try:
                    restart_latency[name] = system.wait_restarted(name, pid, at, timeout_s=120)[0]
                except BaseException as exc:
                    errors.append(exc)

            watchers.append(threading.Thread(target=watch, daemon=True))
            watchers[-1].start()
        return act

    def restart_database():
        system.servers.kill_database()
        time.sleep(rng.uniform(1.0, 3.0))
        system.servers.start_database()

    actions = [(f"kill -9 {name}", kill(name)) for name in CONSUMERS + RELAYS]
    actions += [("kill -9 an intake-web worker", lambda: system.kill_web_worker("intake-web")),
                ("restart the broker", system.servers.restart_broker),
                ("kill -9 the database, start it again", restart_database)]
    # Random moments within the time the submissions take (measured ~30 s for 200 here), in a random order.
    moments = sorted(rng.uniform(1.0, FAULT_WINDOW_S * APPLICATIONS / 200) for _ in actions)
    rng.shuffle(actions)

    def chaos():
        for moment, (what, act) in zip(moments, actions, strict=True):
            time.sleep(max(0.0, moment - (time.monotonic() - chaos_started)))
            faults.append((round(time.monotonic() - chaos_started, 1), what))
            try:
                act()
            except BaseException as exc:  # reported after the run
                errors.append(exc)

    submitter = Submitter(system.url, system.settings)
    chaos_started = time.monotonic()
    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    with ThreadPoolExecutor(SUBMITTERS) as pool:
        answers = list(pool.map(submitter.submit, app_ids))
    submitted_s = time.monotonic() - chaos_started
    chaos_thread.join(timeout=300)
    for watcher in watchers:
        watcher.join(timeout=150)
    assert not chaos_thread.is_alive(), "the faults did not finish"
    assert not errors, errors

    result = wait_for_outcome(system.settings, app_ids, timeout_s=240)
    settled_s = time.monotonic() - chaos_started
    time.sleep(3)  # nothing arrives twice later either
    result = outcome(system.settings, app_ids)
    letters = dead_letters(system.settings)
    logged_letters = system.logs("dead-lettered")
    processes = system.processes()
    figures = {
        "applications": len(app_ids), "submitted": sum(a.startswith("submitted") for a in answers),
        "answers_lost_but_submitted": sum(a == "submitted (answer lost)" for a in answers),
        "client_retries": dict(submitter.retries),
        **{k: v for k, v in result.items() if k != "problems"},
        "incomplete_applications": len(result["problems"]),
        "dead_letters_on_broker": sum(letters.values()), "dead_letters_logged": logged_letters,
        "restarts": {name: p["restarts"] for name, p in processes.items() if p["restarts"]},
        "crash_loops": sorted(name for name, p in processes.items() if p["crash_loop"]),
        "restart_after_kill_s": {k: round(v, 2) for k, v in sorted(restart_latency.items())},
        "faults": faults,
        "seconds": {"prepare": round(prepared_s, 1), "submit_under_faults": round(submitted_s, 1),
                    "until_all_complete": round(settled_s, 1)},
    }
    shown(capsys, "chaos figures:", json.dumps(figures, ensure_ascii=False, indent=1))
    assert result["problems"] == {}, dict(list(result["problems"].items())[:10])
    assert result["cases"] == result["score_reports"] == len(app_ids)
    assert result["stored_tasks"] == result["routed_tasks"] == result["queue_entries"] > 0
    assert letters == {s: 0 for s in letters} and logged_letters == {}
    assert len(faults) == len(CONSUMERS) + len(RELAYS) + 3
