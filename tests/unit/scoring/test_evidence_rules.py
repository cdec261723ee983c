"""The scoring and evidence rules of the notice, in the engine (issue 11, item 7):

* 缺少支撑材料或证明材料不得分: an entry with `evidence: []` and a score above 0 counts 0 (entries without the key
  score as before);
* a third-party evaluation's (and a spot check's) score above 0 needs its 核查记录;
* 所有约束性指标必须得满分: an assessment in which every indicator is 不涉及 is refused; binding items judged 不涉及
  are listed with a note that they need confirming.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.domain.engine import AssessmentInvalid, score_assessment
from scoring.domain.report import BINDING_NOT_APPLICABLE_NOTE, UNSUPPORTED_NOTE
from scoring.domain.stages import requires_records

ALL_NOT_APPLICABLE_MESSAGE = ("全部指标均判定为不涉及项，无法评分：所有约束性指标必须得满分，"
                              "不涉及项仅限确不涉及的个别指标（须写明判定依据，约束性指标还须经初审责任部门和评估机构确认），请逐项评分")


def errors_of(assessment, catalog, stage=None) -> dict[str, list[str]]:
    with pytest.raises(AssessmentInvalid) as refused:
        score_assessment(assessment, catalog, stage)
    out: dict[str, list[str]] = {}
    for e in refused.value.errors:
        out.setdefault(e["field"], []).append(e["message"])
    return out


# --- 缺少支撑材料或证明材料不得分 ------------------------------------------------------------------------------


def test_without_the_evidence_key_nothing_changes(catalog, assessment_for):
    report = score_assessment(assessment_for(), catalog)
    assert report.total == Decimal("100.00") and report.verdict == "qualified"
    data = report.to_dict()
    assert data["unsupported"] == [] and data["notes"] == []
    assert "unsupported" not in data["indicator_scores"]["2"] and "evidence" not in data["indicator_scores"]["2"]


def test_a_claimed_score_without_evidence_counts_zero(catalog, assessment_for):
    report = score_assessment(assessment_for(entries={
        "2": {"score": "2", "evidence": []},                       # improvement item, 2 points
        "3": {"findings": 1, "evidence": []},                      # 1 − 0.2 = 0.8 claimed
        "4": {"score": "2", "evidence": ["att-1", "att-2"]},       # supported
        "5": {"score": "0", "evidence": []},                       # nothing claimed: nothing to support
    }), catalog)
    scores = report.indicator_scores
    assert scores[2].score == 0 and scores[2].unsupported and scores[2].claimed == Decimal("2")
    assert scores[3].score == 0 and scores[3].claimed == Decimal("0.8")
    assert scores[4].score == 2 and not scores[4].unsupported and scores[4].evidence == ("att-1", "att-2")
    assert scores[5].score == 0 and not scores[5].unsupported
    assert report.unsupported == (2, 3)
    # Category 一 (12 points): 2 + 0 + 0 + 2 + 0 + 2 + 1 = 7 of 12.
    assert report.categories[0].score == Decimal("7.00") and report.total == Decimal("95.00")
    data = report.to_dict()
    assert data["indicator_scores"]["2"]["unsupported"] is True
    assert data["indicator_scores"]["2"]["note"] == UNSUPPORTED_NOTE == "缺少支撑材料，按0分计"
    assert data["indicator_scores"]["2"]["claimed_score"] == "2" and data["indicator_scores"]["2"]["score"] == "0"
    assert data["indicator_scores"]["4"]["evidence"] == ["att-1", "att-2"]
    assert data["unsupported"] == [2, 3]
    assert data["notes"] == ["第2项、第3项缺少支撑材料，按0分计"]


def test_a_binding_item_without_evidence_fails_the_binding_rule(catalog, assessment_for):
    report = score_assessment(assessment_for(entries={"8": {"score": "5", "evidence": []}}), catalog)
    assert report.verdict == "not_qualified" and report.failed_binding == (8,)
    assert report.indicator_scores[8].score == 0 and report.unsupported == (8,)


def test_not_applicable_entries_need_no_evidence(catalog, assessment_for):
    report = score_assessment(assessment_for(entries={
        "16": {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产", "evidence": []}}), catalog)
    assert report.unsupported == () and report.indicator_scores[16].not_applicable


@pytest.mark.parametrize("evidence", ["att-1", [1], [""], {"a": 1}, ["x"] * 201])
def test_malformed_evidence_is_named(catalog, assessment_for, evidence):
    errors = errors_of(assessment_for(entries={"2": {"score": "2", "evidence": evidence}}), catalog)
    assert list(errors) == ["indicators.2.evidence"]
    assert errors["indicators.2.evidence"][0].startswith("支撑材料须为附件编号的列表")


# --- the evaluator's 核查记录 -----------------------------------------------------------------------------------


def test_record_rule_applies_to_on_site_stages_only():
    assert requires_records("third_party_evaluation") and requires_records("spot_check")
    assert not requires_records("self_assessment") and not requires_records("initial_review")


def test_an_evaluator_score_above_zero_needs_its_record(catalog, assessment_for):
    assessment = assessment_for(entries={"3": {"findings": 2}, "5": {"findings": 9},
                                         "16": {"not_applicable": True, "reason": "无共伴生矿产"}})
    for entry in assessment["indicators"].values():
        if "not_applicable" not in entry:
            entry["record"] = "2026-05-04 评估组王工到采场查看：符合"
    del assessment["indicators"]["3"]["record"]       # 0.6 points: needs a record
    del assessment["indicators"]["5"]["record"]       # 0 points: needs none
    assessment["indicators"]["4"]["record"] = "   "   # blank is no record
    errors = errors_of(assessment, catalog, "third_party_evaluation")
    needs = "（高于0分），须填写核查记录：核查人员、时间、地点及现场查看的内容"
    assert errors == {"indicators.3.record": ["第3项「标识标牌」得分 0.6" + needs],
                      "indicators.4.record": ["第4项「物资管理」得分 2" + needs]}
    assert set(errors_of(assessment, catalog, "spot_check")) == {"indicators.3.record", "indicators.4.record"}
    # The enterprise's self-assessment is not held to it.
    assert score_assessment(assessment, catalog).verdict == "qualified"
    assert score_assessment(assessment, catalog, "self_assessment").verdict == "qualified"


# --- 所有约束性指标必须得满分 / 不涉及 ----------------------------------------------------------------------------


def test_an_assessment_with_every_indicator_not_applicable_is_refused(catalog, assessment_for):
    everything = {str(i.no): {"not_applicable": True, "reason": "不涉及"}
                  for i in catalog.indicators_for(1, "open_pit")}
    errors = errors_of(assessment_for(entries=everything), catalog)
    assert errors == {"indicators": [ALL_NOT_APPLICABLE_MESSAGE]}
    # Also for an oil/gas mine, whose 8 and 9 are N/A by the index itself.
    oil = {str(i.no): {"not_applicable": True, "reason": "不涉及"} for i in catalog.indicators_for(1, "oil_gas")}
    assert errors_of(assessment_for(method="oil_gas", entries=oil), catalog) == {
        "indicators": [ALL_NOT_APPLICABLE_MESSAGE]}


def test_one_scored_indicator_is_enough_to_score(catalog, assessment_for):
    entries = {str(i.no): {"not_applicable": True, "reason": "不涉及"} for i in catalog.indicators_for(1, "open_pit")}
    entries["2"] = {"score": "2"}
    report = score_assessment(assessment_for(entries=entries), catalog)
    assert report.total == Decimal("100.00")      # every other category has nothing applicable (D3)


def test_binding_items_judged_not_applicable_are_listed_with_a_note(catalog, assessment_for):
    report = score_assessment(assessment_for(entries={
        "12": {"not_applicable": True, "reason": "本矿不设选矿厂"},
        "13": {"not_applicable": True, "reason": "本矿不设选矿厂"}}), catalog)
    data = report.to_dict()
    assert data["not_applicable_binding"] == [12, 13]
    assert data["indicator_scores"]["12"]["note"] == BINDING_NOT_APPLICABLE_NOTE
    assert "note" not in data["indicator_scores"]["2"]
    assert data["notes"] == ["约束性指标第12项、第13项判定为不涉及："
                             "须经初审责任部门确认不涉及，并经第三方评估机构现场确认"]


def test_reports_with_the_new_fields_match_the_contract(catalog, assessment_for, report_validator,
                                                        assessment_validator):
    assessment = assessment_for(entries={"2": {"score": "2", "evidence": []}, "4": {"score": "2", "evidence": ["a"]},
                                         "12": {"not_applicable": True, "reason": "本矿不设选矿厂"}})
    assessment_validator.validate(assessment)
    report_validator.validate(score_assessment(assessment, catalog).to_dict())


# --- the score sheet: unsupported scores and readings reconstructed from the original -------------------------


def test_score_sheet_marks_unsupported_scores_and_reconstructed_readings(catalog, assessment_for):
    import io
    import re

    import openpyxl

    from scoring.adapters.score_sheet import RECONSTRUCTED_NOTE, build_sheet, score_sheet_html, score_sheet_xlsx

    assessment = assessment_for(entries={"2": {"score": "2", "evidence": [], "record": "查看配套设施"},
                                         "12": {"not_applicable": True, "reason": "本矿不设选矿厂"}})
    report = score_assessment(assessment, catalog).to_dict()
    rows = {r.no: r for r in build_sheet(catalog, 1, report, assessment).rows if r.no}
    assert rows[2].score == "0" and rows[2].unsupported
    assert rows[2].record == "缺少支撑材料，按0分计（所填得分2）\n查看配套设施"
    assert "须经初审责任部门确认不涉及" in rows[12].record
    one = catalog.indicator(1)
    assert set(one.inferred) == {"rule", "basis"}
    said = one.inferred["rule"].replace("OCR", "原件识别文字")       # in words for people
    assert rows[1].reconstructed == "评分说明、依据" and said in rows[1].reconstructed_reasons
    assert all("OCR" not in r.reconstructed_reasons for r in rows.values())
    assert "OCR" not in "".join(r.basis for r in rows.values())         # the 依据 without OCR remarks
    # Sub-items read back from the OCR (indicator 9's 爆破, 排土 …) are named in the mark and its reasons.
    assert rows[9].reconstructed.endswith("子项") and "子项「爆破:" in rows[9].reconstructed_reasons

    workbook = openpyxl.load_workbook(io.BytesIO(score_sheet_xlsx(catalog, 1, report, assessment)))
    ws = workbook["评分表"]
    cells = {int(m.group(1)): c for c in ws["C"] if isinstance(c.value, str) and (m := re.match(r"^(\d+)\. ", c.value))}
    assert cells[1].value == "1. 功能分区\n〔据原件重建：评分说明、依据〕"
    assert cells[1].comment is not None and said in cells[1].comment.text
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert RECONSTRUCTED_NOTE in texts
    assert any(t.startswith("缺少支撑材料、按0分计的指标") and "第2项「配套设施」" in t for t in texts)

    html = score_sheet_html(catalog, 1, report, assessment)
    assert '<small class="reconstructed" title="据原件重建：评分说明：' in html
    assert "据原件重建：评分说明、依据</small>" in html and RECONSTRUCTED_NOTE in html
    assert 'class="num unsupported">0</td>' in html
