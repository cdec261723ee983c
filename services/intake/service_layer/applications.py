"""Handlers of an application's draft: start it, edit the self-assessment, 检查记录 and the penalty declaration,
add and remove attachments, download a file (audited).

An upload's bytes go to the file store BEFORE the transaction that records its reference (a transaction is
retried and must have no outside effect); when that transaction fails the file is deleted again."""
from __future__ import annotations

import uuid

from intake.domain import materials as mat
from intake.domain.application import Application
from intake.domain.commands import (
    UNSET,
    AddAttachment,
    EditDraft,
    ImportDraft,
    OpenAttachment,
    RemoveAttachment,
    StartApplication,
)
from intake.domain.errors import FieldError, InvalidApplicationData, NotEditable
from intake.domain.mine import INDUSTRY_GROUPS
from intake.domain.status import CLOSED_STATUSES
from intake.domain.values import INDICATOR_KEY, AttachmentRef
from shared import text as texts
from shared.errors import Conflict, InvalidInput, NotFound, NotPermitted

from . import access, drafts
from .common import (
    DEFAULT_CATALOG,
    Catalogs,
    Clock,
    Loaded,
    actor_of,
    after,
    for_view,
    jsonable,
    listing,
    load,
    not_editable,
    status_label,
)
from .unit_of_work import IntakeUnitOfWork, Scope

INVALID_DRAFT = "申报内容有误，请按提示修改"
INVALID_UPLOAD = "上传的文件有误，请按提示修改"


def start_application(cmd: StartApplication, uow: IntakeUnitOfWork, *, clock: Clock, catalogs: Catalogs) -> Loaded:
    principal = cmd.principal
    if principal.role != "enterprise":
        raise NotPermitted("只有矿山企业可以申报")
    found = uow.read(lambda: uow.mines.get(cmd.mine_id))
    if found is None:
        raise InvalidInput("提交的数据有误，请按提示修改", [FieldError("mine_id", "矿山：找不到该矿山，请先登记矿山")])
    mine, mine_doc = found
    access.check_read(principal, mine.credit_code, mine.league, "矿山")
    access.check_write(principal, mine.credit_code, "矿山")
    catalog_id = cmd.catalog or DEFAULT_CATALOG
    try:
        catalog = catalogs(catalog_id)
    except Exception:
        raise InvalidInput("提交的数据有误，请按提示修改",
                           [FieldError("catalog", f"评价指标版本：没有“{catalog_id}”")]) from None
    changes, errors = _draft_changes(catalog, mine, cmd.assessment, cmd.records, cmd.declared_penalties)
    if errors:
        raise InvalidApplicationData(errors, INVALID_DRAFT)
    changes.pop("_merge_records", None)
    if changes.get("assessment") is None:
        changes.pop("assessment", None)
    now = clock()
    app_id = "app-" + uuid.uuid4().hex[:12]

    def work():
        other = uow.applications.open_for_mine(cmd.mine_id, CLOSED_STATUSES)
        if other is not None:
            raise Conflict(f"该矿山已有进行中的申报（{other['_id']}，{status_label(other['status'])}），"
                           "请在原申报中继续")
        try:
            app = Application.start(app_id, cmd.mine_id, mine.credit_code, catalog.id, now, principal.username)
            if changes:
                app.update_draft(now, principal.username, **changes)
        except InvalidApplicationData as exc:
            raise InvalidApplicationData(exc.errors, INVALID_DRAFT) from None
        uow.applications.save(app, listing(mine))
        uow.audit.record(actor=actor_of(principal), action="application_created", subject_type="application",
                         subject_id=app_id, at=now,
                         detail={"mine_id": cmd.mine_id, "catalog": catalog.id, "fields": sorted(changes)})
        return app

    app = uow.run(work)
    doc = {"_id": app.id, **listing(mine), "versions_count": 0}
    return for_view(Loaded(app, doc, mine, mine_doc), catalogs, clock)


def edit_draft(cmd: EditDraft, uow: IntakeUnitOfWork, *, clock: Clock, catalogs: Catalogs) -> Loaded:
    principal = cmd.principal
    loaded = uow.read(lambda: load(uow, principal, cmd.application_id, write=True))
    if loaded.mine is None:
        raise Conflict("矿山登记信息已不存在，不能编辑申报")
    catalog = catalogs(loaded.app.catalog)
    changes, errors = _draft_changes(catalog, loaded.mine, cmd.assessment, cmd.records, cmd.declared_penalties)
    if cmd.record_patch:
        for key in cmd.record_patch:
            if not INDICATOR_KEY.fullmatch(key):
                errors.append(FieldError(f"records.{key}", f"检查记录：“{key}”不是指标编号（1–50 或 P1–P5）"))
        if "records" in changes and not changes.get("_merge_records"):
            errors.append(FieldError("record", "检查记录：record 与 records 只能二选一"))
        else:
            changes["records"] = {**changes.get("records", {}), **cmd.record_patch}
            changes["_merge_records"] = True
    if errors:
        raise InvalidApplicationData(errors, INVALID_DRAFT)
    now = clock()

    def work():
        current = load(uow, principal, cmd.application_id, write=True)
        app = current.app
        if cmd.expected_revision is not None and app.revision != cmd.expected_revision:
            raise Conflict("申报已在其他窗口或设备上修改，请刷新页面（您在本页填写的内容已保存在本机）")
        todo = dict(changes)
        if todo.pop("_merge_records", False):
            todo["records"] = {k: v for k, v in {**app.records, **todo["records"]}.items() if v and v.strip()}
        for key in [k for k, v in todo.items() if _current(app, k) == v]:
            todo.pop(key)
        if not todo:
            if not app.is_editable:
                raise NotEditable(app.status, not_editable(app))
            return current
        try:
            app.update_draft(now, principal.username, **todo)
        except InvalidApplicationData as exc:
            raise InvalidApplicationData(exc.errors, INVALID_DRAFT) from None
        uow.applications.save(app, listing(current.mine))
        uow.audit.record(actor=actor_of(principal), action="draft_updated", subject_type="application",
                         subject_id=cmd.application_id, at=now,
                         detail={"fields": sorted(todo), "revision": app.revision, "draft": jsonable(todo)})
        return after(current)

    return for_view(uow.run(work), catalogs, clock)


def add_attachment(cmd: AddAttachment, uow: IntakeUnitOfWork, *, files, clock: Clock, catalogs: Catalogs
                   ) -> tuple[Loaded, AttachmentRef]:
    principal = cmd.principal
    loaded = uow.read(lambda: load(uow, principal, cmd.application_id, write=True))
    if not loaded.app.is_editable:
        raise NotEditable(loaded.app.status, not_editable(loaded.app))
    indicator = (cmd.indicator or "").strip() or None
    errors: list[FieldError] = []
    if mat.kind_by_code(cmd.kind or "") is None:
        errors.append(FieldError("kind", f"材料类型：未知的材料类型“{cmd.kind}”（可选：" + "、".join(
            f"{k.code}（{k.label}）" for k in mat.KINDS) + "）"))
    if indicator is not None:
        problem = _indicator_problem(loaded, indicator, catalogs)
        if problem:
            errors.append(FieldError("indicator", problem))
    elif cmd.kind == mat.EVIDENCE:
        errors.append(FieldError("indicator", "所属指标：指标佐证材料须注明所属指标（1–50 或 P1–P5）"))
    if errors:
        raise InvalidInput(INVALID_UPLOAD, errors)
    # The name as sent may carry path parts, controls or a right-to-left override: a safe base name is stored,
    # shown and sent back; the original stays only as data beside the file (GridFS metadata, the audit entry).
    filename = texts.safe_filename(cmd.filename)
    original = (cmd.filename or "").encode("utf-8", "backslashreplace").decode("utf-8")
    original = original if original != filename else None
    stored = files.store(cmd.stream, kind=cmd.kind, filename=filename, declared_type=cmd.declared_type,
                         metadata={"application_id": cmd.application_id, "indicator": indicator,
                                   "uploaded_by": principal.username, "original_filename": original})
    now = clock()
    ref = AttachmentRef(id=stored.id, kind=cmd.kind, filename=stored.filename, content_type=stored.content_type,
                        size=stored.size, sha256=stored.sha256, uploaded_at=now, indicator=indicator)

    def work():
        current = load(uow, principal, cmd.application_id, write=True)
        try:
            current.app.add_attachment(ref, now, principal.username)
        except InvalidApplicationData as exc:
            raise InvalidApplicationData(exc.errors, INVALID_UPLOAD) from None
        uow.applications.save(current.app, listing(current.mine))
        uow.audit.record(actor=actor_of(principal), action="attachment_added", subject_type="application",
                         subject_id=cmd.application_id, at=now,
                         detail={**ref.to_dict(), **({"original_filename": original} if original else {})})
        return after(current)

    try:
        done = uow.run(work)
    except BaseException:
        files.delete(stored.id)  # nothing half-written: no orphan file without its metadata
        raise
    return for_view(done, catalogs, clock), ref


def remove_attachment(cmd: RemoveAttachment, uow: IntakeUnitOfWork, *, files, clock: Clock, catalogs: Catalogs
                      ) -> Loaded:
    principal = cmd.principal
    now = clock()

    def work():
        current = load(uow, principal, cmd.application_id, write=True)
        try:
            ref = current.app.remove_attachment(cmd.attachment_id, now, principal.username)
        except InvalidApplicationData:
            raise NotFound("找不到该附件") from None
        uow.applications.save(current.app, listing(current.mine))
        uow.audit.record(actor=actor_of(principal), action="attachment_removed", subject_type="application",
                         subject_id=cmd.application_id, at=now, detail=ref.to_dict())
        return not current.app.is_referenced_by_a_version(cmd.attachment_id), after(current)

    unreferenced, done = uow.run(work)
    if unreferenced:
        files.delete(cmd.attachment_id)  # no version refers to it: the bytes go too
    return for_view(done, catalogs, clock)


def open_attachment(cmd: OpenAttachment, uow: IntakeUnitOfWork, *, files, clock: Clock):
    """(ref, stored file) of an attachment of the draft or of any version; the download is audited."""
    principal = cmd.principal
    loaded = uow.read(lambda: load(uow, principal, cmd.application_id))
    refs = {a.id: a for a in loaded.app.attachments}
    for v in loaded.app.versions:
        refs.update({a.id: a for a in v.attachments})
    ref = refs.get(cmd.attachment_id)
    if ref is None:
        raise NotFound("找不到该附件")
    grid_out = files.open(cmd.attachment_id)
    if grid_out is None:
        raise NotFound("附件文件已不存在")
    now = clock()
    uow.run(lambda: uow.audit.record(
        actor=actor_of(principal), action="attachment_downloaded", subject_type="application",
        subject_id=cmd.application_id, at=now, detail={"attachment": ref.id, "kind": ref.kind,
                                                       "indicator": ref.indicator, "filename": ref.filename,
                                                       "sha256": ref.sha256}))
    return ref, grid_out


# -- internals -------------------------------------------------------------------------------------------------------

def _draft_changes(catalog, mine, assessment, records, declared_penalties) -> tuple[dict, list[FieldError]]:
    changes: dict = {}
    errors: list[FieldError] = []
    inner_records: dict[str, str] = {}
    if assessment is not UNSET and assessment is not None:
        clean, inner_records, errs = drafts.normalise(assessment, catalog, mine)
        errors += errs
        changes["assessment"] = clean
    elif assessment is None:
        changes["assessment"] = None
    if records is not UNSET and records is not None:
        if not isinstance(records, dict):
            errors.append(FieldError("records", "检查记录：格式不正确"))
        else:
            changes["records"] = {**inner_records, **records}
    elif inner_records:
        changes["records"] = inner_records  # merged with the stored records in the transaction
        changes["_merge_records"] = True
    if declared_penalties is not UNSET:
        if declared_penalties is not None and not isinstance(declared_penalties, bool):
            errors.append(FieldError("declared_penalties", "近3年行政处罚声明：应为“是”或“否”"))
        else:
            changes["declared_penalties"] = declared_penalties
    return changes, errors


def _indicator_problem(loaded: Loaded, indicator: str, catalogs: Catalogs) -> str | None:
    if not INDICATOR_KEY.fullmatch(indicator):
        return f"所属指标：“{indicator}”不是指标编号（1–50 或 P1–P5）"
    catalog = catalogs(loaded.app.catalog)
    if indicator.startswith("P"):
        return None if indicator in catalog.prerequisite_codes else f"所属指标：没有先决条件{indicator}"
    if loaded.mine is not None:
        numbers = {i.no for i in catalog.indicators_in_group(loaded.mine.industry_group)}
        if int(indicator) not in numbers:
            return f"所属指标：第{indicator}项指标不适用于行业分支{INDUSTRY_GROUPS[loaded.mine.industry_group][:3]}"
    return None


def _current(app: Application, key: str):
    if key == "records":
        return dict(app.records)
    return getattr(app, key)


def import_draft(cmd: ImportDraft, uow: IntakeUnitOfWork) -> bool:
    """True when the draft was created now; False when it exists or its mine already has an application."""

    def work():
        if uow.applications.get(cmd.application_id) is not None:
            return False
        if uow.applications.list(Scope(), mine_id=cmd.mine_id):
            return False  # somebody already applied for this mine
        mine, _doc = uow.mines.get(cmd.mine_id)
        app = Application.start(cmd.application_id, mine.id, mine.credit_code, cmd.catalog, cmd.at, cmd.owner)
        app.update_draft(cmd.at, cmd.owner, **cmd.draft)
        uow.applications.save(app, listing(mine))
        uow.audit.record(actor=actor_of(cmd.actor), action="application_created", subject_type="application",
                         subject_id=cmd.application_id, at=cmd.at,
                         detail={"mine_id": mine.id, "catalog": cmd.catalog})
        return True

    return uow.run(work)
