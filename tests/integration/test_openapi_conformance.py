"""Every app answers as its OpenAPI document (contracts/http/<app>.openapi.json) says, on real servers.

schemathesis generates requests from each operation of the checked-in document (which `test_openapi` keeps
equal to the code), calls the WSGI app directly, once signed in with a bearer token of EACH role the operation
admits (a public operation: anonymously and as every role), and checks that no answer is a server error and
none contradicts the documented schema of its status (`response_schema_conformance`); a protected operation's
refusals of an anonymous caller (401) and of a role it does not admit (403) are checked against the document
too. Every `$ref` of the checked-in documents resolves inside the document itself (they are published: a
reference to another address would leave their readers, and schemathesis, without the schema). Examples are
bounded (derandomized, no example database) so the whole file stays within a few minutes; one test per app, so
each app passes or fails on its own; each prints how many operations x roles it exercised and its time."""
from __future__ import annotations

import dataclasses
import json
import re
import threading
import time

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error, response_schema_conformance
from werkzeug.exceptions import HTTPException

from shared import embedded, identity
from shared.config import REPO_ROOT

pytestmark = pytest.mark.integration

APPS = ["portal", "intake", "review_routing", "scoring", "public_notice", "supervision"]
EXAMPLES_PER_OPERATION = 12
# One account per role, scoped like the demo users (an operation is called as the first role it admits).
PRINCIPALS = {
    "enterprise": identity.Principal("conf-enterprise", "enterprise", display_name="鄂尔多斯示范煤业有限公司",
                                     enterprise="91150600MA0N00001W"),
    "bureau": identity.Principal("conf-bureau", "bureau", area="鄂尔多斯市"),
    "department_reviewer": identity.Principal("conf-reviewer", "department_reviewer",
                                              department="ecology_environment", area="鄂尔多斯市"),
    "region_office": identity.Principal("conf-region", "region_office", area="自治区"),
    "evaluator": identity.Principal("conf-evaluator", "evaluator", area="自治区"),
    "admin": identity.Principal("conf-admin", "admin", area="自治区"),
}


PASSWORD = "Conformance-2025"
ASSESSMENT = json.loads((REPO_ROOT / "contracts" / "examples" / "intake.application_submitted.v1.json")
                        .read_text(encoding="utf-8"))["payload"]["assessment"]
# An evaluator's assessment: every score above 0 carries its 核查记录 (scoring refuses it otherwise).
EVALUATED = {**ASSESSMENT, "indicators": {
    no: entry if entry.get("not_applicable") else {"record": "2026-05-04 评估组王工到矿区现场核查：符合", **entry}
    for no, entry in ASSESSMENT["indicators"].items()}}

def _mine(name: str, licence: str, safety: str, county: str) -> dict:
    return {"name": name, "mining_licence": {"number": licence, "valid_from": "2020-01-01", "valid_to": "2040-12-31"},
            "safety_licence": {"number": safety, "valid_from": "2023-03-01", "valid_to": "2039-02-28"},
            "business_licence": {"valid_from": "2005-06-01", "valid_to": None}, "league": "ordos", "county": county,
            "minerals": ["coal"], "scale": "large", "industry_group": 1, "mining_method": "open_pit",
            "production_status": "in_production", "production_start_date": "2012-05-01",
            "remaining_reserve_years": "25.5"}


# A mine the known-good requests register, and one registered beforehand (with a draft) for those that read them.
NEW_MINE = _mine("鄂尔多斯示范露天煤矿", "C1500002010061120067890", "（蒙）FM安许证字〔2023〕0001号", "准格尔旗")
PREPARED_MINE = _mine("鄂尔多斯示范井工煤矿", "C1500002019071120012345", "（蒙）FM安许证字〔2024〕0207号", "伊金霍洛旗")
# Requests the documents' answers must also hold for on their success paths, which random input rarely reaches:
# {app: {"METHOD /path": [Case keyword arguments]}}, each answered 2xx as the first role the operation admits,
# then called as every other role it admits. `_prepare` adds those that need stored data (ids).
KNOWN_GOOD = {
    "portal": {"POST /api/v1/auth/token": [{"body": {"username": "conf-admin", "password": PASSWORD}}],
               "POST /api/v1/auth/users": [{"body": {"username": "conf-forestry", "role": "department_reviewer",
                                                     "display_name": "鄂尔多斯市林草局", "area": "鄂尔多斯市",
                                                     "department": "forestry_grassland"}}],
               "GET /api/v1/auth/audit": [{"query": {"limit": 5}}]},
    "scoring": {
        "POST /api/v1/scoring/evaluate": [{"body": ASSESSMENT, "media_type": "application/json"}],
        "POST /api/v1/scoring/assessments": [{"body": {
            "subject_id": "app-conf", "version_no": 1, "stage": "third_party_evaluation", "league": "鄂尔多斯市",
            "assessment": EVALUATED}, "media_type": "application/json"}],
        "GET /api/v1/scoring/assessments": [{"query": {"subject": "app-conf"}}],
        "POST /api/v1/scoring/sheet": [{"body": {"assessment": ASSESSMENT, "format": "html"},
                                        "media_type": "application/json"}],
        "GET /api/v1/scoring/sheet": [{"query": {"industry_group": 2, "format": "xlsx"}}],
        "GET /api/v1/scoring/catalogs/{catalog_id}": [{"path_parameters": {"catalog_id": "nm-2025"}}],
    },
    "public_notice": {"GET /api/v1/list": [{"query": {}}, {"query": {"league": "鄂尔多斯市", "q": "示范"}}]},
    "intake": {
        "GET /api/v1/mines": [{"query": {}}],
        "GET /api/v1/mines/vocabulary": [{}],
        "POST /api/v1/mines": [{"body": NEW_MINE, "media_type": "application/json"}],
        "GET /api/v1/applications": [{"query": {}}],
    },
}


def _prepare(name: str, settings, app) -> dict:
    """Data for the known-good requests: a user to sign in, a listed mine, a registered mine with a draft; returns
    the known-good requests that name what was stored."""
    from shared.runtime import service_store
    from shared.storage import mongo_client

    if name == "intake":
        client, headers = app.test_client(), _bearer(settings, "enterprise")
        mine = client.post("/api/v1/mines", json=PREPARED_MINE, headers=headers)
        assert mine.status_code == 201, mine.get_data(as_text=True)
        draft = client.post("/api/v1/applications", json={"mine_id": mine.json["id"]}, headers=headers)
        assert draft.status_code == 201, draft.get_data(as_text=True)
        mine_id, app_id = {"mine_id": mine.json["id"]}, {"app_id": draft.json["id"]}
        return {"GET /api/v1/mines/{mine_id}": [{"path_parameters": mine_id}],
                "GET /api/v1/applications/{app_id}": [{"path_parameters": app_id}],
                "GET /api/v1/applications/{app_id}/audit": [{"path_parameters": app_id}],
                "PUT /api/v1/applications/{app_id}": [{"path_parameters": app_id, "body": {"declared_penalties": False},
                                                       "media_type": "application/json"}]}

    if name == "portal":
        directory = identity.UserDirectory(mongo_client(settings.mongodb_uri)[settings.database_name("identity")])
        directory.add("conf-admin", PASSWORD, "admin", replace=True)
    if name == "public_notice":
        service_store(settings, "public_notice").db["green_mines"].insert_one({
            "mine_name": "鄂尔多斯示范煤矿", "enterprise_name": "鄂尔多斯示范煤业有限公司", "league": "鄂尔多斯市",
            "county": "准格尔旗", "minerals": ["煤"], "listed_on": "2026-01-05", "status": "listed"})
    return {}


class _Server:
    """A web app on a free port in a thread (the services that call scoring over HTTP need one)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.port = embedded.free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def app_under_test(request, settings):
    """(name, app) for the parametrized app name, wired to the session's real servers."""
    import importlib

    name = request.param
    scoring = None
    if name in ("intake", "review_routing"):
        from scoring.entrypoints.http import create_app as create_scoring

        scoring = _Server(create_scoring(settings))
        settings = dataclasses.replace(settings, service_urls={**settings.service_urls, "scoring": scoring.url})
    module = "shared.portal" if name == "portal" else f"{name}.entrypoints.http"
    app = importlib.import_module(module).create_app(settings)
    try:
        yield name, app, settings
    finally:
        if scoring is not None:
            scoring.stop()


def _roles(app, case) -> tuple[str, ...]:
    try:
        endpoint, _args = app.url_map.bind("localhost").match(case.formatted_path, method=case.method)
    except HTTPException:
        return identity.PUBLIC
    return identity.roles_of(app, endpoint, case.method) or identity.PUBLIC


def _bearer(settings, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.issue_token(settings.secret_key, PRINCIPALS[role])}"}


def _headers(app, settings, case) -> dict[str, str]:
    """A bearer token of the first role the operation admits (none for a public one)."""
    roles = _roles(app, case)
    return {} if roles == identity.PUBLIC else _bearer(settings, roles[0])


def _callers(app, settings, case) -> list[tuple[str, dict[str, str]]]:
    """(caller, headers) for every role that may call the operation: each admitted role's bearer token; for a
    public operation an anonymous caller and every role (a signed-in caller may see more of it)."""
    roles = _roles(app, case)
    if roles == identity.PUBLIC:
        return [("anonymous", {})] + [(role, _bearer(settings, role)) for role in PRINCIPALS]
    return [(role, _bearer(settings, role)) for role in roles if role in PRINCIPALS]


def _denials(app, settings, case, checks) -> None:
    """A protected operation refuses an anonymous caller (401) and a role it does not admit (403), with the
    documented error body."""
    roles = _roles(app, case)
    if roles == identity.PUBLIC:
        return
    outsiders = [role for role in PRINCIPALS if role not in roles]
    for headers, status in [({}, 401)] + ([(_bearer(settings, outsiders[0]), 403)] if outsiders else []):
        response = case.call(headers=headers)
        assert response.status_code == status, (case.method, case.formatted_path, response.status_code)
        case.validate_response(response, checks=checks)


def _generated_calls(app, settings, operation, checks, label: str, callers: set[str]):
    """The property test of one operation: requests generated from its document answer as documented, to every
    role that may call it (`callers` collects the roles exercised)."""
    refusals_checked: list[str] = []

    @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @hypothesis.given(case=operation.as_strategy())
    def call(case):
        for caller, headers in _callers(app, settings, case):
            callers.add(caller)
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=checks)
            except Exception as exc:
                exc.add_note(f"called as {caller}")
                raise
        if not refusals_checked:       # once per operation: refusals do not depend on the input
            refusals_checked.append(label)
            _denials(app, settings, case, checks)

    return call


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict, ref: str):
    """The target of a local reference (`#/components/schemas/X`), or KeyError."""
    if not ref.startswith("#/"):
        raise KeyError(f"{ref}: not a reference inside the document")
    node = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("name", APPS)
def test_every_reference_of_the_published_documents_resolves(name):
    document = json.loads((REPO_ROOT / "contracts" / "http" / f"{name}.openapi.json").read_text(encoding="utf-8"))
    unresolved = []
    for ref in sorted(set(_refs(document))):
        try:
            _resolve(document, ref)
        except (KeyError, IndexError, TypeError) as exc:
            unresolved.append(f"{ref}: {exc}")
    assert not unresolved, unresolved
    assert "greenmine.example" not in json.dumps(document)


@pytest.mark.parametrize("app_under_test", APPS, indirect=True)
def test_no_answer_contradicts_the_document(app_under_test):
    name, app, settings = app_under_test
    document = json.loads((REPO_ROOT / "contracts" / "http" / f"{name}.openapi.json").read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    known = {**KNOWN_GOOD.get(name, {}), **_prepare(name, settings, app)}
    checks = [not_a_server_error, response_schema_conformance]
    failures: dict[str, str] = {}
    operations = pairs = 0
    started = time.perf_counter()
    took: dict[str, float] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        label = f"{operation.method.upper()} {operation.path}"
        began = time.perf_counter()
        for kwargs in known.get(label, []):
            case = operation.Case(**kwargs)
            response = case.call(headers=_headers(app, settings, case))
            assert response.status_code < 300, (label, response.status_code, response.text[:500])
            case.validate_response(response, checks=checks)
            _denials(app, settings, case, checks)
            for caller, headers in _callers(app, settings, case)[1:]:   # the other roles: as documented, no 5xx
                try:
                    case.validate_response(case.call(headers=headers), checks=checks)
                except Exception as exc:
                    exc.add_note(f"known-good request called as {caller}")
                    raise

        callers: set[str] = set()
        call = _generated_calls(app, settings, operation, checks, label, callers)
        try:
            call()
        except Exception as exc:     # noqa: BLE001 - every operation is tried; the failures are listed at the end
            notes = "; ".join(getattr(exc, "__notes__", []))
            failures[label] = f"{type(exc).__name__}: {exc} [{notes}]"[:3000]
        pairs += len(callers)
        took[label] = time.perf_counter() - began
    slowest = ", ".join(f"{op} {s:.1f} s" for op, s in sorted(took.items(), key=lambda kv: -kv[1])[:5])
    print(f"\nconformance {name}: {operations} operations, {pairs} operation x role pairs, "
          f"{time.perf_counter() - started:.1f} s (slowest: {slowest})")
    assert operations > 0
    assert not set(known) - {f"{o.ok().method.upper()} {o.ok().path}" for o in schema.get_all_operations()}
    assert not failures, "\n\n".join(f"{op}\n{text}" for op, text in failures.items())


# Values no field of ours takes, written as raw JSON (some cannot be made by json.dumps): numbers beyond a float
# and a Decimal's context, wrong types, deep-ish nesting, long and hidden-character strings.
HOSTILE_JSON = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890", "9223372036854775808", "{}", "[]",
                "null", "true", '"x"', '"' + "x" * 20000 + '"', '"\\u202e\\u0000\\ufeff"', "[" * 60 + "]" * 60,
                '{"a": 1e400}', '[1e400]']
HOSTILE_BODIES = [b"1e400", b"[]", b'"x"', b"null", b"{", b'{"a": 1}', b"\xff\xfe{}", b'{"a": "\xc3"}']


def _body_properties(document: dict, operation: dict) -> list[str] | None:
    """The top-level properties of an operation's JSON body, or None when it takes none."""
    content = (operation.get("requestBody") or {}).get("content", {})
    if "application/json" not in content:
        return None
    schema = content["application/json"].get("schema", {})
    if "$ref" in schema:
        schema = _resolve(document, schema["$ref"])
    return sorted(schema.get("properties", {}))


@pytest.mark.parametrize("app_under_test", APPS, indirect=True)
def test_hostile_values_in_every_body_field_are_client_errors(app_under_test):
    """Issue 9 item 4: in every field of every JSON body, and as the whole body, numbers too big or small for
    any type, wrong types, long or hidden-character strings are 4xx with the Error body, to each role that may
    call the operation; never a 5xx."""
    name, app, settings = app_under_test
    document = json.loads((REPO_ROOT / "contracts" / "http" / f"{name}.openapi.json").read_text(encoding="utf-8"))
    known = {**KNOWN_GOOD.get(name, {}), **_prepare(name, settings, app)}
    client = app.test_client()
    calls, server_errors = 0, []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            properties = _body_properties(document, operation) if isinstance(operation, dict) else None
            if properties is None:
                continue
            label = f"{method.upper()} {path}"
            example = (known.get(label) or [{}])[0]
            params = {**{p: "1" for p in re.findall(r"\{(\w+)\}", path)}, **example.get("path_parameters", {})}
            url = path.format(**params)
            base = example.get("body") if isinstance(example.get("body"), dict) else {}
            bodies = list(HOSTILE_BODIES)
            for prop in properties:
                rest = json.dumps({k: v for k, v in base.items() if k != prop}, ensure_ascii=False)
                for raw in HOSTILE_JSON:
                    bodies.append((rest[:-1] + (", " if len(rest) > 2 else "") + f'"{prop}": {raw}}}').encode())
            roles = identity.roles_of(app, app.url_map.bind("localhost").match(url, method=method.upper())[0],
                                      method.upper())
            callers = [{}] if roles == identity.PUBLIC else [_bearer(settings, r) for r in roles if r in PRINCIPALS]
            for headers in callers:
                for body in bodies:
                    response = client.open(url, method=method.upper(), data=body, headers={
                        **headers, "Content-Type": "application/json", "Accept": "application/json"})
                    calls += 1
                    if response.status_code >= 500:
                        server_errors.append(f"{label} {body[:80]!r}: {response.status_code}")
                    elif response.status_code >= 400:
                        error = response.get_json()
                        assert error["code"] == response.status_code and error["message"], (label, body[:80])
                        assert "errors" not in error or isinstance(error["errors"], dict), (label, error)
    print(f"\nhostile bodies {name}: {calls} calls")
    assert not server_errors, server_errors[:20]
