"""The hand-computed cases of docs/scoring.md §6, pinned. Each case lists only what differs from
"every applicable indicator at full marks, all prerequisites met"; the arithmetic is written out in the docs."""
from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.domain.engine import score_assessment

NA = lambda reason: {"not_applicable": True, "reason": reason}  # noqa: E731

# Improvement (提升性) indicators of branch (一), each given 0 in the 60.00 case through its own kind of input.
ZERO_IMPROVEMENT_BRANCH_1 = {
    "1": {"deductions": ["management_living_unclear", "production_management_unclear"]},
    "2": {"findings": 4}, "3": {"findings": 5}, "4": {"score": 0}, "5": {"score": 0}, "6": {"findings": 4},
    "7": {"findings": 2}, "14": {"score": 0}, "16": {"score": 0}, "17": {"items": {}}, "18": {"score": 0},
    "19": {"items": {"treatment_facilities": False}}, "20": {"score": 0}, "25": {"score": 0}, "26": {"items": {}},
    "28": {"score": 0}, "36": {"score": 0}, "42": {"score": 0}, "44": {"score": 0}, "45": {"items": {}},
    "46": {"findings": 4}, "47": {"score": 0}, "48": {"findings": 5},
}
SIXTY = {**ZERO_IMPROVEMENT_BRANCH_1,
         "9": {"items": {"drilling": True, "blasting": True, "loading": True, "dumping": True}},
         "11": {"findings": 0}, "43": {"score": 2}}

CASES = [
    dict(id="1-branch1-three-na-in-category-3", group=1, method="open_pit",
         entries={"14": NA("本矿为单一矿种,无共伴生矿产,无需综合勘查评价"),
                  "16": NA("本矿无暂不能开采利用的共伴生矿产"),
                  "18": NA("本矿无尾矿、煤矸石等可提取有价元素的固体废弃物"),
                  "17": {"items": {"solid_waste_use": True, "topsoil_reuse": True,
                                   "tailings_pollution_control": False}},
                  "19": {"items": {"treatment_facilities": True, "clean_disposal": True}},
                  "20": {"items": {"treatment_system": True}}},
         categories=["12.00", "20.00", "14.79", "20.00", "18.00", "12.00"], total="96.79", verdict="qualified"),
    dict(id="2-branch2-sand-gravel", group=2, method="open_pit", variant="sand_gravel_stone",
         entries={"1": {"deductions": ["production_management_unclear"]}, "3": {"findings": 2},
                  "22": {"score": 0}, "23": {"items": {"treatment_system": True}}},
         categories=["10.10", "20.00", "11.00", "20.00", "18.00", "12.00"], total="91.10", verdict="qualified"),
    dict(id="3-binding-zero-total-99", group=1, method="underground",
         entries={"30": {"score": 0}},
         categories=["12.00", "20.00", "18.00", "19.00", "18.00", "12.00"], total="99.00",
         verdict="not_qualified", failed_binding=[30]),
    dict(id="4-exactly-60", group=1, method="open_pit", entries=SIXTY,
         categories=["0.00", "20.00", "7.00", "14.00", "15.00", "4.00"], total="60.00", verdict="qualified"),
    dict(id="5-just-below-60", group=1, method="open_pit", entries={**SIXTY, "43": {"findings": 1}},
         categories=["0.00", "20.00", "7.00", "14.00", "14.00", "4.00"], total="59.00", verdict="not_qualified"),
    dict(id="6-deductions-past-zero", group=1, method="open_pit",
         entries={"1": {"deductions": ["management_living_unclear", "production_management_unclear"]},
                  "2": {"findings": 10}, "3": {"findings": 7}, "11": {"findings": 9}},
         categories=["7.00", "15.00", "18.00", "20.00", "18.00", "12.00"], total="90.00", verdict="qualified"),
    dict(id="7-failed-prerequisite", group=1, method="open_pit", prerequisites={"P3": False},
         categories=["12.00", "20.00", "18.00", "20.00", "18.00", "12.00"], total="100.00",
         verdict="ineligible", failed_prerequisites=["P3"]),
    dict(id="8-oil-gas-auto-na", group=1, method="oil_gas",
         entries={"11": {"findings": 1}, "12": NA("油气开采,无选矿加工环节"), "13": NA("油气开采,无选矿环节")},
         categories=["12.00", "17.14", "18.00", "20.00", "18.00", "12.00"], total="97.14", verdict="qualified",
         not_applicable_binding=[8, 12, 13]),
    dict(id="9-half-up-rounding", group=2, method="underground", variant="cement_limestone",
         entries={"42": {"score": 0}, "43": NA("经批复无需编制水土保持方案")},
         categories=["12.00", "20.00", "18.00", "20.00", "14.63", "12.00"], total="96.63", verdict="qualified"),
    dict(id="10-whole-category-na", group=2, method="open_pit", variant="sand_gravel_stone",
         entries={"21": NA("仅开采原矿外售,无加工产物"), "22": NA("无剥离物"),
                  "23": NA("干法生产,无生产废水"), "24": NA("生活污水由市政管网收纳,矿区无生活区"),
                  "36": {"score": 0}},
         categories=["12.00", "20.00", "18.00", "19.00", "18.00", "12.00"], total="99.00", verdict="qualified"),
]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hand_computed_case(case, catalog, assessment_for, report_validator):
    assessment = assessment_for(case["group"], case["method"], case.get("variant"), case.get("entries"),
                                case.get("prerequisites"))
    report = score_assessment(assessment, catalog).to_dict()
    assert [c["score"] for c in report["categories"]] == case["categories"]
    assert report["total"] == case["total"]
    assert sum(Decimal(s) for s in case["categories"]) == Decimal(case["total"])
    assert report["verdict"] == case["verdict"]
    assert report["failed_binding"] == case.get("failed_binding", [])
    assert report["failed_prerequisites"] == case.get("failed_prerequisites", [])
    assert report["not_applicable_binding"] == case.get("not_applicable_binding", [])
    assert report["catalog_version"] == catalog.version
    report_validator.validate(report)


def test_case_1_category_arithmetic(catalog, assessment_for):
    report = score_assessment(assessment_for(1, "open_pit", entries=CASES[0]["entries"]), catalog).to_dict()
    three = report["categories"][2]
    assert (three["points"], three["applicable_points"], three["earned"]) == ("18", "14", "11.5")
    assert report["indicator_scores"]["17"]["score"] == "1.5"


def test_case_8_oil_gas_indicators_8_and_9_are_reported_not_applicable(catalog, assessment_for):
    report = score_assessment(assessment_for(1, "oil_gas", entries=CASES[7]["entries"]), catalog).to_dict()
    for no in ("8", "9"):
        assert report["indicator_scores"][no]["not_applicable"] is True
        assert "石油、天然气" in report["indicator_scores"][no]["reason"]
    assert report["categories"][1]["applicable_points"] == "7"
    assert report["categories"][1]["earned"] == "6"


def test_case_9_rounds_half_up_not_half_even(catalog, assessment_for):
    report = score_assessment(assessment_for(2, "underground", "cement_limestone", CASES[8]["entries"]),
                              catalog).to_dict()
    five = report["categories"][4]
    assert (five["applicable_points"], five["earned"]) == ("16", "13")
    assert Decimal(18) * 13 / 16 == Decimal("14.625")
    assert five["score"] == "14.63"


def test_case_10_whole_category_na_scores_full_points(catalog, assessment_for):
    report = score_assessment(assessment_for(2, "open_pit", "sand_gravel_stone", CASES[9]["entries"]),
                              catalog).to_dict()
    three = report["categories"][2]
    assert three["all_not_applicable"] is True
    assert (three["applicable_points"], three["earned"], three["score"]) == ("0", "0", "18.00")
