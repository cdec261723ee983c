"""Opinions: what a department may say on its task, and the Chinese reasons for refusing the rest."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from review_builders import ALL_CHECKS, AT, opinion_body

from review_routing.domain.errors import InvalidInput
from review_routing.domain.opinion import DECISIONS, Opinion, parse_opinion

POINTS = {3: Decimal("1"), 8: Decimal("5"), 16: Decimal("1"), 44: Decimal("1")}
NAMES = {3: "矿区标识标牌", 8: "开采回采率", 16: "共伴生矿产综合利用", 44: "能耗"}
PREREQUISITE_NAMES = {"P1": "手续齐全,证照合法有效", "P5": "矿区范围"}
CLAIMS = {"3": {"score": "1"}, "8": {"score": "5"}, "16": {"not_applicable": True, "reason": "无共伴生"},
          "44": {"findings": 0}}


def completed(data):
    """`data` with every item it leaves out judged: indicators "认可自评" (16, declared N/A: confirmed), P1/P5 met."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if isinstance(data.get("indicators", []), list):
        given = {i.get("indicator") for i in data.get("indicators", []) if isinstance(i, dict)}
        data["indicators"] = [*data.get("indicators", []), *(
            {"indicator": no, "verdict": "not_applicable", "reason": "确无共伴生矿产"} if no == 16 else
            {"indicator": no, "verdict": "agree"} for no in POINTS if no not in given and str(no) not in given)]
    if isinstance(data.get("prerequisites", []), list):
        given = {p.get("prerequisite") for p in data.get("prerequisites", []) if isinstance(p, dict)}
        data["prerequisites"] = [*data.get("prerequisites", []), *(
            {"prerequisite": code, "met": True} for code in ("P1", "P5") if code not in given)]
    return data


def parse(data, *, lead=False, photos=("ph-1",), prerequisites=("P1", "P5"), complete=True):
    return parse_opinion(opinion_body(completed(data) if complete else data), indicator_points=POINTS,
                         prerequisites=prerequisites, checks=[f"C{n}" for n in range(1, 8)] if lead else [],
                         lead=lead, photo_ids=photos, today=date(2026, 3, 5), opinion_id="op-1", sequence=1,
                         given_by="rv", given_by_name="审核员", given_at=AT, supersedes=None, claims=CLAIMS,
                         declared_not_applicable=(16,), indicator_names=NAMES, prerequisite_names=PREREQUISITE_NAMES)


def errors_of(data, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as raised:
        parse(data, **kwargs)
    return raised.value.error_map()


def test_a_full_opinion():
    opinion = parse({
        "decision": "agree", "comments": " 同意 ",
        "indicators": [{"indicator": 3, "score": "0.8", "opinion": "缺1处", "record": "到采场查看"},
                       {"indicator": "16", "not_applicable": True, "reason": "无共伴生矿产"},
                       {"indicator": 8, "score": 5}],
        "prerequisites": [{"prerequisite": "P1", "met": True}],
        "site_checks": [{"inspectors": ["张工", " 李工 "], "location": "采场入口", "checked_on": "2026-03-05",
                         "observations": "警示牌缺失1处", "photos": ["ph-1"]}]})
    assert opinion.decision_label == "同意" and opinion.comments == "同意"
    assert opinion.indicator(3).score == Decimal("0.8") and opinion.indicator(16).not_applicable
    assert opinion.indicator(8).score == Decimal("5")
    assert opinion.site_checks[0].inspectors == ("张工", "李工")
    assert opinion.site_checks[0].summary == "2026-03-05 张工、李工到采场入口查看：警示牌缺失1处"
    assert opinion.photos == ("ph-1",)
    assert Opinion.from_dict(opinion.to_dict()) == opinion


@pytest.mark.parametrize("data,field,message", [
    ({}, "decision", "审核结论应为"),
    ({"decision": "maybe"}, "decision", "审核结论应为"),
    ({"decision": "agree", "extra": 1}, "extra", "不认识的字段"),
    ({"decision": "agree", "indicators": {}}, "indicators", "应为列表"),
    ({"decision": "agree", "indicators": [{"indicator": 9}]}, "indicators[0].indicator", "不在本部门的审核任务中"),
    ({"decision": "agree", "indicators": [{"indicator": "x"}]}, "indicators[0].indicator", "指标编号"),
    ({"decision": "agree", "indicators": [{"indicator": 3}, {"indicator": 3}]}, "indicators[1].indicator", "重复"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "score": "1.5"}]}, "indicators[0].score",
     "不能超过该项标准分 1 分"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "score": "-1"}]}, "indicators[0].score", "不能为负数"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "score": "0.125"}]}, "indicators[0].score", "两位小数"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "score": "abc"}]}, "indicators[0].score", "应为数字"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "score": True}]}, "indicators[0].score", "应为数字"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "score": "NaN"}]}, "indicators[0].score", "应为数字"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "not_applicable": True}]}, "indicators[0].reason",
     "请填写不涉及"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "not_applicable": True, "reason": "r", "score": "1"}]},
     "indicators[0].score", "不能同时给分"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "verdict": "agree", "reason": "r"}]},
     "indicators[0].reason", "只有判定为不涉及项"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "weight": 1}]}, "indicators[0].weight", "不认识的字段"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "opinion": "x" * 2001}]}, "indicators[0].opinion", "2000"),
    ({"decision": "agree", "prerequisites": [{"prerequisite": "P3", "met": True}]}, "prerequisites[0].prerequisite",
     "不在本部门"),
    ({"decision": "agree", "prerequisites": [{"prerequisite": "P1"}]}, "prerequisites[0].met",
     "先决条件 P1 手续齐全,证照合法有效：请判定是否满足"),
    ({"decision": "return", "prerequisites": [{"prerequisite": "P1", "met": False}]}, "prerequisites[0].note",
     "请填写说明"),
    ({"decision": "agree", "prerequisites": [{"prerequisite": "P1", "met": False, "note": "过期"}]}, "decision",
     "不能为“同意”"),
    ({"decision": "agree", "checks": [{"check": "C1", "passed": True}]}, "checks", "由牵头的盟市自然资源局填写"),
    ({"decision": "return"}, "comments", "请写明理由"),
    ({"decision": "disagree", "comments": "  "}, "comments", "请写明理由"),
    ({"decision": "agree", "comments": 5}, "comments", "应为文本"),
    ({"decision": "agree", "site_checks": [{}]}, "site_checks[0].inspectors", "请填写参加现场检查的工作人员"),
    ({"decision": "agree", "site_checks": [{"inspectors": ["张"], "checked_on": "2026-03-05", "observations": "o"}]},
     "site_checks[0].location", "请填写检查地点"),
    ({"decision": "agree", "site_checks": [{"inspectors": ["张"], "location": "l", "checked_on": "2026-03-05"}]},
     "site_checks[0].observations", "请填写查看的内容"),
    ({"decision": "agree", "site_checks": [{"inspectors": ["张"], "location": "l", "observations": "o",
                                             "checked_on": "3/5"}]}, "site_checks[0].checked_on", "YYYY-MM-DD"),
    ({"decision": "agree", "site_checks": [{"inspectors": ["张"], "location": "l", "observations": "o",
                                             "checked_on": "2026-03-06"}]},
     "site_checks[0].checked_on", "不能晚于今天"),
    ({"decision": "agree", "site_checks": [{"inspectors": ["张"], "location": "l", "observations": "o",
                                             "checked_on": "2026-03-05", "photos": ["ph-9"]}]},
     "site_checks[0].photos", "不是本任务上传的现场照片"),
    ({"decision": "agree", "site_checks": [{"inspectors": ["张"], "location": "l", "observations": "o",
                                             "checked_on": "2026-03-05", "photos": ["ph-1", "ph-1"]}]},
     "site_checks[0].photos", "重复引用"),
])
def test_refusals_name_the_field_and_say_why(data, field, message):
    errors = errors_of(data)
    assert field in errors, errors
    assert any(message in m for m in errors[field]), errors[field]


def test_every_problem_is_reported_at_once():
    errors = errors_of({"decision": "x", "indicators": [{"indicator": 9}, {"indicator": 3, "score": "7"}],
                        "site_checks": [{}]})
    assert {"decision", "indicators[0].indicator", "indicators[1].score", "site_checks[0].inspectors",
            "site_checks[0].location", "site_checks[0].observations", "site_checks[0].checked_on"} <= set(errors)


def test_lead_agreement_needs_all_seven_checks_passed():
    errors = errors_of({"decision": "agree", "checks": ALL_CHECKS[:5]}, lead=True)
    assert "缺少 C6、C7" in errors["checks"][0]
    failed = [*ALL_CHECKS[:6], {"check": "C7", "passed": False, "note": "涉及生态保护红线"}]
    assert "C7 未通过" in errors_of({"decision": "agree", "checks": failed}, lead=True)["decision"][0]
    assert parse({"decision": "return", "checks": failed}, lead=True).checks[6].note == "涉及生态保护红线"
    assert len(parse({"decision": "agree", "checks": ALL_CHECKS}, lead=True).checks) == 7
    assert "C8" in str(errors_of({"decision": "agree", "checks": [{"check": "C8", "passed": True}]}, lead=True))


def test_inspectors_may_be_typed_as_one_line():
    opinion = parse({"decision": "agree", "site_checks": [{
        "inspectors": "张工、李工,王工 赵工", "location": "l", "observations": "o", "checked_on": "2026-03-01"}]})
    assert opinion.site_checks[0].inspectors == ("张工", "李工", "王工", "赵工")


def test_return_with_an_indicator_opinion_needs_no_general_comment():
    opinion = parse({"decision": "return", "indicators": [{"indicator": 3, "verdict": "problem",
                                                           "opinion": "缺警示牌"}]})
    assert opinion.decision == "return" and opinion.comments == ""


@settings(max_examples=200, deadline=None)
@given(score=st.decimals(min_value=-2, max_value=7, places=3, allow_nan=False, allow_infinity=False),
       decision=st.sampled_from(sorted(DECISIONS)))
def test_a_score_is_accepted_exactly_when_within_points_and_two_decimals(score, decision):
    data = {"decision": decision, "comments": "说明",
            "indicators": [{"indicator": 8, "score": str(score), "opinion": "核减"}]}
    valid = Decimal(0) <= score <= Decimal(5) and score == score.quantize(Decimal("0.01"))
    if valid:
        assert parse(data).indicator(8).score == score
    else:
        assert "indicators[0].score" in errors_of(data)


def test_an_empty_agree_is_refused_naming_every_item():
    """Defect 2 of issue 10: ticking only 同意 is not an opinion."""
    errors = errors_of({"decision": "agree"}, complete=False)
    assert errors["indicators"] == ["第 3 项 矿区标识标牌：请给出判定", "第 8 项 开采回采率：请给出判定",
                                    "第 16 项 共伴生矿产综合利用：请给出判定", "第 44 项 能耗：请给出判定"]
    assert errors["prerequisites"] == ["先决条件 P1 手续齐全,证照合法有效：请判定是否满足",
                                       "先决条件 P5 矿区范围：请判定是否满足"]
    half = errors_of({"decision": "agree", "indicators": [{"indicator": 3, "verdict": "agree"}, {"indicator": 8}],
                      "prerequisites": [{"prerequisite": "P1", "met": True}]}, complete=False)
    assert half["indicators[1].verdict"] == ["第 8 项 开采回采率：请给出判定"]
    assert half["indicators"] == ["第 16 项 共伴生矿产综合利用：请给出判定", "第 44 项 能耗：请给出判定"]
    assert half["prerequisites"] == ["先决条件 P5 矿区范围：请判定是否满足"]
    for decision in ("return", "disagree"):        # every decision judges every item
        assert "indicators" in errors_of({"decision": decision, "comments": "补正"}, complete=False)


def test_each_verdict_says_what_goes_with_it():
    full = parse({"decision": "return", "indicators": [
        {"indicator": 3, "verdict": "agree", "opinion": "属实", "record": "现场核实"},
        {"indicator": 8, "verdict": "score", "score": "4", "opinion": "回采率低于设计"},
        {"indicator": 16, "verdict": "not_applicable", "reason": "储量年报显示无共伴生矿产"},
        {"indicator": 44, "verdict": "problem", "opinion": "能耗台账缺3个月", "score": "0.5"}]})
    assert [i.verdict for i in full.indicators] == ["agree", "score", "not_applicable", "problem"]
    assert [i.verdict_label for i in full.indicators] == ["认可自评", "给分", "确认不涉及", "有问题"]
    assert [i.gives_entry for i in full.indicators] == [False, True, True, True]   # agree keeps the self-assessment
    assert Opinion.from_dict(full.to_dict()) == full
    # a score equal to the claim needs no note; one that differs does
    assert parse({"decision": "agree", "indicators": [{"indicator": 8, "verdict": "score", "score": "5"}]}
                 ).indicator(8).score == Decimal("5")
    assert "企业自评 5 分" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 8, "verdict": "score", "score": "4"}]})["indicators[0].opinion"][0]
    assert "请写明理由" in errors_of({"decision": "agree", "indicators": [      # 44 claims findings, not a score
        {"indicator": 44, "verdict": "score", "score": "1"}]})["indicators[0].opinion"][0]
    assert "请填写得分" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 8, "verdict": "score"}]})["indicators[0].score"][0]
    assert "认可自评时不另给分" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 8, "verdict": "agree", "score": "5"}]})["indicators[0].score"][0]
    assert "请填写不涉及的判定依据" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 16, "verdict": "not_applicable"}]})["indicators[0].reason"][0]
    assert "请确认不涉及并写明判定依据" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 16, "verdict": "agree"}]})["indicators[0].verdict"][0]
    assert "请写明发现的问题" in errors_of({"decision": "return", "comments": "补正", "indicators": [
        {"indicator": 3, "verdict": "problem"}]})["indicators[0].opinion"][0]
    assert "判定为有问题，审核结论不能为“同意”" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 3, "verdict": "problem", "opinion": "缺警示牌"}]})["decision"][0]
    assert "判定应为" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 3, "verdict": "maybe"}]})["indicators[0].verdict"][0]
    assert "不能同时判定为不涉及" in errors_of({"decision": "agree", "indicators": [
        {"indicator": 3, "verdict": "agree", "not_applicable": True}]})["indicators[0].not_applicable"][0]


def test_opinions_recorded_before_verdicts_read_theirs_from_what_they_carry():
    old = {"opinion_id": "op-0", "sequence": 1, "decision": "agree", "given_by": "rv", "given_at": AT.isoformat(),
           "indicators": [{"indicator": 3, "opinion": "", "score": "0.5"},
                          {"indicator": 16, "opinion": "", "not_applicable": True, "reason": "无"},
                          {"indicator": 8, "opinion": "好"}]}
    opinion = Opinion.from_dict(old)
    assert [i.verdict for i in opinion.indicators] == ["score", "not_applicable", "agree"]
    assert [i.gives_entry for i in opinion.indicators] == [True, True, False]


@settings(max_examples=150, deadline=None)
@given(judged=st.sets(st.sampled_from(sorted(POINTS))), met=st.sets(st.sampled_from(["P1", "P5"])),
       decision=st.sampled_from(sorted(DECISIONS)))
def test_an_opinion_is_accepted_exactly_when_it_judges_every_item(judged, met, decision):
    data = {"decision": decision, "comments": "说明",
            "indicators": [{"indicator": no, "verdict": "not_applicable", "reason": "确无"} if no == 16 else
                           {"indicator": no, "verdict": "agree"} for no in sorted(judged)],
            "prerequisites": [{"prerequisite": code, "met": True} for code in sorted(met)]}
    if judged == set(POINTS) and met == {"P1", "P5"}:
        opinion = parse(data, complete=False)
        assert {i.indicator for i in opinion.indicators} == set(POINTS)
        assert not any(i.gives_entry for i in opinion.indicators if i.verdict == "agree")
    else:
        errors = errors_of(data, complete=False)
        named = " ".join(errors.get("indicators", []) + errors.get("prerequisites", []))
        for no in set(POINTS) - judged:
            assert f"第 {no} 项 {NAMES[no]}：请给出判定" in named
        for code in {"P1", "P5"} - met:
            assert f"先决条件 {code} " in named
