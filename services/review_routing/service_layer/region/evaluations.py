"""The commissioned institution's evaluation (附件2 三): the draft saved as it goes (scores, 核查记录, images,
prerequisites), its submission through the scoring service (stage third-party evaluation), and the report (评估报告).

* Who: the evaluators of the commissioned institution read and write their evaluation; the region office reads
  it (drafts too); nobody else (the enterprise learns only that its case is under evaluation / evaluated).
* The evaluation of an accepted commission is started by its first save or image (id `<commission_id>.eval`).
* Images: the bytes go to the file store (GridFS) before the transaction that registers them, and are deleted
  again if it fails, as the initial review's site photos; the same image uploaded again for the same indicator
  answers the one stored.
* Submission: the banned institution's report is refused (409) with the register's reason (the refusal is
  audited); the assessment is recorded by scoring outside the transaction (a 422 comes back with its fields);
  then ONE transaction: the evaluation submitted with the record's id, total and verdict, the RegionReview
  `evaluated`, the event `review_routing.evaluation_submitted` (no per-indicator scores), the audit entry.
  A replayed submission answers the stored result and records nothing again.
* Events: every saved change of the draft is a step: `review_routing.evaluation_recorded` says which indicators /
  prerequisites / images changed, never the scores."""
from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from review_routing.adapters.events import iso
from review_routing.domain.access import Actor
from review_routing.domain.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    Unavailable,
)
from review_routing.domain.photos import PhotoPolicy, check_photo
from review_routing.domain.region.evaluations import (
    MAX_CAPTION,
    STATUSES,
    Evaluation,
    commission_of,
    evaluation_id,
    needs_record,
    record_text,
)
from review_routing.service_layer.common import Catalogs, audit
from review_routing.service_layer.presenters import _entry_label
from review_routing.service_layer.region.institutions import report_refusal
from review_routing.service_layer.region.reviews import save_review
from review_routing.service_layer.unit_of_work import PhotoFiles, ReviewUnitOfWork
from shared import text as texts
from shared.contracts import new_event
from shared.identity import Principal
from shared.scoring_client import ScoringRejected, ScoringUnavailable, request_key
from shared.storage import ConcurrencyError
from shared.workdays import DeadlinePolicy, WorkingCalendar, beijing_date

TOPIC = "review_routing.region.events"
PRODUCER = "review_routing"
STAGE = "third_party_evaluation"
Clock = Callable[[], datetime]
READ_ROLES = ("region_office", "admin")
STALE = "评估内容刚有更新，请刷新页面核对后再提交"


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListEvaluations:
    actor: Actor


@dataclass(frozen=True)
class ShowEvaluation:
    actor: Actor
    evaluation_id: str


@dataclass(frozen=True)
class SaveEvaluationDraft:
    actor: Actor
    evaluation_id: str
    changes: Mapping = field(default_factory=dict)   # {"indicators": {no: {…} | None}, "prerequisites": {…}}


@dataclass(frozen=True)
class UploadEvaluationImage:
    actor: Actor
    evaluation_id: str
    filename: str
    content_type: str | None
    data: bytes
    indicator: int | None = None
    caption: str = ""


@dataclass(frozen=True)
class OpenEvaluationImage:
    actor: Actor
    evaluation_id: str
    image_id: str


@dataclass(frozen=True)
class RemoveEvaluationImage:
    actor: Actor
    evaluation_id: str
    image_id: str


@dataclass(frozen=True)
class SubmitEvaluation:
    actor: Actor
    evaluation_id: str


@dataclass(frozen=True)
class ShowEvaluationReport:
    """The 评估报告's content (with the images' bytes), for the PDF."""
    actor: Actor
    evaluation_id: str


# -- access -----------------------------------------------------------------------------------------------------
def _commission(uow: ReviewUnitOfWork, actor: Actor, eval_id: str):
    commission = uow.commissions.get(commission_of(eval_id))
    if commission is None or evaluation_id(commission.commission_id) != eval_id:
        raise NotFound(f"没有评估 {eval_id}")
    if actor.role in READ_ROLES:
        return commission
    if actor.role == "evaluator" and actor.institution and actor.institution == commission.institution.get("id"):
        return commission
    raise NotPermitted("您无权查看该评估（仅限受委托的评估机构和自治区自然资源厅）")


def _require_writer(actor: Actor, commission) -> None:
    if actor.role != "evaluator" or actor.institution != commission.institution.get("id"):
        raise NotPermitted("只有受委托评估机构的评估人员可以填写和提交评估")


def _writable(uow: ReviewUnitOfWork, actor: Actor, eval_id: str, catalogs: Catalogs, now: datetime
              ) -> tuple[Evaluation, object, bool]:
    """(the evaluation, its commission, whether it is new) for a change by `actor`; starts it if needed."""
    commission = _commission(uow, actor, eval_id)
    _require_writer(actor, commission)
    if commission.status != "accepted":
        raise InvalidTransition(f"该委托当前为“{commission.status_label}”，不能开展评估")
    review = uow.region_reviews.get(commission.review_id)
    if review is None or review.commission_id != commission.commission_id:
        raise InvalidTransition("该委托不是案件当前的委托，不能开展评估")
    ev = uow.evaluations.get(eval_id)
    if ev is not None:
        return ev, commission, False
    if review.status != "under_evaluation":
        raise InvalidTransition(f"案件当前为“{review.status_label}”，不能开展评估")
    case = uow.cases.get(review.application_id)
    if case is None:
        raise NotFound(f"没有申报 {review.application_id}")
    catalog = catalogs(review.catalog_id)
    applicable = case.version_of(review.version_no).applicable_indicators
    ev = Evaluation.start(
        commission_id=commission.commission_id, review_id=review.id, application_id=review.application_id,
        version_no=review.version_no, league=review.league, catalog_id=review.catalog_id,
        institution=commission.institution, applicable=applicable, binding=review.binding,
        points={no: catalog.indicator(no).points for no in applicable},
        prerequisite_codes=catalog.prerequisite_codes, at=now, by=actor.username)
    return ev, commission, True


def _staff(uow: ReviewUnitOfWork, commission) -> list[str]:
    institution = uow.institutions.get(commission.institution["id"])
    return [s.name for s in institution.staff] if institution else []


# -- events -----------------------------------------------------------------------------------------------------

def _event(event_type: str, ev: Evaluation, payload: dict, at: datetime) -> dict:
    return new_event(event_type, producer=PRODUCER, aggregate_type="evaluation", aggregate_id=ev.id,
                     aggregate_version=ev.version or 1,
                     payload={"review_id": ev.review_id, "application_id": ev.application_id,
                              "version_no": ev.version_no, "league": ev.league, "evaluation_id": ev.id,
                              "institution": {"id": ev.institution.get("id"), "name": ev.institution.get("name")},
                              **payload}, occurred_at=at)


def _recorded(uow: ReviewUnitOfWork, ev: Evaluation, change: str, actor: Actor, at: datetime, *,
              indicators=(), prerequisites=(), image_id: str | None = None) -> None:
    uow.publish(_event("review_routing.evaluation_recorded", ev, {
        "change": change, "indicators": list(indicators), "prerequisites": list(prerequisites),
        "image_id": image_id, "recorded_by": actor.username, "recorded_at": iso(at)}, at), topic=TOPIC)


# -- reads ------------------------------------------------------------------------------------------------------
def list_evaluations(cmd: ListEvaluations, uow: ReviewUnitOfWork) -> list[dict]:
    """The accepted commissions with their evaluation (an evaluator: its institution's; the office: all)."""
    actor = cmd.actor
    if actor.role == "evaluator":
        filters = {"institution__id": actor.institution or "-"}
    elif actor.role in READ_ROLES:
        filters = {}
    else:
        raise NotPermitted("您无权查看第三方评估")

    def read():
        commissions = uow.commissions.find(sort="commissioned_at", descending=True, status="accepted", **filters)
        evaluations = uow.evaluations.get_many([evaluation_id(c.commission_id) for c in commissions])
        reviews = uow.region_reviews.get_many([c.review_id for c in commissions])
        return commissions, evaluations, reviews

    commissions, evaluations, reviews = uow.read(read)
    rows = []
    for c in commissions:
        ev = evaluations.get(evaluation_id(c.commission_id))
        review = reviews.get(c.review_id)
        if review is None or review.commission_id != c.commission_id:
            continue
        s = (ev.submitted or {}) if ev else {}
        rows.append({
            "evaluation_id": evaluation_id(c.commission_id), "commission_id": c.commission_id,
            "review_id": c.review_id, "case_no": c.case_no, "league": c.league,
            "enterprise_name": c.enterprise.get("name"), "mine_name": c.mine.get("name"),
            "institution": dict(c.institution), "status": ev.status if ev else "not_started",
            "status_label": ev.status_label if ev else "尚未开始",
            "judged": len(ev.entries) if ev else 0, "applicable": len(ev.applicable) if ev else None,
            "images": len(ev.images) if ev else 0, "updated_at": ev.updated_at.isoformat() if ev and ev.updated_at
            else None, "total": s.get("total"), "verdict": s.get("verdict"), "verdict_label": s.get("verdict_label"),
            "due_date": review.due_date.isoformat() if review.due_date and review.status == "under_evaluation"
            else None})
    return rows


def _image_view(ev_id: str, image: Mapping) -> dict:
    at = image.get("uploaded_at")
    return {"image_id": image["image_id"], "indicator": image.get("indicator"), "caption": image.get("caption", ""),
            "filename": image["filename"], "content_type": image["content_type"], "size": image["size"],
            "sha256": image["sha256"], "uploaded_by": image["uploaded_by"],
            "uploaded_by_name": image.get("uploaded_by_name") or image["uploaded_by"],
            "uploaded_at": at.isoformat() if isinstance(at, datetime) else at,
            "url": f"/api/v1/evaluation/evaluations/{ev_id}/images/{image['image_id']}"}


def _view(ev: Evaluation, commission, review, case, catalog, staff: list[str], actor: Actor, today) -> dict:
    mine_profile = dict(case.version_of(ev.version_no).assessment.get("mine") or {}) if case else {}
    method, variant = mine_profile.get("mining_method"), mine_profile.get("industry_variant")
    images = [_image_view(ev.id, i) for i in ev.images]
    scores = (ev.report or {}).get("indicator_scores") or {}
    indicators = []
    for no in ev.applicable:
        key = str(no)
        indicator = catalog.indicator(no)
        rule = indicator.scoring_rule(method, variant)
        entry = ev.entries.get(key)
        indicators.append({
            "no": no, "name": indicator.name, "points": ev.points.get(key), "binding": indicator.binding,
            "attribute": indicator.attribute, "category": catalog.category_of(no).label,
            "subcategory": catalog.subcategory_of(no).name, "rule_text": getattr(rule, "text", "") or indicator.text,
            "methods": list(indicator.methods), "basis": indicator.display_basis,
            "basis_reconstructed": indicator.basis_reconstructed,
            "reconstructed_fields": list(indicator.reconstructed_fields),
            "entry": dict(entry) if entry else None, "entry_label": _entry_label(entry, rule) if entry else "未评分",
            "not_applicable": bool(entry and entry.get("not_applicable")),
            "score": (entry or {}).get("score"), "reason": (entry or {}).get("reason", ""),
            "record": dict(ev.records[key]) if key in ev.records else None,
            "record_needed": bool(entry and (needs_record(entry) or (entry.get("not_applicable")
                                                                      and no in ev.binding))),
            "confirmed_not_applicable": no in review.confirmed_not_applicable if review else False,
            "final_score": (scores.get(key) or {}).get("score"),
            "images": [i for i in images if i["indicator"] == no]})
    prerequisites = [{"code": p.code, "name": p.name, "requirement": p.requirement,
                      "finding": dict(ev.prerequisites[p.code]) if p.code in ev.prerequisites else None}
                     for p in catalog.prerequisites if p.code in ev.prerequisite_codes]
    editable = ev.is_draft and actor.role == "evaluator" and commission.status == "accepted"
    acceptance = commission.acceptance or {}
    return {
        "evaluation_id": ev.id, "commission_id": ev.commission_id, "review_id": ev.review_id,
        "application_id": ev.application_id, "version_no": ev.version_no, "league": ev.league,
        "case_no": commission.case_no, "enterprise": dict(commission.enterprise), "mine": dict(commission.mine),
        "county": (review.mine.get("county") if review else None), "institution": dict(ev.institution),
        "catalog": ev.catalog_id, "mine_profile": mine_profile, "status": ev.status, "status_label": ev.status_label,
        "saved": ev.version is not None, "created_at": ev.created_at.isoformat() if ev.created_at else None,
        "updated_at": ev.updated_at.isoformat() if ev.updated_at else None, "updated_by": ev.updated_by,
        "commissioned_at": commission.commissioned_at.isoformat(), "accepted_at": acceptance.get("signed_at"),
        "due_date": review.due_date.isoformat() if review and review.due_date and review.status == "under_evaluation"
        else None,
        "pledges": [{"title": p.get("title"), "sha256": p.get("sha256"), "version": p.get("version")}
                    for p in acceptance.get("pledges") or []],
        "signer": {"name": acceptance.get("signer_name"), "title": acceptance.get("signer_title"),
                   "signed_by": acceptance.get("signed_by"), "signed_at": acceptance.get("signed_at")}
        if acceptance else None,
        "indicators": indicators, "prerequisites": prerequisites, "entries": dict(ev.entries),
        "general_images": [i for i in images if i["indicator"] is None], "images": images, "staff": staff,
        "judged": len(ev.entries), "applicable": len(ev.applicable),
        "problems": [{"field": p.field, "message": p.message} for p in ev.submission_problems()] if ev.is_draft
        else [],
        "submitted": dict(ev.submitted) if ev.submitted else None,
        "report": {k: (ev.report or {}).get(k) for k in ("total", "verdict", "verdict_label", "pass_total",
                                                          "failed_binding", "failed_prerequisites",
                                                          "not_applicable_binding", "notes")} if ev.report else None,
        "history": list(reversed(ev.history)) if ev.version is not None else [],
        "today": today.isoformat(),
        "permissions": {"edit": editable, "submit": editable},
    }


def show_evaluation(cmd: ShowEvaluation, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs) -> dict:
    now = clock()

    def read():
        commission = _commission(uow, cmd.actor, cmd.evaluation_id)
        review = uow.region_reviews.get(commission.review_id)
        ev = uow.evaluations.get(cmd.evaluation_id)
        case = uow.cases.get(commission.application_id)
        if ev is None:
            if commission.status != "accepted" or review is None or review.commission_id != commission.commission_id:
                raise NotFound("该委托尚未接受或已结束，没有评估")
            catalog = catalogs(review.catalog_id)
            applicable = case.version_of(review.version_no).applicable_indicators if case else ()
            ev = Evaluation.start(
                commission_id=commission.commission_id, review_id=review.id, application_id=review.application_id,
                version_no=review.version_no, league=review.league, catalog_id=review.catalog_id,
                institution=commission.institution, applicable=applicable, binding=review.binding,
                points={no: catalog.indicator(no).points for no in applicable},
                prerequisite_codes=catalog.prerequisite_codes, at=now, by=cmd.actor.username)
        return ev, commission, review, case, _staff(uow, commission)

    ev, commission, review, case, staff = uow.read(read)
    return _view(ev, commission, review, case, catalogs(ev.catalog_id), staff, cmd.actor, beijing_date(now))


# -- the draft --------------------------------------------------------------------------------------------------
def save_evaluation_draft(cmd: SaveEvaluationDraft, uow: ReviewUnitOfWork, *, clock: Clock,
                          catalogs: Catalogs) -> dict:
    def work():
        now = clock()
        ev, commission, new = _writable(uow, cmd.actor, cmd.evaluation_id, catalogs, now)
        changed = ev.update(cmd.changes, staff=_staff(uow, commission), today=beijing_date(now), at=now,
                            by=cmd.actor.username)
        if not new and not changed["indicators"] and not changed["prerequisites"]:
            return _answer(ev)
        uow.evaluations.save(ev)
        _recorded(uow, ev, "draft_saved", cmd.actor, now, indicators=changed["indicators"],
                  prerequisites=changed["prerequisites"])
        audit(uow, cmd.actor, "evaluation_saved", now, application_id=ev.application_id,
              version_no=ev.version_no, target=ev.id, detail=changed)
        return _answer(ev)

    try:
        return uow.run(work)
    except ConcurrencyError:
        raise Conflict("评估刚被他人修改，请刷新页面后再保存") from None


def _answer(ev: Evaluation) -> dict:
    return {"evaluation_id": ev.id, "status": ev.status, "status_label": ev.status_label, "version": ev.version,
            "judged": len(ev.entries), "applicable": len(ev.applicable),
            "updated_at": ev.updated_at.isoformat() if ev.updated_at else None,
            "problems": [{"field": p.field, "message": p.message} for p in ev.submission_problems()]
            if ev.is_draft else []}


def upload_evaluation_image(cmd: UploadEvaluationImage, uow: ReviewUnitOfWork, *, clock: Clock,
                            catalogs: Catalogs, photo_policy: PhotoPolicy, photo_files: PhotoFiles) -> dict:
    errors = []
    caption = texts.normalize((cmd.caption or "").strip())
    if len(caption) > MAX_CAPTION:
        errors.append(FieldError("caption", f"图片说明最多 {MAX_CAPTION} 字"))
    elif (problem := texts.problem(caption)):
        errors.append(FieldError("caption", problem))
    if errors:
        raise InvalidInput("图片不能上传", errors)

    def check():
        ev, _, _ = _writable(uow, cmd.actor, cmd.evaluation_id, catalogs, clock())
        if cmd.indicator is not None and cmd.indicator not in ev.applicable:
            raise InvalidInput("图片不能上传", [FieldError("indicator", f"第{cmd.indicator}项不是该矿山适用的指标")])

    uow.run(check)
    content_type, name = check_photo(cmd.filename, cmd.content_type, cmd.data, photo_policy)
    image_id = "img-" + uuid.uuid4().hex[:16]
    file_id, digest = photo_files.put(image_id, name, content_type, cmd.data)

    def register():
        now = clock()
        ev, _, _ = _writable(uow, cmd.actor, cmd.evaluation_id, catalogs, now)
        same = next((i for i in ev.images if i["sha256"] == digest and i.get("indicator") == cmd.indicator), None)
        if same is not None:   # the same image again (a replayed upload): the one stored answers
            return None, _image_view(ev.id, same)
        image = {"image_id": image_id, "indicator": cmd.indicator, "caption": caption, "filename": name,
                 "content_type": content_type, "size": len(cmd.data), "sha256": digest, "file_id": file_id,
                 "uploaded_by": cmd.actor.username, "uploaded_by_name": cmd.actor.name, "uploaded_at": now}
        ev.add_image(image, now, cmd.actor.username)
        uow.evaluations.save(ev)
        _recorded(uow, ev, "image_added", cmd.actor, now,
                  indicators=[cmd.indicator] if cmd.indicator is not None else [], image_id=image_id)
        audit(uow, cmd.actor, "evaluation_image_uploaded", now, application_id=ev.application_id,
              version_no=ev.version_no, target=ev.id,
              detail={"image_id": image_id, "indicator": cmd.indicator, "filename": name, "size": len(cmd.data),
                      "sha256": digest})
        return image, _image_view(ev.id, image)

    try:
        added, view = uow.run(register)
    except BaseException:
        photo_files.delete(file_id)
        raise
    if added is None:
        photo_files.delete(file_id)
    return view


def open_evaluation_image(cmd: OpenEvaluationImage, uow: ReviewUnitOfWork, *, photo_files: PhotoFiles):
    """(image, readable stream) of one of the evaluation's images."""
    def read():
        _commission(uow, cmd.actor, cmd.evaluation_id)
        ev = uow.evaluations.get(cmd.evaluation_id)
        if ev is None:
            raise NotFound("该评估没有这张图片")
        return ev.image(cmd.image_id)

    image = uow.read(read)
    return image, photo_files.open(image["file_id"])


def remove_evaluation_image(cmd: RemoveEvaluationImage, uow: ReviewUnitOfWork, *, clock: Clock,
                            catalogs: Catalogs, photo_files: PhotoFiles) -> dict:
    def work():
        now = clock()
        ev, _, new = _writable(uow, cmd.actor, cmd.evaluation_id, catalogs, now)
        if new:
            raise NotFound("该评估没有这张图片")
        image = ev.remove_image(cmd.image_id, now, cmd.actor.username)
        uow.evaluations.save(ev)
        _recorded(uow, ev, "image_removed", cmd.actor, now,
                  indicators=[image["indicator"]] if image.get("indicator") is not None else [],
                  image_id=cmd.image_id)
        audit(uow, cmd.actor, "evaluation_image_removed", now, application_id=ev.application_id,
              version_no=ev.version_no, target=ev.id, detail={"image_id": cmd.image_id,
                                                              "filename": image["filename"]})
        return image

    image = uow.run(work)
    photo_files.delete(image["file_id"])
    return _image_view(cmd.evaluation_id, image)


# -- submission -------------------------------------------------------------------------------------------------
def principal_of(actor: Actor) -> Principal:
    """The acting evaluator as the platform's identity (scoring lets evaluators record third-party evaluations)."""
    return Principal(actor.username, actor.role, display_name=actor.display_name, area=actor.area,
                     institution=actor.institution)


def _submitted_answer(ev: Evaluation) -> dict:
    s = ev.submitted or {}
    return {"evaluation_id": ev.id, "review_id": ev.review_id, "status": ev.status, "status_label": ev.status_label,
            "assessment_id": s.get("assessment_id"), "total": s.get("total"), "verdict": s.get("verdict"),
            "verdict_label": s.get("verdict_label"), "submitted_at": s.get("at"),
            "report_url": f"/api/v1/evaluation/evaluations/{ev.id}/report.pdf"}


def submit_evaluation(cmd: SubmitEvaluation, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs,
                      scoring, calendar: WorkingCalendar, policy: DeadlinePolicy) -> dict:
    actor = cmd.actor

    def read():
        commission = _commission(uow, actor, cmd.evaluation_id)
        _require_writer(actor, commission)
        ev = uow.evaluations.get(cmd.evaluation_id)
        if ev is None:
            raise InvalidInput("评估尚未填写，不能提交评估报告", [FieldError("indicators", "请先逐项评分")])
        if not ev.is_draft:
            return ev, None, None
        if commission.status != "accepted":
            raise InvalidTransition(f"该委托当前为“{commission.status_label}”，不能提交评估报告")
        refusal = report_refusal(uow, commission.institution["id"], beijing_date(clock()))
        case = uow.cases.get(ev.application_id)
        mine = dict(case.version_of(ev.version_no).assessment.get("mine") or {}) if case else {}
        return ev, refusal, mine

    ev, refusal, mine = uow.read(read)
    if not ev.is_draft:   # a replay: the report was submitted already
        return _submitted_answer(ev)
    try:
        ev.check_submittable(refusal)
    except Conflict:
        def refused():
            audit(uow, actor, "evaluation_refused", clock(), application_id=ev.application_id,
                  version_no=ev.version_no, target=ev.id, detail={"reason": refusal})
        uow.run(refused)
        raise
    if scoring is None:
        raise Unavailable("未配置评分服务")
    assessment = ev.assessment(mine)
    try:
        record = scoring.record(ev.application_id, ev.version_no, STAGE, assessment, principal_of(actor),
                                league=ev.league, request_key=request_key(ev.id, assessment))
    except ScoringUnavailable as exc:
        raise Unavailable(f"暂时无法提交评分，请稍后再试（{exc}）") from exc
    except ScoringRejected as exc:
        raise InvalidInput("评分服务不接受该评估，请按提示修改后再提交",
                           [FieldError(e.field.removeprefix("assessment."), e.message) for e in exc.errors]) from exc
    result = {"assessment_id": record.get("id") or record.get("_id"), "report": record.get("report") or {}}

    def work():
        now = clock()
        current = uow.evaluations.get(ev.id)
        if current is None or current.version != ev.version:
            raise Conflict(STALE)
        # banned meanwhile (a finding recorded while scoring answered): refused, nothing written
        refusal_now = report_refusal(uow, current.institution["id"], beijing_date(now))
        current.submit(result, refusal=refusal_now, at=now, by=actor.username, by_name=actor.name)
        uow.evaluations.save(current)
        review = uow.region_reviews.get(current.review_id)
        flags_before = len(review.flags)
        review.evaluation_submitted(current.summary(), actor.username, now, calendar, policy)
        save_review(uow, review, flags_before, now)
        s = current.submitted
        uow.publish(_event("review_routing.evaluation_submitted", current, {
            "commission_id": current.commission_id, "assessment_id": s["assessment_id"], "total": s["total"],
            "verdict": s["verdict"], "submitted_by": actor.username, "submitted_at": iso(now)}, now), topic=TOPIC)
        audit(uow, actor, "evaluation_submitted", now, application_id=current.application_id,
              version_no=current.version_no, target=current.id,
              detail={"assessment_id": s["assessment_id"], "total": s["total"], "verdict": s["verdict"]})
        return _submitted_answer(current)

    try:
        return uow.run(work)
    except ConcurrencyError:
        raise Conflict(STALE) from None


# -- the report ---------------------------------------------------------------------------------------------------
def show_evaluation_report(cmd: ShowEvaluationReport, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs,
                           photo_files: PhotoFiles) -> dict:
    """The 评估报告: the evaluation's view, with each image as a data URL (embedded in the PDF)."""
    view = show_evaluation(ShowEvaluation(cmd.actor, cmd.evaluation_id), uow, clock=clock, catalogs=catalogs)
    ev = uow.read(lambda: uow.evaluations.get(cmd.evaluation_id))
    by_id = {i["image_id"]: i for i in (ev.images if ev else [])}
    for image in view["images"]:
        stored = by_id.get(image["image_id"])
        data = photo_files.open(stored["file_id"]).read() if stored else b""
        image["data_url"] = f"data:{image['content_type']};base64,{base64.b64encode(data).decode('ascii')}"
    view["records"] = [{"no": i["no"], "name": i["name"], **i["record"], "text": record_text(i["record"])}
                       for i in view["indicators"] if i["record"]]
    view["status_labels"] = STATUSES
    view["generated_at"] = clock().isoformat()
    return view


COMMAND_HANDLERS = {
    ListEvaluations: list_evaluations,
    ShowEvaluation: show_evaluation,
    SaveEvaluationDraft: save_evaluation_draft,
    UploadEvaluationImage: upload_evaluation_image,
    OpenEvaluationImage: open_evaluation_image,
    RemoveEvaluationImage: remove_evaluation_image,
    SubmitEvaluation: submit_evaluation,
    ShowEvaluationReport: show_evaluation_report,
}
EVENT_HANDLERS: dict = {}
