"""The operator CLI against real servers: topics, dead letters, demo data, scoring."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.contracts import ContractRegistry
from shared.messaging import EventConsumer, make_producer, read_topic
from shared.runtime import service_store
from shared.storage import mongo_client

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def greenmine(settings, *args, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "MONGODB_URI": settings.mongodb_uri,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "GREENMINE_DB_PREFIX": settings.db_prefix, "GREENMINE_TOPIC_PREFIX": settings.topic_prefix,
           "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka_session_timeout_ms),
           "GREENMINE_KAFKA_HEARTBEAT_MS": str(settings.kafka_heartbeat_ms)}
    return subprocess.run([str(Path(sys.executable).parent / "greenmine"), *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120, cwd=ROOT)


def test_topics_creates_every_topic_once(settings):
    first = greenmine(settings, "topics")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert any(line.split() == ["created", settings.topic("intake.application.events")] for line in lines)
    assert any(line.endswith(settings.topic("review_routing.tasks.ecology_environment")) for line in lines)
    assert any(line.endswith(settings.topic("dlq.scoring")) for line in lines)
    again = greenmine(settings, "topics")
    assert again.returncode == 0 and all(line.startswith("exists") for line in again.stdout.splitlines())


def test_dlq_list_and_replay(settings):
    assert greenmine(settings, "topics").returncode == 0
    registry = ContractRegistry([ROOT / "contracts"])
    store = service_store(settings, "scoring", registry)
    store.ensure_indexes()
    consumer = EventConsumer("scoring", settings, store, {}, producer=make_producer(settings))

    class Poison:
        topic, partition, offset, key, headers = settings.topic("intake.application.events"), 2, 41, b"app-9", []
        value = b'{"type": "intake.application_submitted"}'

    assert consumer.handle(Poison()).status == "dead_lettered"
    listed = greenmine(settings, "dlq", "list", "--service", "scoring", "--json")
    assert listed.returncode == 0, listed.stderr
    letter = json.loads(listed.stdout.splitlines()[0])
    assert letter["original"]["offset"] == 41 and letter["original"]["key"] == "app-9"
    assert "invalid envelope" in letter["reason"]
    human = greenmine(settings, "dlq", "list", "--service", "scoring")
    assert "invalid envelope" in human.stdout and "key=app-9" in human.stdout
    assert "没有死信" in greenmine(settings, "dlq", "list", "--service", "intake").stdout

    missing = greenmine(settings, "dlq", "replay", "--service", "scoring", "--offset", "7")
    assert missing.returncode == 2 and "找不到死信" in missing.stderr
    replayed = greenmine(settings, "dlq", "replay", "--service", "scoring", "--offset", "0")
    assert replayed.returncode == 0 and "已重放 1 条" in replayed.stdout
    retried = read_topic(settings, settings.topic("retry.scoring"))
    assert [r.value for r in retried] == [Poison.value]
    assert dict(retried[0].headers)["replayed_from_topic"] == Poison.topic.encode()
    assert greenmine(settings, "dlq", "list", "--service", "nobody").returncode == 2


def test_demo_data_is_idempotent(settings):
    assert greenmine(settings, "demo-data").returncode == 0
    users = mongo_client(settings.mongodb_uri)[settings.database_name("identity")]["users"]
    first = {u["_id"]: u["password_hash"] for u in users.find()}
    assert {"enterprise", "bureau", "reviewer_eco", "region", "evaluator", "admin"} <= set(first)
    roles = {u["role"] for u in users.find()}
    assert roles == {"enterprise", "bureau", "department_reviewer", "region_office", "evaluator", "admin"}
    again = greenmine(settings, "demo-data")
    assert again.returncode == 0, again.stderr
    assert {u["_id"]: u["password_hash"] for u in users.find()} == first


def test_score_command_exit_codes(settings, tmp_path):
    example = json.loads((ROOT / "contracts" / "examples" / "intake.application_submitted.v1.json").read_text())
    good = tmp_path / "good.json"
    good.write_text(json.dumps(example["payload"]["assessment"], ensure_ascii=False))
    ok = greenmine(settings, "score", str(good))
    assert ok.returncode == 0 and json.loads(ok.stdout)["verdict"] == "qualified"
    piped = greenmine(settings, "score", "-", stdin=good.read_text())
    assert piped.returncode == 0
    bad = greenmine(settings, "score", "-", stdin='{"catalog": "nm-2025"}')
    assert bad.returncode == 2 and "mine" in bad.stderr
    assert greenmine(settings, "score", str(tmp_path / "absent.json")).returncode == 2


# ---- the CLI finds the system it belongs to ---------------------------------------------------------------

def bare_env(var: Path) -> dict[str, str]:
    """A second terminal: nothing of the system in the environment but where `make run` keeps its state."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8", "GREENMINE_VAR": str(var)}


def bare_greenmine(var: Path, *args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "greenmine"), *args], input=stdin, capture_output=True,
                          text=True, env=bare_env(var), timeout=120, cwd=ROOT)


def test_system_env_round_trip_and_the_environment_wins(tmp_path, monkeypatch):
    from shared import cli

    cli.write_system_env(tmp_path / "system.env", {"MONGODB_URI": "mongodb://127.0.0.1:1/", "GREENMINE_DB_PREFIX": "x",
                                                   "GREENMINE_SECRET_KEY": "never written", "PATH": "/nope"})
    text = (tmp_path / "system.env").read_text()
    assert "never written" not in text and "PATH" not in text
    assert cli.read_system_env(tmp_path / "system.env") == {"MONGODB_URI": "mongodb://127.0.0.1:1/",
                                                            "GREENMINE_DB_PREFIX": "x"}
    monkeypatch.setenv("GREENMINE_VAR", str(tmp_path))
    monkeypatch.delenv("MONGODB_URI", raising=False)
    monkeypatch.setenv("GREENMINE_DB_PREFIX", "from-env")
    settings = cli._settings()
    assert settings.mongodb_uri == "mongodb://127.0.0.1:1/" and settings.db_prefix == "from-env"


def test_with_the_system_stopped_a_command_is_one_line_and_exit_1(tmp_path):
    from shared.embedded import free_port

    (tmp_path / "system.env").write_text(f"MONGODB_URI=mongodb://127.0.0.1:{free_port()}/\n"
                                         f"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{free_port()}\n")
    for args in (["user", "add", "opsadmin", "--role", "admin"], ["topics"], ["dlq", "list", "--service", "scoring"]):
        result = bare_greenmine(tmp_path, *args, stdin="Greenmine-2025\n")
        assert result.returncode == 1, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "system.env" in lines[0] and ("MongoDB" in lines[0] or "Kafka" in lines[0])


def test_a_second_terminal_reaches_the_system_greenmine_up_started(running_system):
    var = Path(running_system["env"]["GREENMINE_VAR"])
    recorded = (var / "system.env").read_text()
    assert running_system["settings"].mongodb_uri in recorded
    result = bare_greenmine(var, "user", "add", "opsadmin", "--role", "admin", stdin="Another-Pass-2025\n")
    assert result.returncode == 0, result.stderr
    settings = running_system["settings"]
    users = mongo_client(settings.mongodb_uri)[settings.database_name("identity")]["users"]
    assert users.find_one({"_id": "opsadmin"})["role"] == "admin"
    listed = bare_greenmine(var, "user", "list")
    assert listed.returncode == 0 and "enterprise" in listed.stdout


def test_outbox_republish_queues_a_services_events_again_from_a_point_in_time(settings):
    from datetime import timedelta

    from shared.clock import utcnow
    from shared.contracts import new_event
    from shared.storage import OUTBOX

    store = service_store(settings, "scoring")
    store.ensure_indexes()
    example = json.loads((ROOT / "contracts" / "examples" / "scoring.assessment_scored.v1.json").read_text())
    for n in (1, 2):
        store.transaction(lambda tx, n=n: tx.publish(new_event(
            "scoring.assessment_scored", producer="scoring", aggregate_type="assessment", aggregate_id=f"a{n}",
            aggregate_version=1, payload=example["payload"])))
    store.db[OUTBOX].update_many({}, {"$set": {"published_at": utcnow()}})
    since = (utcnow() - timedelta(minutes=5)).isoformat()

    done = greenmine(settings, "outbox", "republish", "scoring", "--since", since)
    assert done.returncode == 0, done.stderr
    assert "2 个事件已重新排队" in done.stdout
    assert store.unpublished_count() == 2

    bad = greenmine(settings, "outbox", "republish", "scoring", "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr
