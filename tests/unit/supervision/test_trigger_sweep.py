"""The daily sweep wired (issue 13 item 4, area `triggers`): over an in-memory unit of work and the official
calendar, each trigger is recorded once as an open finding, a warning and a re-evaluation request are published
once, nothing happens on a day off, and new mines not yet listed are reminded of their deadline."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from unit.supervision.trigger_support import LISTED, listed, make_system, on_list, recorded

from supervision.domain.findings import request_id
from supervision.domain.records import MineRecords
from supervision.service_layer import triggers as area


@pytest.fixture
def system():
    return make_system()


def opened(uow) -> list[tuple]:
    """The findings: (action, situation, due, found, status, whether a measure was opened from it)."""
    return sorted((f.action, f.situation, f.due_on, f.found_on, f.status, f.measure_id is not None)
                  for f in uow.findings.find())


def measures(uow) -> list[tuple]:
    """The measures the sweep's findings opened: (kind, situation, state, raised by)."""
    return sorted((m.kind, m.situation, m.state, m.raised_by) for m in uow.measures.find())


def test_a_licence_is_warned_once_and_proposed_for_removal_after_the_national_day_holiday(system):
    uow, bus, sweep = system
    on_list(uow, bus, recorded(1, "2026-01-05", licences={"safety": "2026-09-30"}))
    assert sweep(date(2026, 8, 28)) == 0
    assert sweep(date(2026, 8, 31)) == 1 and sweep(date(2026, 8, 31)) == 0 and sweep(date(2026, 9, 1)) == 0
    [warning] = uow.events("supervision.warning_issued")
    assert warning["aggregate_id"] == "mine-0001"
    assert {k: warning["payload"][k] for k in ("kind", "deadline", "issued_on", "league")} == {
        "kind": "licence_expiring", "deadline": "2026-09-30", "issued_on": "2026-08-31", "league": "鄂尔多斯市"}
    assert "2026年9月30日到期" in warning["payload"]["reason"]
    for holiday in (date(2026, 10, 1), date(2026, 10, 5), date(2026, 10, 7)):
        assert sweep(holiday) == 0                                   # the National Day holiday: nothing
    assert sweep(date(2026, 10, 8)) == 1                             # the next working day
    assert sweep(date(2026, 10, 8)) == 0 and sweep(date(2026, 10, 9)) == 0
    assert opened(uow) == [("propose_removal", "remove.1", "2026-10-01", "2026-10-08", "measure", True),
                           ("warn", None, "2026-08-31", "2026-08-31", "open", False)]
    removal = uow.findings.find(action="propose_removal")[0]
    assert (removal.mine_name, removal.league, removal.credit_code) == (
        "鄂尔多斯示范煤矿", "鄂尔多斯市", "91150600MA0N00001W")
    assert "安全生产许可证" in removal.reason and removal.event_id is None
    assert len(uow.events("supervision.warning_issued")) == 1
    # the proposal is a 移出 report to the region office, raised by the platform, once
    [measure] = uow.measures.find()
    assert (measure.id, measure.kind, measure.situation) == (removal.measure_id, "remove", "remove.1")
    assert measure.finding_key == removal.key


def test_a_stoppage_marks_the_mine_after_a_year_and_proposes_removal_after_three(system):
    uow, bus, sweep = system
    on_list(uow, bus, recorded(1, "2024-01-05"),
            recorded(2, "2024-03-01", production_status="suspended", production_stopped_on="2024-02-29",
                     licences={"safety": "2030-12-31"}))
    assert sweep(date(2025, 2, 27)) == 0
    assert sweep(date(2025, 2, 28)) == 1 and sweep(date(2025, 3, 3)) == 0
    assert sweep(date(2027, 3, 1)) == 1 and sweep(date(2027, 3, 2)) == 0
    assert [(a, s) for a, s, *_ in opened(uow)] == [("mark", "mark.1"), ("propose_removal", "remove.3")]
    assert [(k, s) for k, s, *_ in measures(uow)] == [("mark", "mark.1"), ("remove", "remove.3")]
    assert uow.events("supervision.warning_issued") == uow.events("supervision.re_evaluation_requested") == []


def test_the_abnormal_list_and_the_backward_grades_are_read_from_the_departments_records(system):
    uow, bus, sweep = system
    on_list(uow, bus, recorded(1, "2024-01-05"))
    records = MineRecords(id="mine-0001", league="鄂尔多斯市")
    at = datetime(2025, 1, 1, tzinfo=UTC)
    records.record_abnormal(date(2025, 3, 1), date(2025, 8, 20), by="nr", at=at)    # removed in time
    records.record_abnormal(date(2025, 8, 31), None, by="nr", at=at)                # six months end 2026-02-28
    records.record_grade(2024, "落后", by="nr", at=at)
    records.record_grade(2025, "落后", by="nr", at=at)
    uow.run(lambda: uow.mine_records.save(records))
    assert sweep(date(2025, 12, 31)) == 0
    assert sweep(date(2026, 1, 5)) == 1                               # 移出 10 from 1 January (a holiday)
    assert sweep(date(2026, 2, 27)) == 0
    assert sweep(date(2026, 3, 2)) == 1 and sweep(date(2026, 3, 3)) == 0      # 移出 9: the day after six months
    assert [(s, d, f) for _, s, d, f, *_ in opened(uow)] == [
        ("remove.10", "2026-01-01", "2026-01-05"), ("remove.9", "2026-03-01", "2026-03-02")]


def test_a_major_change_marks_the_mine_and_asks_the_region_stage_once(system):
    uow, bus, sweep = system
    on_list(uow, bus, recorded(1, "2026-01-05"), recorded(2, "2026-09-01", scale="medium"))
    assert sweep(date(2026, 9, 1)) == 2 and sweep(date(2026, 9, 2)) == 0
    assert [(a, s) for a, s, *_ in opened(uow)] == [("mark", "mark.2"), ("request_re_evaluation", "mark.2")]
    [request] = uow.events("supervision.re_evaluation_requested")
    finding = uow.findings.find(action="request_re_evaluation")[0]
    payload = request["payload"]
    assert payload["request_id"] == request_id(finding.key) and finding.event_id == request["event_id"]
    assert payload["changes"] == [{"field": "scale", "changed_on": "2026-09-01", "before": "大型", "after": "中型"}]
    assert payload["listed_announcement_no"] == LISTED["payload"]["announcement_no"]
    assert "开采规模于2026年9月1日发生变更（大型 → 中型）" in payload["reason"]
    assert [(k, s) for k, s, *_ in measures(uow)] == [("mark", "mark.2")]
    bus.handle_event(recorded(2, "2026-09-01", scale="medium"), uow)        # the same snapshot again
    assert sweep(date(2026, 9, 3)) == 0 and len(uow.events("supervision.re_evaluation_requested")) == 1
    assert len(uow.measures.find()) == 1


def test_a_new_mine_not_on_the_list_is_reminded_before_its_two_years_end(system):
    uow, bus, sweep = system
    bus.handle_event(recorded(1, "2025-03-10", mine_id="mine-0009", production_start_date="2025-03-02"), uow)
    bus.handle_event(recorded(1, "2025-03-10", mine_id="mine-old", production_start_date="2020-01-01"), uow)
    assert sweep(date(2026, 3, 1)) == 0                               # a Sunday; the year is up on 2 March
    assert sweep(date(2026, 3, 2)) == 1 and sweep(date(2026, 3, 2)) == 0
    assert sweep(date(2026, 12, 1)) == 0
    assert sweep(date(2026, 12, 2)) == 1                              # 90 days before 2027-03-02
    warnings = [e["payload"] for e in uow.events("supervision.warning_issued")]
    assert [(w["kind"], w["deadline"], w["issued_on"]) for w in warnings] == [
        ("new_mine_assessment", "2027-03-02", "2026-03-02"), ("new_mine_assessment", "2027-03-02", "2026-12-02")]
    assert "2027年3月2日前通过绿色矿山评估核查" in warnings[0]["reason"]
    rows = area.new_mine_rows(uow, None, date(2026, 12, 2))
    assert [(r["mine_id"], r["may_apply_from"], r["due_on"], r["days_left"], r["overdue"]) for r in rows] == [
        ("mine-0009", "2026-03-02", "2027-03-02", 90, False)]
    assert {f.kind for f in uow.findings.find()} == {"new_mine"}
    bus.handle_event(listed("mine-0009"), uow)                        # listed: no longer tracked
    assert area.new_mine_rows(uow, None, date(2026, 12, 3)) == []


def test_findings_are_read_by_league_and_status(system):
    uow, bus, sweep = system
    on_list(uow, bus, recorded(1, "2026-01-05", licences={"mining": "2026-03-01"}))
    baotou = listed("mine-0002")
    baotou["payload"]["league"] = "包头市"
    bus.handle_event(baotou, uow)
    bus.handle_event(recorded(1, "2026-01-05", mine_id="mine-0002", league="包头市", county="昆都仑区",
                              production_status="suspended", production_stopped_on="2024-01-02",
                              licences={"mining": "2031-01-01"}), uow)
    assert sweep(date(2026, 3, 2)) == 3
    rows = area.finding_rows(uow, None)
    assert [(r["league"], r["action"]) for r in rows] == [
        ("包头市", "mark"), ("鄂尔多斯市", "warn"), ("鄂尔多斯市", "propose_removal")]  # 盟市 in the official order
    assert {r["action_label"] for r in rows} >= {"标注", "移出名录建议", "预警提醒"}
    assert [r["situation_label"] for r in rows] == ["标注第1种情形", "", "移出名录第1种情形"]
    assert [r["mine_id"] for r in area.finding_rows(uow, ["包头市"], "measure")] == ["mine-0002"]
    assert area.finding_rows(uow, ["包头市"], "closed") == []


def test_the_command_line_refuses_a_date_that_is_not_one():
    from click.testing import CliRunner

    from shared.cli import main

    for bad in ("2026-02-30", "10/08/2026", "tomorrow"):
        result = CliRunner().invoke(main, ["supervision", "sweep", "--on", bad])
        assert result.exit_code == 2, result.output
        assert f"--on 应为日期 YYYY-MM-DD（如 2026-10-08），实为“{bad}”" in result.output
