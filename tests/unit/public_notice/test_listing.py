"""The 名录 area: confirming a closed batch's listing (mines on the list, one numbered 公告, events), numbering per
year and series, the announcement's text and table, repeats and replays changing nothing, marks and removals."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from batch_builders import closed_batch
from hypothesis import given, settings
from hypothesis import strategies as st

from public_notice.bootstrap import bootstrap
from public_notice.domain import announcements as ann
from public_notice.domain.listing import ListedMine
from public_notice.service_layer.listing import AnnounceRemoval, ConfirmListing, MarkMine
from shared.config import Settings
from shared.errors import InvalidInput, InvalidTransition, NotPermitted
from shared.identity import Principal

AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
REGION = Principal("region", "region_office", display_name="自治区自然资源厅")
EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"


def entry(n, league="鄂尔多斯市", **more):
    return {"application_id": f"app-{n}", "review_id": f"app-{n}.v1", "version_no": 1, "mine_id": f"mine-{n}",
            "mine_name": f"示范矿山{n}号", "enterprise_name": f"示范企业{n}", "credit_code": "91150600MA0N00001W",
            "league": league, "county": "准格尔旗", "minerals": ["煤"], "scale": "large", "total": "92.50",
            "institution_name": "评估公司", "case_no": f"C{n}", **more}


@pytest.fixture
def bus(uow):
    clock = {"now": AT}
    b = bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow,
                  clock=lambda: clock["now"])
    b.clock = clock
    return b


def add_batch(uow, batch_id, entries, open_objections=()):
    """A real PublicityBatch past its window: `open_objections` still have an objection open (not listable)."""
    uow.batches.save(closed_batch(batch_id, entries, open_objections=open_objections))


def test_confirming_lists_the_mines_with_one_numbered_announcement(bus, uow):
    add_batch(uow, "b1", [entry(1), entry(2, league="包头市"), entry(3)], open_objections=["app-3"])
    out = bus.handle(ConfirmListing(REGION, "b1"))
    assert out["changed"] and sorted(out["listed"]) == ["mine-1", "mine-2"]
    (a,) = uow.announcements.find()
    assert a.number == "内蒙古自治区绿色矿山名录公告〔2026〕第1号" and a.kind == "listing"
    assert a.text.startswith("根据《内蒙古自治区人民政府办公厅关于进一步加强绿色矿山建设的通知》"
                             "（内政办发〔2025〕24号）")
    assert "经企业申报、盟市初审、第三方评估、自治区抽查和社会公示" in a.text and "接受社会监督" in a.text
    assert "现将2座矿山列入内蒙古自治区绿色矿山名录" in a.text
    assert a.columns == ["序号", "矿山名称", "企业名称", "盟市", "矿种", "规模"]
    assert a.rows == [["1", "示范矿山2号", "示范企业2", "包头市", "煤", "大型"],
                      ["2", "示范矿山1号", "示范企业1", "鄂尔多斯市", "煤", "大型"]]
    mine = uow.listings.get("mine-1")
    assert (mine.status, mine.listed_on, mine.announcement_no) == ("listed", "2026-06-10", a.number)
    assert mine.history[0]["action"] == "listed" and mine.history[0]["announcement_id"] == a.id
    assert uow.listings.get("mine-3") is None
    listed = uow.events("public_notice.mine_listed")
    assert [e["payload"]["mine_id"] for e in listed] == ["mine-1", "mine-2"]
    assert listed[0]["payload"]["enterprise"] == {"name": "示范企业1", "credit_code": "91150600MA0N00001W"}
    (published,) = uow.events("public_notice.announcement_published")
    assert published["payload"]["item_count"] == 2 and published["payload"]["year"] == 2026
    batch = uow.batches.get("b1")
    assert batch.listings[0]["announcement_id"] == a.id and batch.listings[0]["application_ids"] == ["app-1", "app-2"]
    assert {e["application_id"]: e["state"] for e in batch.entries} == {
        "app-1": "listed", "app-2": "listed", "app-3": "objection"}


def test_repeating_or_replaying_the_confirmation_changes_nothing(bus, uow):
    add_batch(uow, "b1", [entry(1), entry(2)])
    first = bus.handle(ConfirmListing(REGION, "b1"))
    before = (dict(uow.listings.docs), dict(uow.announcements.docs), len(uow.events()))
    again = bus.handle(ConfirmListing(REGION, "b1"))
    assert not again["changed"] and again["announcements"][0]["id"] == first["announcements"][0]["id"]
    assert (dict(uow.listings.docs), dict(uow.announcements.docs), len(uow.events())) == before
    # naming a mine already listed (a repeated request): harmless, nothing changes
    assert not bus.handle(ConfirmListing(REGION, "b1", ("app-1",)))["changed"]
    assert (dict(uow.listings.docs), dict(uow.announcements.docs), len(uow.events())) == before


def test_a_later_confirmation_of_the_rest_gets_the_next_number(bus, uow):
    add_batch(uow, "b1", [entry(1), entry(2)])
    bus.handle(ConfirmListing(REGION, "b1", ("app-1",)))
    second = bus.handle(ConfirmListing(REGION, "b1"))
    assert second["listed"] == ["mine-2"]
    assert second["announcements"][0]["number"] == "内蒙古自治区绿色矿山名录公告〔2026〕第2号"


def test_only_listable_entries_and_only_the_region_office(bus, uow):
    add_batch(uow, "b1", [entry(1), entry(3)], open_objections=["app-3"])
    with pytest.raises(InvalidInput) as refused:
        bus.handle(ConfirmListing(REGION, "b1", ("app-3",)))
    assert refused.value.errors[0].field == "application_ids"
    with pytest.raises(NotPermitted):
        bus.handle(ConfirmListing(Principal("bureau", "bureau", area="包头市"), "b1"))
    add_batch(uow, "b2", [entry(4)], open_objections=["app-4"])
    with pytest.raises(InvalidTransition):
        bus.handle(ConfirmListing(REGION, "b2"))


def test_numbers_count_per_year_and_series(bus, uow):
    add_batch(uow, "b1", [entry(1)])
    add_batch(uow, "b2", [entry(2)])
    add_batch(uow, "b3", [entry(3)])
    bus.handle(ConfirmListing(REGION, "b1"))
    example = json.loads((EXAMPLES / "review_routing.misconduct_found.v1.json").read_text(encoding="utf-8"))
    bus.handle_event(example, uow)
    bus.handle_event(example, uow)  # replayed: one 通报
    bus.handle(ConfirmListing(REGION, "b2"))
    bus.clock["now"] = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
    bus.handle(ConfirmListing(REGION, "b3"))
    numbers = [a.number for a in uow.announcements.find(sort="published_at")]
    assert numbers == ["内蒙古自治区绿色矿山名录公告〔2026〕第1号", "内蒙古自治区绿色矿山通报〔2026〕第1号",
                       "内蒙古自治区绿色矿山名录公告〔2026〕第2号", "内蒙古自治区绿色矿山名录公告〔2027〕第1号"]
    bulletin = uow.announcements.find(kind="bulletin")[0]
    assert bulletin.rows[0][1] == "某某矿业技术咨询有限公司" and "不再采信" in bulletin.text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=30))
def test_a_series_never_gives_one_number_twice(takes):
    series = ann.NumberSeries.start("listing", 2026)
    given_numbers = {t: series.take(t) for t in takes}
    assert sorted(given_numbers.values()) == list(range(1, len(given_numbers) + 1))
    assert all(series.take(t) == n for t, n in given_numbers.items())
    assert ann.NumberSeries.from_dict(series.to_dict()).issued == series.issued


def test_removal_marks_the_mines_removed_with_their_reason_and_one_announcement(bus, uow):
    add_batch(uow, "b1", [entry(1), entry(2), entry(3)])
    bus.handle(ConfirmListing(REGION, "b1"))
    out = bus.handle(AnnounceRemoval(REGION, ("mine-1", "mine-2"), "内绿矿协〔2026〕3号",
                                     reasons={"mine-1": "发生较大生产安全事故"}, reason="整改期满未完成整改"))
    a = uow.announcements.get(out["announcement"]["id"])
    assert a.kind == "removal" and a.number == "内蒙古自治区绿色矿山名录公告〔2026〕第2号"
    assert "经自治区绿色矿山建设协调机制审定（内绿矿协〔2026〕3号），现将2座矿山移出内蒙古自治区绿色矿山名录" in a.text
    assert a.title == "关于将示范矿山1号等2座矿山移出内蒙古自治区绿色矿山名录的公告"
    assert [r[4] for r in a.rows] == ["发生较大生产安全事故", "整改期满未完成整改"]
    mine = uow.listings.get("mine-1")
    assert mine.status == "removed" and mine.removal["reason"] == "发生较大生产安全事故"
    assert mine.history[-1]["action"] == "removed" and mine.history[-1]["announcement_no"] == a.number
    assert uow.listings.get("mine-3").status == "listed"
    events = len(uow.events())
    assert not bus.handle(AnnounceRemoval(REGION, ("mine-2", "mine-1"), "内绿矿协〔2026〕3号",
                                          reason="x"))["changed"]
    assert len(uow.events()) == events
    with pytest.raises(InvalidTransition):
        bus.handle(AnnounceRemoval(REGION, ("mine-1",), "内绿矿协〔2026〕4号", reason="再次"))
    with pytest.raises(InvalidInput) as refused:
        bus.handle(AnnounceRemoval(REGION, ("mine-3",), "", reasons={}))
    assert {e.field for e in refused.value.errors} == {"document_no", "reasons.mine-3"}


def test_a_removed_mine_listed_again_keeps_its_history(bus, uow):
    add_batch(uow, "b1", [entry(1)])
    bus.handle(ConfirmListing(REGION, "b1"))
    bus.handle(AnnounceRemoval(REGION, ("mine-1",), "内绿矿协〔2026〕3号", reason="整改期满未完成整改"))
    add_batch(uow, "b2", [{**entry(1), "application_id": "app-1b"}])
    bus.handle(ConfirmListing(REGION, "b2"))
    mine = uow.listings.get("mine-1")
    assert mine.status == "listed" and mine.removal is None and mine.batch_id == "b2"
    assert [h["action"] for h in mine.history] == ["listed", "removed", "listed"]


def test_marks_and_unmarks_are_kept_with_their_reason(bus, uow):
    add_batch(uow, "b1", [entry(1)])
    bus.handle(ConfirmListing(REGION, "b1"))
    view = bus.handle(MarkMine(REGION, "mine-1", "年度抽查发现矿区绿化未达标"))
    assert view["status"] == "marked" and view["mark_reason"] == "年度抽查发现矿区绿化未达标"
    bus.handle(MarkMine(REGION, "mine-1", "年度抽查发现矿区绿化未达标"))
    view = bus.handle(MarkMine(REGION, "mine-1", "已整改", unmark=True))
    assert view["status"] == "listed"
    assert [h["action"] for h in uow.listings.get("mine-1").history] == ["listed", "marked", "unmarked"]


def test_listed_mine_round_trips():
    mine = ListedMine.enter(entry(7), batch_id="b", announcement_id="a", announcement_no="N", on=AT.date(),
                            at=AT, by="region", by_name="厅")
    mine.version = 3
    assert ListedMine.from_dict(mine.to_dict()).to_dict() == mine.to_dict()
