"""Submission and what follows it: submit (or resubmit after a return), and the events of the scoring and review
routing services that move the case (score report recorded, routed, returned / forwarded / rejected).

Submitting asks the scoring service for the report first (outside the transaction, which must have no outside
effect); the transaction then checks the draft did not change meanwhile, freezes the version and publishes
``intake.application_submitted`` with it."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from intake.domain import materials as mat
from intake.domain.case_numbers import CaseNumber, case_year, counter_key
from intake.domain.commands import SubmitApplication
from intake.domain.draft_input import is_reason_key
from intake.domain.errors import SubmissionRefused, VersionFrozen
from shared import regions
from shared.errors import Conflict, Unavailable
from shared.messaging import PermanentFailure
from shared.scoring_client import ScoringRejected, ScoringUnavailable

from .common import (
    Catalogs,
    Clock,
    Loaded,
    actor_of,
    after,
    for_view,
    listing,
    listing_from,
    load,
    mine_problems,
    not_editable,
    today,
    with_review_due,
)
from .unit_of_work import IntakeUnitOfWork

log = logging.getLogger(__name__)
REFUSED = "申报材料尚不齐全或有误，暂不能提交：请按清单补充后再提交"


def submit(cmd: SubmitApplication, uow: IntakeUnitOfWork, *, scoring, clock: Clock, catalogs: Catalogs, calendar,
           deadlines) -> Loaded:
    principal = cmd.principal
    loaded = uow.read(lambda: load(uow, principal, cmd.application_id, write=True))
    app = loaded.app
    if not app.is_editable:
        raise Conflict(not_editable(app))
    assessment_errors: list = []
    report = None
    if app.assessment and app.assessment.get("indicators") and loaded.mine is not None:
        try:
            report = scoring.evaluate(app.assessment_with_records(), principal)
        except ScoringRejected as exc:
            assessment_errors = [{"field": "" if e.field == "(body)" else e.field, "message": e.message}
                                 for e in exc.errors]
        except ScoringUnavailable as exc:
            log.warning("scoring unavailable: %s", exc)
            raise Unavailable("评分服务暂时不可用，草稿已保存，请稍后再提交") from None
        if report is not None:
            assessment_errors += verdict_problems(report, catalogs(app.catalog))
    revision = app.revision
    now = clock()
    on = today(clock)

    def work():
        current = load(uow, principal, cmd.application_id, write=True)
        if current.app.revision != revision:
            raise Conflict("申报内容在提交过程中被修改，请重新提交")
        try:
            version = current.app.submit(
                now, principal.username, assessment_errors=assessment_errors,
                mine_problems=mine_problems(current.app, current.mine, on),
                mine_snapshot=current.mine.to_dict() if current.mine else None,
                case_no=None if current.app.case_no else lambda: allocate_case_no(uow, current.mine, now))
        except SubmissionRefused as exc:
            raise SubmissionRefused(exc.errors, REFUSED) from None
        uow.applications.save(current.app, listing(current.mine))
        uow.publish_events(current.app)  # intake.application_submitted, with the change
        uow.audit.record(
            actor=actor_of(principal), action="application_resubmitted" if version.number > 1
            else "application_submitted", subject_type="application", subject_id=cmd.application_id, at=now,
            detail={"version": version.number, "preview_total": report.get("total") if report else None,
                    "preview_verdict": report.get("verdict") if report else None})
        return after(current)

    return with_review_due(for_view(uow.run(work), catalogs, clock), calendar, deadlines)


def allocate_case_no(uow: IntakeUnitOfWork, mine, now: datetime) -> str:
    """The next 办件编号 of the mine's 盟市 in this (Beijing) year, counted in the submission's transaction."""
    league = regions.find_league(mine.league) if mine is not None else None
    if league is None:
        raise Conflict("矿山所属盟市无法识别，不能分配办件编号，请检查矿山登记信息")
    year = case_year(now)
    return str(CaseNumber(league.division_code, year,
                          uow.case_numbers.next(counter_key(league.division_code, year))))


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
        if scores.get("unsupported"):
            problems.append({"field": f"indicators.{no}",
                             "message": f"约束性指标第{no}项「{scores.get('name', '')}」须得满分：自评"
                                        f"{scores.get('claimed_score')}分，但缺少支撑材料，按0分计；请上传佐证材料"})
            continue
        problems.append({"field": f"indicators.{no}",
                         "message": f"约束性指标第{no}项「{scores.get('name', '')}」须得满分"
                                    f"（标准分{scores.get('points')}，自评{scores.get('score')}）"})
    try:
        below = Decimal(str(report.get("total") or 0)) < Decimal(str(report.get("pass_total") or 60))
    except InvalidOperation:
        below = False
    if below:
        problems.append({"field": "total",
                         "message": f"自评总分{report.get('total')}分，低于{report.get('pass_total')}分"})
    if not problems:
        problems.append({"field": "verdict", "message": f"自评结论为“{report.get('verdict_label')}”，未达到申报标准"})
    return problems


# -- events from other services ---------------------------------------------------------------------------------------

def on_assessment_scored(envelope: dict, uow: IntakeUnitOfWork, *, clock: Clock) -> None:
    payload = envelope["payload"]
    subject = payload["subject"]
    if payload["stage"] != "self_assessment" or subject["kind"] != "application":
        return  # other stages are shown by the services that own them

    def work():
        found = uow.applications.get(subject["id"])
        if found is None:
            raise PermanentFailure(f"unknown application {subject['id']}")
        app, doc = found
        try:
            changed = app.record_score_report(subject["version_no"], payload["report"], clock(), "scoring")
        except KeyError:
            raise PermanentFailure(f"application {app.id} has no version {subject['version_no']}") from None
        except VersionFrozen:
            log.warning("ignoring a second, different self-assessment report for %s v%s", app.id,
                        subject["version_no"])
            return
        if changed:
            uow.applications.save(app, listing_from(doc))
            uow.audit.record(actor=actor_of("scoring"), action="score_recorded", subject_type="application",
                             subject_id=app.id,
                             detail={"version": subject["version_no"], "total": payload["report"].get("total"),
                                     "verdict": payload["report"].get("verdict"), "event_id": envelope["event_id"]})

    uow.run(work)


def _case(envelope: dict, uow: IntakeUnitOfWork):
    """The application of a review_routing event and its stored document, or None for a superseded version."""
    payload = envelope["payload"]
    found = uow.applications.get(payload["application_id"])
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
    return app, doc


def on_case_routed(envelope: dict, uow: IntakeUnitOfWork) -> None:
    def work():
        found = _case(envelope, uow)
        if found is None:
            return
        app, doc = found
        if app.status not in ("submitted", "resubmitted"):
            return  # already routed, or the decision (which implies routing) arrived first
        payload = envelope["payload"]
        at = _parse_time(payload["routed_at"])
        departments = sorted({t["department"] for t in payload["tasks"]})
        app.mark_routed(at, "review_routing", {"version": payload["version_no"], "league": payload["league"],
                                               "departments": departments})
        uow.applications.save(app, listing_from(doc))
        uow.audit.record(actor=actor_of("review_routing"), action="case_routed", subject_type="application",
                         subject_id=app.id, at=at, detail={"version": payload["version_no"],
                                                           "departments": departments,
                                                           "event_id": envelope["event_id"]})

    uow.run(work)


def on_initial_review_decided(envelope: dict, uow: IntakeUnitOfWork) -> None:
    def work():
        found = _case(envelope, uow)
        if found is None:
            return
        app, doc = found
        payload = envelope["payload"]
        at = _parse_time(payload["decided_at"])
        actor = payload["decided_by"]
        if app.status in ("submitted", "resubmitted"):
            # Out of order: the decision overtook the routing event; routing certainly happened before it.
            app.mark_routed(at, "review_routing", {"version": payload["version_no"], "league": payload["league"]})
        if app.status != "routed":
            return  # this version's decision is already applied
        reasons, comment = reasons_from_decision(payload.get("reasons") or [])
        reasons = valid_reasons(reasons)
        decision = payload["decision"]
        if decision == "returned":
            app.return_for_correction(at, actor,
                                      reasons or {"general": "退回补正（未说明具体理由，请联系盟市自然资源局）"},
                                      comment)
        elif decision == "forwarded":
            app.forward(at, actor, "；".join(reasons.values()))
        else:
            app.reject(at, actor, reasons, comment or ("" if reasons else "初审不予通过"))
        uow.applications.save(app, listing_from(doc))
        uow.audit.record(actor={"username": actor, "role": "review_routing"}, action=f"initial_review_{decision}",
                         subject_type="application", subject_id=app.id, at=at,
                         detail={"version": payload["version_no"], "reasons": reasons,
                                 "event_id": envelope["event_id"]})

    uow.run(work)


def reasons_from_decision(reasons: list[dict]) -> tuple[dict[str, str], str]:
    """``initial_review_decided.reasons`` → ({"9": text, "P4": text, "materials.site_photos": text, "general": text},
    comment).  Several reasons for one key are joined; a ``check`` that names a material kind goes to that
    material, any other check is kept as a prefix of its text."""
    out: dict[str, list[str]] = {}
    for reason in reasons or ():
        text = (reason.get("text") or "").strip()
        if not text:
            continue
        check = reason.get("check")
        indicator, prerequisite = reason.get("indicator"), reason.get("prerequisite")
        if indicator is not None:
            key = str(indicator)
        elif prerequisite:
            key = str(prerequisite)
        elif check and check.startswith("materials.") and mat.kind_by_code(check[10:]):
            key = check
        elif check and mat.kind_by_code(check):
            key = f"materials.{check}"
        else:
            key = "general"
        if check and not key.startswith("materials."):
            label = check_label(str(check))
            if label and not text.startswith(label):
                text = f"{label}：{text}"
        out.setdefault(key, []).append(text)
    joined = {k: "；".join(v) for k, v in out.items()}
    return joined, ""


_NUMERALS = "一二三四五六七八九十"


def check_label(check: str) -> str:
    """A check of the initial review as people read it: ``C3`` (附件2 二 (三)) → 初审内容（三）; a check given in
    Chinese stays as it is; any other code is not shown (it would be an internal code on the enterprise's page)."""
    if len(check) == 2 and check[0] == "C" and check[1] in "123456789":
        return f"初审内容（{_NUMERALS[int(check[1]) - 1]}）"
    if any("\u4e00" <= ch <= "\u9fff" for ch in check):
        return check
    return ""


def valid_reasons(reasons: dict[str, str]) -> dict[str, str]:
    """Reasons whose key the application knows; any other key's text goes to "general" (without the key, an
    internal code the enterprise's page must not show)."""
    out: dict[str, list[str]] = {}
    for key, text in reasons.items():
        if is_reason_key(key):
            out.setdefault(key, []).append(text[:2000])
        else:
            out.setdefault("general", []).append(text[:2000])
    return {k: "；".join(v)[:2000] for k, v in out.items()}


def _parse_time(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
