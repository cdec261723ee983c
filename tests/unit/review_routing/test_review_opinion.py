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


def parse(data, *, lead=False, photos=("ph-1",), prerequisites=("P1", "P5")):
    return parse_opinion(opinion_body(data), indicator_points=POINTS, prerequisites=prerequisites,
                         checks=[f"C{n}" for n in range(1, 8)] if lead else [], lead=lead, photo_ids=photos,
                         today=date(2026, 3, 5), opinion_id="op-1", sequence=1, given_by="rv", given_by_name="审核员",
                         given_at=AT, supersedes=None)


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
    assert opinion.site_checks[0].summary == "2026-03-05 张工、李工到采场入口查看:警示牌缺失1处"
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
    ({"decision": "agree", "indicators": [{"indicator": 3, "reason": "r"}]}, "indicators[0].reason",
     "只有判定为不涉及项"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "weight": 1}]}, "indicators[0].weight", "不认识的字段"),
    ({"decision": "agree", "indicators": [{"indicator": 3, "opinion": "x" * 2001}]}, "indicators[0].opinion", "2000"),
    ({"decision": "agree", "prerequisites": [{"prerequisite": "P3", "met": True}]}, "prerequisites[0].prerequisite",
     "不在本部门"),
    ({"decision": "agree", "prerequisites": [{"prerequisite": "P1"}]}, "prerequisites[0].met", "请选择是否满足"),
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
    opinion = parse({"decision": "return", "indicators": [{"indicator": 3, "opinion": "缺警示牌"}]})
    assert opinion.decision == "return" and opinion.comments == ""


@settings(max_examples=200, deadline=None)
@given(score=st.decimals(min_value=-2, max_value=7, places=3, allow_nan=False, allow_infinity=False),
       decision=st.sampled_from(sorted(DECISIONS)))
def test_a_score_is_accepted_exactly_when_within_points_and_two_decimals(score, decision):
    data = {"decision": decision, "comments": "说明", "indicators": [{"indicator": 8, "score": str(score)}]}
    valid = Decimal(0) <= score <= Decimal(5) and score == score.quantize(Decimal("0.01"))
    if valid:
        assert parse(data).indicator(8).score == score
    else:
        assert "indicators[0].score" in errors_of(data)
