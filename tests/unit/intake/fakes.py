"""In-memory fakes of intake's ports for the handler tests (no server): repositories, the unit of work, the file
store and the scoring service.  Aggregates are kept as their plain dicts (as the database keeps them), so a
rolled-back unit of work restores them and a handler never shares an object with the store."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from intake.adapters.translators import contract_events, mine_recorded_event
from intake.domain.application import Application
from intake.domain.mine import Mine
from intake.service_layer.unit_of_work import (
    ApplicationRepository,
    AuditLog,
    CaseNumbers,
    DuplicateMine,
    IntakeUnitOfWork,
    MineRepository,
    Scope,
)
from shared.config import REPO_ROOT
from shared.contracts import ContractRegistry
from shared.errors import FieldError, InvalidInput
from shared.scoring_client import ScoringRejected, ScoringUnavailable
from shared.testing import FakeUnitOfWork


def _in(scope: Scope, doc: dict) -> bool:
    return ((scope.credit_code is None or doc.get("credit_code") == scope.credit_code)
            and (scope.league is None or doc.get("league") == scope.league))


class FakeMines(MineRepository):
    def __init__(self):
        self.docs: dict[str, dict] = {}

    def get(self, mine_id):
        doc = self.docs.get(mine_id)
        return None if doc is None else (Mine.from_dict(doc["mine"]), dict(doc))

    def list(self, scope):
        return [(Mine.from_dict(d["mine"]), dict(d)) for d in self.docs.values() if _in(scope, d)]

    def add(self, mine, actor, now):
        number = mine.mining_licence.number
        for doc in self.docs.values():
            if doc["mine"]["mining_licence"]["number"] == number:
                raise DuplicateMine({"_id": doc["_id"], "name": doc["mine"]["name"]})
        self.docs[mine.id] = {"_id": mine.id, "mine": mine.to_dict(), "credit_code": mine.credit_code,
                              "league": mine.league, "version": 1, "created_at": now, "updated_at": now}
        return dict(self.docs[mine.id])

    def save(self, mine, previous, actor, now):
        stored = self.docs[mine.id]
        if stored["version"] != previous["version"]:
            raise AssertionError("changed meanwhile")
        self.docs[mine.id] = {**stored, "mine": mine.to_dict(), "league": mine.league,
                              "version": stored["version"] + 1, "updated_at": now}
        return dict(self.docs[mine.id])


class FakeApplications(ApplicationRepository):
    def __init__(self):
        self.docs: dict[str, dict] = {}

    def get(self, app_id):
        doc = self.docs.get(app_id)
        return None if doc is None else (Application.from_dict(doc["data"]), self._listing_doc(doc))

    def _listing_doc(self, doc):
        data = doc["data"]
        return {"_id": data["id"], "mine_id": data["mine_id"], "credit_code": data["credit_code"],
                "status": data["status"], "versions_count": len(data["versions"]), **doc["listing"]}

    def version(self, app_id, number):
        found = self.get(app_id)
        try:
            return found[0].version(number) if found else None
        except KeyError:
            return None

    def list(self, scope, status=None, mine_id=None):
        out = [self._listing_doc(d) for d in self.docs.values()]
        return [d for d in out if _in(scope, d) and (status is None or d["status"] == status)
                and (mine_id is None or d["mine_id"] == mine_id)]

    def open_for_mine(self, mine_id, closed):
        return next((d for d in self.list(Scope(), mine_id=mine_id) if d["status"] not in closed), None)

    def save(self, app, listing):
        self.docs[app.id] = {"data": app.to_dict(), "listing": dict(listing)}

    def follow_mine(self, mine_id, listing):
        for doc in self.docs.values():
            if doc["data"]["mine_id"] == mine_id:
                doc["listing"].update(listing)


class FakeCaseNumbers(CaseNumbers):
    def __init__(self):
        self.counters: dict[str, int] = {}

    def next(self, key):
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]


class FakeAudit(AuditLog):
    def __init__(self):
        self.entries: list[dict] = []

    def record(self, *, actor, action, subject_type, subject_id, detail=None, at=None):
        self.entries.append({"at": at, "actor": actor, "action": action,
                             "subject": {"type": subject_type, "id": subject_id}, "detail": detail or {}})

    def for_subject(self, subject_id):
        return [e for e in self.entries if e["subject"]["id"] == subject_id]

    def actions(self) -> list[str]:
        return [e["action"] for e in self.entries]


class FakeIntakeUnitOfWork(FakeUnitOfWork, IntakeUnitOfWork):
    repositories = ("mines", "applications", "case_numbers", "audit")

    def __init__(self):
        super().__init__(ContractRegistry([REPO_ROOT / "contracts"]))
        self.mines = FakeMines()
        self.applications = FakeApplications()
        self.case_numbers = FakeCaseNumbers()
        self.audit = FakeAudit()

    def publish_events(self, app):
        for envelope in contract_events(app, app.pop_events()):
            self.publish(envelope)

    def publish_mine(self, mine, *, register_version, change, recorded_on, at, before=None):
        self.publish(mine_recorded_event(mine, register_version=register_version, change=change,
                                         recorded_on=recorded_on, at=at, before=before))


@dataclass(frozen=True)
class Stored:
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class FakeFiles:
    """Keeps uploads in memory; a PDF unless the name says .jpg."""

    def __init__(self):
        self.files: dict[str, bytes] = {}

    def store(self, stream, *, kind, filename, declared_type, metadata):
        content = stream.read()
        if not content:
            raise InvalidInput("上传的文件有误，请按提示修改", [FieldError("file", "文件：文件为空")])
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = content
        ctype = ("image/jpeg" if filename.endswith(".jpg") else "video/mp4" if filename.endswith(".mp4")
                 else "application/pdf")
        return Stored(file_id, filename, ctype, len(content), hashlib.sha256(content).hexdigest())

    def delete(self, file_id):
        self.files.pop(file_id, None)

    def open(self, file_id):
        return self.files.get(file_id)


class FakeScoring:
    """Answers a fixed report, refuses with field errors, or is down."""

    def __init__(self, report: dict | None = None, errors: list[FieldError] | None = None, down: bool = False):
        self.report, self.errors, self.down = report, errors, down
        self.calls: list[dict] = []

    def evaluate(self, assessment, principal):
        self.calls.append(assessment)
        if self.down:
            raise ScoringUnavailable("down")
        if self.errors:
            raise ScoringRejected("评估数据有误", self.errors)
        return self.report
