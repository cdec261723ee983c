"""The public notice as the enterprise follows it: public_notice's listing events move a 拟公示 case to 公示中
(with the window's dates), note an objection being verified (never who), apply an upheld objection's outcome
(未纳入名录, final, or back to 自治区评估中) or a not-upheld one (still 公示中), and list the mine with its
announcement number; replays and events overtaking each other change nothing twice."""
from __future__ import annotations

import itertools
import json

import pytest
from test_intake_handlers import ENTERPRISE, System, decided
from test_intake_region import region_decided

from intake.bootstrap import EVENT_HANDLERS
from intake.domain import commands as c
from intake.domain.progress import CURRENT, progress
from intake.domain.status import CLOSED_STATUSES, STATUSES
from intake.entrypoints.presenters import history_view, publicity_view
from shared.catalog import load_catalog
from shared.contracts import new_event

PERSONAL = ("张三", "150102199003071234", "13800000000", "zhang@example.com")


def notice_event(event_type: str, key: str, **payload) -> dict:
    return new_event(event_type, producer="public_notice", aggregate_type="publicity_batch", aggregate_id=key,
                     aggregate_version=1, payload=payload)


def published(*app_ids, version=1, batch="pb-2026-1"):
    return notice_event("public_notice.publicity_published", batch, batch_id=batch,
                        title="2026年第1批绿色矿山遴选公示", year=2026, window_start="2026-12-02",
                        window_end="2026-12-08", working_days=5, published_at="2026-12-01T02:00:00Z",
                        entries=[{"application_id": a, "review_id": f"{a}.v{version}", "version_no": version,
                                  "mine_name": "示范露天煤矿", "league": "鄂尔多斯市"} for a in app_ids])


def filed(app_id, objection="obj-1", version=1):
    return notice_event("public_notice.objection_filed", objection, objection_id=objection, batch_id="pb-2026-1",
                        application_id=app_id, review_id=f"{app_id}.v{version}", version_no=version,
                        mine_name="示范露天煤矿", league="鄂尔多斯市", filed_at="2026-12-03T03:00:00Z")


def concluded(app_id, outcome, action=None, objection="obj-1", reasons="经核实，排土场复绿面积与申报不符"):
    return notice_event("public_notice.objection_concluded", objection, objection_id=objection,
                        batch_id="pb-2026-1", application_id=app_id, review_id=f"{app_id}.v1", version_no=1,
                        outcome=outcome, action=action, reasons=reasons, concluded_at="2026-12-07T03:00:00Z")


def listed(app_id, version=1):
    return notice_event("public_notice.mine_listed", f"mine-{app_id}", mine_id=f"mine-{app_id}",
                        application_id=app_id, review_id=f"{app_id}.v{version}", version_no=version,
                        listed_on="2026-12-10", batch_id="pb-2026-1", announcement_id="ann-1",
                        announcement_no="内蒙古自治区绿色矿山名录公告〔2026〕第1号")


def proposed_case(system=None):
    system = system or System()
    app_id = system.draft()
    system.upload_required(app_id)
    system.handle(c.SubmitApplication(ENTERPRISE, app_id))
    system.event(decided(app_id, 1, "forwarded", []))
    system.event(region_decided(app_id, "proposed"))
    assert status(system, app_id) == "proposed"
    return system, app_id


@pytest.fixture
def proposed():
    return proposed_case()


def status(system, app_id):
    return system.uow.applications.get(app_id)[0].status


def app_of(system, app_id):
    return system.uow.applications.get(app_id)[0]


def test_the_handlers_are_registered_and_the_statuses_labelled():
    for event_type in ("public_notice.publicity_published", "public_notice.objection_filed",
                       "public_notice.objection_concluded", "public_notice.mine_listed"):
        assert event_type in EVENT_HANDLERS
    assert STATUSES["publicised"] == "公示中"
    assert STATUSES["listed"] == "已纳入绿色矿山名录" and "not_listed" in CLOSED_STATUSES


def test_published_then_listed_with_the_window_and_the_announcement(proposed):
    system, app_id = proposed
    system.event(published(app_id))
    assert status(system, app_id) == "publicised"
    view = publicity_view(app_of(system, app_id))
    assert view["window"] == {"title": "2026年第1批绿色矿山遴选公示", "start": "2026年12月2日",
                              "end": "2026年12月8日", "working_days": 5}
    assert view["objections_open"] == 0
    steps = {s.key: s.state for s in progress("publicised")}
    assert steps["notice"] == CURRENT
    system.event(listed(app_id))
    assert status(system, app_id) == "listed"
    shown = publicity_view(app_of(system, app_id))["listed"]
    assert shown == {"announcement_no": "内蒙古自治区绿色矿山名录公告〔2026〕第1号", "listed_on": "2026年12月10日"}
    timeline = [h["action"] for h in history_view(app_of(system, app_id), load_catalog("nm-2025"), True)]
    assert timeline[-2:] == ["publicise", "list"]
    audit = system.uow.audit.actions()
    assert "publicity_published" in audit and "mine_listed" in audit


def test_an_objection_filed_keeps_publicity_and_names_nobody(proposed):
    system, app_id = proposed
    system.event(published(app_id))
    system.event(filed(app_id))
    app = app_of(system, app_id)
    assert app.status == "publicised"
    assert publicity_view(app)["objections_open"] == 1
    text = json.dumps(app.to_dict(), ensure_ascii=False)
    assert not any(p in text for p in PERSONAL)
    entries = [h for h in history_view(app, load_catalog("nm-2025")) if h["action"] == "objection_filed"]
    assert entries and entries[0]["action_label"] == "公示期收到异议，正在核实"


def test_not_upheld_stays_in_publicity_until_listed(proposed):
    system, app_id = proposed
    system.event(published(app_id))
    system.event(filed(app_id))
    system.event(concluded(app_id, "not_upheld", reasons="经核实，异议反映问题不存在"))
    app = app_of(system, app_id)
    assert app.status == "publicised" and publicity_view(app)["objections_open"] == 0
    assert [h.action for h in app.history].count("objection_not_upheld") == 1
    system.event(listed(app_id))
    assert status(system, app_id) == "listed"


def test_upheld_and_refused_is_final(proposed):
    system, app_id = proposed
    system.event(published(app_id))
    system.event(filed(app_id))
    system.event(concluded(app_id, "upheld", "refuse"))
    assert status(system, app_id) == "not_listed"
    system.event(listed(app_id))            # a listing after a refusal never applies
    assert status(system, app_id) == "not_listed"
    last = app_of(system, app_id).history[-1].to_dict()
    assert last["action"] == "not_list" and last["detail"]["reasons"] == "经核实，排土场复绿面积与申报不符"


def test_upheld_and_returned_goes_back_to_the_region_which_decides_again(proposed):
    system, app_id = proposed
    system.event(published(app_id))
    system.event(concluded(app_id, "upheld", "return_to_region"))
    assert status(system, app_id) == "under_evaluation"
    assert STATUSES[status(system, app_id)].startswith("自治区评估中")
    decided_again = region_decided(app_id, "proposed")
    decided_again["payload"]["decided_at"] = "2026-12-20T02:00:00Z"
    system.event(decided_again)
    assert status(system, app_id) == "proposed"


def test_every_event_replays_without_a_second_change(proposed):
    system, app_id = proposed
    events = [published(app_id), filed(app_id), concluded(app_id, "not_upheld"), listed(app_id)]
    for event in events:
        system.event(event)
    before = app_of(system, app_id).to_dict()
    audit = len(system.uow.audit.actions())
    for event in events:
        system.event(event)
    assert app_of(system, app_id).to_dict() == before
    assert len(system.uow.audit.actions()) == audit


ORDERS = list(itertools.permutations(["published", "filed", "not_upheld", "listed"]))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_any_order_ends_listed(order):
    system, app_id = proposed_case()
    make = {"published": lambda: published(app_id), "filed": lambda: filed(app_id),
            "not_upheld": lambda: concluded(app_id, "not_upheld"), "listed": lambda: listed(app_id)}
    for name in order:
        system.event(make[name]())
    assert status(system, app_id) == "listed"


def test_events_for_a_superseded_version_or_an_unknown_case_change_nothing(proposed):
    system, app_id = proposed
    system.event(published(app_id, version=2))
    system.event(published("app-unknown"))
    assert status(system, app_id) == "proposed"
    system.event(published("app-unknown", app_id))      # an unknown entry never blocks the batch's others
    assert status(system, app_id) == "publicised"


def test_a_case_not_yet_proposed_is_not_publicised():
    system = System()
    app_id = system.draft()
    system.event(published(app_id))
    system.event(listed(app_id))
    assert status(system, app_id) == "draft"
