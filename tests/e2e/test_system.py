"""`make run` as a user meets it: `greenmine up` brings the whole system to ready, prints one URL and the demo
logins, answers through the reverse proxy, and Ctrl-C leaves nothing running."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from shared import embedded

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_greenmine_up_ready_within_60s_and_ctrl_c_stops_everything(tmp_path):
    http_port = embedded.free_port()
    base = embedded.free_port_block(6)
    kafka_port, mongo_port = embedded.free_port(), embedded.free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "KAFKA_BOOTSTRAP_SERVERS")}
    env.update(GREENMINE_VAR=str(tmp_path / "var"), GREENMINE_WEB_PORT_BASE=str(base),
               GREENMINE_EMBEDDED_KAFKA_PORT=str(kafka_port), GREENMINE_EMBEDDED_MONGO_PORT=str(mongo_port),
               PYTHONUNBUFFERED="1")
    greenmine = str(Path(sys.executable).parent / "greenmine")
    started = time.monotonic()
    process = subprocess.Popen([greenmine, "up", "--port", str(http_port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = started + 60
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = requests.get(url + "/readyz", timeout=5)
                if response.status_code == 200:
                    ready = response.json()
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        assert ready is not None, "not ready within 60 s:\n" + "".join(output[-60:])
        assert ready == {"ready": True}  # through the proxy, the public learns only that much

        # The banner with the one URL and the demo logins follows once the demo data is in.
        wait = time.monotonic() + 60
        while time.monotonic() < wait and not any("greenmine is ready" in line for line in output):
            time.sleep(0.2)
        text = "".join(output)
        assert "greenmine is ready in" in text and url in text
        assert re.search(r"demo logins \(password \S+\)", text)
        for role_user in ("enterprise", "bureau", "reviewer_eco", "region", "evaluator", "admin"):
            assert re.search(rf"^\s+{role_user}\s", text, re.M), role_user

        # An administrator sees every service's readiness, down to its consumer and relay.
        admin = requests.post(url + "/api/v1/auth/token", json={"username": "admin", "password": "Greenmine-2025"},
                              timeout=10).json()["access_token"]
        ready = requests.get(url + "/readyz", headers={"Authorization": f"Bearer {admin}"}, timeout=10).json()
        assert set(ready["services"]) == {"intake", "review_routing", "scoring", "public_notice", "supervision"}
        assert all(s["ready"] for s in ready["services"].values())
        for name, service in ready["services"].items():
            checks = service["report"]["checks"]
            assert checks[f"{name}-consumer"]["ok"] and checks[f"{name}-relay"]["ok"]

        # One sign-in, through the proxy, reaches every service.
        token = requests.post(url + "/api/v1/auth/token", json={"username": "bureau", "password": "Greenmine-2025"},
                              timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(url + "/review/", headers=headers, timeout=10).status_code == 200
        assert requests.get(url + "/intake/", headers=headers, timeout=10).status_code == 200
        assert requests.get(url + "/scoring/", headers=headers, timeout=10).status_code == 200
        assert requests.get(url + "/notice/", headers=headers, timeout=10).status_code == 403
        assert requests.get(url + "/supervision/", timeout=10,
                            headers={"Accept": "application/json"}).status_code == 401
        home = requests.get(url + "/", timeout=10)
        assert home.status_code == 200 and "绿色矿山" in home.text
    finally:
        # Ctrl-C reaches the whole foreground process group.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    reader.join(timeout=5)
    marker = f"GREENMINE_VAR={tmp_path / 'var'}".encode()
    leftovers = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                leftovers.append(environ.parent.name)
        except OSError:
            continue  # exited meanwhile, or not ours to read
    assert leftovers == [], f"processes left running: {leftovers}"
    for port in [http_port, kafka_port, mongo_port, *range(base, base + 6)]:
        assert not embedded.port_open("127.0.0.1", port), f"port {port} still open"
