"""Objections without servers: filing (every refusal names its field, a closed window is refused), triage by
indicator, findings, conclusion (upheld / not upheld), the overdue sweep (once), who sees personal data, the public
lookup, and no personal data on any event."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from public_notice.bootstrap import bootstrap
from public_notice.domain.objections import Objection, check_filing
from public_notice.service_layer import objections as area
from public_notice.service_layer.objections import (
    ConcludeObjection,
    FileObjection,
    RecordFinding,
    TriageObjection,
    ViewObjection,
)
from shared.config import Settings
from shared.errors import InvalidInput, InvalidTransition, NotFound, NotPermitted
from shared.identity import Principal
from shared.testing import FakeAggregates

NOW = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)   # Tuesday 10:00 Beijing
ID_NUMBER = "11010519491231002X"
FORM = {"batch_id": "b1", "application_id": "app-0001", "name": "张三", "id_number": ID_NUMBER.lower(),
        "phone": "13812345678", "organisation": "某某村民委员会", "email": "zhang@example.cn",
        "grounds": "该矿山排土场未按方案进行生态修复，周边草原退化明显。", "indicators": [1], "consent": True}
REGION = Principal("region", "region_office", "自治区自然资源厅")
NR = Principal("reviewer_nr", "department_reviewer", "自然资源核查员", department="natural_resources",
               area="鄂尔多斯市")
NR_REGION = Principal("inspector_nr", "department_reviewer", department="natural_resources", area="自治区")
NR_BAOTOU = Principal("reviewer_nr_baotou", "department_reviewer", department="natural_resources", area="包头市")
ENERGY = Principal("reviewer_energy", "department_reviewer", department="energy", area="鄂尔多斯市")
SAFETY = Principal("reviewer_safety", "department_reviewer", department="emergency_management", area="鄂尔多斯市")
ECO = Principal("reviewer_eco", "department_reviewer", department="ecology_environment", area="鄂尔多斯市")
BUREAU = Principal("bureau", "bureau", area="鄂尔多斯市")
PERSONAL = ("张三", ID_NUMBER, "13812345678", "某某村民委员会", "zhang@example.cn")


@dataclass
class StandInBatch:
    """PublicityBatch's methods the objections area calls (helper A's aggregate), in memory."""

    id: str
    start: date
    end: date
    entries: dict = field(default_factory=dict)
    version: int | None = None

    def accepts_objections(self, today):
        return self.start <= today <= self.end

    def entry(self, application_id):
        return self.entries.get(application_id)

    def objection_filed(self, application_id, objection_id):
        self.entries[application_id].setdefault("objections", []).append(objection_id)
        self.entries[application_id]["state"] = "objected"

    def objection_concluded(self, application_id, objection_id, upheld, action, at):
        self.entries[application_id].setdefault("concluded", []).append([objection_id, upheld, action])

    def to_dict(self):
        return {"_id": self.id, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "entries": self.entries, "version": self.version}

    @classmethod
    def from_dict(cls, doc):
        return cls(doc["_id"], date.fromisoformat(doc["start"]), date.fromisoformat(doc["end"]), doc["entries"],
                   doc["version"])


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def bus(uow, clock):
    uow.batches = FakeAggregates(StandInBatch)
    uow.batches.save(StandInBatch("b1", date(2026, 6, 1), date(2026, 6, 5), {
        "app-0001": {"application_id": "app-0001", "review_id": "app-0001.v1", "version_no": 1,
                     "mine_name": "示范矿山1号", "enterprise_name": "鄂尔多斯示范煤业有限公司", "league": "鄂尔多斯市",
                     "state": "in_window"}}))
    return bootstrap(Settings.from_env({}), uow_factory=lambda: uow, clock=clock)


def file(bus, **changes):
    return bus.handle(FileObjection({**FORM, **changes}))


def events(uow, kind=None):
    return [e for e, _ in uow.published if kind is None or e["type"] == f"public_notice.{kind}"]


def test_filing_stores_the_objection_numbers_it_and_tells_the_batch(bus, uow):
    first = file(bus)
    second = file(bus)
    assert first["receipt_no"] == "YY2026-000001" and second["receipt_no"] == "YY2026-000002"
    assert len(first["lookup_code"]) == 12 and first["lookup_code"] != second["lookup_code"]
    stored = uow.objections.get(first["objection_id"])
    assert stored.status == "received" and stored.objector["id_number"] == ID_NUMBER
    assert first["lookup_code"] not in json.dumps(stored.to_dict(), default=str)
    assert uow.batches.get("b1").entries["app-0001"]["objections"] == [first["objection_id"], second["objection_id"]]
    filed = events(uow, "objection_filed")[0]["payload"]
    assert filed["receipt_no"] == "YY2026-000001" and filed["indicators"] == [1] and filed["league"] == "鄂尔多斯市"


def test_every_refusal_names_its_field():
    cases = {"name": "", "id_number": "110105194912310021", "phone": "1381234567", "email": "not-an-email",
             "grounds": "太短了", "indicators": [999], "consent": False, "batch_id": "", "application_id": " "}
    for name, value in cases.items():
        with pytest.raises(InvalidInput) as caught:
            check_filing({**FORM, name: value}, today=date(2026, 6, 2), indicator_numbers=range(1, 100))
        assert list(caught.value.error_map()) == [name], name
    with pytest.raises(InvalidInput) as caught:
        check_filing({}, today=date(2026, 6, 2), indicator_numbers=[1])
    assert set(caught.value.error_map()) == {"batch_id", "application_id", "name", "id_number", "phone", "grounds",
                                              "consent"}
    with pytest.raises(InvalidInput) as caught:
        check_filing({**FORM, "grounds": "理" * 5001}, today=date(2026, 6, 2), indicator_numbers=[1])
    assert "5000" in caught.value.error_map()["grounds"][0]


def test_a_mine_outside_an_open_window_is_refused(bus, uow, clock):
    clock.now = NOW + timedelta(days=7)
    with pytest.raises(InvalidTransition) as caught:
        file(bus)
    assert "不在公示期内" in caught.value.message and caught.value.error_map().get("application_id")
    clock.now = NOW
    with pytest.raises(InvalidInput) as caught:
        file(bus, application_id="app-9999")
    assert "application_id" in caught.value.error_map()
    assert uow.objections.docs == {} and events(uow) == []


def test_triage_proposes_departments_from_the_indicators_and_counts_working_days(bus, uow):
    oid = file(bus)["objection_id"]
    with pytest.raises(NotPermitted):
        bus.handle(TriageObjection(oid, NR))
    view = bus.handle(TriageObjection(oid, REGION))
    # 附件1 第1项 功能分区: 自然资源、能源、应急管理部门
    assert view["departments"] == ["natural_resources", "emergency_management", "energy"]
    assert view["due_date"] == "2026-06-16" and view["status"] == "triaged"   # 10 working days after 6-2
    triaged = events(uow, "objection_triaged")[-1]["payload"]
    assert triaged["departments"] == view["departments"] and triaged["due_date"] == "2026-06-16"
    again = bus.handle(TriageObjection(oid, REGION, departments=("natural_resources", "ecology_environment"),
                                       working_days=3))
    assert again["departments"] == ["natural_resources", "ecology_environment"] and again["due_date"] == "2026-06-05"
    with pytest.raises(InvalidInput) as caught:
        bus.handle(TriageObjection(oid, REGION, departments=("police",)))
    assert "departments" in caught.value.error_map()
    with pytest.raises(InvalidInput):
        bus.handle(TriageObjection(oid, REGION, departments=()))


def test_no_indicator_named_goes_to_the_natural_resources_department(bus):
    oid = file(bus, indicators=[])["objection_id"]
    assert bus.handle(TriageObjection(oid, REGION))["departments"] == ["natural_resources"]


def _to_verified(bus, **finding):
    oid = file(bus)["objection_id"]
    bus.handle(TriageObjection(oid, REGION, departments=("natural_resources", "ecology_environment")))
    view = bus.handle(RecordFinding(oid, NR, "supported", "排土场约3公顷未复绿。", {
        "date": "2026-06-02", "place": "排土场北侧", "observed": "裸露边坡，无植被"}))
    assert view["status"] == "triaged"
    view = bus.handle(RecordFinding(oid, ECO, finding.get("finding", "not_supported"), "未发现环境违法行为。"))
    assert view["status"] == "verified"
    return oid


def test_findings_by_the_departments_triaged_to(bus, uow):
    oid = file(bus)["objection_id"]
    bus.handle(TriageObjection(oid, REGION, departments=("natural_resources", "ecology_environment")))
    for outsider in (NR_BAOTOU, ENERGY):
        with pytest.raises(NotFound):
            bus.handle(RecordFinding(oid, outsider, "supported", "情况属实"))
    with pytest.raises(InvalidInput) as caught:
        bus.handle(RecordFinding(oid, NR, "maybe", "", {"date": "2026-06-09", "place": "", "observed": ""}))
    assert set(caught.value.error_map()) == {"finding", "text", "site_check.date", "site_check.place",
                                              "site_check.observed"}
    bus.handle(RecordFinding(oid, NR_REGION, "supported", "自治区核查：属实。"))
    with pytest.raises(InvalidTransition):
        bus.handle(RecordFinding(oid, NR, "supported", "再次提交"))
    with pytest.raises(InvalidTransition):
        bus.handle(ConcludeObjection(oid, REGION, "upheld", "理由", "答复", "refuse"))
    bus.handle(RecordFinding(oid, ECO, "not_supported", "不属实。"))
    recorded = [e["payload"] for e in events(uow, "objection_finding_recorded")]
    assert [(r["department"], r["finding"], r["all_in"]) for r in recorded] == [
        ("natural_resources", "supported", False), ("ecology_environment", "not_supported", True)]
    with pytest.raises(InvalidTransition):
        bus.handle(TriageObjection(oid, REGION))


def test_upheld_needs_an_action_and_tells_the_batch(bus, uow):
    oid = _to_verified(bus)
    with pytest.raises(InvalidInput) as caught:
        bus.handle(ConcludeObjection(oid, REGION, "upheld", "", "", None))
    assert set(caught.value.error_map()) == {"reasons", "reply", "action"}
    with pytest.raises(NotPermitted):
        bus.handle(ConcludeObjection(oid, NR, "upheld", "属实", "已核实", "refuse"))
    view = bus.handle(ConcludeObjection(oid, REGION, "upheld", "排土场未复绿，异议成立。", "您反映的问题属实。",
                                        "return_to_region"))
    assert view["status"] == "concluded" and view["conclusion"]["action"] == "return_to_region"
    assert uow.batches.get("b1").entries["app-0001"]["concluded"] == [[oid, True, "return_to_region"]]
    concluded = events(uow, "objection_concluded")[-1]["payload"]
    assert concluded == {**concluded, "outcome": "upheld", "action": "return_to_region", "review_id": "app-0001.v1",
                         "version_no": 1, "batch_id": "b1", "application_id": "app-0001"}
    with pytest.raises(InvalidTransition):
        bus.handle(ConcludeObjection(oid, REGION, "not_upheld", "x", "y"))


def test_not_upheld_takes_no_action(bus, uow):
    oid = _to_verified(bus)
    with pytest.raises(InvalidInput) as caught:
        bus.handle(ConcludeObjection(oid, REGION, "not_upheld", "不属实", "经核查不属实", "refuse"))
    assert list(caught.value.error_map()) == ["action"]
    bus.handle(ConcludeObjection(oid, REGION, "not_upheld", "经核查不属实。", "经核查，您反映的问题不属实。"))
    assert uow.batches.get("b1").entries["app-0001"]["concluded"] == [[oid, False, None]]
    assert events(uow, "objection_concluded")[-1]["payload"]["action"] is None


def test_who_sees_personal_data_and_the_audited_view(bus, uow):
    oid = file(bus)["objection_id"]
    bus.handle(TriageObjection(oid, REGION, departments=("natural_resources",)))
    assert bus.handle(ViewObjection(oid, REGION))["objector"]["name"] == "张三"
    assert bus.handle(ViewObjection(oid, NR))["objector"]["id_number"] == ID_NUMBER
    assert bus.handle(ViewObjection(oid, NR_REGION))["objector"]["phone"] == "13812345678"
    for outsider in (NR_BAOTOU, ECO, BUREAU):
        with pytest.raises(NotFound):
            bus.handle(ViewObjection(oid, outsider))
    admin = Principal("admin", "admin")
    assert bus.handle(ViewObjection(oid, admin))["objector"] is None
    viewed = [h["by"] for h in uow.objections.get(oid).history if h["action"] == "personal_data_viewed"]
    assert viewed == ["region", "reviewer_nr", "inspector_nr"]
    assert [r["id"] for r in area.queue(uow, NR)] == [oid] and area.queue(uow, ECO) == []
    assert area.queue(uow, NR_BAOTOU) == []
    with pytest.raises(NotPermitted):
        area.queue(uow, BUREAU)


def test_overdue_findings_are_flagged_once_and_listed_first(bus, uow, clock):
    late = file(bus)["objection_id"]
    fresh = file(bus)["objection_id"]
    bus.handle(TriageObjection(late, REGION, departments=("natural_resources",), working_days=1))
    bus.handle(TriageObjection(fresh, REGION, departments=("natural_resources",), working_days=10))
    calendar = bus.dependencies["calendar"] if hasattr(bus, "dependencies") else None
    from shared.workdays import WorkingCalendar
    calendar = calendar or WorkingCalendar()
    assert area.sweep(uow, clock=clock, calendar=calendar) == 0
    clock.now = NOW + timedelta(days=2)   # 6-4 > due 6-3
    assert area.sweep(uow, clock=clock, calendar=calendar) == 1
    assert area.sweep(uow, clock=clock, calendar=calendar) == 0
    assert uow.objections.get(late).overdue and not uow.objections.get(fresh).overdue
    assert [r["id"] for r in area.queue(uow, REGION)][:1] == [late]
    assert [r["id"] for r in area.queue(uow, REGION, overdue=True)] == [late]


def test_the_public_lookup_shows_only_status_dates_and_outcome(bus, uow):
    filed = file(bus)
    with pytest.raises(NotFound) as wrong:
        area.lookup(uow, filed["receipt_no"], "WRONGCODE123")
    with pytest.raises(NotFound) as unknown:
        area.lookup(uow, "YY2026-999999", filed["lookup_code"])
    assert wrong.value.message == unknown.value.message
    seen = area.lookup(uow, filed["receipt_no"].lower(), filed["lookup_code"].lower())
    assert seen["status"] == "received" and seen["outcome"] is None
    oid = filed["objection_id"]
    bus.handle(TriageObjection(oid, REGION, departments=("natural_resources",)))
    bus.handle(RecordFinding(oid, NR, "not_supported", "不属实。"))
    bus.handle(ConcludeObjection(oid, REGION, "not_upheld", "内部理由", "经核查，您反映的问题不属实。"))
    seen = area.lookup(uow, filed["receipt_no"], filed["lookup_code"])
    assert seen["outcome"] == "not_upheld" and seen["reply"] == "经核查，您反映的问题不属实。"
    text = json.dumps(seen, ensure_ascii=False)
    assert "内部理由" not in text
    assert not any(p in text for p in PERSONAL)


def test_no_event_carries_personal_data(bus, uow):
    oid = _to_verified(bus)
    bus.handle(ConcludeObjection(oid, REGION, "upheld", "属实。", "属实。", "refuse"))
    text = json.dumps([e for e, _ in uow.published], ensure_ascii=False)
    assert len(events(uow)) == 5
    assert not any(p in text or p.lower() in text for p in PERSONAL)


def test_the_mask_for_logs(bus, uow, caplog):
    caplog.set_level("INFO")
    oid = file(bus)["objection_id"]
    assert uow.objections.get(oid).masked() == "张* 110105**********2X"
    assert "张*" in caplog.text and ID_NUMBER not in caplog.text and "张三" not in caplog.text


def test_the_aggregate_round_trips(bus, uow):
    oid = _to_verified(bus)
    stored = uow.objections.get(oid)
    assert Objection.from_dict(stored.to_dict()).to_dict() == stored.to_dict()


def test_a_filing_that_lost_a_race_is_tried_again(bus, uow):
    from shared.storage import ConcurrencyError

    save, raced = uow.number_series.save, []

    def racing_save(aggregate):
        if not raced:
            raced.append(1)
            raise ConcurrencyError("number_series changed")
        return save(aggregate)

    uow.number_series.save = racing_save
    filed = file(bus)
    assert raced and filed["receipt_no"] == "YY2026-000001"
    assert len(uow.objections.docs) == 1 and len(events(uow, "objection_filed")) == 1


PEOPLE = [REGION, NR, NR_REGION, NR_BAOTOU, ENERGY, ECO, SAFETY, BUREAU, Principal("admin", "admin")]
ORDER = ["received", "triaged", "verified", "concluded"]


def _fresh_objection():
    filing = check_filing(FORM, today=date(2026, 6, 2), indicator_numbers=[1])
    entry = {"mine_name": "示范矿山1号", "league": "鄂尔多斯市", "review_id": "app-0001.v1", "version_no": 1}
    return Objection.file("o1", "YY2026-000001", "CODE", filing, entry, [], NOW)


def _attempt(objection, action, who, pick):
    today = date(2026, 6, 2)
    if action == "triage":
        objection.triage(who, pick, date(2026, 6, 16), 10, ["natural_resources", "ecology_environment",
                                                            "energy", "emergency_management"], NOW)
    elif action == "finding":
        objection.record_finding(who, "supported", "属实", None, today, NOW)
    elif action == "conclude":
        objection.conclude(who, "upheld", "理由", "答复", "refuse", NOW)
    else:
        objection.flag_overdue(date(2026, 6, 20), NOW)


def test_any_sequence_of_attempts_keeps_the_rules():
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from shared.errors import DomainError

    departments = st.lists(st.sampled_from(["natural_resources", "ecology_environment", "energy",
                                            "emergency_management"]), min_size=1, max_size=3, unique=True)
    steps = st.lists(st.tuples(st.sampled_from(["triage", "finding", "conclude", "overdue"]),
                               st.sampled_from(PEOPLE), departments), max_size=12)

    reached = set()

    nr = ["natural_resources"]

    @settings(max_examples=300, deadline=None)
    @given(steps)
    @example([("triage", REGION, nr), ("finding", NR, nr), ("conclude", REGION, nr)])   # the whole way, always
    def run(sequence):
        objection = _fresh_objection()
        reached.add(objection.status)
        for action, who, pick in sequence:
            before = ORDER.index(objection.status)
            try:
                _attempt(objection, action, who, pick)
            except DomainError:
                pass
            after = ORDER.index(objection.status)
            reached.add(objection.status)
            assert after in (before, before + 1)                     # never backwards, never skipping
            if objection.status == "verified" or objection.status == "concluded":
                assert set(objection.findings) == set(objection.departments)
            assert set(objection.findings) <= set(objection.departments)
            for department, finding in objection.findings.items():   # only that department's reviewers answered
                assert PEOPLE[[p.username for p in PEOPLE].index(finding["by"])].department == department
            if objection.conclusion:
                assert objection.conclusion["by"] == "region"
            for person in PEOPLE:
                allowed = person.role == "region_office" or (
                    person.role == "department_reviewer" and person.department in objection.departments
                    and person.area in ("鄂尔多斯市", "自治区"))
                assert objection.may_see_personal(person) == allowed
                if not objection.may_read(person):
                    assert person.role not in ("region_office", "admin") and not allowed
        assert [h["action"] for h in objection.history].count("overdue") <= 1   # flagged at most once
        reached.add(objection.status)

    run()
    assert reached == set(ORDER)   # every state was reached (the explicit example goes the whole way)
