"""The real PublicityBatch across the areas that call it: objections filed in the window (one concluded not upheld,
one upheld and refused, one upheld and returned), the window closed by the sweep, the listing confirmed for what is
listable; nothing about the objector on the batch or its events."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from test_publicity import Clock, NoDirectory, beijing_noon, decided

from public_notice.bootstrap import bootstrap
from public_notice.domain.commands import Sweep
from public_notice.service_layer.listing import ConfirmListing
from public_notice.service_layer.objections import (
    ConcludeObjection,
    FileObjection,
    RecordFinding,
    TriageObjection,
)
from public_notice.service_layer.publicity import ComposeBatch, PublishBatch
from shared.config import Settings
from shared.errors import InvalidTransition
from shared.identity import Principal

REGION = Principal("region", "region_office", "自治区自然资源厅")
NR = Principal("reviewer_nr", "department_reviewer", "核查员", department="natural_resources", area="鄂尔多斯市")
ID_NUMBER = "11010519491231002X"
FORM = {"name": "张三", "id_number": ID_NUMBER, "phone": "13812345678", "organisation": "某某村民委员会",
        "email": "zhang@example.cn", "grounds": "该矿山排土场未按方案进行生态修复，周边草原退化明显。",
        "indicators": [], "consent": True}
PERSONAL = ("张三", ID_NUMBER, "13812345678", "某某村民委员会", "zhang@example.cn")


@pytest.fixture
def clock():
    return Clock(beijing_noon(date(2026, 12, 1)))


@pytest.fixture
def bus(uow, clock):
    return bootstrap(Settings.from_env({}), uow_factory=lambda: uow, clock=clock, directory=NoDirectory())


def conclude(bus, batch_id, app, outcome, action=None):
    oid = bus.handle(FileObjection({**FORM, "batch_id": batch_id, "application_id": app}))["objection_id"]
    bus.handle(TriageObjection(oid, REGION, departments=("natural_resources",)))
    bus.handle(RecordFinding(oid, NR, "supported" if outcome == "upheld" else "not_supported", "核查情况。"))
    bus.handle(ConcludeObjection(oid, REGION, outcome, "理由。", "答复。", action))
    return oid


def test_a_batch_through_objections_to_the_list(bus, uow, clock):
    for n in (1, 2, 3, 4):
        bus.handle_event(decided(n), uow)
    batch_id = bus.handle(ComposeBatch(REGION, ("app-0001", "app-0002", "app-0003", "app-0004")))["id"]
    bus.handle(PublishBatch(batch_id, REGION))
    with pytest.raises(InvalidTransition) as early:   # the window has not opened yet
        bus.handle(FileObjection({**FORM, "batch_id": batch_id, "application_id": "app-0002"}))
    assert "公示期" in str(early.value)

    clock.at = beijing_noon(date(2026, 12, 3))
    conclude(bus, batch_id, "app-0002", "not_upheld")
    conclude(bus, batch_id, "app-0003", "upheld", "refuse")
    conclude(bus, batch_id, "app-0004", "upheld", "return_to_region")
    batch = uow.batches.get(batch_id)
    assert batch.listable() == []                         # still in the window

    clock.at = datetime(2026, 12, 9, 1, tzinfo=UTC)
    bus.handle(Sweep())
    batch = uow.batches.get(batch_id)
    assert {e["application_id"]: e["state"] for e in batch.entries} == {
        "app-0001": "clear", "app-0002": "not_upheld", "app-0003": "refused", "app-0004": "returned"}
    result = bus.handle(ConfirmListing(REGION, batch_id))
    assert sorted(result["listed"]) == ["mine-0001", "mine-0002"]
    batch = uow.batches.get(batch_id)
    assert batch.entry("app-0001")["state"] == "listed" and batch.listable() == []
    assert bus.handle(ConfirmListing(REGION, batch_id))["changed"] is False
    text = json.dumps(batch.to_dict(), ensure_ascii=False, default=str)
    mine = [e for e, _ in uow.published if e["type"].startswith("public_notice.publicity")]
    assert not any(p in text or p in json.dumps(mine, ensure_ascii=False) for p in PERSONAL)

    # The returned case, decided again by the region after the upheld objection, waits for a new batch; a replay
    # of the first decision changes nothing, and neither does the refused one.
    replay = decided(4)
    bus.handle_event(replay, uow)
    assert uow.proposals.get("app-0004.v1").status == "publicised"
    again = decided(4)
    again["payload"]["decided_at"] = "2026-12-15T02:00:00Z"
    bus.handle_event(again, uow)
    proposal = uow.proposals.get("app-0004.v1")
    assert proposal.status == "waiting" and proposal.batch_id is None
    assert proposal.history[-1]["previous_batch"] == batch_id
    refused_again = decided(3)
    refused_again["payload"]["decided_at"] = "2026-12-15T02:00:00Z"
    bus.handle_event(refused_again, uow)
    assert uow.proposals.get("app-0003.v1").status == "publicised"
    second = bus.handle(ComposeBatch(REGION, ("app-0004",)))
    assert [e["application_id"] for e in second["entries"]] == ["app-0004"]
