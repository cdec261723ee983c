"""The intake use cases: register and edit mines, start and edit applications, upload attachments, submit, and
apply what the scoring and review routing services report.

Every command runs in ONE transaction (``store.transaction``): the aggregate, its frozen versions, the audit log
entry and, on submission, the ``intake.application_submitted`` event in the outbox are written together or not at
all.  The only writes outside it are GridFS uploads, which are deleted again when their metadata transaction
fails.  Calls to the scoring service happen before the transaction (a transaction must have no outside effects,
since it may be retried), and the transaction checks that the draft did not change meanwhile.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from intake.adapters import mongo
from intake.adapters.files import AttachmentFiles, UploadRefused
from intake.adapters.mongo import (
    ApplicationRepository, AuditLog, DuplicateMine, MineRepository, actor_of, version_from_document,
)
from intake.adapters.scoring_client import ScoringClient, ScoringUnavailable
from intake.adapters.translators import reasons_from_decision, submitted_event
from intake.domain import materials as mat
from intake.domain.application import (
    _INDICATOR_KEY, Application, ApplicationResubmitted, ApplicationSubmitted, AttachmentRef,
)
from intake.domain.errors import (
    FieldError, InvalidApplicationData, InvalidTransition, MineInvalid, NotEditable, SubmissionRefused,
    VersionFrozen,
)
from intake.domain.mine import INDUSTRY_GROUPS, MINING_METHODS, Mine
from shared.catalog import load_catalog
from shared.messaging import PermanentFailure
from shared.storage import ConcurrencyError, ServiceStore, Transaction

from . import access, drafts
from .errors import Conflict, Forbidden, Invalid, NotFound, Unavailable

log = logging.getLogger(__name__)

CHINA = timezone(timedelta(hours=8))
DEFAULT_CATALOG = "nm-2025"
#: An application in one of these statuses no longer blocks a new application for its mine.
CLOSED_STATUSES = ("rejected", "not_listed", "removed")
_UNSET = object()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Loaded:
    app: Application
    doc: dict
    mine: Mine | None
    mine_doc: dict | None


class IntakeService:
    def __init__(self, store: ServiceStore, files: AttachmentFiles, scoring: ScoringClient,
                 clock: Callable[[], datetime] = utcnow, catalog_id: str = DEFAULT_CATALOG):
        self.store = store
        self.db = store.db
        self.files = files
        self.scoring = scoring
        self.clock = clock
        self.catalog_id = catalog_id

    # -- time and index ----------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Dates of licences and production are calendar dates in China (UTC+8)."""
        return self.clock().astimezone(CHINA).date()

    def catalog(self, catalog_id: str | None = None):
        return load_catalog(catalog_id or self.catalog_id)

    # -- mines -------------------------------------------------------------------------------------------------

    def list_mines(self, principal) -> list[tuple[Mine, dict]]:
        query = access.list_query(principal)
        if query is None:
            return []
        return [(mongo.mine_from_document(d), d) for d in MineRepository(self.db).list(query)]

    def get_mine(self, principal, mine_id: str) -> tuple[Mine, dict]:
        found = MineRepository(self.db).get(mine_id)
        if found is None:
            raise NotFound("找不到该矿山")
        mine, doc = found
        access.check_read(principal, mine.credit_code, mine.league, "矿山")
        return mine, doc

    def _mine_input(self, principal, data: dict) -> dict:
        data = dict(data)
        enterprise = dict(data.get("enterprise") or {})
        if not enterprise.get("credit_code"):
            enterprise["credit_code"] = principal.enterprise
        if not enterprise.get("name") and principal.display_name and principal.display_name != principal.username:
            enterprise["name"] = principal.display_name
        data["enterprise"] = enterprise
        return data

    def _own_mine(self, principal, mine: Mine) -> None:
        if mine.credit_code != principal.enterprise:
            raise Forbidden(f"只能登记本企业（统一社会信用代码 {principal.enterprise}）的矿山")

    def register_mine(self, principal, data: dict) -> tuple[Mine, dict]:
        if principal.role != "enterprise":
            raise Forbidden("只有矿山企业可以登记矿山")
        data = self._mine_input(principal, data)
        try:
            mine = Mine.create(data, self.today(), id="mine-" + uuid.uuid4().hex[:12])
        except MineInvalid as exc:
            raise Invalid.from_field_errors("矿山信息有误，请按提示修改", exc.errors) from None
        self._own_mine(principal, mine)
        now = self.now()

        def command(tx: Transaction):
            repo = MineRepository(tx.db, tx.session)
            doc = repo.add(tx, mine, principal.username, now)
            AuditLog(tx.db, tx.session).record(actor=actor_of(principal), action="mine_registered",
                                               subject_type="mine", subject_id=mine.id, at=now,
                                               detail={"mine": mine.to_dict()})
            return doc

        try:
            doc = self.store.transaction(command)
        except DuplicateMine as exc:
            raise _duplicate(exc) from None
        return mine, doc

    def update_mine(self, principal, mine_id: str, data: dict, expected_version: int | None = None
                    ) -> tuple[Mine, dict]:
        mine, doc = self.get_mine(principal, mine_id)
        access.check_write(principal, mine.credit_code, "矿山")
        data = self._mine_input(principal, data)
        today = self.today()
        try:
            updated = Mine.create(data, today, id=mine_id)
        except MineInvalid as exc:
            raise Invalid.from_field_errors("矿山信息有误，请按提示修改", exc.errors) from None
        self._own_mine(principal, updated)
        now = self.now()

        def command(tx: Transaction):
            repo = MineRepository(tx.db, tx.session)
            current = repo.get_document(mine_id)
            if expected_version is not None and current["version"] != expected_version:
                raise Conflict("矿山信息已在其他地方修改，请刷新后再编辑")
            saved = repo.save(tx, updated, current, principal.username, now)
            before = mongo.mine_from_document(current).to_dict()
            after = updated.to_dict()
            changed = sorted(k for k in after if before.get(k) != after.get(k))
            AuditLog(tx.db, tx.session).record(actor=actor_of(principal), action="mine_updated",
                                               subject_type="mine", subject_id=mine_id, at=now,
                                               detail={"changed": changed, "before": before, "after": after})
            # listing fields of the mine's applications follow the register
            tx.db[mongo.APPLICATIONS].update_many(
                {"mine_id": mine_id}, {"$set": {"mine_name": updated.name, "league": updated.league,
                                                "county": updated.county,
                                                "enterprise_name": updated.enterprise.name}},
                session=tx.session)
            return saved

        try:
            saved = self._run(command)
        except DuplicateMine as exc:
            raise _duplicate(exc) from None
        return updated, saved

    # -- applications: reading -----------------------------------------------------------------------------------

    def list_applications(self, principal, status: str | None = None, mine_id: str | None = None) -> list[dict]:
        query = access.list_query(principal)
        if query is None:
            return []
        if status:
            query["status"] = status
        if mine_id:
            query["mine_id"] = mine_id
        return ApplicationRepository(self.db).list(query)

    def load(self, principal, app_id: str, *, write: bool = False, repo: ApplicationRepository | None = None
             ) -> Loaded:
        repo = repo or ApplicationRepository(self.db)
        found = repo.get(app_id)
        if found is None:
            raise NotFound("找不到该申报")
        app, doc = found
        access.check_read(principal, app.credit_code, doc.get("league"), "申报")
        if write:
            access.check_write(principal, app.credit_code, "申报")
        mine_found = MineRepository(repo.db, repo.session).get(app.mine_id)
        mine, mine_doc = mine_found if mine_found else (None, None)
        return Loaded(app, doc, mine, mine_doc)

    def mine_problems(self, app: Application, mine: Mine | None) -> list[FieldError]:
        if mine is None:
            return [FieldError("mine", "矿山：登记信息已不存在")]
        problems = list(mine.submission_problems(self.today()))
        given = (app.assessment or {}).get("mine") or {}
        if given.get("industry_group") not in (None, mine.industry_group):
            problems.append(FieldError("assessment.mine.industry_group",
                                       f"自评估：矿山行业分支已改为{INDUSTRY_GROUPS[mine.industry_group][:3]}，"
                                       "请按新的分支重新填写自评估"))
        if given.get("mining_method") not in (None, mine.mining_method):
            problems.append(FieldError("assessment.mine.mining_method",
                                       f"自评估：矿山开采方式已改为“{MINING_METHODS[mine.mining_method]}”，"
                                       "请按新的开采方式重新填写自评估"))
        return problems

    def get_version(self, principal, app_id: str, number: int):
        loaded = self.load(principal, app_id)
        doc = ApplicationRepository(self.db).version_document(app_id, number)
        if doc is None:
            raise NotFound(f"申报没有第{number}版")
        return loaded, version_from_document(doc)

    # -- applications: commands -----------------------------------------------------------------------------------

    def start_application(self, principal, mine_id: str, *, assessment=None, records=None,
                          declared_penalties=_UNSET, catalog_id: str | None = None) -> Loaded:
        if principal.role != "enterprise":
            raise Forbidden("只有矿山企业可以申报")
        found = MineRepository(self.db).get(mine_id)
        if found is None:
            raise Invalid("提交的数据有误，请按提示修改", {"mine_id": ["矿山：找不到该矿山，请先登记矿山"]})
        mine, mine_doc = found
        access.check_read(principal, mine.credit_code, mine.league, "矿山")
        access.check_write(principal, mine.credit_code, "矿山")
        catalog_id = catalog_id or self.catalog_id
        try:
            catalog = self.catalog(catalog_id)
        except Exception:
            raise Invalid("提交的数据有误，请按提示修改", {"catalog": [f"评价指标版本：没有“{catalog_id}”"]}) from None
        changes, errors = self._draft_changes(catalog, mine, assessment, records, declared_penalties)
        if errors:
            raise Invalid.from_field_errors("申报内容有误，请按提示修改", errors)
        changes.pop("_merge_records", None)
        if changes.get("assessment") is None:
            changes.pop("assessment", None)
        now = self.now()
        app_id = "app-" + uuid.uuid4().hex[:12]

        def command(tx: Transaction):
            repo = ApplicationRepository(tx.db, tx.session)
            other = repo.open_for_mine(mine_id, CLOSED_STATUSES)
            if other is not None:
                raise Conflict(f"该矿山已有进行中的申报（{other['_id']}，{_status_label(other['status'])}），"
                               "请在原申报中继续")
            try:
                app = Application.start(app_id, mine_id, mine.credit_code, catalog.id, now, principal.username)
                if changes:
                    app.update_draft(now, principal.username, **changes)
            except InvalidApplicationData as exc:
                raise Invalid.from_field_errors("申报内容有误，请按提示修改", exc.errors) from None
            repo.save(tx, app, _listing(mine))
            AuditLog(tx.db, tx.session).record(actor=actor_of(principal), action="application_created",
                                               subject_type="application", subject_id=app_id, at=now,
                                               detail={"mine_id": mine_id, "catalog": catalog.id,
                                                       "fields": sorted(changes)})
            return app

        self._run(command)
        return self.load(principal, app_id)

    def _draft_changes(self, catalog, mine: Mine, assessment, records, declared_penalties
                       ) -> tuple[dict, list[FieldError]]:
        changes: dict = {}
        errors: list[FieldError] = []
        inner_records: dict[str, str] = {}
        if assessment is not _UNSET and assessment is not None:
            clean, inner_records, errs = drafts.normalise(assessment, catalog, mine)
            errors += errs
            changes["assessment"] = clean
        elif assessment is None:
            changes["assessment"] = None
        if records is not _UNSET and records is not None:
            if not isinstance(records, dict):
                errors.append(FieldError("records", "检查记录：格式不正确"))
            else:
                changes["records"] = {**inner_records, **records}
        elif inner_records:
            changes["records"] = inner_records  # merged with the stored records by the caller
            changes["_merge_records"] = True
        if declared_penalties is not _UNSET:
            if declared_penalties is not None and not isinstance(declared_penalties, bool):
                errors.append(FieldError("declared_penalties", "近3年行政处罚声明：应为“是”或“否”"))
            else:
                changes["declared_penalties"] = declared_penalties
        return changes, errors

    def update_application(self, principal, app_id: str, *, assessment=_UNSET, records=_UNSET,
                           declared_penalties=_UNSET, record_patch: dict | None = None,
                           expected_revision: int | None = None) -> Loaded:
        loaded = self.load(principal, app_id, write=True)
        if loaded.mine is None:
            raise Conflict("矿山登记信息已不存在，不能编辑申报")
        catalog = self.catalog(loaded.app.catalog)
        changes, errors = self._draft_changes(catalog, loaded.mine, assessment, records, declared_penalties)
        if record_patch:
            for key in record_patch:
                if not _INDICATOR_KEY.fullmatch(key):
                    errors.append(FieldError(f"records.{key}", f"检查记录：“{key}”不是指标编号（1–50 或 P1–P5）"))
            if "records" in changes and not changes.get("_merge_records"):
                errors.append(FieldError("record", "检查记录：record 与 records 只能二选一"))
            else:
                changes["records"] = {**changes.get("records", {}), **record_patch}
                changes["_merge_records"] = True
        if errors:
            raise Invalid.from_field_errors("申报内容有误，请按提示修改", errors)
        now = self.now()

        def command(tx: Transaction):
            repo = ApplicationRepository(tx.db, tx.session)
            current = self.load(principal, app_id, write=True, repo=repo)
            app = current.app
            if expected_revision is not None and app.revision != expected_revision:
                raise Conflict("申报已在其他窗口或设备上修改，请刷新页面（您在本页填写的内容已保存在本机）")
            todo = dict(changes)
            if todo.pop("_merge_records", False):
                todo["records"] = {k: v for k, v in {**app.records, **todo["records"]}.items() if v and v.strip()}
            same = {k: v for k, v in todo.items() if _current(app, k) == v}
            for k in same:
                todo.pop(k)
            if not todo:
                if not app.is_editable:
                    raise Conflict(str(NotEditable(app.status, _not_editable(app))))
                return current
            try:
                app.update_draft(now, principal.username, **todo)
            except InvalidApplicationData as exc:
                raise Invalid.from_field_errors("申报内容有误，请按提示修改", exc.errors) from None
            except NotEditable as exc:
                raise Conflict(str(exc)) from None
            repo.save(tx, app, _listing(current.mine))
            AuditLog(tx.db, tx.session).record(
                actor=actor_of(principal), action="draft_updated", subject_type="application", subject_id=app_id,
                at=now, detail={"fields": sorted(todo), "revision": app.revision, "draft": _jsonable(todo)})
            return _after(current)

        return self._run(command)

    def add_attachment(self, principal, app_id: str, *, kind: str, indicator: str | None, stream, filename: str,
                       declared_type: str | None) -> tuple[Loaded, AttachmentRef]:
        loaded = self.load(principal, app_id, write=True)
        if not loaded.app.is_editable:
            raise Conflict(_not_editable(loaded.app))
        indicator = (indicator or "").strip() or None
        errors: dict[str, list[str]] = {}
        if mat.kind_by_code(kind or "") is None:
            errors["kind"] = [f"材料类型：未知的材料类型“{kind}”（可选：" + "、".join(
                f"{k.code}（{k.label}）" for k in mat.KINDS) + "）"]
        if indicator is not None:
            problem = self._indicator_problem(loaded, indicator)
            if problem:
                errors["indicator"] = [problem]
        elif kind == mat.EVIDENCE:
            errors["indicator"] = ["所属指标：指标佐证材料须注明所属指标（1–50 或 P1–P5）"]
        if errors:
            raise Invalid("上传的文件有误，请按提示修改", errors)
        try:
            stored = self.files.store(stream, kind=kind, filename=filename, declared_type=declared_type,
                                      metadata={"application_id": app_id, "indicator": indicator,
                                                "uploaded_by": principal.username})
        except UploadRefused as exc:
            raise Invalid("上传的文件有误，请按提示修改", exc.errors) from None
        now = self.now()
        ref = AttachmentRef(id=stored.id, kind=kind, filename=stored.filename, content_type=stored.content_type,
                            size=stored.size, sha256=stored.sha256, uploaded_at=now, indicator=indicator)

        def command(tx: Transaction):
            repo = ApplicationRepository(tx.db, tx.session)
            current = self.load(principal, app_id, write=True, repo=repo)
            try:
                current.app.add_attachment(ref, now, principal.username)
            except InvalidApplicationData as exc:
                raise Invalid.from_field_errors("上传的文件有误，请按提示修改", exc.errors) from None
            except NotEditable as exc:
                raise Conflict(str(exc)) from None
            repo.save(tx, current.app, _listing(current.mine))
            AuditLog(tx.db, tx.session).record(actor=actor_of(principal), action="attachment_added",
                                               subject_type="application", subject_id=app_id, at=now,
                                               detail=ref.to_dict())
            return _after(current)

        try:
            after = self._run(command)
        except BaseException:
            self.files.delete(stored.id)  # nothing half-written: no orphan file without its metadata
            raise
        return after, ref

    def _indicator_problem(self, loaded: Loaded, indicator: str) -> str | None:
        if not _INDICATOR_KEY.fullmatch(indicator):
            return f"所属指标：“{indicator}”不是指标编号（1–50 或 P1–P5）"
        catalog = self.catalog(loaded.app.catalog)
        if indicator.startswith("P"):
            return None if indicator in catalog.prerequisite_codes else f"所属指标：没有先决条件{indicator}"
        if loaded.mine is not None:
            numbers = {i.no for i in catalog.indicators_in_group(loaded.mine.industry_group)}
            if int(indicator) not in numbers:
                return (f"所属指标：第{indicator}项指标不适用于行业分支"
                        f"{INDUSTRY_GROUPS[loaded.mine.industry_group][:3]}")
        return None

    def remove_attachment(self, principal, app_id: str, attachment_id: str) -> Loaded:
        now = self.now()

        def command(tx: Transaction):
            repo = ApplicationRepository(tx.db, tx.session)
            current = self.load(principal, app_id, write=True, repo=repo)
            try:
                ref = current.app.remove_attachment(attachment_id, now, principal.username)
            except InvalidApplicationData:
                raise NotFound("找不到该附件") from None
            except NotEditable as exc:
                raise Conflict(str(exc)) from None
            repo.save(tx, current.app, _listing(current.mine))
            AuditLog(tx.db, tx.session).record(actor=actor_of(principal), action="attachment_removed",
                                               subject_type="application", subject_id=app_id, at=now,
                                               detail=ref.to_dict())
            return not current.app.is_referenced_by_a_version(attachment_id), _after(current)

        unreferenced, after = self._run(command)
        if unreferenced:
            self.files.delete(attachment_id)  # no version refers to it: the bytes go too
        return after

    def open_attachment(self, principal, app_id: str, attachment_id: str):
        """(ref, GridOut) of an attachment of the draft or of any version; the download is audited."""
        loaded = self.load(principal, app_id)
        refs = {a.id: a for a in loaded.app.attachments}
        for v in loaded.app.versions:
            refs.update({a.id: a for a in v.attachments})
        ref = refs.get(attachment_id)
        if ref is None:
            raise NotFound("找不到该附件")
        grid_out = self.files.open(attachment_id)
        if grid_out is None:
            raise NotFound("附件文件已不存在")
        now = self.now()
        self.store.transaction(lambda tx: AuditLog(tx.db, tx.session).record(
            actor=actor_of(principal), action="attachment_downloaded", subject_type="application",
            subject_id=app_id, at=now, detail={"attachment": ref.id, "kind": ref.kind, "indicator": ref.indicator,
                                               "filename": ref.filename, "sha256": ref.sha256}))
        return ref, grid_out

    # -- submission ---------------------------------------------------------------------------------------------

    def evaluate(self, principal, assessment: dict):
        try:
            return self.scoring.evaluate(assessment, principal)
        except ScoringUnavailable as exc:
            log.warning("scoring unavailable: %s", exc)
            raise Unavailable("评分服务暂时不可用，草稿已保存，请稍后再提交") from None

    def submit(self, principal, app_id: str) -> Loaded:
        loaded = self.load(principal, app_id, write=True)
        app = loaded.app
        if not app.is_editable:
            raise Conflict(_not_editable(app))
        assessment_errors: list[dict] = []
        report = None
        if app.assessment and app.assessment.get("indicators") and loaded.mine is not None:
            evaluation = self.evaluate(principal, app.assessment_with_records())
            report = evaluation.report
            assessment_errors = list(evaluation.errors)
            if report is not None:
                assessment_errors += verdict_problems(report, self.catalog(app.catalog))
        revision = app.revision
        now = self.now()
        actor = principal.username

        def command(tx: Transaction):
            repo = ApplicationRepository(tx.db, tx.session)
            current = self.load(principal, app_id, write=True, repo=repo)
            if current.app.revision != revision:
                raise Conflict("申报内容在提交过程中被修改，请重新提交")
            try:
                version = current.app.submit(
                    now, actor, assessment_errors=assessment_errors,
                    mine_problems=self.mine_problems(current.app, current.mine),
                    mine_snapshot=current.mine.to_dict() if current.mine else None)
            except SubmissionRefused as exc:
                raise Invalid.from_field_errors("申报材料尚不齐全或有误，暂不能提交：请按清单补充后再提交",
                                                exc.errors) from None
            except InvalidTransition as exc:
                raise Conflict(str(exc)) from None
            repo.save(tx, current.app, _listing(current.mine))
            for event in current.app.events:
                if isinstance(event, (ApplicationSubmitted, ApplicationResubmitted)):
                    tx.publish(submitted_event(current.app, current.app.version(event.version)))
            AuditLog(tx.db, tx.session).record(
                actor=actor_of(principal), action="application_resubmitted" if version.number > 1
                else "application_submitted", subject_type="application", subject_id=app_id, at=now,
                detail={"version": version.number, "preview_total": report.get("total") if report else None,
                        "preview_verdict": report.get("verdict") if report else None})
            return _after(current)

        return self._run(command)

    def score_sheet(self, principal, app_id: str, version: int | None, fmt: str):
        loaded = self.load(principal, app_id)
        if version is None:
            if loaded.app.latest_version is not None and not loaded.app.is_editable:
                assessment = loaded.app.latest_version.assessment_with_records()
            else:
                assessment = loaded.app.assessment_with_records()
        else:
            try:
                assessment = loaded.app.version(version).assessment_with_records()
            except KeyError:
                raise NotFound(f"申报没有第{version}版") from None
        if not assessment or not assessment.get("indicators"):
            raise Invalid("自评估尚未填写，无法生成评分表", {"assessment": ["自评估：尚未填写"]})
        try:
            return self.scoring.sheet(assessment, fmt, principal)
        except ScoringUnavailable:
            raise Unavailable("评分服务暂时不可用，请稍后再试") from None
        except ValueError as exc:
            raise Invalid("自评估尚未填写完整，无法生成评分表", {"assessment": [str(exc)]}) from None

    # -- events from other services ---------------------------------------------------------------------------------

    def on_assessment_scored(self, envelope: dict, tx: Transaction) -> None:
        payload = envelope["payload"]
        subject = payload["subject"]
        if payload["stage"] != "self_assessment" or subject["kind"] != "application":
            return  # other stages are shown by the services that own them
        repo = ApplicationRepository(tx.db, tx.session)
        found = repo.get(subject["id"])
        if found is None:
            raise PermanentFailure(f"unknown application {subject['id']}")
        app, doc = found
        try:
            changed = app.record_score_report(subject["version_no"], payload["report"], self.now(), "scoring")
        except KeyError:
            raise PermanentFailure(f"application {app.id} has no version {subject['version_no']}") from None
        except VersionFrozen:
            log.warning("ignoring a second, different self-assessment report for %s v%s", app.id,
                        subject["version_no"])
            return
        if changed:
            repo.save(tx, app, _listing_from(doc))
            AuditLog(tx.db, tx.session).record(
                actor=actor_of("scoring"), action="score_recorded", subject_type="application", subject_id=app.id,
                detail={"version": subject["version_no"], "total": payload["report"].get("total"),
                        "verdict": payload["report"].get("verdict"), "event_id": envelope["event_id"]})

    def _case(self, envelope: dict, tx: Transaction):
        payload = envelope["payload"]
        repo = ApplicationRepository(tx.db, tx.session)
        found = repo.get(payload["application_id"])
        if found is None:
            raise PermanentFailure(f"unknown application {payload['application_id']}")
        app, doc = found
        latest = app.latest_version.number if app.versions else 0
        number = payload["version_no"]
        if number > latest:
            raise PermanentFailure(f"application {app.id} has no version {number} (latest {latest})")
        if number < latest:
            log.info("ignoring %s for superseded version %s of %s", envelope["type"], number, app.id)
            return None
        return repo, app, doc

    def on_case_routed(self, envelope: dict, tx: Transaction) -> None:
        found = self._case(envelope, tx)
        if found is None:
            return
        repo, app, doc = found
        if app.status not in ("submitted", "resubmitted"):
            return  # already routed, or the decision (which implies routing) arrived first
        payload = envelope["payload"]
        at = _parse_time(payload["routed_at"])
        departments = sorted({t["department"] for t in payload["tasks"]})
        app.mark_routed(at, "review_routing", {"version": payload["version_no"], "league": payload["league"],
                                               "departments": departments})
        repo.save(tx, app, _listing_from(doc))
        AuditLog(tx.db, tx.session).record(actor=actor_of("review_routing"), action="case_routed",
                                           subject_type="application", subject_id=app.id, at=at,
                                           detail={"version": payload["version_no"], "departments": departments,
                                                   "event_id": envelope["event_id"]})

    def on_initial_review_decided(self, envelope: dict, tx: Transaction) -> None:
        found = self._case(envelope, tx)
        if found is None:
            return
        repo, app, doc = found
        payload = envelope["payload"]
        at = _parse_time(payload["decided_at"])
        actor = payload["decided_by"]
        if app.status in ("submitted", "resubmitted"):
            # Out of order: the decision overtook the routing event; routing certainly happened before it.
            app.mark_routed(at, "review_routing", {"version": payload["version_no"], "league": payload["league"]})
        if app.status != "routed":
            return  # this version's decision is already applied
        reasons, comment = reasons_from_decision(payload.get("reasons") or [])
        reasons = _valid_reasons(reasons)
        decision = payload["decision"]
        if decision == "returned":
            app.return_for_correction(at, actor, reasons or {"general": "退回补正（未说明具体理由，请联系盟市自然资源局）"},
                                      comment)
        elif decision == "forwarded":
            app.forward(at, actor, "；".join(reasons.values()))
        else:
            app.reject(at, actor, reasons, comment or ("" if reasons else "初审不予通过"))
        repo.save(tx, app, _listing_from(doc))
        AuditLog(tx.db, tx.session).record(actor={"username": actor, "role": "review_routing"},
                                           action=f"initial_review_{decision}", subject_type="application",
                                           subject_id=app.id, at=at,
                                           detail={"version": payload["version_no"], "reasons": reasons,
                                                   "event_id": envelope["event_id"]})

    # -- internals --------------------------------------------------------------------------------------------------

    def _run(self, command):
        try:
            return self.store.transaction(command)
        except ConcurrencyError:
            raise Conflict("记录已被同时修改，请刷新后重试") from None


def _after(loaded: Loaded) -> Loaded:
    """The aggregate as the transaction left it (no second read): listing fields refreshed from the mine."""
    loaded.app.events.clear()
    return Loaded(loaded.app, {**loaded.doc, **_listing(loaded.mine)}, loaded.mine, loaded.mine_doc)


def verdict_problems(report: dict, catalog) -> list[dict]:
    """附件2 一: an enterprise applies once its self-assessment reaches the standard.  Anything short of
    ``qualified`` is listed as a reason to refuse submission, naming the item."""
    if report.get("verdict") == "qualified":
        return []
    problems = []
    for code in report.get("failed_prerequisites") or ():
        try:
            name = catalog.prerequisite(code).name
        except KeyError:
            name = ""
        problems.append({"field": f"prerequisites.{code}",
                         "message": f"先决条件{code}「{name}」未满足，不具备遴选资格"})
    for no in report.get("failed_binding") or ():
        scores = (report.get("indicator_scores") or {}).get(str(no)) or {}
        problems.append({"field": f"indicators.{no}",
                         "message": f"约束性指标第{no}项「{scores.get('name', '')}」须得满分"
                                    f"（标准分{scores.get('points')}，自评{scores.get('score')}）"})
    try:
        below = float(report.get("total") or 0) < float(report.get("pass_total") or 60)
    except ValueError:
        below = False
    if below:
        problems.append({"field": "total", "message": f"自评总分{report.get('total')}分，低于{report.get('pass_total')}分"})
    if not problems:
        problems.append({"field": "verdict", "message": f"自评结论为“{report.get('verdict_label')}”，未达到申报标准"})
    return problems


def _valid_reasons(reasons: dict[str, str]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for key, text in reasons.items():
        valid = (_INDICATOR_KEY.fullmatch(key) or key == "general"
                 or (key.startswith("materials.") and mat.kind_by_code(key[10:])))
        if valid:
            out.setdefault(key, []).append(text[:2000])
        else:
            out.setdefault("general", []).append(f"[{key}] {text}"[:2000])
    return {k: "；".join(v)[:2000] for k, v in out.items()}


def _parse_time(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _listing(mine: Mine | None) -> dict:
    if mine is None:
        return {}
    return {"league": mine.league, "county": mine.county, "mine_name": mine.name,
            "enterprise_name": mine.enterprise.name}


def _listing_from(doc: dict) -> dict:
    return {k: doc[k] for k in ("league", "county", "mine_name", "enterprise_name") if k in doc}


def _current(app: Application, key: str):
    if key == "records":
        return dict(app.records)
    return getattr(app, key)


def _status_label(status: str) -> str:
    from intake.domain.application import STATUSES

    return STATUSES.get(status, status)


def _not_editable(app: Application) -> str:
    return f"申报当前状态为“{app.status_label}”，不能修改；只有草稿或退回补正的申报可以修改"


def _duplicate(exc: DuplicateMine) -> Invalid:
    existing = exc.existing or {}
    name = existing.get("name")
    where = f"（已登记为“{name}”）" if name else ""
    return Invalid("矿山信息有误，请按提示修改",
                   {"mining_licence.number": [f"采矿许可证证号：该证号已登记{where}，同一矿山不能重复登记"]})


def _jsonable(value):
    from intake.domain.application import to_plain

    try:
        return to_plain(value)
    except ValueError:
        return str(value)
