"""The region stage as the enterprise follows it: review_routing's region events move the application to
自治区评估中（已委托第三方评估机构）, then 拟公示, 退回整改 (reasons shown as for a 退回补正, answered by a
resubmission) or 不予通过; out-of-order and replayed events change nothing twice; no score reaches the case."""
from __future__ import annotations

import json

import pytest
from test_intake_handlers import ENTERPRISE, System, decided

from intake.bootstrap import EVENT_HANDLERS
from intake.domain import commands as c
from intake.domain.progress import progress
from intake.entrypoints.presenters import history_view
from shared.catalog import load_catalog
from shared.contracts import new_event

INSTITUTION = {"id": "inst-1", "name": "内蒙古示范评估咨询有限公司"}


def region_event(event_type: str, app_id: str, version: int = 1, **payload) -> dict:
    common = {"review_id": f"{app_id}.v{version}", "application_id": app_id, "version_no": version,
              "league": "鄂尔多斯市", "case_no": "150600-2025-00001"}
    return new_event(event_type, producer="review_routing", aggregate_type="region_review",
                     aggregate_id=payload.pop("key", f"{app_id}.v{version}"), aggregate_version=1,
                     payload={**common, **payload})


def opened(app_id):
    return region_event("review_routing.region_review_opened", app_id, enterprise={"name": "x"},
                        mine={"name": "y"}, forwarded_at="2025-07-10T09:00:00Z", due_date="2025-07-17")


def commissioned(app_id, cid="com-1"):
    return region_event("review_routing.evaluation_commissioned", app_id, key=cid, commission_id=cid,
                        institution=INSTITUTION, draw_id="d1", proposed_institution_id="inst-1", choice_reason=None,
                        commissioned_by="region", commissioned_by_name="自治区自然资源厅",
                        commissioned_at="2025-07-11T02:00:00Z", due_date="2025-07-16")


def accepted(app_id, cid="com-1"):
    return region_event("review_routing.commission_accepted", app_id, key=cid, commission_id=cid,
                        institution=INSTITUTION, signer={"name": "李评", "title": "负责人", "username": "e"},
                        signed_at="2025-07-12T02:00:00Z", evaluation_due_date="2025-08-01",
                        pledges=[{"code": "truthfulness", "title": "真实性承诺", "version": "2026.1",
                                  "sha256": "a" * 64}])


def region_decided(app_id, decision, reasons=()):
    return region_event("review_routing.region_review_decided", app_id, decision=decision, reasons=list(reasons),
                        decided_by="region", decided_by_name="自治区自然资源厅", decided_at="2025-08-20T02:00:00Z",
                        enterprise={"name": "x"}, mine={"name": "y"},
                        evaluation={"institution_id": "inst-1", "institution_name": INSTITUTION["name"],
                                    "assessment_id": "a", "total": "88.50", "verdict": "qualified"})


@pytest.fixture
def forwarded_app():
    system = System()
    app_id = system.draft()
    system.upload_required(app_id)
    system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    system.event(decided(app_id, 1, "forwarded", []))
    assert system.uow.applications.get(app_id)[0].status == "forwarded"
    return system, app_id


def status(system, app_id):
    return system.uow.applications.get(app_id)[0].status


def test_the_handlers_are_registered_for_the_region_events():
    for event_type in ("review_routing.region_review_opened", "review_routing.evaluation_commissioned",
                       "review_routing.commission_accepted", "review_routing.region_review_decided"):
        assert event_type in EVENT_HANDLERS


def test_commissioned_then_accepted_then_proposed(forwarded_app):
    system, app_id = forwarded_app
    system.event(opened(app_id))
    assert status(system, app_id) == "forwarded"
    system.event(commissioned(app_id))
    app = system.uow.applications.get(app_id)[0]
    assert app.status == "under_evaluation" and app.status_label == "自治区评估中（已委托第三方评估机构）"
    system.event(accepted(app_id))
    assert status(system, app_id) == "under_evaluation"
    steps = {s.key: s for s in progress("under_evaluation")}
    assert steps["evaluation"].state == "current" and "第三方评估机构" in steps["evaluation"].note
    system.event(region_decided(app_id, "proposed"))
    app = system.uow.applications.get(app_id)[0]
    assert app.status == "proposed" and app.status_label == "拟公示"
    assert {s.key: s.state for s in progress("proposed")}["notice"] == "current"
    # The enterprise's timeline: the commission and the decision, without any evaluation score.
    timeline = history_view(app, load_catalog("nm-2025"), timeline_only=True)
    labels = [h["action_label"] for h in timeline]
    assert "自治区委托第三方评估机构" in labels and "自治区评估通过，拟公示" in labels
    assert "88.50" not in json.dumps([h["summary"] for h in timeline], ensure_ascii=False)
    assert "88.50" not in json.dumps(app.to_dict(), ensure_ascii=False, default=str)
    actions = system.uow.audit.actions()
    assert {"region_review_opened", "evaluation_commissioned", "commission_accepted",
            "region_review_proposed"} <= set(actions)
    # Replays change nothing.
    for event in (commissioned(app_id), accepted(app_id), region_decided(app_id, "returned", [{"text": "x"}])):
        system.event(event)
    assert status(system, app_id) == "proposed"


def test_a_region_return_is_rectification_with_the_reasons_and_a_resubmission(forwarded_app):
    system, app_id = forwarded_app
    system.event(commissioned(app_id))
    system.event(region_decided(app_id, "returned", [{"indicator": 3, "text": "现场警示牌缺失，请整改"},
                                                     {"indicator": None, "text": "请补充整改报告"}]))
    app = system.uow.applications.get(app_id)[0]
    assert app.status == "rectification" and app.status_label == "退回整改" and app.is_editable
    assert dict(app.current_return.reasons) == {"3": "现场警示牌缺失，请整改", "general": "请补充整改报告"}
    system.handle(c.EditDraft(ENTERPRISE, app_id, record_patch={"3": "已补设警示牌"}))
    loaded = system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    assert loaded.app.status == "resubmitted" and [v.number for v in loaded.app.versions] == [1, 2]
    assert system.uow.events("intake.application_submitted")[-1]["payload"]["resubmission"] is True
    # The old version's late events change nothing.
    system.event(commissioned(app_id, "com-9"))
    assert status(system, app_id) == "resubmitted"


def test_a_region_rejection_and_a_decision_that_overtakes_the_commission(forwarded_app):
    system, app_id = forwarded_app
    system.event(region_decided(app_id, "rejected", [{"indicator": 9, "text": "约束性指标不达标"}]))
    app = system.uow.applications.get(app_id)[0]
    assert app.status == "rejected" and app.history[-1].action == "region_reject"
    assert app.history[-1].detail["reasons"] == {"9": "约束性指标不达标"}
    system.event(commissioned(app_id))      # arrived late (another key): nothing moves back
    assert status(system, app_id) == "rejected"
