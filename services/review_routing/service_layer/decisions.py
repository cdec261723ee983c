"""The lead bureau's countersign (会签): every department's opinion side by side with the re-score, and the
decision on a version (forward / return / reject).

The re-score is scoring's report on the self-assessment with the reviewers' entries laid over it
(`domain.case.rescore`), asked over HTTP with a token issued for the acting person, always outside the
transaction; the decision's transaction checks that no opinion changed since."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from review_routing.adapters import events
from review_routing.domain.access import Actor, can_decide
from review_routing.domain.case import VERSION_STATUSES, countersign_rows, decision_due, rescore
from review_routing.domain.checks import INITIAL_REVIEW_CHECKS
from review_routing.domain.commands import DecideCase, ShowCase
from review_routing.domain.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    NotPermitted,
    Unavailable,
)
from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar, beijing_date
from review_routing.service_layer.common import Catalogs, audit, department_name, readable_case
from review_routing.service_layer.department_queues import publish_task_events
from review_routing.service_layer.presenters import side_by_side
from review_routing.service_layer.region.reviews import open_region_review
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.identity import Principal
from shared.scoring_client import ScoringRejected, ScoringUnavailable
from shared.storage import ConcurrencyError

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
STALE = "审核意见刚有更新，请刷新页面核对后再作决定"


def principal_of(actor: Actor) -> Principal:
    """The acting person as the platform's identity (for the token scoring checks)."""
    return Principal(actor.username, actor.role, display_name=actor.display_name, department=actor.department,
                     area=actor.area, county=actor.county)


def evaluate(scoring, assessment: Mapping, actor: Actor) -> dict:
    """Scoring's report on `assessment`, asked as `actor`."""
    if scoring is None:
        raise ScoringUnavailable("未配置评分服务")
    return scoring.evaluate(dict(assessment), principal_of(actor))


def decide_case(cmd: DecideCase, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs, scoring,
                calendar: WorkingCalendar, policy: DeadlinePolicy) -> dict:
    actor, application_id = cmd.actor, cmd.application_id

    def read():
        case = readable_case(uow, actor, application_id)
        if not can_decide(actor, case.league):
            raise NotPermitted("只有本盟市的自然资源局可以作出初审决定")
        version_no = cmd.version_no if cmd.version_no is not None else (
            case.latest.version_no if case.latest else None)
        if version_no is None:
            raise InvalidInput("初审决定有误", [FieldError("version_no", "应为申报版本号(整数)")])
        try:
            case.version_of(version_no)
        except KeyError:
            raise NotFound(f"申报 {application_id} 没有第 {version_no} 版") from None
        return case, version_no, uow.tasks.of_case(application_id, version_no)

    case, version_no, tasks = uow.run(read)
    snapshot = {t.task_id: t.version for t in tasks}
    assessment = rescore(case.version_of(version_no).assessment, tasks,
                         lambda code: department_name(catalogs, code, case.catalog))
    report = None
    if cmd.decision == "forward":
        try:
            report = evaluate(scoring, assessment, actor)
        except ScoringUnavailable as exc:
            raise Unavailable(f"暂时无法取得按审核意见重新评分的结果，请稍后再试（{exc}）") from exc
        except ScoringRejected as exc:
            raise InvalidInput("按审核意见重新评分时评估数据有误，请相关部门修正评分后再决定", exc.errors) from exc
    elif cmd.decision in ("return", "reject"):
        try:
            report = evaluate(scoring, assessment, actor)
        except (ScoringUnavailable, ScoringRejected) as exc:
            log.warning("re-scoring for %s v%s failed (%s); deciding without a report", application_id,
                        version_no, exc)

    def run():
        current = uow.cases.get(application_id)
        fresh = uow.tasks.of_case(application_id, version_no)
        if {t.task_id: t.version for t in fresh} != snapshot:
            raise Conflict(STALE)
        catalog = catalogs(current.catalog)
        now = clock()
        reasons = list(cmd.reasons) if cmd.reasons is not None else None
        result, closed = current.decide(version_no, cmd.decision, reasons, actor, now, fresh, report, catalog,
                                        lambda code: department_name(catalogs, code, current.catalog))
        versions = {t.task_id: uow.tasks.save(t) for t in fresh}
        case_version = uow.cases.save(current)
        uow.publish(events.initial_review_decided(current, version_no, result, case_version))
        if result.decision == "forwarded":   # the case enters the region stage (附件2 三) with the decision
            open_region_review(uow, current, version_no, assessment, report, result, catalog, calendar=calendar,
                               policy=policy)
        by_id = {t.task_id: t for t in fresh}
        publish_task_events(uow, [events.task_event(by_id[e.task_id], e, versions[e.task_id]) for e in closed])
        audit(uow, actor, "decision_recorded", now, application_id=application_id, version_no=version_no,
              detail={"decision": result.decision, "reasons": [r.to_dict() for r in result.reasons],
                      "total": (report or {}).get("total"), "verdict": (report or {}).get("verdict")})
        return result

    try:
        result = uow.run(run)
    except ConcurrencyError:
        raise Conflict(STALE) from None
    return {"application_id": application_id, "version_no": version_no, **result.to_dict(), "label": result.label}


def show_case(cmd: ShowCase, uow: ReviewUnitOfWork, *, clock: Clock, calendar: WorkingCalendar,
              policy: DeadlinePolicy, catalogs: Catalogs, scoring) -> dict:
    """The countersign view of a case: every department's opinion side by side, who is late, and the scores
    the opinions imply (scoring's evaluate on the re-scored assessment)."""
    actor = cmd.actor

    def read():
        case = readable_case(uow, actor, cmd.application_id)
        latest = case.latest
        self_report = uow.self_reports.get(case.application_id, latest.version_no) if latest else None
        return case, uow.tasks.of_case(case.application_id), self_report

    case, all_tasks, stored_self_report = uow.run(read)
    catalog = catalogs(case.catalog)
    today = beijing_date(clock())
    name = lambda code: department_name(catalogs, code, case.catalog)  # noqa: E731
    versions = []
    for version in reversed(case.versions):
        tasks = [t for t in all_tasks if t.version_no == version.version_no]
        entry = {
            "version_no": version.version_no, "resubmission": version.resubmission,
            "submitted_at": version.submitted_at.isoformat(), "routed_at": version.routed_at.isoformat(),
            "status": version.status, "status_label": version.status_label, "warnings": list(version.warnings),
            "tasks": [dict(r, department_name=name(r["department"]))
                      for r in countersign_rows(tasks, calendar, today)],
            "decision": ({**version.decision.to_dict(), "label": version.decision.label}
                         if version.decision else None),
            "attachments": [dict(a) for a in version.attachments],
        }
        entry["late"] = [r for r in entry["tasks"] if r["overdue"]]
        due = decision_due(tasks, calendar, policy)
        entry["decision_due"] = due.isoformat() if due else None
        entry["decision_overdue"] = bool(due and version.status == "under_review" and today > due)
        entry["all_agreed"] = bool(tasks) and all(
            t.current_opinion and t.current_opinion.decision == "agree" for t in tasks)
        entry["side_by_side"] = side_by_side(version, tasks, catalog, name)
        if version is case.latest:
            entry["self_report"] = stored_self_report
            if version.status == "under_review" and cmd.rescore:
                _rescore_into(entry, version, tasks, name, scoring, actor)
            elif version.decision is not None:
                entry["report"] = version.decision.report
        versions.append(entry)
    latest = case.latest
    return {"application_id": case.application_id, "case_no": case.case_no, "league": case.league,
            "county": case.county,
            "catalog": case.catalog, "mine": dict(case.mine), "enterprise": dict(case.enterprise),
            "status": case.status, "status_label": VERSION_STATUSES[case.status],
            "latest_version": latest.version_no if latest else None, "today": today.isoformat(),
            "can_decide": can_decide(actor, case.league) and bool(latest) and latest.status == "under_review",
            "checks": [c.to_dict() for c in INITIAL_REVIEW_CHECKS],
            "prerequisites": [{"code": p.code, "name": p.name} for p in catalog.prerequisites],
            "versions": versions}


def _rescore_into(entry: dict, version, tasks, name, scoring, actor: Actor) -> None:
    """The re-score of the version under review (and the self-assessment's report if none was kept)."""
    assessment = rescore(version.assessment, tasks, name)
    entry["rescored_assessment"] = assessment
    try:
        entry["report"] = evaluate(scoring, assessment, actor)
        entry["report_error"] = None
    except ScoringRejected as exc:
        entry["report"] = None
        entry["report_error"] = {"message": str(exc), "errors": exc.error_map()}
    except ScoringUnavailable as exc:
        entry["report"] = None
        entry["report_error"] = {"message": f"暂时无法重新评分：{exc}", "errors": {}}
    if entry["self_report"] is None:
        try:
            entry["self_report"] = evaluate(scoring, version.assessment, actor)
        except (ScoringRejected, ScoringUnavailable):
            pass
