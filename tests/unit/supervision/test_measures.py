"""The measures area through the bus over an in-memory unit of work (events checked against their contracts): a
rectification raised (with its 标注 3), answered, accepted (the mark lifted), rejected, missed (a removal proposed by
the sweep, once); a removal reported, prepared and decided (the register entry leaves the list); overdue steps
flagged once; the sweep's findings opened once per key; a bureau refused outside its 盟市."""
from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest
from unit.supervision.fakes import FakeSupervisionUnitOfWork

from shared.bus import MessageBus
from shared.config import REPO_ROOT
from shared.errors import Conflict, InvalidTransition, NotPermitted
from shared.identity import Principal
from shared.workdays import WorkingCalendar
from supervision import config
from supervision.bootstrap import COMMAND_HANDLERS, EVENT_HANDLERS
from supervision.domain.commands import Sweep
from supervision.domain.measures import StepDays
from supervision.domain.register import SupervisedMine
from supervision.service_layer import measures as sm

EXAMPLE = json.loads((REPO_ROOT / "contracts" / "examples" / "public_notice.mine_listed.v1.json").read_text("utf-8"))
CODE = EXAMPLE["payload"]["enterprise"]["credit_code"]
LEAGUE = EXAMPLE["payload"]["league"]
BUREAU = Principal("bureau", "bureau", display_name=f"{LEAGUE}自然资源局", area=LEAGUE)
OTHER = "包头市" if LEAGUE != "包头市" else "乌海市"
OTHER_BUREAU = Principal("bureau2", "bureau", area=OTHER)
OFFICE = Principal("office", "region_office", display_name="协调机制办公室", area="自治区")
ENTERPRISE = Principal("ent", "enterprise", enterprise=CODE)
EVIDENCE = ({"text": "现场检查记录"},)


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self):
        return self.at

    def day(self, y, m, d):
        self.at = datetime(y, m, d, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(registry):
    uow = FakeSupervisionUnitOfWork(registry)
    clock = Clock(datetime(2026, 9, 24, 2, 0, tzinfo=UTC))
    bus = MessageBus(uow_factory=lambda: uow, command_handlers=COMMAND_HANDLERS, event_handlers=EVENT_HANDLERS,
                     dependencies={"clock": clock, "calendar": WorkingCalendar(), "step_days": StepDays()})
    payload = copy.deepcopy(EXAMPLE["payload"])
    uow.run(lambda: uow.mines.save(SupervisedMine.from_listing(payload, clock())))
    return bus, uow, clock, payload["mine_id"]


def types(uow, since=0):
    return [(e["type"], e["payload"].get("action")) for e, _ in uow.published[since:]]


def rectify(bus, mine_id, deadline=date(2026, 11, 30)):
    return bus.handle(sm.RaiseMeasure(BUREAU, "rectify", mine_id, "rectify.2", "排土场未复绿", EVIDENCE, deadline))


def test_a_rectification_accepted_lifts_its_mark(world):
    bus, uow, clock, mine_id = world
    m = rectify(bus, mine_id)
    assert (m["state"], m["deadline"], m["department"]) == ("rectifying", "2026-11-30", "natural_resources")
    assert types(uow) == [("supervision.measure_progressed", "raised"), ("supervision.measure_progressed", "placed"),
                          ("supervision.mark_placed", None)]
    placed = uow.events("supervision.mark_placed")[0]
    assert placed["aggregate_id"] == mine_id and placed["payload"]["situation"] == "mark.3"
    assert [x["reason"] for x in placed["payload"]["marks"]] == [
        "需要限期整改的事项：矿区环境较差（整改期限2026年11月30日）"]
    assert uow.events("supervision.measure_progressed")[0]["payload"]["notify"] == [
        {"role": "enterprise", "enterprise": CODE}]
    with pytest.raises(Conflict):
        rectify(bus, mine_id)
    clock.day(2026, 10, 12)
    seen = len(uow.published)
    m = bus.handle(sm.SubmitRectification(ENTERPRISE, m["measure_id"], "已完成复绿", ({"ref": "photo-1"},)))
    assert (m["state"], m["due_on"]) == ("submitted", "2026-11-02")
    assert {"role": "bureau", "area": LEAGUE} in uow.events()[seen]["payload"]["notify"]
    m = bus.handle(sm.AcceptRectification(BUREAU, m["measure_id"], "整改到位"))
    assert m["state"] == "accepted"
    lifted = uow.events("supervision.mark_lifted")
    assert len(lifted) == 1 and lifted[0]["payload"]["marks"] == []
    assert uow.measures.get(m["follow_mark"]).state == "lifted"
    with pytest.raises(InvalidTransition):
        bus.handle(sm.LiftMark(BUREAU, m["follow_mark"], "x"))


def test_a_rejected_rectification_goes_back_and_a_missed_one_proposes_removal_once(world):
    bus, uow, clock, mine_id = world
    m = rectify(bus, mine_id, deadline=date(2026, 10, 30))
    bus.handle(sm.SubmitRectification(ENTERPRISE, m["measure_id"], "r", EVIDENCE))
    m = bus.handle(sm.RejectRectification(BUREAU, m["measure_id"], "复绿面积不足"))
    assert (m["state"], m["deadline"], m["rounds"]) == ("rectifying", "2026-10-30", 1)
    clock.day(2026, 10, 30)
    assert bus.handle(Sweep()) == 0                  # the deadline day itself is still in time
    clock.day(2026, 10, 31)
    seen = len(uow.published)
    assert bus.handle(Sweep()) == 1
    missed = uow.measures.get(m["measure_id"])
    assert missed.state == "missed" and missed.proposed_removal
    removal = uow.measures.get(missed.proposed_removal)
    assert (removal.kind, removal.state, removal.situation, removal.raised_by, removal.follows, removal.department) \
        == ("remove", "reported", "remove.14", "system", m["measure_id"], "natural_resources")
    assert "未按规定期限完成整改" in removal.reason
    assert types(uow, seen) == [("supervision.measure_progressed", "missed"),
                                ("supervision.measure_progressed", "reported")]
    assert uow.measures.get(m["follow_mark"]).state == "placed"     # the mark stays
    assert bus.handle(Sweep()) == 0 and len(uow.published) == seen + 2


def test_a_removal_is_reviewed_and_decided_and_the_mine_leaves_the_register(world):
    bus, uow, clock, mine_id = world
    r = bus.handle(sm.RaiseMeasure(BUREAU, "remove", mine_id, "remove.4", "越界开采", EVIDENCE))
    assert r["state"] == "reported"
    with pytest.raises(Conflict):
        bus.handle(sm.RaiseMeasure(BUREAU, "remove", mine_id, "remove.5", "事故", EVIDENCE))
    with pytest.raises(NotPermitted):
        bus.handle(sm.ReviewRemoval(BUREAU, r["measure_id"], "prepare", "x"))
    bus.handle(sm.ReviewRemoval(OFFICE, r["measure_id"], "return", "请补充测量报告"))
    bus.handle(sm.ResubmitRemoval(BUREAU, r["measure_id"], "已补充", ({"ref": "survey-1"},)))
    bus.handle(sm.ReviewRemoval(OFFICE, r["measure_id"], "prepare", "情形属实"))
    d = bus.handle(sm.RecordDecision(OFFICE, r["measure_id"], date(2026, 9, 23), "内绿矿协〔2026〕3号", "removed",
                                     "越界开采", None, "督促恢复治理"))
    assert d["state"] == "removed" and d["follow_up"] == {"department": "natural_resources", "note": "督促恢复治理"}
    [decided] = uow.events("supervision.removal_decided")
    assert decided["payload"]["outcome"] == "removed" and decided["payload"]["document_no"] == "内绿矿协〔2026〕3号"
    notify = uow.events("supervision.measure_progressed")[-1]["payload"]["notify"]
    assert {"role": "enterprise", "enterprise": CODE} in notify
    assert uow.mines.get(mine_id).status == "removed"
    with pytest.raises(InvalidTransition):
        rectify(bus, mine_id)


def test_overdue_steps_are_flagged_once_and_the_responsible_told(world):
    bus, uow, clock, mine_id = world
    r = bus.handle(sm.RaiseMeasure(BUREAU, "remove", mine_id, "remove.4", "越界开采", EVIDENCE))
    clock.day(2026, 10, 22)     # office review due 15 working days after 24 Sep: 22 Oct (holidays between)
    assert r["due_on"] == "2026-10-22" and bus.handle(Sweep()) == 0
    clock.day(2026, 10, 23)
    assert bus.handle(Sweep()) == 1 and bus.handle(Sweep()) == 0
    [overdue] = [e for e in uow.events("supervision.measure_progressed") if e["payload"]["action"] == "overdue"]
    assert overdue["payload"]["notify"] == [{"role": "region_office"}]
    assert uow.measures.get(r["measure_id"]).is_overdue


def test_a_bureau_cannot_raise_outside_its_league(world):
    bus, uow, clock, mine_id = world
    with pytest.raises(NotPermitted) as refused:
        bus.handle(sm.RaiseMeasure(OTHER_BUREAU, "mark", mine_id, "mark.1", "停产", EVIDENCE))
    assert OTHER in refused.value.message
    assert uow.measures.docs == {} and uow.published == []


def test_findings_open_their_measure_once(world):
    bus, uow, clock, mine_id = world
    kw = dict(clock=clock, calendar=WorkingCalendar(), step_days=StepDays())
    first = sm.open_from_finding(uow, mine_id=mine_id, action="mark", situation="mark.1", reason="矿山停产1年以上",
                                 finding_key="stopped-1y:" + mine_id, **kw)
    again = sm.open_from_finding(uow, mine_id=mine_id, action="mark", situation="mark.1", reason="矿山停产1年以上",
                                 finding_key="stopped-1y:" + mine_id, **kw)
    assert first == again and len(uow.measures.docs) == 1 and len(uow.events("supervision.mark_placed")) == 1
    m = uow.measures.get(first)
    assert (m.kind, m.state, m.raised_by, m.finding_key) == ("mark", "placed", "system", "stopped-1y:" + mine_id)
    removal = sm.open_from_finding(uow, mine_id=mine_id, action="propose_removal", situation="remove.3",
                                   reason="停产超过3年", finding_key="stopped-3y:" + mine_id, **kw)
    assert uow.measures.get(removal).state == "reported"
    other = sm.open_from_finding(uow, mine_id=mine_id, action="propose_removal", situation="remove.1",
                                 reason="证照过期", finding_key="licence:" + mine_id, **kw)
    assert other == removal                          # one removal open per mine
    assert bus.handle(sm.LiftMark(BUREAU, first, "已复产"))["state"] == "lifted"


def test_step_lengths_come_from_the_environment():
    assert config.step_days({}) == StepDays()
    assert config.step_days({"GREENMINE_SUPERVISION_REVIEW_DAYS": "5"}).review_days == 5
    with pytest.raises(ValueError, match="GREENMINE_SUPERVISION_DECISION_DAYS"):
        config.step_days({"GREENMINE_SUPERVISION_DECISION_DAYS": "0"})


def test_who_reads_which_measures_and_which_forms_they_see(world):
    from supervision.entrypoints import measures as views

    bus, uow, clock, mine_id = world
    m = rectify(bus, mine_id)
    assert views.scope(OFFICE) == {"leagues": None} and views.scope(BUREAU) == {"leagues": [LEAGUE]}
    assert views.scope(ENTERPRISE) == {"credit_code": CODE}
    with pytest.raises(NotPermitted) as refused:
        views.scope(BUREAU, OTHER)
    assert LEAGUE in refused.value.message
    assert views.may_read(ENTERPRISE, m) and views.may_read(BUREAU, m) and views.may_read(OFFICE, m)
    assert not views.may_read(OTHER_BUREAU, m)
    assert not views.may_read(Principal("x", "enterprise", enterprise="91150200MA0N00002B"), m)
    assert views.actions_for(ENTERPRISE, m) == ["rectification"] and views.actions_for(BUREAU, m) == []
    m = bus.handle(sm.SubmitRectification(ENTERPRISE, m["measure_id"], "r", EVIDENCE))
    assert views.actions_for(BUREAU, m) == ["acceptance"] and views.actions_for(ENTERPRISE, m) == []
    eco = Principal("eco", "department_reviewer", department="ecology_environment", area=LEAGUE)
    assert views.actions_for(eco, m) == []           # another department's measure
