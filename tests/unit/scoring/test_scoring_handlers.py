"""The scoring handlers with a fake unit of work (no server): what is stored, what is published, what is
refused. The same handlers run on real servers in tests/integration/scoring."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scoring.bootstrap import bootstrap
from scoring.domain.assessment import ScoredAssessment
from scoring.domain.commands import EvaluateAssessment, RecordAssessment
from scoring.service_layer.handlers import AssessmentRejected
from scoring.service_layer.unit_of_work import AssessmentRepository, ScoringUnitOfWork
from shared.config import REPO_ROOT, Settings
from shared.contracts import ContractRegistry
from shared.errors import NotPermitted
from shared.messaging import PermanentFailure
from shared.testing import FakeUnitOfWork

CONTRACTS = Path(REPO_ROOT) / "contracts"
SUBMITTED = json.loads((CONTRACTS / "examples" / "intake.application_submitted.v1.json").read_text())
NOW = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


class FakeAssessments(AssessmentRepository):
    def __init__(self):
        self.records: dict[str, ScoredAssessment] = {}

    def add(self, assessment):
        if assessment.id in self.records:
            raise KeyError(assessment.id)
        self.records[assessment.id] = assessment

    def get(self, assessment_id):
        return self.records.get(assessment_id)

    def exists(self, assessment_id):
        return assessment_id in self.records


class FakeScoringUnitOfWork(FakeUnitOfWork, ScoringUnitOfWork):
    repositories = ("assessments",)

    def __init__(self):
        super().__init__(ContractRegistry([CONTRACTS]))
        self.assessments = FakeAssessments()


@pytest.fixture
def uow():
    return FakeScoringUnitOfWork()


@pytest.fixture
def bus(uow):
    ids = iter(f"rec-{n}" for n in range(1, 100))
    return bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow,
                     clock=lambda: NOW, new_id=lambda: next(ids))


def assessment():
    return copy.deepcopy(SUBMITTED["payload"]["assessment"])


def evaluated():
    """An evaluator's (or the spot check's) assessment: every score above 0 carries its 核查记录."""
    out = assessment()
    for entry in out["indicators"].values():
        if not entry.get("not_applicable"):
            entry.setdefault("record", "2026-05-04 评估组王工、李工到矿区现场核查：符合")
    return out


def record_cmd(**overrides):
    values = {"subject_id": "app-1", "version_no": 2, "stage": "third_party_evaluation",
              "assessment": evaluated(), "scored_by": "evaluator-user", "scorer_role": "evaluator",
              "scorer_label": "第三方评估机构", "league": "鄂尔多斯市"}
    return RecordAssessment(**{**values, **overrides})


def test_evaluate_stores_and_publishes_nothing(bus, uow):
    report = bus.handle(EvaluateAssessment(assessment()))
    assert report["verdict"] == "qualified" and report["catalog"] == "nm-2025"
    assert uow.assessments.records == {} and uow.published == [] and uow.commits == 0


def test_evaluate_names_the_fields_under_the_callers_prefix(bus):
    bad = assessment()
    bad["indicators"]["1"] = {"score": "2.005"}
    with pytest.raises(AssessmentRejected) as refused:
        bus.handle(EvaluateAssessment(bad, field_prefix="assessment."))
    assert "assessment.indicators.1.score" in refused.value.error_map()


def test_record_stores_the_report_and_publishes_one_valid_event(bus, uow):
    record = bus.handle(record_cmd())
    assert record.id == "rec-1" and record.scored_at == NOW and record.stage_label == "第三方评估"
    assert uow.assessments.get("rec-1") == record and uow.commits == 1
    [event] = uow.events("scoring.assessment_scored")
    assert event["aggregate_id"] == "rec-1"
    assert event["payload"]["subject"] == {"kind": "application", "id": "app-1", "version_no": 2}
    assert event["payload"]["stage"] == "third_party_evaluation"
    assert event["payload"]["report"] == record.report


def test_a_role_may_record_only_its_own_stage(bus, uow):
    with pytest.raises(NotPermitted, match="第三方评估机构不能提交“抽查”评分"):
        bus.handle(record_cmd(stage="spot_check"))
    assert uow.assessments.records == {} and uow.published == []


def test_an_invalid_assessment_stores_nothing(bus, uow):
    bad = evaluated()
    bad["indicators"]["1"] = {"score": 9}
    with pytest.raises(AssessmentRejected) as refused:
        bus.handle(record_cmd(stage="spot_check", scorer_role="region_office", assessment=bad))
    assert "assessment.indicators.1.score" in refused.value.error_map()
    assert uow.assessments.records == {} and uow.published == [] and uow.commits == 0


def test_submitted_application_scores_the_self_assessment_once(bus, uow):
    handle = bus.event_handlers["intake.application_submitted"]
    envelope = copy.deepcopy(SUBMITTED)
    uow.run(lambda: handle(envelope, uow))
    payload = envelope["payload"]
    record = uow.assessments.get(f"{payload['application_id']}:{payload['version_no']}:self_assessment")
    assert record.stage == "self_assessment" and record.scored_by == payload["submitted_by"]
    assert record.league == payload["mine"]["league"] and record.report["verdict"] == "qualified"
    [event] = uow.events("scoring.assessment_scored")
    assert event["causation_id"] == envelope["event_id"]
    uow.run(lambda: handle(envelope, uow))          # delivered again: nothing more
    assert len(uow.assessments.records) == 1 and len(uow.events()) == 1


def test_a_submitted_assessment_that_cannot_be_scored_is_a_permanent_failure(bus, uow):
    envelope = copy.deepcopy(SUBMITTED)
    envelope["payload"]["assessment"]["indicators"]["1"] = {"score": 9}
    with pytest.raises(PermanentFailure, match="indicators.1.score"):
        uow.run(lambda: bus.event_handlers["intake.application_submitted"](envelope, uow))
    assert uow.assessments.records == {} and uow.published == []


def test_a_keyed_record_sent_again_answers_the_stored_one_and_records_nothing_twice(bus, uow):
    first = bus.handle(record_cmd(request_key="com-1.eval.abc123"))
    again = bus.handle(record_cmd(request_key="com-1.eval.abc123"))
    assert again.id == first.id == "app-1:2:third_party_evaluation:com-1.eval.abc123"
    assert again.report == first.report
    assert len(uow.assessments.records) == 1 and len(uow.published) == 1
    other = bus.handle(record_cmd(request_key="com-1.eval.def456"))     # changed content: a new key, a new record
    assert other.id != first.id and len(uow.assessments.records) == 2
