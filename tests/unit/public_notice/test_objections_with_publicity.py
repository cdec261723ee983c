"""Objections against helper A's real PublicityBatch (domain/publicity.py): filed inside the window only, the entry
holds its open objections, a conclusion moves the entry (not upheld: listable; upheld: returned / refused)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from public_notice.bootstrap import bootstrap
from public_notice.domain.publicity import ProposedCase, PublicityBatch
from public_notice.service_layer.objections import ConcludeObjection, FileObjection, RecordFinding, TriageObjection
from shared.config import Settings
from shared.errors import InvalidTransition
from shared.identity import Principal
from shared.workdays import WorkingCalendar

COMPOSED = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
REGION = Principal("region", "region_office", "自治区自然资源厅")
NR = Principal("reviewer_nr", "department_reviewer", department="natural_resources", area="鄂尔多斯市")
FORM = {"name": "李四", "id_number": "11010519491231002X", "phone": "13812345678",
        "grounds": "复垦区植被未恢复，与公示材料不符。", "indicators": [], "consent": True}


def case(n):
    return ProposedCase.from_decision({
        "review_id": f"app-{n:04d}.v1", "application_id": f"app-{n:04d}", "version_no": 1, "league": "鄂尔多斯市",
        "case_no": f"150600-2026-{n:05d}", "decided_by": "region", "decided_at": "2026-05-20T09:00:00Z",
        "enterprise": {"name": "鄂尔多斯示范煤业有限公司", "credit_code": "91150600MA0N00001W"},
        "mine": {"mine_id": f"mine-{n:04d}", "name": f"示范矿山{n}号", "minerals": ["煤"], "scale": "large"},
        "evaluation": {"total": "92.50", "institution_name": "评估公司"}})


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def world(uow):
    calendar = WorkingCalendar()
    today = date(2026, 6, 1)
    batch = PublicityBatch.compose("b1", [case(1), case(2)], title=None, working_days=5, start=None,
                                   calendar=calendar, today=today, n=1, at=COMPOSED, by="region")
    batch.publish(calendar=calendar, today=today, n=1, at=COMPOSED, by="region")
    uow.batches.save(batch)
    start = date.fromisoformat(batch.window_start)
    clock = Clock(datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=2))
    bus = bootstrap(Settings.from_env({}), uow_factory=lambda: uow, clock=clock, calendar=calendar)
    return bus, clock, batch


def conclude(bus, oid, outcome, action=None):
    bus.handle(TriageObjection(oid, REGION, departments=("natural_resources",)))
    bus.handle(RecordFinding(oid, NR, "supported" if outcome == "upheld" else "not_supported", "核查情况"))
    bus.handle(ConcludeObjection(oid, REGION, outcome, "理由", "答复", action))


def test_filed_in_the_window_and_concluded_through_the_batch(world, uow):
    bus, clock, batch = world
    before = clock.now
    clock.now = before - timedelta(days=1)              # the day before the window opens
    with pytest.raises(InvalidTransition):
        bus.handle(FileObjection({**FORM, "batch_id": "b1", "application_id": "app-0001"}))
    clock.now = before
    first = bus.handle(FileObjection({**FORM, "batch_id": "b1", "application_id": "app-0001"}))["objection_id"]
    second = bus.handle(FileObjection({**FORM, "batch_id": "b1", "application_id": "app-0002"}))["objection_id"]
    entry = uow.batches.get("b1").entry("app-0001")
    assert entry["open_objections"] == [first]
    conclude(bus, first, "upheld", "return_to_region")
    conclude(bus, second, "not_upheld")
    stored = uow.batches.get("b1")
    assert stored.entry("app-0001")["state"] == "returned" and stored.entry("app-0001")["open_objections"] == []
    assert stored.entry("app-0002")["not_upheld"] == [second]
    end = date.fromisoformat(stored.window_end)
    clock.now = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=2)
    with pytest.raises(InvalidTransition):
        bus.handle(FileObjection({**FORM, "batch_id": "b1", "application_id": "app-0002"}))
