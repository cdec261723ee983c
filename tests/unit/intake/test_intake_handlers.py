"""The intake handlers through the message bus with a fake unit of work (no server): register and edit a mine,
edit a draft, submission refused and accepted (the contract event published with it), a return answered by a
resubmission."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from fakes import FakeFiles, FakeIntakeUnitOfWork, FakeScoring
from intake_builders import ASSESSMENT, CREDIT_CODE, mine_data

from intake.bootstrap import COMMAND_HANDLERS, EVENT_HANDLERS
from intake.domain import commands as c
from intake.domain import materials as mat
from intake.domain.errors import InvalidApplicationData, MineInvalid, SubmissionRefused
from shared import identity
from shared.bus import MessageBus
from shared.catalog import load_catalog
from shared.contracts import new_event
from shared.errors import Conflict, FieldError, NotPermitted, Unavailable
from shared.workdays import DeadlinePolicy, WorkingCalendar

NOW = datetime(2025, 7, 1, 2, 0, tzinfo=UTC)
ENTERPRISE = identity.Principal("ent-user", "enterprise", display_name="内蒙古某某煤业有限责任公司",
                                enterprise=CREDIT_CODE)
OTHER = identity.Principal("other", "enterprise", enterprise="91150200MA0N00002B")
BUREAU = identity.Principal("bureau", "bureau", area="鄂尔多斯市")
QUALIFIED = {"verdict": "qualified", "verdict_label": "达标", "total": "92.50", "pass_total": "60"}


class System:
    def __init__(self, scoring=None):
        self.uow = FakeIntakeUnitOfWork()
        self.files = FakeFiles()
        self.scoring = scoring or FakeScoring(QUALIFIED)
        self.bus = MessageBus(uow_factory=lambda: self.uow, command_handlers=COMMAND_HANDLERS,
                              event_handlers=EVENT_HANDLERS,
                              dependencies={"clock": lambda: NOW, "files": self.files, "scoring": self.scoring,
                                            "catalogs": load_catalog, "calendar": WorkingCalendar(),
                                            "deadlines": DeadlinePolicy()})

    def handle(self, command):
        return self.bus.handle(command)

    def event(self, envelope):
        self.bus.handle_event(envelope, self.uow)

    def mine(self, **overrides) -> str:
        return self.handle(c.RegisterMine(ENTERPRISE, mine_data(**overrides))).mine.id

    def draft(self) -> str:
        mine_id = self.mine()
        return self.handle(c.StartApplication(ENTERPRISE, mine_id, assessment=ASSESSMENT,
                                              declared_penalties=False)).app.id

    def upload_required(self, app_id: str) -> None:
        for kind in mat.KINDS:
            if kind.requirement == mat.REQUIRED:
                name = {"site_photos": "现场.jpg", "promo_video": "宣传片.mp4"}.get(kind.code, f"{kind.label}.pdf")
                self.handle(c.AddAttachment(ENTERPRISE, app_id, kind.code, None, io.BytesIO(b"%PDF-1.4 x"), name))


@pytest.fixture
def system():
    return System()


def decided(app_id: str, version: int, decision: str, reasons: list[dict]) -> dict:
    return new_event("review_routing.initial_review_decided", producer="review_routing", aggregate_type="case",
                     aggregate_id=app_id, aggregate_version=2, payload={
                         "application_id": app_id, "version_no": version, "decision": decision,
                         "reasons": reasons, "decided_by": "bureau", "decided_at": "2025-07-10T09:00:00Z",
                         "league": "鄂尔多斯市", "report": None})


# -- mines -------------------------------------------------------------------------------------------------------------

def test_register_a_mine(system):
    record = system.handle(c.RegisterMine(ENTERPRISE, mine_data(enterprise={"credit_code": CREDIT_CODE})))
    assert record.mine.enterprise.name == "内蒙古某某煤业有限责任公司"  # defaulted from the principal
    assert record.doc["version"] == 1 and record.today.isoformat() == "2025-07-01"
    assert system.uow.audit.actions() == ["mine_registered"] and system.uow.commits == 1
    assert [e["type"] for e in system.uow.events()] == ["intake.mine_recorded"]  # tests: test_intake_mine_events


def test_registering_is_for_the_enterprise_itself_and_names_every_error(system):
    with pytest.raises(NotPermitted):
        system.handle(c.RegisterMine(BUREAU, mine_data()))
    with pytest.raises(NotPermitted, match="本企业"):
        system.handle(c.RegisterMine(OTHER, mine_data()))
    with pytest.raises(MineInvalid) as refused:
        system.handle(c.RegisterMine(ENTERPRISE, mine_data(name="", scale="巨型")))
    assert {e.field for e in refused.value.errors} == {"name", "scale"}
    assert refused.value.message == "矿山信息有误，请按提示修改"
    system.mine()
    with pytest.raises(MineInvalid) as duplicate:
        system.mine()
    assert duplicate.value.errors[0].field == "mining_licence.number"
    assert system.uow.commits == 1 and len(system.uow.mines.docs) == 1


def test_edit_a_mine_and_its_applications_follow(system):
    app_id = system.draft()
    mine_id = system.uow.applications.get(app_id)[0].mine_id
    stored = system.uow.mines.get(mine_id)[1]
    record = system.handle(c.UpdateMine(ENTERPRISE, mine_id, mine_data(name="新名称露天煤矿"), stored["version"]))
    assert record.mine.name == "新名称露天煤矿" and record.doc["version"] == 2
    assert system.uow.applications.get(app_id)[1]["mine_name"] == "新名称露天煤矿"
    assert system.uow.audit.entries[-1]["detail"]["changed"] == ["name"]
    with pytest.raises(Conflict):
        system.handle(c.UpdateMine(ENTERPRISE, mine_id, mine_data(name="又改"), stored["version"]))
    with pytest.raises(NotPermitted):
        system.handle(c.UpdateMine(OTHER, mine_id, mine_data()))
    assert system.uow.mines.get(mine_id)[0].name == "新名称露天煤矿"


# -- the draft ---------------------------------------------------------------------------------------------------------

def test_edit_the_draft(system):
    app_id = system.draft()
    revision = system.uow.applications.get(app_id)[0].revision
    loaded = system.handle(c.EditDraft(ENTERPRISE, app_id, assessment={
        "indicators": {"3": {"findings": 0, "record": "王工查看"}}}, expected_revision=revision))
    assert loaded.app.assessment["indicators"] == {"3": {"findings": 0}}
    assert loaded.app.records == {"3": "王工查看"}  # the record moved to the 检查记录
    assert loaded.catalog.id == "nm-2025" and system.uow.audit.actions()[-1] == "draft_updated"
    with pytest.raises(Conflict):  # somebody saved meanwhile
        system.handle(c.EditDraft(ENTERPRISE, app_id, declared_penalties=True, expected_revision=revision))


def test_a_refused_draft_edit_changes_nothing(system):
    app_id = system.draft()
    before = system.uow.applications.docs[app_id]["data"]
    commits = system.uow.commits
    with pytest.raises(InvalidApplicationData) as refused:
        system.handle(c.EditDraft(ENTERPRISE, app_id, assessment={"indicators": {"1": {"score": "abc"}}}))
    assert {e.field for e in refused.value.errors} == {"assessment.indicators.1.score"}
    with pytest.raises(InvalidApplicationData) as refused:
        system.handle(c.EditDraft(ENTERPRISE, app_id, records={"X1": "文字"}))
    assert {e.field for e in refused.value.errors} == {"records.X1"}
    assert system.uow.applications.docs[app_id]["data"] == before and system.uow.commits == commits
    with pytest.raises(NotPermitted):
        system.handle(c.EditDraft(OTHER, app_id, declared_penalties=True))


# -- submission --------------------------------------------------------------------------------------------------------

def test_submission_refused_lists_what_is_missing(system):
    app_id = system.draft()
    with pytest.raises(SubmissionRefused) as refused:
        system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    fields = {e.field for e in refused.value.errors}
    assert "materials.business_licence" in fields and "materials.truthfulness_pledge" in fields
    assert system.uow.events("intake.application_submitted") == []
    assert system.uow.applications.get(app_id)[0].status == "draft"
    assert system.uow.case_numbers.counters == {}  # a refused submission uses up no number


def test_submission_refused_with_the_scoring_engines_errors_and_verdict(system):
    system.scoring.report = {**QUALIFIED, "verdict": "not_qualified", "total": "55.00"}
    app_id = system.draft()
    system.upload_required(app_id)
    with pytest.raises(SubmissionRefused) as refused:
        system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    assert [e.field for e in refused.value.errors] == ["assessment.total"]
    system.scoring.errors = [FieldError("indicators.45", "缺少第45项")]
    with pytest.raises(SubmissionRefused) as refused:
        system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    assert refused.value.errors[0].field == "assessment.indicators.45"
    system.scoring.down = True
    with pytest.raises(Unavailable):
        system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    assert system.uow.events("intake.application_submitted") == []


def test_submission_accepted_publishes_the_event(system):
    app_id = system.draft()
    system.upload_required(app_id)
    loaded = system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    assert loaded.app.status == "submitted" and loaded.app.latest_version.number == 1
    [event] = system.uow.events("intake.application_submitted")
    assert event["payload"]["application_id"] == app_id and event["payload"]["resubmission"] is False
    assert event["payload"]["mine"]["league"] == "鄂尔多斯市"
    assert loaded.app.case_no == event["payload"]["case_no"] == "150600-2025-00001"  # 鄂尔多斯市, Beijing's 2025
    assert system.scoring.calls and system.uow.audit.actions()[-1] == "application_submitted"
    with pytest.raises(Conflict):
        system.handle(c.SubmitApplication(ENTERPRISE, app_id))


def test_return_and_resubmit(system):
    app_id = system.draft()
    system.upload_required(app_id)
    system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    system.event(decided(app_id, 1, "returned", [{"indicator": 3, "text": "请补充检查记录"}]))
    app = system.uow.applications.get(app_id)[0]
    assert app.status == "returned" and dict(app.current_return.reasons) == {"3": "请补充检查记录"}
    with pytest.raises(SubmissionRefused, match="没有任何修改"):
        system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    system.handle(c.EditDraft(ENTERPRISE, app_id, record_patch={"3": "王工补充查看"}))
    loaded = system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    assert loaded.app.status == "resubmitted" and [v.number for v in loaded.app.versions] == [1, 2]
    first, second = system.uow.events("intake.application_submitted")
    assert second["payload"]["resubmission"] is True and second["payload"]["version_no"] == 2
    assert first["payload"]["case_no"] == second["payload"]["case_no"] == loaded.app.case_no  # kept by 补正
    assert system.uow.case_numbers.counters == {"150600-2025": 1}
    assert second["payload"]["assessment"]["indicators"]["3"]["record"] == "王工补充查看"
    system.event(decided(app_id, 1, "forwarded", []))  # a superseded version's decision changes nothing
    assert system.uow.applications.get(app_id)[0].status == "resubmitted"


def test_case_numbers_count_per_league_and_year(system):
    numbers = []
    places = [("ordos", "伊金霍洛旗"), ("baotou", "固阳县"), ("ordos", "准格尔旗")]
    for i, (league, county) in enumerate(places):
        licence = {**mine_data()["mining_licence"], "number": f"C15000020100611200{i:05d}"}
        mine_id = system.mine(league=league, county=county, mining_licence=licence)
        app_id = system.handle(c.StartApplication(ENTERPRISE, mine_id, assessment=ASSESSMENT,
                                                  declared_penalties=False)).app.id
        system.upload_required(app_id)
        numbers.append(system.handle(c.SubmitApplication(ENTERPRISE, app_id)).app.case_no)
    assert numbers == ["150600-2025-00001", "150200-2025-00001", "150600-2025-00002"]
