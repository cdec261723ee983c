"""资料核查与按比例实地抽查 (附件2 三, issue 11 item 4): the region office opens a check round over evaluated cases;
each department concerned records its part of the document check; the cases to visit and the inspectors of each
department come from publicly verifiable draws (`DrawRecord`, `sha256-rank-v1`); the spot check is a scored
assessment (scoring, stage `spot_check`) compared with the evaluator's, a contradiction flags the case and puts the
institution's evaluation under review. The draws themselves are public (`region.draws`).

Replays change nothing: a draw already made answers the same record (it is never redrawn), a part recorded again
with the same conclusion is not recorded twice, a spot check already recorded answers the stored one."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from review_routing.adapters.events import iso
from review_routing.domain.access import Actor
from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition, NotFound, NotPermitted
from review_routing.domain.region.check_rounds import (
    PART_STATUSES,
    CheckRound,
    verdict_label,
)
from review_routing.domain.region.draws import DrawRecord
from review_routing.domain.region.review import RegionReview
from review_routing.service_layer.common import Catalogs, audit, department_name
from review_routing.service_layer.region.draws import entered_value, publish_draw, replayed, stored_precision
from review_routing.service_layer.region.reviews import (
    PRODUCER,
    TOPIC,
    readable_review,
    require_region_office,
    save_review,
)
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.contracts import new_event
from shared.scoring_client import request_key
from shared.workdays import DeadlinePolicy, WorkingCalendar

Clock = Callable[[], datetime]
REGION = "自治区"
MAX_POOL = 500


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenCheckRound:
    actor: Actor
    ratio: str
    threshold: str | None = None
    review_ids: tuple[str, ...] = ()       # () = every evaluated case
    title: str | None = None


@dataclass(frozen=True)
class ShowCheckRounds:
    actor: Actor


@dataclass(frozen=True)
class ShowCheckRound:
    actor: Actor
    round_id: str


@dataclass(frozen=True)
class DrawSpotCheckCases:
    actor: Actor
    round_id: str
    entered_value: str


@dataclass(frozen=True)
class DrawInspectors:
    actor: Actor
    round_id: str
    department: str
    count: int
    entered_value: str
    pool: tuple[str, ...] = ()                       # () = every 自治区 reviewer of the department
    recusals: tuple[Mapping, ...] = field(default_factory=tuple)   # {username, reason}


@dataclass(frozen=True)
class RecordCheckPart:
    actor: Actor
    round_id: str
    review_id: str
    department: str
    passed: bool
    note: str | None = None


@dataclass(frozen=True)
class RecordSpotCheck:
    actor: Actor
    round_id: str
    review_id: str
    indicators: Mapping
    prerequisites: Mapping
    note: str | None = None


@dataclass(frozen=True)
class ShowSpotCheckForm:
    actor: Actor
    round_id: str
    review_id: str


# -- access -----------------------------------------------------------------------------------------------------
def may_record_part(actor: Actor, department: str, case: Mapping) -> bool:
    """The department's reviewers of the 自治区 or of the case's 盟市; the region office for any department."""
    if actor.role == "region_office":
        return True
    return (actor.role == "department_reviewer" and actor.department == department
            and actor.covers(case.get("league"), case.get("county")))


def _readable_round(uow: ReviewUnitOfWork, actor: Actor, round_id: str) -> CheckRound:
    rnd = uow.check_rounds.get(round_id)
    if rnd is None:
        raise NotFound(f"没有核查批次 {round_id}")
    if actor.role in ("region_office", "admin"):
        return rnd
    if actor.role == "department_reviewer" and any(may_record_part(actor, d, c) for c in rnd.cases
                                                   for d in c["departments"]):
        return rnd
    raise NotPermitted("您无权查看该核查批次（仅限自治区自然资源厅和相关部门）")


# -- events -----------------------------------------------------------------------------------------------------

def _round_event(event_type: str, rnd: CheckRound, payload: dict, at: datetime) -> dict:
    return new_event(event_type, producer=PRODUCER, aggregate_type="check_round", aggregate_id=rnd.round_id,
                     aggregate_version=rnd.version or 1, payload={"round_id": rnd.round_id, **payload},
                     occurred_at=at)


def _case_ref(case: Mapping) -> dict:
    return {"review_id": case["review_id"], "application_id": case["application_id"],
            "version_no": case["version_no"], "league": case["league"]}


# -- opening ----------------------------------------------------------------------------------------------------
def open_check_round(cmd: OpenCheckRound, uow: ReviewUnitOfWork, *, clock: Clock, catalogs: Catalogs) -> dict:
    require_region_office(cmd.actor, "开启资料核查与抽查批次")
    ids = list(dict.fromkeys(i.strip() for i in cmd.review_ids if i and i.strip()))

    def work():
        now = clock()
        if ids:
            found = uow.region_reviews.get_many(ids)
            missing = [i for i in ids if i not in found]
            if missing:
                raise InvalidInput("核查批次有误",
                                   [FieldError("review_ids", f"没有自治区评估环节的案件：{'、'.join(missing)}")])
            reviews = [found[i] for i in ids]
        else:
            reviews = uow.region_reviews.find(status="evaluated", sort="forwarded_at")
        departments_of, names = {}, {}
        for review in reviews:
            case = uow.cases.get(review.application_id)
            codes = [t.department for t in case.version_of(review.version_no).tasks] if case else []
            departments_of[review.id] = codes
            for code in codes:
                names[code] = department_name(catalogs, code, review.catalog_id)
        rnd = CheckRound.open(reviews=reviews, departments_of=departments_of, ratio=cmd.ratio,
                              threshold=cmd.threshold, title=cmd.title, actor=cmd.actor, at=now,
                              department_names=names)
        uow.check_rounds.save(rnd)
        for review in reviews:
            review.check_started(rnd.round_id, cmd.actor.username, now, rnd.title)
            save_review(uow, review, None, now)
        uow.publish(_round_event("review_routing.check_round_opened", rnd, {
            "title": rnd.title, "ratio": rnd.ratio, "threshold": rnd.threshold,
            "cases": [_case_ref(c) for c in rnd.cases], "departments": rnd.departments,
            "opened_by": cmd.actor.username, "opened_at": iso(now)}, now), topic=TOPIC)
        audit(uow, cmd.actor, "check_round_opened", now, target=rnd.round_id,
              detail={"review_ids": rnd.review_ids, "ratio": rnd.ratio, "threshold": rnd.threshold})
        return round_view(rnd, cmd.actor, {})

    return uow.run(work)


# -- reads ------------------------------------------------------------------------------------------------------
def round_summary(rnd: CheckRound) -> dict:
    parts = [p for c in rnd.cases for p in c["parts"].values()]
    return {"round_id": rnd.round_id, "title": rnd.title, "status": rnd.status, "status_label": rnd.status_label,
            "ratio": rnd.ratio, "threshold": rnd.threshold, "opened_at": iso(rnd.opened_at),
            "opened_by_name": rnd.opened_by_name, "cases": len(rnd.cases),
            "finished_cases": sum(1 for c in rnd.cases if c["finished_at"]),
            "parts_pending": sum(1 for p in parts if p["status"] == "pending"),
            "drawn": None if rnd.drawn is None else len(rnd.drawn), "case_draw_id": rnd.case_draw_id,
            "contradictions": sum(1 for c in rnd.cases if c.get("contradiction"))}


def round_view(rnd: CheckRound, actor: Actor, draws: Mapping[str, DrawRecord]) -> dict:
    office = actor.role == "region_office"
    cases = []
    for c in rnd.cases:
        parts = []
        for code in c["departments"]:
            part = c["parts"][code]
            own = may_record_part(actor, code, c)
            parts.append({"department": code, "department_name": rnd.department_name(code), **part,
                          "status_label": PART_STATUSES[part["status"]], "own": own,
                          "mine": own and not c["finished_at"]})
        if not office:   # a department sees its own parts only
            parts = [p for p in parts if p["own"]]
        spot = dict(c["spot"]) if c["spot"] else None
        if spot:
            spot["verdict_label"] = verdict_label(spot.get("verdict"))
        cases.append({**{k: c[k] for k in ("review_id", "application_id", "version_no", "case_no", "league",
                                           "mine_name", "enterprise_name", "finished_at", "passed",
                                           "contradiction")},
                      "institution": c["institution"], "evaluation": c["evaluation"] if office else None,
                      "evaluation_verdict_label": verdict_label(c["evaluation"].get("verdict")) if office else None,
                      "parts": parts, "selected": rnd.selected(c["review_id"]), "spot": spot if office else None,
                      "may_spot_check": office and rnd.selected(c["review_id"]) and not c["spot"]
                      and bool(rnd.inspector_draws)})
    if not office:
        cases = [c for c in cases if c["parts"]]
    return {**round_summary(rnd), "cases_detail": cases,
            "departments": [{"code": d, "name": rnd.department_name(d), "draw_id": rnd.inspector_draws.get(d),
                             "inspectors": rnd.inspectors.get(d, [])} for d in rnd.departments],
            "case_draw": draws[rnd.case_draw_id].public() if rnd.case_draw_id in draws else None,
            "under_review": list(rnd.under_review) if office else [],
            "history": list(reversed(rnd.history)) if office else [],
            "permissions": {"draw": office and rnd.case_draw_id is None,
                            "draw_inspectors": office and any(d not in rnd.inspector_draws for d in rnd.departments),
                            "spot_check": office}}


def show_check_rounds(cmd: ShowCheckRounds, uow: ReviewUnitOfWork) -> dict:
    """The office: every round, newest first. A department reviewer: its parts to record, and those recorded."""
    actor = cmd.actor
    if actor.role not in ("region_office", "admin", "department_reviewer"):
        raise NotPermitted("您无权查看资料核查与抽查")
    rounds = uow.read(lambda: uow.check_rounds.find(sort="opened_at", descending=True))
    if actor.role == "department_reviewer":
        rounds = [r for r in rounds if actor.department in r.departments]
    parts = []
    if actor.role == "department_reviewer":
        for rnd in rounds:
            for c in rnd.cases:
                for code, part in c["parts"].items():
                    if may_record_part(actor, code, c):
                        parts.append({"round_id": rnd.round_id, "round_title": rnd.title, "review_id": c["review_id"],
                                      "case_no": c["case_no"], "mine_name": c["mine_name"],
                                      "enterprise_name": c["enterprise_name"], "league": c["league"],
                                      "department": code, "department_name": rnd.department_name(code),
                                      "status": part["status"], "status_label": PART_STATUSES[part["status"]],
                                      "note": part["note"], "at": part["at"]})
        parts.sort(key=lambda p: (p["status"] != "pending", p["round_id"], p["review_id"]))
    return {"rounds": [round_summary(r) for r in rounds], "parts": parts}


def show_check_round(cmd: ShowCheckRound, uow: ReviewUnitOfWork, *, directory=None) -> dict:
    def work():
        rnd = _readable_round(uow, cmd.actor, cmd.round_id)
        draws = uow.draws.get_many([rnd.case_draw_id]) if rnd.case_draw_id else {}
        return rnd, draws

    rnd, draws = uow.read(work)
    view = round_view(rnd, cmd.actor, draws)
    if cmd.actor.role == "region_office" and directory is not None:
        # The people the office may put in each undrawn department's pool (自治区 reviewers first).
        people = [p for p in directory.all() if p.role == "department_reviewer"]
        for d in view["departments"]:
            if d["draw_id"] is None:
                d["candidates"] = sorted(
                    ({"username": p.username, "name": p.name, "area": p.area, "region": p.area == REGION}
                     for p in people if p.department == d["code"]), key=lambda c: (not c["region"], c["username"]))
    return view


# -- the draws --------------------------------------------------------------------------------------------------
def draw_spot_check_cases(cmd: DrawSpotCheckCases, uow: ReviewUnitOfWork, *, clock: Clock,
                          calendar: WorkingCalendar, policy: DeadlinePolicy) -> dict:
    require_region_office(cmd.actor, "抽取实地抽查的矿山")
    entered = entered_value(cmd.entered_value)

    def work():
        rnd = _readable_round(uow, cmd.actor, cmd.round_id)
        if rnd.case_draw_id:
            return replayed(uow.draws.get(rnd.case_draw_id), entered)
        now = stored_precision(clock())
        record = DrawRecord.run(
            purpose="spot_check_cases", title=f"{rnd.title} — 实地抽查矿山", population=rnd.review_ids,
            ratio=rnd.ratio, entered_value=entered, at=now, by=cmd.actor.username,
            context={"round_id": rnd.round_id},
            labels={c["review_id"]: f"{c['case_no'] or c['application_id']} {c['mine_name']}（{c['league']}）"
                    for c in rnd.cases})
        uow.draws.save(record)
        rnd.cases_drawn(record.draw_id, record.selected, cmd.actor.username, now)
        _finish_ready(uow, rnd, rnd.review_ids, cmd.actor, now, calendar, policy)
        uow.check_rounds.save(rnd)
        publish_draw(uow, record, now)
        audit(uow, cmd.actor, "spot_check_cases_drawn", now, target=rnd.round_id,
              detail={"draw_id": record.draw_id, "selected": list(record.selected), "entered_value": entered})
        return record.public()

    return uow.run(work)


def _pool(cmd: DrawInspectors, directory) -> tuple[list[str], dict[str, str]]:
    """The pool's user names in order, and their display names; refuses anyone not a reviewer of the department."""
    if directory is None:
        raise InvalidTransition("未配置用户目录，无法抽取抽查人员")
    if cmd.pool:
        names = list(dict.fromkeys(u.strip() for u in cmd.pool if u and u.strip()))
        people = {u: directory.get(u) for u in names}
        wrong = [u for u, p in people.items()
                 if p is None or p.role != "department_reviewer" or p.department != cmd.department]
        if wrong:
            raise InvalidInput("抽查人员库有误",
                               [FieldError("pool", f"以下账号不是该部门的审核人员：{'、'.join(wrong)}")])
    else:
        found = [p for p in directory.all() if p.role == "department_reviewer" and p.department == cmd.department
                 and p.area == REGION]
        names = [p.username for p in found]
        people = {p.username: p for p in found}
        if not names:
            raise InvalidInput("抽查人员库为空", [FieldError(
                "pool", "该部门没有自治区级审核人员账号，请填写人员库（该部门审核人员的账号）")])
    if len(names) > MAX_POOL:
        raise InvalidInput("抽查人员库有误", [FieldError("pool", f"人员库最多 {MAX_POOL} 人")])
    return names, {u: people[u].name for u in names}


def draw_inspectors(cmd: DrawInspectors, uow: ReviewUnitOfWork, *, clock: Clock, directory) -> dict:
    require_region_office(cmd.actor, "抽取抽查人员")
    entered = entered_value(cmd.entered_value)

    def work():
        rnd = _readable_round(uow, cmd.actor, cmd.round_id)
        if cmd.department not in rnd.departments:
            raise InvalidInput("部门有误", [FieldError("department", "本批次没有该部门的资料核查")])
        if cmd.department in rnd.inspector_draws:
            return replayed(uow.draws.get(rnd.inspector_draws[cmd.department]), entered)
        names, labels = _pool(cmd, directory)
        errors, recused = [], {}
        for i, r in enumerate(cmd.recusals):
            user, reason = str(r.get("username") or "").strip(), str(r.get("reason") or "").strip()
            if user not in labels:
                errors.append(FieldError(f"recusals[{i}].username", "回避人员须在人员库中"))
            if not reason or len(reason) > 500:
                errors.append(FieldError(f"recusals[{i}].reason", "请写明回避理由（不超过 500 字）"))
            recused[user] = reason
        population = [u for u in names if u not in recused]
        if not population:
            errors.append(FieldError("pool", "回避后人员库为空，无法抽取"))
        count_ok = isinstance(cmd.count, int) and not isinstance(cmd.count, bool)
        if not count_ok or not 1 <= cmd.count <= max(len(population), 1):
            errors.append(FieldError("count", f"抽取人数应为 1 至 {len(population)} 人（回避后的人员库人数）"))
        if errors:
            raise InvalidInput("抽查人员抽取条件有误", errors)
        now = stored_precision(clock())
        name = rnd.department_name(cmd.department)
        record = DrawRecord.run(
            purpose="inspectors", title=f"{rnd.title} — {name}抽查人员", population=population,
            count=cmd.count, entered_value=entered, at=now, by=cmd.actor.username,
            context={"round_id": rnd.round_id, "department": cmd.department, "department_name": name},
            labels=labels, excluded=[{"id": u, "label": labels[u], "reason": why} for u, why in recused.items()])
        uow.draws.save(record)
        rnd.inspectors_drawn(cmd.department, record.draw_id,
                             [{"username": u, "name": labels[u]} for u in record.selected], cmd.actor.username, now)
        uow.check_rounds.save(rnd)
        publish_draw(uow, record, now)
        audit(uow, cmd.actor, "inspectors_drawn", now, target=rnd.round_id,
              detail={"draw_id": record.draw_id, "department": cmd.department, "selected": list(record.selected),
                      "recused": recused})
        return record.public()

    return uow.run(work)


# -- the document check -----------------------------------------------------------------------------------------
def record_check_part(cmd: RecordCheckPart, uow: ReviewUnitOfWork, *, clock: Clock, calendar: WorkingCalendar,
                      policy: DeadlinePolicy) -> dict:
    def work():
        rnd = _readable_round(uow, cmd.actor, cmd.round_id)
        case = rnd.case(cmd.review_id)
        if cmd.department not in case["parts"]:
            raise InvalidInput("部门有误", [FieldError("department", "该案件的资料核查没有这个部门")])
        if not may_record_part(cmd.actor, cmd.department, case):
            raise NotPermitted("只有该部门（本辖区）的审核人员或自治区自然资源厅可以录入这部分资料核查意见")
        now = clock()
        if rnd.record_part(cmd.review_id, cmd.department, cmd.passed, cmd.note, cmd.actor, now):
            _finish_ready(uow, rnd, [cmd.review_id], cmd.actor, now, calendar, policy)
            uow.check_rounds.save(rnd)
            part = case["parts"][cmd.department]
            uow.publish(_round_event("review_routing.check_part_recorded", rnd, {
                **_case_ref(case), "department": cmd.department, "status": part["status"],
                "recorded_by": cmd.actor.username, "recorded_at": iso(now)}, now), topic=TOPIC)
            audit(uow, cmd.actor, "check_part_recorded", now, application_id=case["application_id"],
                  version_no=case["version_no"], target=rnd.round_id,
                  detail={"review_id": cmd.review_id, "department": cmd.department, "status": part["status"],
                          "note": part["note"]})
        part = rnd.case(cmd.review_id)["parts"][cmd.department]
        return {"round_id": rnd.round_id, "review_id": cmd.review_id, "department": cmd.department,
                "department_name": rnd.department_name(cmd.department), **part,
                "status_label": PART_STATUSES[part["status"]],
                "case_finished": bool(rnd.case(cmd.review_id)["finished_at"])}

    return uow.run(work)


# -- the spot check ---------------------------------------------------------------------------------------------
def _evaluator_indicators(uow: ReviewUnitOfWork, evaluation_id: str | None) -> Mapping | None:
    """The evaluator's per-indicator scores when its Evaluation keeps scoring's report (else None)."""
    evaluations = getattr(uow, "evaluations", None)
    if not evaluation_id or evaluations is None:
        return None
    evaluation = evaluations.get(evaluation_id)
    report = getattr(evaluation, "report", None) if evaluation else None
    return (report or {}).get("indicator_scores") if isinstance(report, Mapping) else None


def record_spot_check(cmd: RecordSpotCheck, uow: ReviewUnitOfWork, *, clock: Clock, scoring,
                      calendar: WorkingCalendar, policy: DeadlinePolicy) -> dict:
    require_region_office(cmd.actor, "录入实地抽查结果")
    from review_routing.service_layer.decisions import principal_of

    def prepare():
        rnd = _readable_round(uow, cmd.actor, cmd.round_id)
        case = rnd.case(cmd.review_id)
        if case["spot"] is not None:
            return rnd, case, None
        rnd.spot_check_allowed(cmd.review_id)
        review = readable_review(uow, cmd.actor, cmd.review_id)
        stored = uow.cases.get(review.application_id)
        base = stored.version_of(review.version_no).assessment if stored else {}
        return rnd, case, (review, base)

    rnd, case, found = uow.read(prepare)
    if found is None:                      # replayed: the stored spot check
        return _spot_answer(rnd, case)
    review, base = found
    assessment = {"catalog": base.get("catalog") or review.catalog_id, "mine": dict(base.get("mine") or {}),
                  "prerequisites": dict(cmd.prerequisites or {}), "indicators": dict(cmd.indicators or {})}
    if scoring is None:
        raise InvalidTransition("未配置评分服务")
    recorded = scoring.record(subject_id=review.application_id, version_no=review.version_no, stage="spot_check",
                              assessment=assessment, league=review.league, principal=principal_of(cmd.actor),
                              request_key=request_key(f"{cmd.round_id}.{cmd.review_id}", assessment))
    report = recorded.get("report") or {}

    def work():
        rnd = _readable_round(uow, cmd.actor, cmd.round_id)
        case = rnd.case(cmd.review_id)
        if case["spot"] is not None:
            return _spot_answer(rnd, case)
        now = clock()
        text = rnd.record_spot_check(
            cmd.review_id, assessment_id=recorded.get("id"), total=report.get("total"),
            verdict=report.get("verdict"), note=cmd.note,
            evaluator_indicators=_evaluator_indicators(uow, case["evaluation"].get("evaluation_id")),
            spot_indicators=report.get("indicator_scores"), actor=cmd.actor, at=now)
        spot = case["spot"]
        uow.publish(_round_event("review_routing.spot_check_recorded", rnd, {
            **_case_ref(case), "assessment_id": spot["assessment_id"], "total": spot["total"],
            "verdict": spot["verdict"], "contradiction": text,
            "inspectors": [p["username"] for p in spot["inspectors"]],
            "recorded_by": cmd.actor.username, "recorded_at": iso(now)}, now), topic=TOPIC)
        if text and case["institution"]:
            uow.publish(_round_event("review_routing.evaluation_under_review", rnd, {
                **_case_ref(case), "institution_id": case["institution"]["id"],
                "institution_name": case["institution"].get("name") or "",
                "evaluation_id": case["evaluation"].get("evaluation_id"),
                "evaluation_assessment_id": case["evaluation"].get("assessment_id"),
                "spot_check_assessment_id": spot["assessment_id"], "reason": text, "at": iso(now)}, now),
                topic=TOPIC)
        _finish_ready(uow, rnd, [cmd.review_id], cmd.actor, now, calendar, policy)
        uow.check_rounds.save(rnd)
        audit(uow, cmd.actor, "spot_check_recorded", now, application_id=case["application_id"],
              version_no=case["version_no"], target=rnd.round_id,
              detail={"review_id": cmd.review_id, "assessment_id": spot["assessment_id"], "total": spot["total"],
                      "verdict": spot["verdict"], "contradiction": text})
        return _spot_answer(rnd, case)

    return uow.run(work)


def show_spot_check_form(cmd: ShowSpotCheckForm, uow: ReviewUnitOfWork, *, catalogs: Catalogs) -> dict:
    """What the spot-check form needs: the case, its applicable indicators and the prerequisites."""
    require_region_office(cmd.actor, "录入实地抽查结果")

    def work():
        rnd = _readable_round(uow, cmd.actor, cmd.round_id)
        case = rnd.case(cmd.review_id)
        stored = uow.cases.get(case["application_id"])
        return rnd, case, stored.version_of(case["version_no"]) if stored else None

    rnd, case, version = uow.read(work)
    catalog = catalogs(case.get("catalog_id") or "nm-2025")
    applicable = version.applicable_indicators if version else ()
    indicators = []
    for no in applicable:
        ind = catalog.indicator(no)
        indicators.append({"no": no, "name": ind.name, "points": str(ind.points), "binding": ind.binding,
                           "text": ind.text, "reconstructed": list(ind.reconstructed_fields)})
    view = round_view(rnd, cmd.actor, {})
    return {"round_id": rnd.round_id, "round_title": rnd.title, "threshold": rnd.threshold,
            "case": next(c for c in view["cases_detail"] if c["review_id"] == cmd.review_id),
            "inspectors": [p for d in case["departments"] for p in rnd.inspectors.get(d, [])],
            "indicators": indicators,
            "prerequisites": [{"code": p.code, "name": p.name, "requirement": p.requirement}
                              for p in catalog.prerequisites]}


def _spot_answer(rnd: CheckRound, case: Mapping) -> dict:
    spot = dict(case["spot"])
    return {"round_id": rnd.round_id, "review_id": case["review_id"], **spot,
            "verdict_label": verdict_label(spot.get("verdict")), "case_finished": bool(case["finished_at"])}


# -- finishing --------------------------------------------------------------------------------------------------
def _finish_ready(uow: ReviewUnitOfWork, rnd: CheckRound, review_ids, actor: Actor, at: datetime,
                  calendar: WorkingCalendar, policy: DeadlinePolicy) -> None:
    """Every listed case whose parts are all in (and, if drawn, its spot check) finishes its check: the
    RegionReview moves to `checked` (a contradiction flags it)."""
    for rid in review_ids:
        if not rnd.ready(rid):
            continue
        result = rnd.finish_case(rid, at)
        review: RegionReview | None = uow.region_reviews.get(rid)
        if review is None or review.status != "in_check" or review.check_round_id != rnd.round_id:
            continue
        before = len(review.flags)
        review.check_finished(result, actor.username, at, calendar, policy)
        save_review(uow, review, before, at)
        audit(uow, actor, "check_finished", at, application_id=review.application_id,
              version_no=review.version_no, target=review.id,
              detail={"round_id": rnd.round_id, "passed": result["passed"], "spot_checked": result["spot_checked"],
                      "contradiction": result["contradiction"]})


COMMAND_HANDLERS = {
    OpenCheckRound: open_check_round,
    ShowCheckRounds: show_check_rounds,
    ShowCheckRound: show_check_round,
    DrawSpotCheckCases: draw_spot_check_cases,
    DrawInspectors: draw_inspectors,
    RecordCheckPart: record_check_part,
    RecordSpotCheck: record_spot_check,
    ShowSpotCheckForm: show_spot_check_form,
}
EVENT_HANDLERS: dict = {}
