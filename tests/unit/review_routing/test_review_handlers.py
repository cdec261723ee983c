"""The review's handlers through the bus with a fake unit of work (no server): routing and the queue read
model, task actions, photos and evidence, the decision with the re-score, the overdue sweep, the views."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from review_builders import (
    AT,
    BUREAU,
    CONTRACTS,
    REGION,
    attachment,
    full_assessment,
    full_opinion,
    opinion_body,
    reviewer,
    submission,
    submitted_event,
)
from review_fakes import DuplicateId, FakePhotoFiles, FakeReviewUnitOfWork

from review_routing.adapters import events
from review_routing.bootstrap import bootstrap
from review_routing.domain import commands as c
from review_routing.domain.access import Actor
from review_routing.domain.workdays import WorkingCalendar
from review_routing.service_layer import department_queues, routing
from shared.config import Settings
from shared.contracts import ContractRegistry
from shared.errors import Conflict, InvalidInput, InvalidTransition, NotFound, NotPermitted, Unavailable
from shared.scoring_client import ScoringUnavailable

ECO = reviewer("ecology_environment")
ECO_2 = reviewer("ecology_environment", username="rv_ecology_2")
ECO_BAOTOU = reviewer("ecology_environment", area="包头市", username="eco_baotou")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
QUALIFIED = {"verdict": "qualified", "verdict_label": "达标", "total": "95", "indicator_scores": {}}


class Clock:
    def __init__(self, now: datetime = AT):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Directory:
    people = [ECO, ECO_2, ECO_BAOTOU, BUREAU]

    def get(self, username):
        return next((p for p in self.people if p.username == username), None)

    def all(self):
        return list(self.people)


class Scoring:
    """Scoring's evaluate: a fixed report, or a failure; remembers who asked."""

    def __init__(self, report=QUALIFIED, error: Exception | None = None):
        self.report, self.error, self.asked_by = report, error, []

    def evaluate(self, assessment, principal):
        self.asked_by.append(principal)
        if self.error is not None:
            raise self.error
        return dict(self.report)


@pytest.fixture
def uow():
    return FakeReviewUnitOfWork(ContractRegistry([CONTRACTS]))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def scoring():
    return Scoring()


@pytest.fixture
def bus(uow, clock, scoring):
    return bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow,
                     uow_for=lambda tx: uow, clock=clock, scoring=scoring, directory=Directory(),
                     photo_files=FakePhotoFiles(), env={})


def route(bus, uow, catalog, *payloads):
    """Deliver submissions as the consumer does (one chunk)."""
    bus.handle_event(submitted_event(payloads[0]), uow) if len(payloads) == 1 else routing.route_submissions(
        [submitted_event(p) for p in payloads], uow, catalogs=bus.dependencies["catalogs"],
        calendar=bus.dependencies["calendar"], policy=bus.dependencies["policy"], clock=bus.dependencies["clock"])


def task_id(department: str, app_id: str = "app-1", version_no: int = 1) -> str:
    return f"{app_id}.v{version_no}.{department}"


def agree_all(bus, uow, app_id="app-1", version_no=1):
    for task in uow.tasks.of_case(app_id, version_no):
        actor = BUREAU if task.lead else reviewer(task.department)
        body = opinion_body(full_opinion(task, comments="同意"))
        bus.handle(c.ClaimTask(actor, task.task_id))
        bus.handle(c.GiveOpinion(actor, task.task_id, body))


# --- routing and the queue ------------------------------------------------------------------------------------
def test_a_submission_becomes_a_case_with_one_task_per_department_each_on_its_topic(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    tasks = uow.tasks.of_case("app-1", 1)
    assigned = uow.events("review_routing.review_task_assigned")
    assert {e["payload"]["task_id"] for e in assigned} == {t.task_id for t in tasks}
    topics = {e["payload"]["task_id"]: topic for e, topic in uow.published if e["type"].endswith("task_assigned")}
    assert all(topics[t.task_id] == events.department_topic(t.department) for t in tasks)
    assert len(uow.events("review_routing.case_routed")) == 1
    assert uow.cases.get("app-1").version == 1 and uow.audit.actions() == ["case_routed"]
    assert set(uow.queue.docs) == {t.task_id for t in tasks}
    assert all(q["status"] == "open" for q in uow.queue.docs.values())


def test_a_submission_seen_again_changes_nothing(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    published, tasks = len(uow.published), dict(uow.tasks.docs)
    route(bus, uow, catalog, submission(catalog))
    assert len(uow.published) == published and uow.tasks.docs == tasks and uow.audit.actions() == ["case_routed"]


def test_a_resubmission_in_the_same_chunk_supersedes_the_first_version(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog), submission(catalog, version_no=2))
    first = uow.tasks.of_case("app-1", 1)
    assert first and all(t.outcome == "superseded" and t.status == "closed" for t in first)
    assert all(t.status == "open" for t in uow.tasks.of_case("app-1", 2))
    assert uow.cases.get("app-1").version == 2
    closed = uow.events("review_routing.review_task_closed")
    assert {e["payload"]["task_id"] for e in closed} == {t.task_id for t in first}


def test_a_submission_that_cannot_be_routed_is_a_permanent_failure_and_stores_nothing(bus, uow, catalog):
    from shared.messaging import PermanentFailure

    bad = submission(catalog, mine={**submission(catalog)["mine"], "league": "北京市"})
    with pytest.raises(PermanentFailure, match="无法识别盟市"):
        route(bus, uow, catalog, bad)
    assert not uow.cases.docs and not uow.tasks.docs and not uow.published


def test_the_fast_queue_path_refuses_an_entry_that_exists(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    assigned = uow.events("review_routing.review_task_assigned")[:1]
    with pytest.raises(DuplicateId):
        department_queues.project_task_events(assigned, uow, assume_new_assignments=True)
    department_queues.project_task_events(assigned, uow)                  # the careful path: unchanged
    assert uow.queue.docs[assigned[0]["payload"]["task_id"]]["status"] == "open"


def test_self_assessment_reports_are_kept_beside_the_case(bus, uow):
    envelope = {"type": "scoring.assessment_scored", "occurred_at": "2026-03-02T08:16:00Z",
                "payload": {"stage": "self_assessment", "subject": {"kind": "application", "id": "app-1",
                                                                    "version_no": 1}, "report": {"total": "90"}}}
    routing.record_self_assessment(envelope, uow)
    routing.record_self_assessment({**envelope, "payload": {**envelope["payload"], "stage": "spot_check"}}, uow)
    assert uow.self_reports.get("app-1", 1) == {"total": "90"}


# --- task actions -----------------------------------------------------------------------------------------------
def test_claim_publishes_on_the_department_topic_and_audits(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    before = len(uow.published)
    task = bus.handle(c.ClaimTask(ECO, task_id("ecology_environment")))
    assert task.status == "claimed" and task.version == 2
    (event, topic), = uow.published[before:]
    assert event["type"] == "review_routing.review_task_claimed"
    assert topic == "review_routing.tasks.ecology_environment" and event["aggregate_version"] == 2
    assert uow.audit.actions()[-1] == "task_claimed"
    # The department queue shows it with the change itself, no consumer in between.
    entry = uow.queue.docs[task_id("ecology_environment")]
    assert entry["status"] == "claimed" and entry["claimed_by"] == ECO.username and entry["event_version"] == 2


def test_only_the_department_and_area_may_act(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    with pytest.raises(NotPermitted, match="仅限本部门、本辖区"):
        bus.handle(c.ClaimTask(ECO_BAOTOU, task_id("ecology_environment")))
    with pytest.raises(NotPermitted):
        bus.handle(c.ClaimTask(ECO, task_id("energy")))
    with pytest.raises(NotPermitted):
        bus.handle(c.ClaimTask(REGION, task_id("ecology_environment")))
    with pytest.raises(NotFound):
        bus.handle(c.ClaimTask(ECO, "nope"))


def test_a_stale_task_is_a_conflict_and_nothing_is_published(bus, uow, catalog, monkeypatch):
    route(bus, uow, catalog, submission(catalog))
    published = len(uow.published)
    real_get = uow.tasks.get

    def stale(task_id):
        task = real_get(task_id)
        uow.tasks.docs[task_id]["version"] += 1          # somebody saved meanwhile
        return task

    monkeypatch.setattr(uow.tasks, "get", stale)
    with pytest.raises(Conflict):
        bus.handle(c.ClaimTask(ECO, task_id("ecology_environment")))
    assert len(uow.published) == published


def test_transfer_only_to_a_colleague_of_the_department_and_area(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    eco = task_id("ecology_environment")
    bus.handle(c.ClaimTask(ECO, eco))
    assert [p["username"] for p in bus.handle(c.ListColleagues(ECO, eco))] == ["rv_ecology_2"]
    with pytest.raises(InvalidInput) as refused:
        bus.handle(c.TransferTask(ECO, eco, "eco_baotou", "忙"))
    assert "不是生态环境部门在鄂尔多斯市的审核人员" in refused.value.error_map()["to_user"][0]
    with pytest.raises(InvalidInput):
        bus.handle(c.TransferTask(ECO, eco, "  ", "忙"))
    moved = bus.handle(c.TransferTask(ECO, eco, "rv_ecology_2", "片区调整"))
    assert moved.claimed_by == "rv_ecology_2"
    assert uow.audit.docs[-1]["detail"] == {"to_user": "rv_ecology_2", "reason": "片区调整"}


def test_remind_by_the_lead_bureau_only(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    eco = task_id("ecology_environment")
    with pytest.raises(NotPermitted):
        bus.handle(c.RemindTask(ECO, eco, "快"))
    assert len(bus.handle(c.RemindTask(BUREAU, eco, "请本周内办结")).reminders) == 1
    assert uow.events("review_routing.review_task_reminded")[-1]["payload"]["message"] == "请本周内办结"


def test_an_opinion_is_recorded_with_its_scores_and_photos_and_refused_with_reasons(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    eco = task_id("ecology_environment")
    bus.handle(c.ClaimTask(ECO, eco))
    photo = bus.handle(c.UploadPhoto(ECO, eco, "采场.jpg", "image/jpeg", JPEG))
    with pytest.raises(InvalidTransition, match="请先由其转办"):
        bus.handle(c.GiveOpinion(ECO_2, eco, {"decision": "agree"}))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(c.GiveOpinion(ECO, eco, {"decision": "agree", "indicators": [{"indicator": 3,
                                                                                  "score": Decimal("9")}]}))
    assert "不能超过该项标准分" in refused.value.error_map()["indicators[0].score"][0]
    with pytest.raises(InvalidInput) as empty:                  # an empty 同意 names every item, in Chinese
        bus.handle(c.GiveOpinion(ECO, eco, {"decision": "agree"}))
    missing = empty.value.error_map()
    task = uow.tasks.get(eco)
    assert len(missing["indicators"]) == len(task.indicators) and not task.opinions
    assert f"第 12 项 {catalog.indicator(12).name}：请给出判定" in missing["indicators"]
    assert f"先决条件 P1 {catalog.prerequisite('P1').name}：请判定是否满足" in missing["prerequisites"]
    body = opinion_body(full_opinion(task, "return", comments="补设标牌", indicators={
        3: {"verdict": "problem", "score": "0.6", "opinion": "缺2处"}}, site_checks=[
        {"inspectors": ["张工"], "location": "采场", "checked_on": "2026-03-02", "observations": "缺2处",
         "photos": [photo["photo_id"]]}]))
    task = bus.handle(c.GiveOpinion(ECO, eco, body))
    assert task.status == "opinion_given" and task.current_opinion.indicator(3).score == Decimal("0.6")
    recorded = uow.events("review_routing.review_opinion_recorded")[-1]["payload"]
    assert recorded["decision"] == "return"
    assert uow.audit.docs[-1]["detail"]["photos"] == [photo["photo_id"]]


# --- photos and evidence ----------------------------------------------------------------------------------------
def test_photos_are_checked_stored_registered_and_their_views_audited(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    eco = task_id("ecology_environment")
    files = bus.dependencies["photo_files"]
    with pytest.raises(InvalidInput, match="照片不能上传"):
        bus.handle(c.UploadPhoto(ECO, eco, "x.svg", "image/svg+xml", b"<svg/>"))
    assert not files.files and not uow.photos.docs
    with pytest.raises(NotPermitted):
        bus.handle(c.UploadPhoto(ECO_BAOTOU, eco, "a.jpg", "image/jpeg", JPEG))
    stored = bus.handle(c.UploadPhoto(ECO, eco, "../排土场.jpg", "image/jpeg", JPEG))
    assert stored["filename"] == "排土场.jpg" and stored["url"] == f"/api/v1/review/photos/{stored['photo_id']}"
    doc, stream = bus.handle(c.OpenPhoto(BUREAU, stored["photo_id"]))
    assert stream.read() == JPEG and doc["content_type"] == "image/jpeg"
    with pytest.raises(NotPermitted):
        bus.handle(c.OpenPhoto(ECO_BAOTOU, stored["photo_id"]))
    assert uow.audit.actions()[-2:] == ["photo_uploaded", "photo_viewed"]


def test_a_photo_whose_registration_fails_is_deleted_again(bus, uow, catalog, monkeypatch):
    route(bus, uow, catalog, submission(catalog))
    files = bus.dependencies["photo_files"]

    def full(task_id):
        return 200

    monkeypatch.setattr(uow.photos, "count_of_task", full)
    with pytest.raises(InvalidInput, match="照片不能上传"):
        bus.handle(c.UploadPhoto(ECO, task_id("ecology_environment"), "a.jpg", "image/jpeg", JPEG))
    assert files.files == {} and not uow.photos.docs


def test_evidence_views_are_audited_and_lead_to_intakes_download(bus, uow, catalog):
    payload = submission(catalog)
    payload["attachments"] += [attachment("att-pay", "mining_right_payment", filename="缴费票据.pdf"),
                               attachment("att-eia", "eia_approval", filename="环评批复.pdf")]
    route(bus, uow, catalog, payload)
    url = bus.handle(c.ViewEvidence(ECO, task_id("ecology_environment"), "att-3"))
    assert url == "/api/v1/applications/app-1/attachments/att-3"
    assert bus.handle(c.ViewEvidence(ECO, task_id("ecology_environment"), "att-eia")).endswith("/att-eia")
    with pytest.raises(NotFound):             # 矿业权出让收益 is the natural-resources bureau's
        bus.handle(c.ViewEvidence(ECO, task_id("ecology_environment"), "att-pay"))
    assert bus.handle(c.ViewCaseEvidence(BUREAU, "app-1", 1, "att-pay")).endswith("/att-pay")
    with pytest.raises(NotFound):
        bus.handle(c.ViewCaseEvidence(BUREAU, "app-1", 7, "att-report"))
    assert [a["target"] for a in uow.audit.docs if a["action"] == "evidence_viewed"] == ["att-3", "att-eia",
                                                                                         "att-pay"]


# --- the decision -------------------------------------------------------------------------------------------
def test_forward_needs_every_department_to_agree_and_a_qualified_rescore(bus, uow, catalog, scoring):
    route(bus, uow, catalog, submission(catalog))
    with pytest.raises(InvalidTransition, match="各部门均同意后才能通过初审"):
        bus.handle(c.DecideCase(BUREAU, "app-1", "forward"))
    agree_all(bus, uow)
    result = bus.handle(c.DecideCase(BUREAU, "app-1", "forward"))
    assert result["decision"] == "forwarded" and result["version_no"] == 1 and result["report"] == QUALIFIED
    assert scoring.asked_by[-1].username == "bureau" and scoring.asked_by[-1].area == "鄂尔多斯市"
    decided = uow.events("review_routing.initial_review_decided")
    assert [e["payload"]["decision"] for e in decided] == ["forwarded"]
    assert uow.audit.actions()[-1] == "decision_recorded"
    with pytest.raises(InvalidTransition):
        bus.handle(c.DecideCase(BUREAU, "app-1", "reject", reasons=({"text": "x"},)))


def test_forward_without_scoring_is_unavailable_and_changes_nothing(bus, uow, catalog, scoring):
    route(bus, uow, catalog, submission(catalog))
    agree_all(bus, uow)
    scoring.error = ScoringUnavailable("down")
    published = len(uow.published)
    with pytest.raises(Unavailable, match="暂时无法取得"):
        bus.handle(c.DecideCase(BUREAU, "app-1", "forward"))
    assert len(uow.published) == published and uow.cases.get("app-1").latest.status == "under_review"


def test_return_closes_the_pending_tasks_and_only_the_lead_bureau_decides(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    with pytest.raises(NotPermitted):
        bus.handle(c.DecideCase(REGION, "app-1", "return", reasons=({"indicator": 3, "text": "补设"},)))
    with pytest.raises(InvalidInput):
        bus.handle(c.DecideCase(BUREAU, "app-1", "return", reasons=()))
    result = bus.handle(c.DecideCase(BUREAU, "app-1", "return", reasons=({"indicator": 3, "text": "补设"},)))
    assert result["decision"] == "returned" and result["reasons"][0]["indicator"] == 3
    assert all(t.status == "closed" for t in uow.tasks.of_case("app-1", 1))
    assert {q["status"] for q in uow.queue.docs.values()} == {"closed"}


def test_the_countersign_view_shows_opinions_side_by_side_with_the_rescore(bus, uow, catalog, scoring):
    route(bus, uow, catalog, submission(catalog))
    view = bus.handle(c.ShowCase(BUREAU, "app-1"))
    latest = view["versions"][0]
    assert view["can_decide"] and latest["report"] == QUALIFIED and latest["self_report"] == QUALIFIED
    assert {r["department"] for r in latest["tasks"]} == {t.department for t in uow.tasks.of_case("app-1")}
    assert not bus.handle(c.ShowCase(REGION, "app-1"))["can_decide"]
    with pytest.raises(NotPermitted):
        bus.handle(c.ShowCase(Actor("bt", "bureau", "包头", None, "包头市"), "app-1"))


# --- the overdue sweep --------------------------------------------------------------------------------------
def test_the_sweep_flags_and_reminds_once_a_day_on_working_days(bus, uow, catalog, clock):
    route(bus, uow, catalog, submission(catalog))
    tasks = uow.tasks.of_case("app-1", 1)
    day = max(t.due_date for t in tasks) + timedelta(days=3)
    while not WorkingCalendar().is_workday(day):
        day += timedelta(days=1)
    clock.now = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)
    assert bus.handle(c.SweepOverdue()) == 2 * len(tasks)
    assert bus.handle(c.SweepOverdue()) == 0
    assert len(uow.events("review_routing.review_task_overdue")) == len(tasks)
    clock.now = datetime(2026, 10, 1, 2, tzinfo=UTC)              # 国庆节
    assert bus.handle(c.SweepOverdue()) == 0


# --- views --------------------------------------------------------------------------------------------------
def test_the_queue_is_scoped_and_filtered(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    queue = bus.handle(c.ShowQueue(ECO, "ecology_environment"))
    assert [i["task_id"] for i in queue["items"]] == [task_id("ecology_environment")] and queue["total"] == 1
    assert bus.handle(c.ShowQueue(ECO, "ecology_environment", status=("claimed",)))["items"] == []
    assert bus.handle(c.ShowQueue(ECO, "ecology_environment", overdue=True))["items"] == []
    assert bus.handle(c.ShowQueue(ECO, "ecology_environment", mine="示范煤"))["total"] == 1
    assert bus.handle(c.ShowQueue(ECO_BAOTOU, "ecology_environment"))["items"] == []
    with pytest.raises(InvalidInput, match="筛选条件有误"):
        bus.handle(c.ShowQueue(ECO, "ecology_environment", status=("done",)))
    with pytest.raises(NotPermitted):
        bus.handle(c.ShowQueue(ECO, "energy"))
    with pytest.raises(NotFound):
        bus.handle(c.ShowQueue(REGION, "finance_dept"))


def test_task_view_cases_and_audit_log(bus, uow, catalog):
    route(bus, uow, catalog, submission(catalog))
    view = bus.handle(c.ShowTask(ECO, task_id("ecology_environment")))
    assert view["permissions"] == {"work": True, "remind": False, "claimed_by_me": False}
    assert view["department_name"] == "生态环境部门" and view["indicators"]
    assert [x["application_id"] for x in bus.handle(c.ListCases(BUREAU))] == ["app-1"]
    with pytest.raises(NotPermitted):
        bus.handle(c.ListCases(ECO))
    log = bus.handle(c.ShowAuditLog(BUREAU, application_id="app-1"))
    assert [e["action"] for e in log] == ["case_routed"] and isinstance(log[0]["at"], str)
    with pytest.raises(InvalidInput):
        bus.handle(c.ShowAuditLog(BUREAU))


def test_the_countersign_view_names_the_enterprises_sub_items_in_words(bus, uow, catalog):
    entries = {9: {"items": {"drilling": True, "blasting": True, "loading": False}}}
    route(bus, uow, catalog, submission(catalog, assessment=full_assessment(catalog, entries=entries)))
    rows = bus.handle(c.ShowCase(BUREAU, "app-1"))["versions"][0]["side_by_side"]["indicators"]
    claimed = next(r for r in rows if r["no"] == 9)["self"]
    assert "穿孔(凿岩)" in claimed and "爆破" in claimed and "drilling" not in claimed
