"""Helpers for the review service on real servers: the real scoring web app on a local port (reached over
HTTP, as in production), demo accounts in the identity database, publishing intake's events, calling the API
with bearer tokens, and a consumer that remembers outcomes."""
from __future__ import annotations

import dataclasses
import json
import threading

from polling import Clock, wait_for

from review_routing.adapters.batching import BatchingConsumer
from shared import embedded, identity
from shared.messaging import encode

PASSWORD = "Greenmine-2025"
DEPARTMENTS = ("natural_resources", "development_reform", "industry_it", "ecology_environment", "water_resources",
               "emergency_management", "market_regulation", "energy", "forestry_grassland", "taxation")


class CountingConsumer(BatchingConsumer):
    """The service's real consumer, remembering each record's outcome so tests can wait for replays."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes: list = []

    def handle_batch(self, records):
        outcomes = super().handle_batch(records)
        self.outcomes.extend(outcomes)
        return outcomes

    def handle(self, record):
        outcome = super().handle(record)
        self.outcomes.append(outcome)
        return outcome


@dataclasses.dataclass
class Harness:
    settings: object
    store: object
    bus: object
    clock: Clock
    app: object
    consumer: CountingConsumer
    producer: object
    identity_db: object

    @property
    def db(self):
        return self.store.db

    def principal(self, username: str) -> identity.Principal:
        principal = identity.UserDirectory(self.identity_db).get(username)
        assert principal is not None, username
        return principal

    def headers(self, username: str) -> dict:
        token = identity.issue_token(self.settings.secret_key, self.principal(username))
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, username: str, body=None, **kwargs):
        client = self.app.test_client()
        if body is not None:
            kwargs["data"] = json.dumps(body, ensure_ascii=False)
            kwargs["content_type"] = "application/json"
        return client.open(path, method=method, headers=self.headers(username), **kwargs)

    def publish(self, envelope: dict, topic: str = "intake.application.events") -> None:
        self.producer.send(self.settings.topic(topic), key=envelope["aggregate_id"].encode(),
                           value=encode(envelope)).get(timeout=30)

    def routed_tasks(self, application_id: str, version_no: int) -> list[dict]:
        return list(self.db["tasks"].find({"application_id": application_id, "version_no": version_no}))

    def queued(self, application_id: str, version_no: int) -> list[dict]:
        return list(self.db["queue"].find({"application_id": application_id, "version_no": version_no}))


ALL_CHECKS = [{"check": f"C{n}", "passed": True, "note": ""} for n in range(1, 8)]


def forward(review, catalog, app_id: str) -> str:
    """Submit, route, every department agrees, the bureau forwards: the id of the RegionReview it opens."""
    from review_builders import full_opinion, judged, submission, submitted_event

    review.publish(submitted_event(submission(catalog, app_id, 1)))
    tasks = wait_for(lambda: review.routed_tasks(app_id, 1), what=f"routing {app_id}")
    for task in tasks:
        who = "bureau" if task["lead"] else f"rv_{task['department']}"
        assert review.call("POST", f"/api/v1/review/tasks/{task['_id']}/claim", who).status_code in (200, 409)
        body = full_opinion(task, "agree", indicators=judged([]), comments="同意。",
                            checks=ALL_CHECKS if task["lead"] else None)
        answer = review.call("POST", f"/api/v1/review/tasks/{task['_id']}/opinion", who, body)
        assert answer.status_code == 201, answer.get_json()
    decided = review.call("POST", f"/api/v1/review/cases/{app_id}/decision", "bureau",
                          {"version_no": 1, "decision": "forward"})
    assert decided.status_code == 201, decided.get_json()
    return f"{app_id}.v1"


def add_users(identity_db) -> None:
    directory = identity.UserDirectory(identity_db)
    users = [("bureau", "bureau", {"area": "鄂尔多斯市"}), ("bureau_baotou", "bureau", {"area": "包头市"}),
             ("region", "region_office", {}),
             ("reviewer_eco_baotou", "department_reviewer", {"department": "ecology_environment", "area": "包头市"}),
             ("rv_ecology_2", "department_reviewer", {"department": "ecology_environment", "area": "鄂尔多斯市"}),
             ("enterprise", "enterprise", {"enterprise": "91150600MA0N00001W"})]
    users += [(f"rv_{d}", "department_reviewer", {"department": d, "area": "鄂尔多斯市"}) for d in DEPARTMENTS]
    users += [(f"bt_{d}", "department_reviewer", {"department": d, "area": "包头市"}) for d in DEPARTMENTS]
    for username, role, options in users:
        directory.add(username, PASSWORD, role, display_name=username, replace=True, **options)


def start_scoring(settings):
    """The real scoring web app on a free port (a separate WSGI server, called over HTTP)."""
    from werkzeug.serving import make_server

    from scoring.entrypoints.http import create_app as scoring_app

    port = embedded.free_port()
    server = make_server("127.0.0.1", port, scoring_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="scoring-http")
    thread.start()
    return server, f"http://127.0.0.1:{port}"


