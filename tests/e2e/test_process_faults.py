"""Issue 9, item 1 as a user met it: under `greenmine up`, `kill -9` of the review_routing consumer and of intake's
relay right after six submissions, and a broker that comes back empty. The others keep serving, the killed
processes are started again (the time it takes is printed), /readyz shows the restarts, and every application
gets its case, its routed tasks and its score report: nothing is lost.

And the supervisor's bookkeeping on its own: a crash loop is reported (output and /readyz), cooled down and
started again."""
from __future__ import annotations

import json
import time

import pytest
import requests
from system_faults import Submitter, outcome, prepare_applications, shown, wait_for_outcome

from shared import launcher
from shared.readiness import supervised_processes


@pytest.mark.e2e
@pytest.mark.timeout(420)
def test_killed_consumer_and_relay_and_a_broker_restart_lose_no_application(faulty_system, capsys):
    system = faulty_system
    app_ids = prepare_applications(system.settings, 6)
    submitter = Submitter(system.url, system.settings)
    for app_id in app_ids:
        assert submitter.submit(app_id) == "submitted"

    consumer_pid, consumer_killed = system.kill("review_routing-consumer")
    relay_pid, relay_killed = system.kill("intake-relay")
    system.servers.restart_broker()                      # memory-only: its log and offsets are gone

    # The others keep serving meanwhile.
    headers = {"Authorization": f"Bearer {submitter.token}", "Accept": "application/json"}
    assert requests.get(f"{system.url}/api/v1/applications/{app_ids[0]}", headers=headers,
                        timeout=10).status_code == 200
    consumer_spawn, consumer_running = system.wait_restarted("review_routing-consumer", consumer_pid,
                                                             consumer_killed)
    relay_spawn, relay_running = system.wait_restarted("intake-relay", relay_pid, relay_killed)
    shown(capsys, f"\nrestart after kill -9: review_routing-consumer spawned {consumer_spawn:.2f}s, running "
          f"{consumer_running:.2f}s; intake-relay spawned {relay_spawn:.2f}s, running {relay_running:.2f}s")
    assert consumer_spawn < 5 and relay_spawn < 5

    started = time.monotonic()
    result = wait_for_outcome(system.settings, app_ids, timeout_s=120)
    shown(capsys, f"after {time.monotonic() - started:.1f}s: {json.dumps(result, ensure_ascii=False)}")
    assert result["problems"] == {}
    assert result["cases"] == 6 and result["score_reports"] == 6
    assert result["stored_tasks"] == result["routed_tasks"] == result["queue_entries"] > 0

    # /readyz (the portal's detail, from inside) names what was restarted, and is ready again.
    deadline = time.monotonic() + 60
    while True:
        ready = system.readiness()
        if ready["ready"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert ready["ready"], ready.get("processes", {}).get("detail")
    processes = ready["processes"]["processes"]
    for name in ("review_routing-consumer", "intake-relay"):
        assert processes[name]["restarts"] >= 1 and processes[name]["last_exit"], processes[name]
        assert processes[name]["state"] == "RUNNING"
    assert processes["intake-web"]["restarts"] == 0
    text = "".join(system.output)
    assert f"review_routing-consumer (pid {consumer_pid}) exited" in text
    assert f"intake-relay (pid {relay_pid}) exited" in text
    assert system.logs("dead-lettered") == {}
    # Nothing twice either, a while later.
    time.sleep(3)
    assert outcome(system.settings, app_ids)["problems"] == {}


class FakeSupervisor:
    """supervisord's XML-RPC as the monitor uses it, driven by the test."""

    def __init__(self):
        self.infos: dict[str, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self.supervisor = self

    def set(self, name: str, state: str, pid: int = 0, exitstatus: int = 0, spawnerr: str = "") -> None:
        self.infos[name] = {"name": name, "statename": state, "pid": pid, "exitstatus": exitstatus,
                            "spawnerr": spawnerr, "description": ""}

    def getAllProcessInfo(self):  # noqa: N802 (supervisord's name)
        return list(self.infos.values())

    def stopProcess(self, name, wait):  # noqa: N802
        self.calls.append(("stop", name))
        self.set(name.split(":")[1], "STOPPED")

    def startProcess(self, name, wait):  # noqa: N802
        self.calls.append(("start", name))
        self.set(name.split(":")[1], "STARTING", pid=999)



def test_a_crash_loop_is_reported_cooled_down_and_started_again(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "COOLDOWN_S", 0.2)
    rpc, said = FakeSupervisor(), []
    state = tmp_path / "processes.json"
    monitor = launcher.ProcessMonitor(lambda: rpc, state, say=said.append)
    rpc.set("scoring-consumer", "RUNNING", pid=100)
    rpc.set("intake-relay", "RUNNING", pid=200)
    monitor.poll()
    assert supervised_processes(str(state))["ok"]

    # killed: supervisord starts it again at once; /readyz says it is restarting until it runs
    rpc.set("scoring-consumer", "STARTING", pid=101)
    monitor.poll()
    report = supervised_processes(str(state))
    assert not report["ok"] and report["restarting"] == ["scoring-consumer"]
    assert report["processes"]["scoring-consumer"]["restarts"] == 1
    assert any("scoring-consumer (pid 100) exited" in line for line in said)

    # it keeps dying while starting: supervisord backs off, then gives up (FATAL): a crash loop, reported
    for pid in (102, 103):
        rpc.set("scoring-consumer", "BACKOFF", exitstatus=1)
        monitor.poll()
        rpc.set("scoring-consumer", "STARTING", pid=pid)
        monitor.poll()
    rpc.set("scoring-consumer", "FATAL", exitstatus=1, spawnerr="Exited too quickly")
    monitor.poll()
    report = supervised_processes(str(state))
    assert report["crash_loop"] == ["scoring-consumer"] and not report["ok"]
    assert "crash loop: scoring-consumer" in report["detail"]
    assert report["processes"]["scoring-consumer"]["restart_at"]
    assert any(line.startswith("[greenmine] CRASH LOOP: scoring-consumer") for line in said)
    assert report["processes"]["intake-relay"]["state"] == "RUNNING"  # the others keep running

    time.sleep(0.3)  # the cool-down: started again
    monitor.poll()
    assert rpc.calls == [("start", "greenmine:scoring-consumer")]

    # a process that starts fine but dies again and again is a crash loop too: stopped, cooled down
    for pid in range(201, 201 + launcher.CRASH_LOOP_EXITS):
        rpc.set("intake-relay", "RUNNING", pid=pid)
        monitor.poll()
    assert ("stop", "greenmine:intake-relay") in rpc.calls
    assert supervised_processes(str(state))["crash_loop"] == ["intake-relay", "scoring-consumer"]


def test_readiness_says_so_when_the_launcher_stopped_reporting(tmp_path):
    state = tmp_path / "processes.json"
    state.write_text(json.dumps({"updated_at": "2026-01-01T00:00:00+00:00",
                                 "processes": {"portal": {"state": "RUNNING"}}}))
    report = supervised_processes(str(state))
    assert not report["ok"] and "old" in report["detail"]
    assert not supervised_processes(str(tmp_path / "absent.json"))["ok"]
