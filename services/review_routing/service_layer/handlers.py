"""The review service's use cases: routing submissions, the department queues, the task actions, the
countersign and decision, evidence and photo views, the overdue sweep.

Every change runs in ONE transaction with its audit entry and its events (outbox), through
`ServiceStore.transaction`, which retries transient errors: nothing inside it has outside effects. Calls to
other services (scoring) and GridFS writes happen before the transaction.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Mapping

from pymongo import ReplaceOne

from shared.catalog import Catalog, CatalogError, load_catalog
from shared.contracts import DEPARTMENT_CODES
from shared.logging import correlation_id
from shared.messaging import PermanentFailure
from shared.clock import utcnow
from shared.storage import ConcurrencyError, ServiceStore

from review_routing.adapters import events, repository as repo
from review_routing.adapters.photos import PhotoStore
from review_routing.adapters.scoring_client import ScoringRejected, ScoringUnavailable
from review_routing.domain.access import (
    Actor, can_decide, can_remind, can_view_case, can_view_queue, can_view_task, can_work_task,
)
from review_routing.domain.case import (
    VERSION_STATUSES, ReviewCase, chosen_entry, countersign_rows, decision_due, rescore,
    reviewer_entries,
)
from review_routing.domain.checks import INITIAL_REVIEW_CHECKS, check as check_by_code
from review_routing.domain.errors import (
    Conflict, FieldError, InvalidInput, InvalidTransition, NotFound, NotPermitted, RoutingError, Unavailable,
)
from shared.regions import canonical_league
from review_routing.domain.photos import PhotoPolicy, check_photo
from review_routing.domain.task import OUTCOMES, STATUSES, ReviewTask
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar, beijing_date

log = logging.getLogger(__name__)

TASK_EVENT_TYPES = ("review_routing.review_task_assigned", *events.TASK_TYPES.values())
MAX_PHOTOS_PER_TASK = 200
QUEUE_STATUSES = tuple(STATUSES)


class Directory:
    """Port: the user accounts (to check a transfer's target). `get` returns None for unknown/inactive users."""

    def get(self, username: str) -> Actor | None:  # pragma: no cover - interface
        raise NotImplementedError

    def all(self) -> list[Actor]:  # pragma: no cover - interface
        raise NotImplementedError


def _attachment_url(application_id: str, attachment_id: str) -> str:
    """Intake's download endpoint for an application's attachment (its files live in intake's GridFS)."""
    from urllib.parse import quote

    return f"/api/v1/applications/{quote(application_id, safe='')}/attachments/{quote(attachment_id, safe='')}"


def _num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class QueueFilters:
    status: tuple[str, ...] = ()
    due_before: date | None = None
    due_after: date | None = None
    league: str | None = None
    mine: str | None = None
    overdue: bool | None = None
    limit: int = 200
    offset: int = 0


class ReviewService:
    def __init__(self, store: ServiceStore, *, catalogs: Callable[[str], Catalog] = load_catalog,
                 calendar: WorkingCalendar | None = None, policy: DeadlinePolicy | None = None,
                 photo_policy: PhotoPolicy | None = None, clock: Callable[[], datetime] = utcnow,
                 directory: Directory | None = None, scorer=None, photos: PhotoStore | None = None):
        self.store = store
        self.catalogs = catalogs
        self.calendar = calendar or WorkingCalendar()
        self.policy = policy or DeadlinePolicy()
        self.photo_policy = photo_policy or PhotoPolicy()
        self.clock = clock
        self.directory = directory
        self.scorer = scorer
        self._photos = photos

    @property
    def db(self):
        return self.store.db

    @property
    def photos(self) -> PhotoStore:
        if self._photos is None:
            self._photos = PhotoStore(self.store.db)
        return self._photos

    def today(self) -> date:
        return beijing_date(self.clock())

    def department_name(self, code: str, catalog_id: str = "nm-2025") -> str:
        try:
            return self.catalogs(catalog_id).department(code).name
        except (KeyError, CatalogError):
            return code

    # =========================================================================================================
    # Consumer handlers
    # =========================================================================================================
    def on_application_submitted(self, envelope: dict, tx) -> None:
        """Route a submitted (or resubmitted) version: one task per department, published to its topic."""
        self.on_applications_submitted([envelope], tx)

    def on_applications_submitted(self, envelopes: list[dict], tx) -> None:
        """Route several submissions in one transaction (in order), with a handful of round trips."""
        now = self.clock()
        ids = list(dict.fromkeys(e["payload"]["application_id"] for e in envelopes))
        cases = {d["_id"]: ReviewCase.from_dict(d)
                 for d in tx.db[repo.CASES].find({"_id": {"$in": ids}}, session=tx.session)}
        stored_versions = {app: case.version for app, case in cases.items()}
        new_tasks: list[ReviewTask] = []
        audits: list[dict] = []
        for envelope in envelopes:
            payload = envelope["payload"]
            application_id = payload["application_id"]
            try:
                catalog = self.catalogs(payload["catalog"])
            except CatalogError as exc:
                raise PermanentFailure(f"评价指标 {payload['catalog']} 不可用:{exc}") from exc
            case = cases.get(application_id)
            try:
                if case is None:
                    case = cases[application_id] = ReviewCase.open(payload)
                routed = case.receive(payload, catalog, self.calendar, self.policy, now)
            except RoutingError as exc:
                detail = ";".join(f"{e.field}: {e.message}" for e in exc.errors)
                raise PermanentFailure(f"{exc.message}:{detail}") from exc
            if routed is None:
                log.info("application %s v%s already routed; nothing to do", application_id, payload["version_no"])
                continue
            token = correlation_id.set(envelope["correlation_id"])
            try:
                if routed.superseded is not None:
                    self._supersede(tx, application_id, routed.superseded, new_tasks, now)
                new_tasks.extend(routed.tasks)
                case.version = (case.version or 0) + 1
                for task in routed.tasks:
                    task.version = 1
                    tx.publish(events.task_assigned(task, 1, envelope["event_id"]),
                               topic=events.department_topic(task.department))
                tx.publish(events.case_routed(case, routed.version, list(routed.tasks), case.version,
                                              envelope["event_id"]))
            finally:
                correlation_id.reset(token)
            audits.append(repo.audit_doc(None, "case_routed", now, application_id=application_id,
                                         version_no=routed.version.version_no,
                                         detail={"event_id": envelope["event_id"],
                                                 "departments": list(routed.routing.departments),
                                                 "warnings": list(routed.version.warnings)}))
        if new_tasks:
            tx.db[repo.TASKS].insert_many([{**t.to_dict(), "version": 1} for t in new_tasks], ordered=True,
                                          session=tx.session)
        inserts = []
        for application_id, case in cases.items():
            before = stored_versions.get(application_id)
            if case.version == before or case.version is None:
                continue
            document = {**case.to_dict(), "version": case.version}
            if before is None:
                inserts.append(document)
            else:
                result = tx.db[repo.CASES].replace_one({"_id": application_id, "version": before}, document,
                                                       session=tx.session)
                if result.matched_count != 1:
                    raise ConcurrencyError(f"cases/{application_id} changed since version {before}")
        if inserts:
            tx.db[repo.CASES].insert_many(inserts, ordered=True, session=tx.session)
        if audits:
            tx.db[repo.AUDIT].insert_many(audits, ordered=True, session=tx.session)

    def _supersede(self, tx, application_id: str, version_no: int, pending: list[ReviewTask], now) -> None:
        """Close the tasks of a version still under review when a newer version arrives."""
        in_chunk = [t for t in pending if t.application_id == application_id and t.version_no == version_no]
        for task in in_chunk or repo.tasks_of(tx, application_id, version_no):
            event = task.finalise("superseded", now, "system")
            if in_chunk:        # not stored yet: it is inserted finalised, at version 1
                version = 1
            else:
                version = repo.save_task(tx, task)
            if event is not None:
                tx.publish(events.task_event(task, event, version), topic=events.department_topic(task.department))

    def on_assessment_scored(self, envelope: dict, tx) -> None:
        """Keep the enterprise's self-assessment report beside the case (shown next to the re-score)."""
        payload = envelope["payload"]
        subject = payload["subject"]
        if payload["stage"] != "self_assessment" or subject["kind"] != "application":
            return
        key = f"{subject['id']}.v{subject['version_no']}"
        tx.db[repo.SELF_REPORTS].replace_one(
            {"_id": key}, {"_id": key, "application_id": subject["id"], "version_no": subject["version_no"],
                           "report": payload["report"], "scored_at": envelope["occurred_at"]},
            upsert=True, session=tx.session)

    def on_task_event(self, envelope: dict, tx) -> None:
        """The department queue read model, built from the department topics."""
        self.on_task_events([envelope], tx)

    def on_task_events(self, envelopes: list[dict], tx, *, assume_new_assignments: bool = False) -> None:
        """Project several department-topic events: one read and one bulk write.

        With `assume_new_assignments` (the batching consumer's fast path) the queue entries of assigned tasks
        are not looked up but inserted: a task is assigned once, and an entry that exists already (a replayed
        topic) makes the insert fail, the chunk roll back, and the consumer handle its records one at a time
        through this method without the assumption."""
        new_tasks = {e["payload"]["task_id"] for e in envelopes
                     if assume_new_assignments and e["type"] == "review_routing.review_task_assigned"}
        ids = [i for i in dict.fromkeys(e["payload"]["task_id"] for e in envelopes) if i not in new_tasks]
        docs = ({d["_id"]: d for d in tx.db[repo.QUEUE].find({"_id": {"$in": ids}}, session=tx.session)}
                if ids else {})
        stored = set(docs)
        changed = {}
        for envelope in envelopes:
            task_id = envelope["payload"]["task_id"]
            updated = project_queue(docs.get(task_id), envelope)
            if updated is not None:
                docs[task_id] = changed[task_id] = updated
        # New entries (the usual case: a task was just assigned) are inserted, which is much cheaper than an upsert.
        new = [doc for task_id, doc in changed.items() if task_id not in stored]
        if new:
            tx.db[repo.QUEUE].insert_many(new, ordered=True, session=tx.session)
        replaced = [ReplaceOne({"_id": k}, v) for k, v in changed.items() if k in stored]
        if replaced:
            tx.db[repo.QUEUE].bulk_write(replaced, ordered=True, session=tx.session)

    # =========================================================================================================
    # Task actions
    # =========================================================================================================
    def _task_action(self, actor: Actor, task_id: str, action: str, work, *, needs_work: bool = True,
                     audit_detail: Callable[[ReviewTask, list], dict] | None = None) -> ReviewTask:
        def run(tx):
            task = repo.load_task(tx, task_id)
            if task is None:
                raise NotFound(f"没有审核任务 {task_id}")
            if not can_view_task(actor, task.department, task.league, task.county):
                raise NotPermitted("您无权查看或办理该审核任务(仅限本部门、本辖区)")
            if needs_work and not can_work_task(actor, task.department, task.lead, task.league, task.county):
                raise NotPermitted("您无权办理该审核任务")
            now = self.clock()
            happened = work(tx, task, now)
            version = repo.save_task(tx, task)
            for event in happened:
                tx.publish(events.task_event(task, event, version), topic=events.department_topic(task.department))
            repo.audit(tx, actor, action, now, application_id=task.application_id, version_no=task.version_no,
                       task_id=task.task_id, detail=audit_detail(task, happened) if audit_detail else {})
            return task

        try:
            return self.store.transaction(run)
        except ConcurrencyError:
            raise Conflict("该任务刚被他人更新,请刷新页面后重试") from None

    def claim(self, actor: Actor, task_id: str) -> ReviewTask:
        return self._task_action(actor, task_id, "task_claimed", lambda tx, t, now: [t.claim(actor, now)])

    def unclaim(self, actor: Actor, task_id: str) -> ReviewTask:
        return self._task_action(actor, task_id, "task_unclaimed", lambda tx, t, now: [t.unclaim(actor, now)])

    def transfer(self, actor: Actor, task_id: str, to_user: Any, reason: Any) -> ReviewTask:
        if not isinstance(to_user, str) or not to_user.strip():
            raise InvalidInput("转办信息有误", [FieldError("to_user", "请选择转办对象")])
        target = self.directory.get(to_user.strip()) if self.directory else None

        def work(tx, task, now):
            if target is None or not can_work_task(target, task.department, task.lead, task.league, task.county):
                raise InvalidInput("转办信息有误", [FieldError(
                    "to_user", f"{to_user} 不是{self.department_name(task.department, task.catalog)}"
                               f"在{task.league}的审核人员,不能转办给其办理")])
            return [task.transfer(actor, target.username, target.name, reason if isinstance(reason, str) else "",
                                  now)]

        return self._task_action(actor, task_id, "task_transferred", work,
                                 audit_detail=lambda t, h: {"to_user": t.claimed_by,
                                                            "reason": t.transfers[-1].reason})

    def colleagues(self, actor: Actor, task_id: str) -> list[dict]:
        task = self._readable_task(actor, task_id)
        if not can_work_task(actor, task.department, task.lead, task.league, task.county):
            raise NotPermitted("您无权办理该审核任务")
        people = self.directory.all() if self.directory else []
        return [{"username": p.username, "name": p.name} for p in people
                if p.username != actor.username and p.username != task.claimed_by
                and can_work_task(p, task.department, task.lead, task.league, task.county)]

    def remind(self, actor: Actor, task_id: str, message: Any) -> ReviewTask:
        def work(tx, task, now):
            if not can_remind(actor, task.league):
                raise NotPermitted("只有牵头的盟市自然资源局可以催办")
            return [task.remind(actor, message if isinstance(message, str) else "", now)]

        return self._task_action(actor, task_id, "task_reminded", work, needs_work=False,
                                 audit_detail=lambda t, h: {"message": t.reminders[-1].message})

    def give_opinion(self, actor: Actor, task_id: str, data: Mapping) -> ReviewTask:
        def work(tx, task, now):
            case = repo.load_case(tx, task.application_id)
            if case is not None:
                version = case.version_of(task.version_no)
                if version.status != "under_review":
                    raise InvalidTransition(f"该申报版本{VERSION_STATUSES[version.status]},不能再出具审核意见")
            catalog = self.catalogs(task.catalog)
            points = {no: catalog.indicator(no).points for no in task.indicators}
            photo_ids = {d["_id"] for d in tx.db[repo.PHOTOS].find({"task_id": task.task_id}, {"_id": 1},
                                                                      session=tx.session)}
            opinion, event = task.give_opinion(actor, data, indicator_points=points, photo_ids=photo_ids,
                                               today=beijing_date(now), at=now,
                                               opinion_id="op-" + uuid.uuid4().hex[:16])
            return [event]

        return self._task_action(actor, task_id, "opinion_recorded", work, audit_detail=lambda t, h: {
            "opinion_id": t.current_opinion.opinion_id, "decision": t.current_opinion.decision,
            "supersedes": t.current_opinion.supersedes,
            "indicators": [i.indicator for i in t.current_opinion.indicators],
            "photos": list(t.current_opinion.photos)})

    # --- evidence and photos -------------------------------------------------------------------------------
    def view_evidence(self, actor: Actor, task_id: str, attachment_id: str) -> str:
        """Record the view in the audit log and return intake's download URL for the attachment."""
        def run(tx):
            task = repo.load_task(tx, task_id)
            if task is None:
                raise NotFound(f"没有审核任务 {task_id}")
            if not can_view_task(actor, task.department, task.league, task.county):
                raise NotPermitted("您无权查看该任务的材料")
            attachment = next((a for a in task.attachments if a.get("attachment_id") == attachment_id), None)
            if attachment is None:
                raise NotFound("该材料不属于本审核任务")
            repo.audit(tx, actor, "evidence_viewed", self.clock(), application_id=task.application_id,
                       version_no=task.version_no, task_id=task.task_id, target=attachment_id,
                       detail={"filename": attachment.get("filename"), "kind": attachment.get("kind"),
                               "indicator": attachment.get("indicator"),
                               "prerequisite": attachment.get("prerequisite"), "sha256": attachment.get("sha256")})
            return _attachment_url(task.application_id, attachment_id)

        return self.store.transaction(run)

    def view_case_evidence(self, actor: Actor, application_id: str, version_no: int, attachment_id: str) -> str:
        def run(tx):
            case = repo.load_case(tx, application_id)
            if case is None:
                raise NotFound(f"没有申报 {application_id}")
            if not can_view_case(actor, case.league):
                raise NotPermitted("您无权查看该申报的材料")
            try:
                version = case.version_of(version_no)
            except KeyError:
                raise NotFound(f"申报 {application_id} 没有第 {version_no} 版") from None
            attachment = next((a for a in version.attachments if a.get("attachment_id") == attachment_id), None)
            if attachment is None:
                raise NotFound("该材料不属于本申报版本")
            repo.audit(tx, actor, "evidence_viewed", self.clock(), application_id=application_id,
                       version_no=version_no, target=attachment_id,
                       detail={"filename": attachment.get("filename"), "kind": attachment.get("kind"),
                               "sha256": attachment.get("sha256")})
            return _attachment_url(application_id, attachment_id)

        return self.store.transaction(run)

    def upload_photo(self, actor: Actor, task_id: str, filename: str, declared_type: str | None,
                     data: bytes) -> dict:
        task = self._readable_task(actor, task_id)
        if not can_work_task(actor, task.department, task.lead, task.league, task.county):
            raise NotPermitted("您无权办理该审核任务")
        if task.final:
            raise InvalidTransition(f"该申报版本{OUTCOMES[task.outcome]},不能再上传现场照片")
        content_type, name = check_photo(filename, declared_type, data, self.photo_policy)
        photo_id = "ph-" + uuid.uuid4().hex[:16]
        file_id, digest = self.photos.put(photo_id, name, content_type, data)

        def register(tx):
            current = repo.load_task(tx, task_id)
            if current is None or current.final:
                raise InvalidTransition("该申报版本已办结,不能再上传现场照片")
            if tx.db[repo.PHOTOS].count_documents({"task_id": task_id}, session=tx.session) >= MAX_PHOTOS_PER_TASK:
                raise InvalidInput("照片不能上传", [FieldError("photo", f"每个任务最多 {MAX_PHOTOS_PER_TASK} 张照片")])
            now = self.clock()
            doc = {"_id": photo_id, "task_id": task_id, "application_id": current.application_id,
                   "version_no": current.version_no, "department": current.department, "league": current.league,
                   "county": current.county, "filename": name, "content_type": content_type, "size": len(data),
                   "sha256": digest, "file_id": file_id, "uploaded_by": actor.username,
                   "uploaded_by_name": actor.name, "uploaded_at": now}
            tx.db[repo.PHOTOS].insert_one(doc, session=tx.session)
            repo.audit(tx, actor, "photo_uploaded", now, application_id=current.application_id,
                       version_no=current.version_no, task_id=task_id, target=photo_id,
                       detail={"filename": name, "size": len(data), "sha256": digest})
            return doc

        try:
            doc = self.store.transaction(register)
        except BaseException:
            self.photos.delete(file_id)
            raise
        return photo_view(doc)

    def open_photo(self, actor: Actor, photo_id: str):
        """(photo document, GridFS stream) of a registered photo; the view is audited."""
        def run(tx):
            doc = tx.db[repo.PHOTOS].find_one({"_id": photo_id}, session=tx.session)
            if doc is None:
                raise NotFound("没有该照片")
            if not can_view_task(actor, doc["department"], doc["league"], doc.get("county")):
                raise NotPermitted("您无权查看该照片")
            repo.audit(tx, actor, "photo_viewed", self.clock(), application_id=doc["application_id"],
                       version_no=doc["version_no"], task_id=doc["task_id"], target=photo_id,
                       detail={"filename": doc["filename"]})
            return doc

        doc = self.store.transaction(run)
        return doc, self.photos.open(doc["file_id"])

    # =========================================================================================================
    # Countersign and decision
    # =========================================================================================================
    def _readable_case(self, actor: Actor, application_id: str) -> ReviewCase:
        doc = self.db[repo.CASES].find_one({"_id": application_id})
        if doc is None:
            raise NotFound(f"没有申报 {application_id} 的审核记录")
        case = ReviewCase.from_dict(doc)
        if not can_view_case(actor, case.league):
            raise NotPermitted("您无权查看该申报的初审(仅限本盟市的自然资源局和自治区)")
        return case

    def _tasks(self, application_id: str, version_no: int | None = None) -> list[ReviewTask]:
        query: dict[str, Any] = {"application_id": application_id}
        if version_no is not None:
            query["version_no"] = version_no
        return [ReviewTask.from_dict(d) for d in self.db[repo.TASKS].find(query).sort([("version_no", 1), ("_id", 1)])]

    def rescored(self, case: ReviewCase, version_no: int, tasks: list[ReviewTask]) -> dict:
        version = case.version_of(version_no)
        return rescore(version.assessment, tasks, lambda code: self.department_name(code, case.catalog))

    def evaluate(self, assessment: Mapping, headers: Mapping[str, str]) -> dict:
        if self.scorer is None:
            raise ScoringUnavailable("未配置评分服务")
        return self.scorer.evaluate(assessment, headers)

    def decide(self, actor: Actor, application_id: str, data: Mapping, headers: Mapping[str, str]) -> dict:
        if not isinstance(data, Mapping):
            raise InvalidInput("初审决定有误", [FieldError("(body)", "应为 JSON 对象")])
        case = self._readable_case(actor, application_id)
        if not can_decide(actor, case.league):
            raise NotPermitted("只有本盟市的自然资源局可以作出初审决定")
        version_no = data.get("version_no", case.latest.version_no if case.latest else None)
        if not isinstance(version_no, int) or isinstance(version_no, bool):
            raise InvalidInput("初审决定有误", [FieldError("version_no", "应为申报版本号(整数)")])
        for key in data:
            if key not in ("version_no", "decision", "reasons"):
                raise InvalidInput("初审决定有误", [FieldError(str(key), "不认识的字段")])
        decision = data.get("decision")
        try:
            case.version_of(version_no)
        except KeyError:
            raise NotFound(f"申报 {application_id} 没有第 {version_no} 版") from None
        tasks = self._tasks(application_id, version_no)
        snapshot = {t.task_id: t.version for t in tasks}
        assessment = self.rescored(case, version_no, tasks)
        report = None
        if decision == "forward":
            try:
                report = self.evaluate(assessment, headers)
            except ScoringUnavailable as exc:
                raise Unavailable(f"暂时无法取得按审核意见重新评分的结果,请稍后再试({exc})") from exc
            except ScoringRejected as exc:
                raise InvalidInput("按审核意见重新评分时评估数据有误,请相关部门修正评分后再决定",
                                   [FieldError(f, m) for f, ms in exc.errors.items() for m in ms]) from exc
        elif decision in ("return", "reject"):
            try:
                report = self.evaluate(assessment, headers)
            except (ScoringUnavailable, ScoringRejected) as exc:
                log.warning("re-scoring for %s v%s failed (%s); deciding without a report", application_id,
                            version_no, exc)

        def run(tx):
            current = repo.load_case(tx, application_id)
            fresh = repo.tasks_of(tx, application_id, version_no)
            if {t.task_id: t.version for t in fresh} != snapshot:
                raise Conflict("审核意见刚有更新,请刷新页面核对后再作决定")
            catalog = self.catalogs(current.catalog)
            now = self.clock()
            result, closed = current.decide(version_no, decision, data.get("reasons"), actor, now, fresh, report,
                                            catalog, lambda code: self.department_name(code, current.catalog))
            versions = {t.task_id: repo.save_task(tx, t) for t in fresh}
            case_version = repo.save_case(tx, current)
            tx.publish(events.initial_review_decided(current, version_no, result, case_version))
            by_id = {t.task_id: t for t in fresh}
            for event in closed:
                task = by_id[event.task_id]
                tx.publish(events.task_event(task, event, versions[task.task_id]),
                           topic=events.department_topic(task.department))
            repo.audit(tx, actor, "decision_recorded", now, application_id=application_id, version_no=version_no,
                       detail={"decision": result.decision, "reasons": [r.to_dict() for r in result.reasons],
                               "total": (report or {}).get("total"), "verdict": (report or {}).get("verdict")})
            return result

        try:
            result = self.store.transaction(run)
        except ConcurrencyError:
            raise Conflict("审核意见刚有更新,请刷新页面核对后再作决定") from None
        return {"application_id": application_id, "version_no": version_no, **result.to_dict(),
                "label": result.label}

    # =========================================================================================================
    # Queries
    # =========================================================================================================
    def _readable_task(self, actor: Actor, task_id: str) -> ReviewTask:
        doc = self.db[repo.TASKS].find_one({"_id": task_id})
        if doc is None:
            raise NotFound(f"没有审核任务 {task_id}")
        task = ReviewTask.from_dict(doc)
        if not can_view_task(actor, task.department, task.league, task.county):
            raise NotPermitted("您无权查看该审核任务(仅限本部门、本辖区)")
        return task

    def queue(self, actor: Actor, department: str, filters: QueueFilters) -> dict:
        if department not in DEPARTMENT_CODES:
            raise NotFound(f"没有部门 {department}")
        if not can_view_queue(actor, department):
            raise NotPermitted("只能查看本部门的审核队列")
        query: dict[str, Any] = {"department": department}
        if filters.league:
            league = canonical_league(filters.league)
            if league is None:
                raise InvalidInput("筛选条件有误", [FieldError("league", f"无法识别盟市 {filters.league}")])
            if not actor.covers(league):
                raise NotPermitted(f"只能查看本辖区({actor.area})的审核任务")
            query["league"] = league
        elif actor.role != "region_office" and actor.area and actor.area != "自治区":
            query["league"] = actor.area
        if actor.county:
            query["county"] = actor.county
        for status in filters.status:
            if status not in QUEUE_STATUSES:
                raise InvalidInput("筛选条件有误", [FieldError("status", "状态应为 " + "、".join(QUEUE_STATUSES))])
        if filters.status:
            query["status"] = {"$in": list(filters.status)}
        due: dict[str, str] = {}
        if filters.due_before:
            due["$lte"] = filters.due_before.isoformat()
        if filters.due_after:
            due["$gte"] = filters.due_after.isoformat()
        today = self.today()
        if filters.overdue is True:
            query["status"] = {"$in": [s for s in ("open", "claimed") if not filters.status or s in filters.status]}
            due["$lt"] = min(due.get("$lt", "9999-12-31"), today.isoformat())
        if due:
            query["due_date"] = due
        if filters.mine:
            pattern = re.escape(filters.mine.strip())
            query["$or"] = [{"mine_id": filters.mine.strip()}, {"mine_name": {"$regex": pattern}},
                            {"application_id": filters.mine.strip()}]
        docs = list(self.db[repo.QUEUE].find(query).sort([("due_date", 1), ("_id", 1)]))
        items = [queue_item(d, today, self.calendar) for d in docs]
        if filters.overdue is False:
            items = [i for i in items if not i["overdue"]]
        items.sort(key=lambda i: (not i["overdue"], i["status"] not in ("open", "claimed"), i["due_date"]))
        total = len(items)
        return {"department": department, "department_name": self.department_name(department),
                "today": today.isoformat(), "total": total,
                "overdue": sum(1 for i in items if i["overdue"]),
                "items": items[filters.offset:filters.offset + filters.limit]}

    def task_view(self, actor: Actor, task_id: str) -> dict:
        task = self._readable_task(actor, task_id)
        catalog = self.catalogs(task.catalog)
        today = self.today()
        photos = [photo_view(d) for d in self.db[repo.PHOTOS].find({"task_id": task_id}).sort("uploaded_at", 1)]
        case_doc = self.db[repo.CASES].find_one({"_id": task.application_id}, {"versions.assessment": 0})
        previous = None
        if task.version_no > 1:
            doc = self.db[repo.TASKS].find_one({"application_id": task.application_id, "department": task.department,
                                                "version_no": {"$lt": task.version_no}}, sort=[("version_no", -1)])
            if doc is not None:
                earlier = ReviewTask.from_dict(doc)
                previous = {"task_id": earlier.task_id, "version_no": earlier.version_no,
                            "opinions": [opinion_view(o, catalog) for o in reversed(earlier.opinions)]}
        returned_reasons = []
        if case_doc and task.version_no > 1:
            for v in case_doc.get("versions", []):
                if v["version_no"] == task.version_no - 1 and v.get("decision"):
                    returned_reasons = v["decision"].get("reasons", [])
        can_work = can_work_task(actor, task.department, task.lead, task.league, task.county)
        return task_view(task, catalog, today, self.calendar, photos=photos, previous=previous,
                         returned_reasons=returned_reasons, department_name=self.department_name(task.department),
                         permissions={"work": can_work and not task.final,
                                      "remind": can_remind(actor, task.league) and task.pending,
                                      "claimed_by_me": task.claimed_by == actor.username})

    def cases(self, actor: Actor, league: str | None = None, status: str | None = None) -> list[dict]:
        if actor.role not in ("bureau", "region_office"):
            raise NotPermitted("只有盟市自然资源局和自治区可以查看申报的初审")
        query: dict[str, Any] = {}
        if league:
            canonical = canonical_league(league)
            if canonical is None:
                raise InvalidInput("筛选条件有误", [FieldError("league", f"无法识别盟市 {league}")])
            if not actor.covers(canonical):
                raise NotPermitted(f"只能查看本盟市({actor.area})的申报")
            query["league"] = canonical
        elif actor.role == "bureau":
            query["league"] = actor.area
        if status:
            if status not in VERSION_STATUSES:
                raise InvalidInput("筛选条件有误", [FieldError("status", "状态应为 " + "、".join(VERSION_STATUSES))])
            query["status"] = status
        today = self.today()
        out = []
        for doc in self.db[repo.CASES].find(query, {"versions.assessment": 0}).sort("_id", 1):
            latest = doc["versions"][-1]
            tasks = self._tasks(doc["_id"], latest["version_no"])
            out.append({
                "application_id": doc["_id"], "league": doc["league"], "county": doc.get("county", ""),
                "mine": doc.get("mine", {}).get("name", ""), "enterprise": doc.get("enterprise", {}).get("name", ""),
                "version_no": latest["version_no"], "status": latest["status"],
                "status_label": VERSION_STATUSES[latest["status"]], "tasks": len(tasks),
                "agreed": sum(1 for t in tasks if t.current_opinion and t.current_opinion.decision == "agree"),
                "with_opinion": sum(1 for t in tasks if t.opinions),
                "overdue": sum(1 for t in tasks if t.is_overdue(today)),
                "routed_at": latest["routed_at"]})
        return out

    def case_view(self, actor: Actor, application_id: str, headers: Mapping[str, str] | None = None) -> dict:
        case = self._readable_case(actor, application_id)
        catalog = self.catalogs(case.catalog)
        today = self.today()
        all_tasks = self._tasks(application_id)
        versions = []
        for version in reversed(case.versions):
            tasks = [t for t in all_tasks if t.version_no == version.version_no]
            entry = {
                "version_no": version.version_no, "resubmission": version.resubmission,
                "submitted_at": version.submitted_at.isoformat(), "routed_at": version.routed_at.isoformat(),
                "status": version.status, "status_label": version.status_label, "warnings": list(version.warnings),
                "tasks": [dict(r, department_name=self.department_name(r["department"], case.catalog))
                          for r in countersign_rows(tasks, self.calendar, today)],
                "decision": ({**version.decision.to_dict(), "label": version.decision.label}
                             if version.decision else None),
                "attachments": [dict(a) for a in version.attachments],
            }
            entry["late"] = [r for r in entry["tasks"] if r["overdue"]]
            due = decision_due(tasks, self.calendar, self.policy)
            entry["decision_due"] = due.isoformat() if due else None
            entry["decision_overdue"] = bool(due and version.status == "under_review" and today > due)
            entry["all_agreed"] = bool(tasks) and all(
                t.current_opinion and t.current_opinion.decision == "agree" for t in tasks)
            entry["side_by_side"] = side_by_side(version, tasks, catalog,
                                                 lambda code: self.department_name(code, case.catalog))
            if version is case.latest:
                self_doc = self.db[repo.SELF_REPORTS].find_one({"_id": f"{application_id}.v{version.version_no}"})
                entry["self_report"] = self_doc["report"] if self_doc else None
                if version.status == "under_review" and headers is not None:
                    assessment = rescore(version.assessment, tasks,
                                         lambda code: self.department_name(code, case.catalog))
                    entry["rescored_assessment"] = assessment
                    try:
                        entry["report"] = self.evaluate(assessment, headers)
                        entry["report_error"] = None
                    except ScoringRejected as exc:
                        entry["report"] = None
                        entry["report_error"] = {"message": str(exc), "errors": exc.errors}
                    except ScoringUnavailable as exc:
                        entry["report"] = None
                        entry["report_error"] = {"message": f"暂时无法重新评分:{exc}", "errors": {}}
                    if entry["self_report"] is None:
                        try:
                            entry["self_report"] = self.evaluate(version.assessment, headers)
                        except (ScoringRejected, ScoringUnavailable):
                            pass
                elif version.decision is not None:
                    entry["report"] = version.decision.report
            versions.append(entry)
        latest = case.latest
        return {"application_id": application_id, "league": case.league, "county": case.county,
                "catalog": case.catalog, "mine": dict(case.mine), "enterprise": dict(case.enterprise),
                "status": case.status, "status_label": VERSION_STATUSES[case.status],
                "latest_version": latest.version_no if latest else None, "today": today.isoformat(),
                "can_decide": can_decide(actor, case.league) and bool(latest) and latest.status == "under_review",
                "checks": [c.to_dict() for c in INITIAL_REVIEW_CHECKS],
                "prerequisites": [{"code": p.code, "name": p.name} for p in catalog.prerequisites],
                "versions": versions}

    def audit_log(self, actor: Actor, application_id: str | None = None, task_id: str | None = None) -> list[dict]:
        if task_id:
            self._readable_task(actor, task_id)
        elif application_id:
            self._readable_case(actor, application_id)
        else:
            raise InvalidInput("请指定申报或任务", [FieldError("application_id", "必填项缺失")])
        out = []
        for entry in repo.audit_entries(self.db, application_id=None if task_id else application_id,
                                        task_id=task_id):
            entry = dict(entry)
            entry["id"] = entry.pop("_id")
            entry["at"] = entry["at"].isoformat()
            out.append(entry)
        return out

    # =========================================================================================================
    # Overdue sweep
    # =========================================================================================================
    def sweep_overdue(self) -> int:
        """Flag overdue tasks and send automatic reminders (see ReviewTask.flag_overdue). Returns events sent."""
        now = self.clock()
        today = beijing_date(now)
        if not self.calendar.is_workday(today):
            return 0
        sent = 0
        ids = [d["_id"] for d in self.db[repo.TASKS].find(
            {"status": {"$in": ["open", "claimed"]}, "outcome": None, "due_date": {"$lt": today.isoformat()}},
            {"_id": 1})]
        for task_id in ids:
            def run(tx):
                task = repo.load_task(tx, task_id)
                if task is None:
                    return 0
                happened = task.flag_overdue(self.calendar, self.policy, today, now)
                if not happened:
                    return 0
                version = repo.save_task(tx, task)
                for event in happened:
                    tx.publish(events.task_event(task, event, version),
                               topic=events.department_topic(task.department))
                repo.audit(tx, None, "task_overdue", now, application_id=task.application_id,
                           version_no=task.version_no, task_id=task.task_id,
                           detail={"due_date": task.due_date.isoformat(), "events": [e.kind for e in happened]})
                return len(happened)

            try:
                sent += self.store.transaction(run)
            except ConcurrencyError:
                log.info("task %s changed during the overdue sweep; next sweep retries", task_id)
        return sent


# =============================================================================================================
# Read models and views (plain JSON-ready dicts)
# =============================================================================================================
EMPTY_QUEUE_STATE = {"status": "open", "claimed_by": None, "reminders": 0, "last_reminded_at": None,
                     "overdue_flagged": False, "decision": None, "opinions": 0, "closed_reason": None}


def project_queue(doc: Mapping | None, envelope: dict) -> dict | None:
    """The queue entry after one department-topic event (None: unchanged). Pure and idempotent: a task's
    events are in order on one partition, and an event older than what the entry shows changes nothing."""
    payload = envelope["payload"]
    kind = envelope["type"].removeprefix("review_routing.")
    version = envelope["aggregate_version"]
    base = {"_id": payload["task_id"], "application_id": payload["application_id"],
            "version_no": payload["version_no"], "department": payload["department"], "league": payload["league"]}
    if kind == "review_task_assigned":
        mine = payload.get("mine") or {}
        base.update(county=payload.get("county", ""), lead=payload["lead"], mine_id=mine.get("mine_id", ""),
                    mine_name=mine.get("name", ""), indicators=len(payload["indicators"]),
                    prerequisites=len(payload["prerequisites"]), checks=len(payload["checks"]),
                    evidence=len(payload.get("attachments") or ()), due_date=payload["due_date"],
                    assigned_at=envelope["occurred_at"])
        if doc is None:
            return {**base, **EMPTY_QUEUE_STATE, "event_version": version, "updated_at": envelope["occurred_at"]}
        # A later event of the task got here first: fill in the facts, keep its status.
        return None if all(doc.get(k) == v for k, v in base.items()) else {**doc, **base}
    if kind == "review_task_claimed":
        changes = {"status": "claimed", "claimed_by": payload["claimed_by"]}
    elif kind == "review_task_unclaimed":
        changes = {"status": "open", "claimed_by": None}
    elif kind == "review_task_transferred":
        changes = {"status": "claimed", "claimed_by": payload["to_user"]}
    elif kind == "review_opinion_recorded":
        changes = {"status": "opinion_given", "decision": payload["decision"], "opinions": payload["sequence"],
                   "claimed_by": payload["given_by"], "opinion_at": payload["given_at"]}
    elif kind == "review_task_reminded":
        changes = {"reminders": payload["reminder_no"], "last_reminded_at": payload["reminded_at"]}
    elif kind == "review_task_overdue":
        changes = {"overdue_flagged": True}
    elif kind == "review_task_closed":
        changes = {"status": "closed", "closed_reason": payload["reason"]}
    else:
        return None
    if doc is not None and doc.get("event_version", 0) > version:
        return None
    if doc is not None and all(doc.get(k) == v for k, v in changes.items()) and doc.get("event_version") == version:
        return None                                  # the same event again (several share one task version)
    start = dict(doc) if doc is not None else {**base, **EMPTY_QUEUE_STATE}
    return {**start, **changes, "event_version": version, "updated_at": envelope["occurred_at"]}


def queue_item(doc: Mapping, today: date, calendar: WorkingCalendar) -> dict:
    due = date.fromisoformat(doc["due_date"]) if doc.get("due_date") else None
    pending = doc.get("status") in ("open", "claimed")
    overdue = bool(due and pending and today > due)
    return {"task_id": doc["_id"], "application_id": doc["application_id"], "version_no": doc["version_no"],
            "department": doc["department"], "league": doc["league"], "county": doc.get("county", ""),
            "lead": doc.get("lead", False), "mine_id": doc.get("mine_id", ""), "mine_name": doc.get("mine_name", ""),
            "indicators": doc.get("indicators", 0), "prerequisites": doc.get("prerequisites", 0),
            "evidence": doc.get("evidence", 0), "status": doc["status"],
            "status_label": STATUSES.get(doc["status"], doc["status"]), "claimed_by": doc.get("claimed_by"),
            "due_date": doc.get("due_date"), "overdue": overdue,
            "days_overdue": calendar.working_days_between(due, today) if overdue else 0,
            "reminders": doc.get("reminders", 0), "decision": doc.get("decision"),
            "opinions": doc.get("opinions", 0), "closed_reason": doc.get("closed_reason"),
            "assigned_at": doc.get("assigned_at")}


def photo_view(doc: Mapping) -> dict:
    uploaded = doc["uploaded_at"]
    return {"photo_id": doc["_id"], "task_id": doc["task_id"], "filename": doc["filename"],
            "content_type": doc["content_type"], "size": doc["size"], "sha256": doc["sha256"],
            "uploaded_by": doc["uploaded_by"], "uploaded_by_name": doc.get("uploaded_by_name", doc["uploaded_by"]),
            "uploaded_at": uploaded.isoformat() if isinstance(uploaded, datetime) else uploaded,
            "url": f"/api/v1/review/photos/{doc['_id']}"}


def opinion_view(opinion, catalog: Catalog) -> dict:
    body = opinion.to_dict()
    body["decision_label"] = opinion.decision_label
    for item in body["indicators"]:
        try:
            item["name"] = catalog.indicator(item["indicator"]).name
        except KeyError:
            item["name"] = ""
    for item in body["checks"]:
        item["label"] = check_by_code(item["check"]).label
    return body


def _entry_label(entry: Mapping | None) -> str:
    if not entry:
        return "未填写"
    if entry.get("not_applicable"):
        return "不涉及"
    for key in ("score", "findings", "deductions", "items"):
        if key in entry:
            value = entry[key]
            if key == "score":
                return f"{value} 分"
            if key == "findings":
                return f"不符合 {value} 处"
            if key == "deductions":
                return "扣分条件:" + "、".join(value) if value else "无扣分"
            return "加分子项:" + "、".join(k for k, v in value.items() if v)
    return "未填写"


def task_view(task: ReviewTask, catalog: Catalog, today: date, calendar: WorkingCalendar, *, photos: list[dict],
              previous: dict | None, returned_reasons: list, department_name: str, permissions: dict) -> dict:
    current = task.current_opinion
    attachments = [dict(a, url=f"/api/v1/review/tasks/{task.task_id}/evidence/{a['attachment_id']}")
                   for a in task.attachments]
    indicators = []
    for no in task.indicators:
        indicator = catalog.indicator(no)
        entry = task.entries.get(str(no))
        rule = indicator.scoring_rule(task.mine.get("mining_method"), task.mine.get("industry_variant"))
        indicators.append({
            "no": no, "name": indicator.name, "points": _num(indicator.points), "binding": indicator.binding,
            "attribute": indicator.attribute, "category": catalog.category_of(no).label,
            "subcategory": catalog.subcategory_of(no).name, "text": indicator.text,
            "rule_text": getattr(rule, "text", "") or indicator.text, "methods": list(indicator.methods),
            "basis": indicator.basis, "departments": [d.name for d in catalog.departments_for_indicator(no)],
            "scope": indicator.department_scopes.get(task.department),
            "self_entry": dict(entry) if entry else None, "self_label": _entry_label(entry),
            "not_applicable": no in task.not_applicable,
            "evidence": [a for a in attachments if a.get("indicator") == no],
            "opinion": (current.indicator(no).to_dict() if current and current.indicator(no) else None),
        })
    prerequisites = []
    for code in task.prerequisites:
        prerequisite = catalog.prerequisite(code)
        finding = current.prerequisite(code) if current else None
        prerequisites.append({"code": code, "name": prerequisite.name, "requirement": prerequisite.requirement,
                              "evidence": [a for a in attachments if a.get("prerequisite") == code],
                              "finding": finding.to_dict() if finding else None})
    checks = []
    for code in task.checks:
        item = check_by_code(code)
        finding = next((c for c in current.checks if c.check == code), None) if current else None
        checks.append({**item.to_dict(), "label": item.label,
                       "evidence": [a for a in attachments if a.get("kind") in item.materials],
                       "finding": finding.to_dict() if finding else None})
    placed = {id(a) for i in indicators for a in i["evidence"]} | {id(a) for p in prerequisites for a in p["evidence"]}
    other = [a for a in attachments if id(a) not in placed]
    return {
        "task_id": task.task_id, "application_id": task.application_id, "version_no": task.version_no,
        "department": task.department, "department_name": department_name, "lead": task.lead,
        "league": task.league, "county": task.county, "catalog": task.catalog, "mine": dict(task.mine),
        "enterprise": dict(task.enterprise), "resubmission": task.resubmission,
        "routed_at": task.routed_at.isoformat(), "due_date": task.due_date.isoformat(),
        "due_estimated": task.due_estimated, "status": task.status, "status_label": task.status_label,
        "claimed_by": task.claimed_by, "claimed_by_name": task.claimed_by_name,
        "overdue": task.is_overdue(today), "days_overdue": task.days_overdue(calendar, today),
        "outcome": task.outcome, "outcome_label": OUTCOMES.get(task.outcome) if task.outcome else None,
        "closed_reason": task.closed_reason, "indicators": indicators, "prerequisites": prerequisites,
        "checks": checks, "attachments": attachments, "other_attachments": other,
        "opinions": [opinion_view(o, catalog) | {"current": o is current} for o in reversed(task.opinions)],
        "reminders": [r.to_dict() for r in task.reminders], "transfers": [t.to_dict() for t in task.transfers],
        "history": [h.to_dict() for h in task.history], "photos": photos, "previous": previous,
        "returned_reasons": returned_reasons, "permissions": permissions,
    }


def side_by_side(version, tasks: list[ReviewTask], catalog: Catalog, department_name) -> dict:
    """Every applicable indicator with the self-assessment, each department's current opinion on it, and the
    entry the re-score uses; the same for prerequisites and (lead) the seven checks."""
    columns = [{"department": t.department, "name": department_name(t.department), "lead": t.lead,
                "task_id": t.task_id, "decision": t.current_opinion.decision if t.current_opinion else None,
                "decision_label": t.current_opinion.decision_label if t.current_opinion else None}
               for t in sorted(tasks, key=lambda t: (not t.lead, t.department))]
    by_department = {t.department: t for t in tasks}
    sources = reviewer_entries(tasks)
    entries = (version.assessment or {}).get("indicators") or {}
    rows = []
    for no in version.applicable_indicators:
        indicator = catalog.indicator(no)
        cells = {}
        for column in columns:
            task = by_department[column["department"]]
            if no not in task.indicators:
                continue
            item = task.current_opinion.indicator(no) if task.current_opinion else None
            cells[column["department"]] = (item.to_dict() if item else
                                           {"indicator": no, "opinion": "", "pending": task.current_opinion is None})
        chosen = chosen_entry(sources[no]) if no in sources else None
        rows.append({"no": no, "name": indicator.name, "points": _num(indicator.points),
                     "binding": indicator.binding, "self": _entry_label(entries.get(str(no))),
                     "cells": cells,
                     "rescore": ("不涉及" if chosen and chosen.score is None else
                                 f"{_num(chosen.score)} 分({department_name(chosen.department)})" if chosen
                                 else "沿用自评"),
                     "differs": bool(chosen)})
    prerequisites = []
    for prerequisite in catalog.prerequisites:
        cells = {}
        for column in columns:
            task = by_department[column["department"]]
            if prerequisite.code not in task.prerequisites:
                continue
            finding = task.current_opinion.prerequisite(prerequisite.code) if task.current_opinion else None
            cells[column["department"]] = finding.to_dict() if finding else None
        prerequisites.append({"code": prerequisite.code, "name": prerequisite.name,
                              "self": (version.assessment or {}).get("prerequisites", {}).get(prerequisite.code),
                              "cells": cells})
    lead = next((t for t in tasks if t.lead), None)
    checks = []
    for item in INITIAL_REVIEW_CHECKS:
        finding = next((c for c in lead.current_opinion.checks if c.check == item.code), None) if (
            lead and lead.current_opinion) else None
        checks.append({**item.to_dict(), "label": item.label, "finding": finding.to_dict() if finding else None})
    return {"columns": columns, "indicators": rows, "prerequisites": prerequisites, "checks": checks}
