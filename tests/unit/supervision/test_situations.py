"""The situations of dynamic management (附件2 四) as data: the file in contracts/ says what the notice says, in its
order and words (typed here again from the notice, not read from the file), and a file that does not is refused
with the place named."""
from __future__ import annotations

import copy

import pytest
import yaml

from shared.config import contracts_path
from supervision.adapters.situations import department_names, load_situations
from supervision.domain.situations import TRIGGERS, SituationsInvalid, parse_situations

# 附件2 四 (一)(二)(三), the notice's words without its list punctuation.
NOTICE = {
    "mark": ["矿山停产1年以上", "矿区范围、开采方式、开采矿种、开采规模发生变更", "需要限期整改的事项"],
    "rectify": ["绿色矿山评估相关档案资料不健全", "矿区环境较差", "采用国家禁止的过期淘汰设备和生产工艺",
                "选矿及加工工艺落后，有污染风险", "矿产资源“三率”等指标不达标", "矿区生态修复不符合相关方案",
                "“三废”未得到有效处置和综合利用，有污染风险", "能耗、水耗指标未达到规定要求",
                "其他违法违规行为，需限期整改的"],
    "remove": ["《采矿许可证》、《安全生产许可证》、《营业执照》证照不齐、过期未及时延续或被吊销的",
               "受到行政处罚后在履行期限内未执行到位的", "采矿权消灭的，因矿山企业自身原因未正常生产运营停产超过3年的",
               "违法开采特别是越界开采、擅自改变开采方式的",
               "发生较大及以上安全生产事故或环境事件的，发生土壤和地下水严重污染的", "未落实国土空间规划和用途管制的",
               "未落实生态环境分区管控、环境影响评价、排污许可等相关制度要求，且未按期整改到位的",
               "未按要求定期开展尾矿库污染隐患排查的或尾矿库污染防治设施未按要求建设运行的",
               "采矿权人被列入矿业权人勘查开采信息公示异常名录，且未在6个月内移出的",
               "矿产资源开发利用水平连续2年被划定为落后档次的",
               "被中央环保督察、巡视审计、全国人大常委会执法检查等作为典型案例通报或纳入各类警示片的",
               "发生突发事件，因企业违法违规在全国门户类网站、平台引发负面舆情的", "弄虚作假通过绿色矿山评估的",
               "其他违法违规行为不宜继续列入名录的"],
}


def raw() -> dict:
    return yaml.safe_load(contracts_path("supervision", "situations.yaml").read_text(encoding="utf-8"))


def test_three_nine_and_fourteen_in_the_notices_order_and_words():
    situations = load_situations()
    assert [m.code for m in situations.measures] == ["mark", "rectify", "remove"]
    assert [m.title for m in situations.measures] == ["标注", "限期整改", "移出绿色矿山名录"]
    for measure in situations.measures:
        assert [s.text for s in measure.situations] == NOTICE[measure.code]
        assert [s.no for s in measure.situations] == list(range(1, len(NOTICE[measure.code]) + 1))
    assert "整改期限由提出问题的有关主管部门决定" in situations.measure("rectify").lead
    assert "经自治区绿色矿山建设协调机制审定后" in situations.measure("remove").lead


def test_what_the_platform_finds_itself_is_what_the_daily_sweep_looks_for():
    situations = load_situations()
    swept = {s.code: s.trigger for m in situations.measures for s in m.situations if s.detection == "sweep"}
    assert swept == {"mark.1": "production_stopped_one_year", "mark.2": "major_change",
                     "remove.1": "licence_expired", "remove.3": "production_stopped_three_years",
                     "remove.9": "abnormal_list_six_months", "remove.10": "backward_two_years"}
    assert set(swept.values()) == TRIGGERS
    assert situations.get("mark.3").follows == "rectify"


def test_who_may_raise_each_follows_the_duties_of_annex_3():
    situations, names = load_situations(), department_names()
    raisers = {s.code: set(s.raised_by) for m in situations.measures for s in m.situations}
    assert set().union(*raisers.values()) <= set(names)
    assert not {"finance", "financial_regulation"} & set().union(*raisers.values())   # they supervise no mine
    assert raisers["rectify.5"] == {"natural_resources"}                                 # “三率”
    # the three licences: 采矿许可证, 安全生产许可证, 营业执照
    assert raisers["remove.1"] == {"natural_resources", "emergency_management", "market_regulation"}
    assert "ecology_environment" in raisers["rectify.7"] and "emergency_management" in raisers["remove.5"]
    assert all(s.evidence for m in situations.measures for s in m.situations)


def test_a_situation_is_found_by_how_a_measure_cites_it():
    situations = load_situations()
    assert situations.get("rectify.5").text == "矿产资源“三率”等指标不达标"
    assert situations.get("remove.14").code == "remove.14"
    for code in ("rectify.10", "remove.0", "mark", "other.1", "mark.x", ""):
        assert situations.get(code) is None


def _problems(data) -> list[str]:
    with pytest.raises(SituationsInvalid) as caught:
        parse_situations(data, department_names())
    return caught.value.problems


def test_a_file_that_drops_a_situation_is_refused():
    data = raw()
    del data["measures"]["remove"]["situations"][13]
    assert any(p.startswith("remove:") and "14" in p for p in _problems(data))


def test_a_file_out_of_order_or_with_an_unknown_department_is_refused():
    data = raw()
    items = data["measures"]["rectify"]["situations"]
    items[0], items[1] = items[1], items[0]
    items[2] = {**items[2], "raised_by": ["natural_resources", "police"]}
    problems = _problems(data)
    assert any(p.startswith("rectify.1:") and "编号" in p for p in problems)
    assert any(p.startswith("rectify.3:") and "police" in p for p in problems)


@pytest.mark.parametrize("change,where", [
    ({"detection": "sweep"}, "trigger"), ({"trigger": "when_it_rains"}, "trigger"),
    ({"detection": "sometimes"}, "detection"), ({"evidence": []}, "证据"), ({"text": " "}, "原文")])
def test_each_field_of_a_situation_is_checked(change, where):
    data = copy.deepcopy(raw())
    item = data["measures"]["rectify"]["situations"][0]
    item.update(change)
    assert any(p.startswith("rectify.1:") and where in p for p in _problems(data))


def test_measures_in_another_order_are_refused():
    data = raw()
    data["measures"] = {k: data["measures"][k] for k in ("remove", "mark", "rectify")}
    assert _problems(data) == ["measures: 须依次为 mark、rectify、remove"]
