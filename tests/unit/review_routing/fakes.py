"""In-memory repositories and unit of work of the review service, for the fast handler tests (no server).

They keep the contracts of `service_layer.unit_of_work`: versioned saves refuse a stale version
(ConcurrencyError), inserts refuse an existing id, documents are copies (a handler never edits stored state
without saving it)."""
from __future__ import annotations

import copy
import hashlib
import io
import re

from review_routing.domain.case import ReviewCase
from review_routing.domain.region import kinds
from review_routing.domain.task import ReviewTask
from review_routing.service_layer.unit_of_work import (
    AuditLog,
    CaseRepository,
    PhotoFiles,
    PhotoRepository,
    QueueQuery,
    QueueRepository,
    SelfReports,
    TaskRepository,
)
from shared.storage import ConcurrencyError
from shared.testing import FakeAggregates, FakeUnitOfWork


class DuplicateId(Exception):
    """An insert of an id that exists (what MongoDB's duplicate key error is to the real repositories)."""


def _insert(docs: dict, key: str, doc: dict) -> None:
    if key in docs:
        raise DuplicateId(key)
    docs[key] = copy.deepcopy(doc)


def _save(docs: dict, key: str, doc: dict, expected: int | None) -> int:
    if expected is None:
        _insert(docs, key, {**doc, "version": 1})
        return 1
    if docs.get(key, {}).get("version") != expected:
        raise ConcurrencyError(f"{key} changed since version {expected}")
    docs[key] = copy.deepcopy({**doc, "version": expected + 1})
    return expected + 1


class FakeCases(CaseRepository):
    def __init__(self):
        self.docs: dict[str, dict] = {}

    def get(self, application_id):
        doc = self.docs.get(application_id)
        return ReviewCase.from_dict(copy.deepcopy(doc)) if doc else None

    def get_many(self, application_ids):
        return {i: self.get(i) for i in application_ids if i in self.docs}

    def add_many(self, cases):
        for case in cases:
            _insert(self.docs, case.application_id, {**case.to_dict(), "version": case.version})

    def replace(self, case, expected_version):
        if self.docs.get(case.application_id, {}).get("version") != expected_version:
            raise ConcurrencyError(case.application_id)
        self.docs[case.application_id] = copy.deepcopy({**case.to_dict(), "version": case.version})

    def save(self, case):
        case.version = _save(self.docs, case.application_id, case.to_dict(), case.version)
        return case.version

    def summaries(self, league, status):
        return [copy.deepcopy(d) for _, d in sorted(self.docs.items())
                if (not league or d["league"] == league) and (not status or d["status"] == status)]

    def decision_reasons(self, application_id, version_no):
        for version in self.docs.get(application_id, {}).get("versions", []):
            if version["version_no"] == version_no and version.get("decision"):
                return copy.deepcopy(version["decision"].get("reasons", []))
        return []


class FakeTasks(TaskRepository):
    def __init__(self):
        self.docs: dict[str, dict] = {}

    def get(self, task_id):
        doc = self.docs.get(task_id)
        return ReviewTask.from_dict(copy.deepcopy(doc)) if doc else None

    def of_case(self, application_id, version_no=None):
        found = [d for d in self.docs.values() if d["application_id"] == application_id
                 and (version_no is None or d["version_no"] == version_no)]
        return [ReviewTask.from_dict(copy.deepcopy(d))
                for d in sorted(found, key=lambda d: (d["version_no"], d["_id"]))]

    def add_many(self, tasks):
        for task in tasks:
            _insert(self.docs, task.task_id, {**task.to_dict(), "version": task.version})

    def save(self, task):
        task.version = _save(self.docs, task.task_id, task.to_dict(), task.version)
        return task.version

    def previous(self, application_id, department, version_no):
        earlier = [d for d in self.docs.values() if d["application_id"] == application_id
                   and d["department"] == department and d["version_no"] < version_no]
        return ReviewTask.from_dict(copy.deepcopy(max(earlier, key=lambda d: d["version_no"]))) if earlier else None

    def pending_due_before(self, day):
        return [i for i, d in self.docs.items() if d["status"] in ("open", "claimed") and d.get("outcome") is None
                and d["due_date"] < day]


class FakeQueue(QueueRepository):
    def __init__(self):
        self.docs: dict[str, dict] = {}
        self.reads = 0

    def get_many(self, task_ids):
        ids = list(task_ids)
        if ids:
            self.reads += 1
        return {i: copy.deepcopy(self.docs[i]) for i in ids if i in self.docs}

    def add_many(self, entries):
        for entry in entries:
            _insert(self.docs, entry["_id"], entry)

    def replace_many(self, entries):
        for entry in entries:
            self.docs[entry["_id"]] = copy.deepcopy(entry)

    def search(self, query: QueueQuery):
        def matches(d):
            return (d["department"] == query.department
                    and (not query.league or d["league"] == query.league)
                    and (not query.county or d.get("county") == query.county)
                    and (query.statuses is None or d["status"] in query.statuses)
                    and (not query.due_until or d["due_date"] <= query.due_until)
                    and (not query.due_from or d["due_date"] >= query.due_from)
                    and (not query.due_before or d["due_date"] < query.due_before)
                    and (not query.mine or query.mine in (d.get("mine_id"), d["application_id"])
                         or re.search(re.escape(query.mine), d.get("mine_name", ""))))

        return [copy.deepcopy(d) for d in sorted(self.docs.values(), key=lambda d: (d["due_date"], d["_id"]))
                if matches(d)]


class FakeAudit(AuditLog):
    def __init__(self):
        self.docs: list[dict] = []

    def add_many(self, entries):
        self.docs.extend(copy.deepcopy(entries))

    def entries(self, *, application_id=None, task_id=None, limit=500):
        found = [d for d in self.docs if (not application_id or d["application_id"] == application_id)
                 and (not task_id or d["task_id"] == task_id)]
        return copy.deepcopy(sorted(found, key=lambda d: d["at"], reverse=True)[:limit])

    def actions(self) -> list[str]:
        return [d["action"] for d in self.docs]


class FakePhotos(PhotoRepository):
    def __init__(self):
        self.docs: dict[str, dict] = {}

    def get(self, photo_id):
        return copy.deepcopy(self.docs.get(photo_id))

    def of_task(self, task_id):
        return [copy.deepcopy(d) for d in self.docs.values() if d["task_id"] == task_id]

    def ids_of_task(self, task_id):
        return {i for i, d in self.docs.items() if d["task_id"] == task_id}

    def count_of_task(self, task_id):
        return len(self.ids_of_task(task_id))

    def add(self, photo):
        _insert(self.docs, photo["_id"], photo)


class FakeSelfReports(SelfReports):
    def __init__(self):
        self.reports: dict[tuple[str, int], dict] = {}

    def put(self, application_id, version_no, report, scored_at):
        self.reports[(application_id, version_no)] = copy.deepcopy(report)

    def get(self, application_id, version_no):
        return copy.deepcopy(self.reports.get((application_id, version_no)))


class FakePhotoFiles(PhotoFiles):
    def __init__(self):
        self.files: dict[int, bytes] = {}
        self._next = 0

    def put(self, photo_id, filename, content_type, data):
        self._next += 1
        self.files[self._next] = data
        return self._next, hashlib.sha256(data).hexdigest()

    def delete(self, file_id):
        self.files.pop(file_id, None)

    def open(self, file_id):
        return io.BytesIO(self.files[file_id])


class FakeReviewUnitOfWork(FakeUnitOfWork):
    repositories = ("cases", "tasks", "queue", "audit", "photos", "self_reports")

    def __init__(self, registry=None):
        super().__init__(registry)
        self.cases = FakeCases()
        self.tasks = FakeTasks()
        self.queue = FakeQueue()
        self.audit = FakeAudit()
        self.photos = FakePhotos()
        self.self_reports = FakeSelfReports()
        for name, kind in kinds().items():
            setattr(self, name, FakeAggregates(kind))
        self.repositories = (*type(self).repositories, *kinds())
