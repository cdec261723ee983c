"""A department's work on its task: claim, release, transfer (转办), remind (催办, the lead bureau), the
opinion, site-check photos and the audited views of the evidence.

Each change runs in ONE transaction with its audit entry and its events (outbox); a photo's bytes are stored
before that transaction (and deleted again if it fails)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from review_routing.domain.access import Actor, can_remind, can_view_case, can_view_task, can_work_task
from review_routing.domain.case import VERSION_STATUSES
from review_routing.domain.commands import (
    ClaimTask,
    GiveOpinion,
    OpenPhoto,
    RemindTask,
    TransferTask,
    UnclaimTask,
    UploadPhoto,
    ViewCaseEvidence,
    ViewEvidence,
)
from review_routing.domain.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
)
from review_routing.domain.photos import PhotoPolicy, check_photo
from review_routing.domain.task import OUTCOMES, ReviewTask
from review_routing.domain.workdays import beijing_date
from review_routing.service_layer.common import (
    Catalogs,
    attachment_url,
    audit,
    department_name,
    readable_task,
)
from review_routing.service_layer.department_queues import publish_events_of_task
from review_routing.service_layer.presenters import photo_view
from review_routing.service_layer.unit_of_work import PhotoFiles, ReviewUnitOfWork
from shared.storage import ConcurrencyError

Clock = Callable[[], datetime]
MAX_PHOTOS_PER_TASK = 200


def _task_action(uow: ReviewUnitOfWork, actor: Actor, task_id: str, action: str, work, *, clock: Clock,
                 needs_work: bool = True, audit_detail: Callable[[ReviewTask, list], dict] | None = None
                 ) -> ReviewTask:
    """Load the task, check the actor may see (and work) it, apply `work(task, now)` → events, save, publish,
    audit: one transaction."""
    def run():
        task = readable_task(uow, actor, task_id)
        if needs_work and not can_work_task(actor, task.department, task.lead, task.league, task.county):
            raise NotPermitted("您无权办理该审核任务")
        now = clock()
        happened = work(task, now)
        version = uow.tasks.save(task)
        publish_events_of_task(uow, task, happened, version)
        audit(uow, actor, action, now, application_id=task.application_id, version_no=task.version_no,
              task_id=task.task_id, detail=audit_detail(task, happened) if audit_detail else {})
        return task

    try:
        return uow.run(run)
    except ConcurrencyError:
        raise Conflict("该任务刚被他人更新，请刷新页面后重试") from None


def claim_task(cmd: ClaimTask, uow: ReviewUnitOfWork, *, clock: Clock) -> ReviewTask:
    return _task_action(uow, cmd.actor, cmd.task_id, "task_claimed",
                        lambda task, now: [task.claim(cmd.actor, now)], clock=clock)


def unclaim_task(cmd: UnclaimTask, uow: ReviewUnitOfWork, *, clock: Clock) -> ReviewTask:
    return _task_action(uow, cmd.actor, cmd.task_id, "task_unclaimed",
                        lambda task, now: [task.unclaim(cmd.actor, now)], clock=clock)


def transfer_task(cmd: TransferTask, uow: ReviewUnitOfWork, *, clock: Clock, directory, catalogs: Catalogs
                  ) -> ReviewTask:
    to_user = (cmd.to_user or "").strip()
    if not to_user:
        raise InvalidInput("转办信息有误", [FieldError("to_user", "请选择转办对象")])
    target = directory.get(to_user) if directory else None

    def work(task, now):
        if target is None or not can_work_task(target, task.department, task.lead, task.league, task.county):
            raise InvalidInput("转办信息有误", [FieldError(
                "to_user", f"{cmd.to_user} 不是{department_name(catalogs, task.department, task.catalog)}"
                           f"在{task.league}的审核人员，不能转办给其办理")])
        return [task.transfer(cmd.actor, target.username, target.name, cmd.reason or "", now)]

    return _task_action(uow, cmd.actor, cmd.task_id, "task_transferred", work, clock=clock,
                        audit_detail=lambda t, h: {"to_user": t.claimed_by, "reason": t.transfers[-1].reason})


def remind_task(cmd: RemindTask, uow: ReviewUnitOfWork, *, clock: Clock) -> ReviewTask:
    def work(task, now):
        if not can_remind(cmd.actor, task.league):
            raise NotPermitted("只有牵头的盟市自然资源局可以催办")
        return [task.remind(cmd.actor, cmd.message or "", now)]

    return _task_action(uow, cmd.actor, cmd.task_id, "task_reminded", work, clock=clock, needs_work=False,
                        audit_detail=lambda t, h: {"message": t.reminders[-1].message})


def give_opinion(cmd: GiveOpinion, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs) -> ReviewTask:
    def work(task, now):
        case = uow.cases.get(task.application_id)
        if case is not None:
            version = case.version_of(task.version_no)
            if version.status != "under_review":
                raise InvalidTransition(f"该申报版本{VERSION_STATUSES[version.status]}，不能再出具审核意见")
        catalog = catalogs(task.catalog)
        points = {no: catalog.indicator(no).points for no in task.indicators}
        _, event = task.give_opinion(cmd.actor, cmd.body, indicator_points=points,
                                     photo_ids=uow.photos.ids_of_task(task.task_id), today=beijing_date(now),
                                     at=now, opinion_id="op-" + uuid.uuid4().hex[:16],
                                     indicator_names={no: catalog.indicator(no).name for no in task.indicators},
                                     prerequisite_names={code: catalog.prerequisite(code).name
                                                         for code in task.prerequisites})
        return [event]

    return _task_action(uow, cmd.actor, cmd.task_id, "opinion_recorded", work, clock=clock,
                        audit_detail=lambda t, h: {
                            "opinion_id": t.current_opinion.opinion_id, "decision": t.current_opinion.decision,
                            "supersedes": t.current_opinion.supersedes,
                            "indicators": [i.indicator for i in t.current_opinion.indicators],
                            "photos": list(t.current_opinion.photos)})


# --- evidence and photos ------------------------------------------------------------------------------------
def _evidence_url(application_id: str, attachment_id: str, inline: bool) -> str:
    url = attachment_url(application_id, attachment_id)
    return url + "?inline=true" if inline else url


def view_evidence(cmd: ViewEvidence, uow: ReviewUnitOfWork, *, clock: Clock) -> str:
    """Record the view in the audit log and return intake's URL for the attachment (its download, or with
    `inline` its view in the browser: intake shows PDF and JPEG/PNG inline, anything else as a download)."""
    def run():
        task = readable_task(uow, cmd.actor, cmd.task_id, "您无权查看该任务的材料")
        attachment = next((a for a in task.attachments if a.get("attachment_id") == cmd.attachment_id), None)
        if attachment is None:
            raise NotFound("该材料不属于本审核任务")
        audit(uow, cmd.actor, "evidence_viewed", clock(), application_id=task.application_id,
              version_no=task.version_no, task_id=task.task_id, target=cmd.attachment_id,
              detail={"filename": attachment.get("filename"), "kind": attachment.get("kind"),
                      "indicator": attachment.get("indicator"), "prerequisite": attachment.get("prerequisite"),
                      "sha256": attachment.get("sha256"), "inline": cmd.inline})
        return _evidence_url(task.application_id, cmd.attachment_id, cmd.inline)

    return uow.run(run)


def view_case_evidence(cmd: ViewCaseEvidence, uow: ReviewUnitOfWork, *, clock: Clock) -> str:
    def run():
        case = uow.cases.get(cmd.application_id)
        if case is None:
            raise NotFound(f"没有申报 {cmd.application_id}")
        if not can_view_case(cmd.actor, case.league):
            raise NotPermitted("您无权查看该申报的材料")
        try:
            version = case.version_of(cmd.version_no)
        except KeyError:
            raise NotFound(f"申报 {cmd.application_id} 没有第 {cmd.version_no} 版") from None
        attachment = next((a for a in version.attachments if a.get("attachment_id") == cmd.attachment_id), None)
        if attachment is None:
            raise NotFound("该材料不属于本申报版本")
        audit(uow, cmd.actor, "evidence_viewed", clock(), application_id=cmd.application_id,
              version_no=cmd.version_no, target=cmd.attachment_id,
              detail={"filename": attachment.get("filename"), "kind": attachment.get("kind"),
                      "sha256": attachment.get("sha256"), "inline": cmd.inline})
        return _evidence_url(cmd.application_id, cmd.attachment_id, cmd.inline)

    return uow.run(run)


def upload_photo(cmd: UploadPhoto, uow: ReviewUnitOfWork, *, clock: Clock, photo_policy: PhotoPolicy,
                 photo_files: PhotoFiles) -> dict:
    actor, task_id = cmd.actor, cmd.task_id

    def check():
        task = readable_task(uow, actor, task_id, "您无权查看该审核任务（仅限本部门、本辖区）")
        if not can_work_task(actor, task.department, task.lead, task.league, task.county):
            raise NotPermitted("您无权办理该审核任务")
        if task.final:
            raise InvalidTransition(f"该申报版本{OUTCOMES[task.outcome]}，不能再上传现场照片")

    uow.run(check)
    content_type, name = check_photo(cmd.filename, cmd.content_type, cmd.data, photo_policy)
    photo_id = "ph-" + uuid.uuid4().hex[:16]
    file_id, digest = photo_files.put(photo_id, name, content_type, cmd.data)

    def register():
        current = uow.tasks.get(task_id)
        if current is None or current.final:
            raise InvalidTransition("该申报版本已办结，不能再上传现场照片")
        if uow.photos.count_of_task(task_id) >= MAX_PHOTOS_PER_TASK:
            raise InvalidInput("照片不能上传", [FieldError("photo", f"每个任务最多 {MAX_PHOTOS_PER_TASK} 张照片")])
        now = clock()
        doc = {"_id": photo_id, "task_id": task_id, "application_id": current.application_id,
               "version_no": current.version_no, "department": current.department, "league": current.league,
               "county": current.county, "filename": name, "content_type": content_type, "size": len(cmd.data),
               "sha256": digest, "file_id": file_id, "uploaded_by": actor.username,
               "uploaded_by_name": actor.name, "uploaded_at": now}
        uow.photos.add(doc)
        audit(uow, actor, "photo_uploaded", now, application_id=current.application_id,
              version_no=current.version_no, task_id=task_id, target=photo_id,
              detail={"filename": name, "size": len(cmd.data), "sha256": digest})
        return doc

    try:
        doc = uow.run(register)
    except BaseException:
        photo_files.delete(file_id)
        raise
    return photo_view(doc)


def open_photo(cmd: OpenPhoto, uow: ReviewUnitOfWork, *, clock: Clock, photo_files: PhotoFiles):
    """(photo document, readable stream) of a registered photo; the view is audited."""
    def run():
        doc = uow.photos.get(cmd.photo_id)
        if doc is None:
            raise NotFound("没有该照片")
        if not can_view_task(cmd.actor, doc["department"], doc["league"], doc.get("county")):
            raise NotPermitted("您无权查看该照片")
        audit(uow, cmd.actor, "photo_viewed", clock(), application_id=doc["application_id"],
              version_no=doc["version_no"], task_id=doc["task_id"], target=cmd.photo_id,
              detail={"filename": doc["filename"]})
        return doc

    doc = uow.run(run)
    return doc, photo_files.open(doc["file_id"])
