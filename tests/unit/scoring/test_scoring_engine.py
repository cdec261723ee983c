"""Every rule kind, every verdict path and every input error of the scoring engine."""
from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from scoring.domain.engine import AssessmentInvalid, possible_scores, score_assessment
from shared.catalog import CatalogError


def score_of(catalog, assessment, no):
    return score_assessment(assessment, catalog).indicator_scores[no].score


def errors_of(catalog, assessment):
    with pytest.raises(AssessmentInvalid) as caught:
        score_assessment(assessment, catalog)
    return caught.value.errors


def fields(errors):
    return [e["field"] for e in errors]


# ------------------------------------------------------------------------------------------------------------
# Rule kinds.


class TestAllOrNothing:
    def test_full_or_zero(self, catalog, assessment_for):
        assert score_of(catalog, assessment_for(entries={"10": {"score": 2}}), 10) == 2
        assert score_of(catalog, assessment_for(entries={"10": {"score": 0}}), 10) == 0

    def test_partial_score_is_refused(self, catalog, assessment_for):
        errors = errors_of(catalog, assessment_for(entries={"10": {"score": 1}}))
        assert fields(errors) == ["indicators.10.score"]
        assert "全有或全无" in errors[0]["message"] and "0或2" in errors[0]["message"]


class TestDeductPerFinding:
    @pytest.mark.parametrize("findings,expected", [(0, "2"), (1, "1.5"), (3, "0.5"), (4, "0"), (50, "0")])
    def test_points_minus_findings_never_below_zero(self, catalog, assessment_for, findings, expected):
        assert score_of(catalog, assessment_for(entries={"2": {"findings": findings}}), 2) == Decimal(expected)

    def test_point_two_steps_are_exact(self, catalog, assessment_for):
        # 1 − 3 × 0.2 is exactly 0.4 in decimal (it is not in binary floating point).
        assert score_of(catalog, assessment_for(entries={"3": {"findings": 3}}), 3) == Decimal("0.4")

    def test_direct_score_must_be_reachable(self, catalog, assessment_for):
        assert score_of(catalog, assessment_for(entries={"2": {"score": "1.5"}}), 2) == Decimal("1.5")
        errors = errors_of(catalog, assessment_for(entries={"2": {"score": "1.2"}}))
        assert fields(errors) == ["indicators.2.score"] and "0.5" in errors[0]["message"]

    def test_per_item_unit(self, catalog, assessment_for):
        assert score_of(catalog, assessment_for(entries={"46": {"findings": 1}}), 46) == Decimal("1.5")
        assert score_of(catalog, assessment_for(entries={"48": {"findings": 2}}), 48) == Decimal("0.6")

    @pytest.mark.parametrize("bad", [-1, 1.5, "2", True, None])
    def test_findings_must_be_a_non_negative_integer(self, catalog, assessment_for, bad):
        errors = errors_of(catalog, assessment_for(entries={"2": {"findings": bad}}))
        assert fields(errors) == ["indicators.2.findings"]


class TestConditionalDeductions:
    @pytest.mark.parametrize("conditions,expected", [
        ([], "2"), (["management_living_unclear"], "1.5"), (["production_management_unclear"], "0.5"),
        (["management_living_unclear", "production_management_unclear"], "0")])
    def test_named_conditions(self, catalog, assessment_for, conditions, expected):
        score = score_of(catalog, assessment_for(entries={"1": {"deductions": conditions}}), 1)
        assert score == Decimal(expected)

    def test_direct_score(self, catalog, assessment_for):
        assert score_of(catalog, assessment_for(entries={"1": {"score": "0.5"}}), 1) == Decimal("0.5")
        errors = errors_of(catalog, assessment_for(entries={"1": {"score": 1}}))
        assert "按条件扣分" in errors[0]["message"]

    def test_unknown_and_repeated_conditions(self, catalog, assessment_for):
        errors = errors_of(catalog, assessment_for(entries={"1": {"deductions": ["messy", "messy"]}}))
        assert fields(errors) == ["indicators.1.deductions", "indicators.1.deductions", "indicators.1.deductions"]
        assert "management_living_unclear" in errors[0]["message"]

    def test_deductions_only_on_conditional_rules(self, catalog, assessment_for):
        errors = errors_of(catalog, assessment_for(entries={"2": {"deductions": []}}))
        assert fields(errors) == ["indicators.2.deductions"]

    def test_findings_refused_on_conditional_rule(self, catalog, assessment_for):
        errors = errors_of(catalog, assessment_for(entries={"1": {"findings": 1}}))
        assert fields(errors) == ["indicators.1.findings"] and "deductions" in errors[0]["message"]


class TestAdditiveItems:
    def test_items_add_up(self, catalog, assessment_for):
        entry = {"items": {"annual_energy_plan": True, "energy_management_system": False}}
        assert score_of(catalog, assessment_for(entries={"26": entry}), 26) == Decimal("0.5")

    def test_total_is_capped_at_the_indicator_points(self, catalog, assessment_for):
        # 26: 0.5 + 0.5 + 1 = 2 by the items, but 得分不超过1分.
        entry = {"items": {"annual_energy_plan": True, "energy_management_system": True,
                           "energy_certification": True}}
        assert score_of(catalog, assessment_for(entries={"26": entry}), 26) == 1
        # 44: 0.5 × 3 = 1.5, 最多得1分.
        entry = {"items": {"rd_team": True, "rd_investment": True, "eia_special_study": True}}
        assert score_of(catalog, assessment_for(entries={"44": entry}), 44) == 1

    def test_per_unit_item_with_its_own_cap(self, catalog, assessment_for):
        assert score_of(catalog, assessment_for(entries={"45": {"items": {"invention_patents": 3}}}), 45) \
            == Decimal("1.5")
        # 10 patents would be 5 points: the item stops at 2, the indicator at 2.
        assert score_of(catalog, assessment_for(entries={"45": {"items": {"invention_patents": 10}}}), 45) == 2
        entry = {"items": {"invention_patents": 1, "catalogue_listings": 1}}
        assert score_of(catalog, assessment_for(entries={"45": entry}), 45) == Decimal("1.5")

    def test_alternative_routes_of_20_are_capped(self, catalog, assessment_for):
        entry = {"items": {"treatment_system": True, "treated_reuse": True, "municipal_sewer": True}}
        assert score_of(catalog, assessment_for(entries={"20": entry}), 20) == 2

    def test_direct_score_within_possible_sums(self, catalog, assessment_for):
        assert score_of(catalog, assessment_for(entries={"45": {"score": "1.5"}}), 45) == Decimal("1.5")
        errors = errors_of(catalog, assessment_for(entries={"45": {"score": "1.25"}}))
        assert "按子项累加" in errors[0]["message"]

    def test_item_errors(self, catalog, assessment_for):
        errors = errors_of(catalog, assessment_for(entries={
            "45": {"items": {"invention_patents": True, "bogus": True, "high_tech_certificate": 1}},
            "42": {"items": ["management_system"]}, "2": {"items": {}}}))
        assert fields(errors) == ["indicators.2.items", "indicators.42.items", "indicators.45.items.invention_patents",
                                  "indicators.45.items.bogus", "indicators.45.items.high_tech_certificate"]


class TestByMiningMethod:
    def test_open_pit_and_underground_use_their_own_items(self, catalog, assessment_for):
        open_pit = {"items": {"drilling": True, "blasting": True}}
        assert score_of(catalog, assessment_for(method="open_pit", entries={"9": open_pit}), 9) == 4
        underground = {"items": {"protective_mining": True, "advanced_techniques": True}}
        assert score_of(catalog, assessment_for(method="underground", entries={"9": underground}), 9) == 6

    def test_variants_are_never_added(self, catalog, assessment_for):
        mixed = {"items": {"drilling": True, "protective_mining": True}}
        errors = errors_of(catalog, assessment_for(method="open_pit", entries={"9": mixed}))
        assert fields(errors) == ["indicators.9.items.protective_mining"]

    def test_variant_is_recorded(self, catalog, assessment_for):
        report = score_assessment(assessment_for(method="underground"), catalog)
        assert report.indicator_scores[11].variant == "underground"
        assert report.to_dict()["indicator_scores"]["9"]["variant"] == "underground"

    def test_oil_gas_8_and_9_may_be_omitted_or_marked_na(self, catalog, assessment_for):
        entries = {"8": {"not_applicable": True, "reason": "油气开采,无台阶开采"}}
        report = score_assessment(assessment_for(method="oil_gas", entries=entries), catalog)
        assert report.indicator_scores[8].reason == "油气开采,无台阶开采"
        assert report.indicator_scores[9].not_applicable
        assert report.verdict == "qualified" and report.total == 100

    def test_oil_gas_8_cannot_be_scored(self, catalog, assessment_for):
        errors = errors_of(catalog, assessment_for(method="oil_gas", entries={"8": {"score": 5}}))
        assert fields(errors) == ["indicators.8"] and "不涉及项" in errors[0]["message"]

    def test_oil_gas_11_uses_its_own_variant(self, catalog, assessment_for):
        report = score_assessment(assessment_for(method="oil_gas", entries={"11": {"findings": 2}}), catalog)
        assert report.indicator_scores[11].score == 3 and report.indicator_scores[11].variant == "oil_gas"


class TestByIndustry:
    def test_variant_chosen_by_mine(self, catalog, assessment_for):
        report = score_assessment(assessment_for(2, variant="cement_limestone", entries={"21": {"score": 0}}),
                                  catalog)
        assert report.indicator_scores[21].variant == "cement_limestone"
        assert report.indicator_scores[21].score == 0

    def test_variant_required_in_branch_2(self, catalog, assessment_for):
        assessment = assessment_for(2)
        del assessment["mine"]["industry_variant"]
        errors = errors_of(catalog, assessment)
        assert fields(errors) == ["mine.industry_variant"]
        assert "第21、22项" in errors[0]["message"]

    def test_variant_not_needed_when_21_and_22_are_na(self, catalog, assessment_for):
        entries = {"21": {"not_applicable": True, "reason": "无加工产物"},
                   "22": {"not_applicable": True, "reason": "无剥离物"}}
        assessment = assessment_for(2, entries=entries)
        del assessment["mine"]["industry_variant"]
        assert score_assessment(assessment, catalog).verdict == "qualified"

    def test_variant_of_the_wrong_branch_or_unknown(self, catalog, assessment_for):
        assessment = assessment_for(1)
        assessment["mine"]["industry_variant"] = "cement_limestone"
        assert fields(errors_of(catalog, assessment)) == ["mine.industry_variant"]
        assessment = assessment_for(2)
        assessment["mine"]["industry_variant"] = "granite"
        assert fields(errors_of(catalog, assessment)) == ["mine.industry_variant"]


def test_possible_scores(catalog):
    assert possible_scores(catalog.indicator(10).rule, Decimal(2)) == {0, 2}
    assert possible_scores(catalog.indicator(3).rule, Decimal(1)) == {Decimal(x) for x in
                                                                      ("0", "0.2", "0.4", "0.6", "0.8", "1")}
    assert possible_scores(catalog.indicator(1).rule, Decimal(2)) == {0, Decimal("0.5"), Decimal("1.5"), 2}
    assert possible_scores(catalog.indicator(45).rule, Decimal(2)) == {Decimal(x) / 2 for x in range(5)}
    assert possible_scores(catalog.indicator(26).rule, Decimal(1)) == {0, Decimal("0.5"), 1}


# ------------------------------------------------------------------------------------------------------------
# Not applicable, categories and verdicts.


def test_na_is_prorated_within_its_category(catalog, assessment_for):
    entries = {"3": {"not_applicable": True, "reason": "无需设置标牌的区域"}, "2": {"findings": 2}}
    report = score_assessment(assessment_for(entries=entries), catalog)
    first = report.categories[0]
    assert (first.applicable_points, first.earned) == (11, 10)
    assert first.score == Decimal("10.91")      # 12 × 10 / 11 = 10.909…


def test_na_binding_item_does_not_fail_the_binding_rule(catalog, assessment_for):
    entries = {"30": {"not_applicable": True, "reason": "非金属矿山,矿石不含硫化物,不产生酸性废水"}}
    report = score_assessment(assessment_for(entries=entries), catalog)
    assert report.verdict == "qualified"
    assert report.failed_binding == () and report.not_applicable_binding == (30,)


def test_ineligible_wins_over_everything(catalog, assessment_for):
    report = score_assessment(assessment_for(entries={"10": {"score": 0}}, prerequisites={"P1": False, "P5": False}),
                              catalog)
    assert report.verdict == "ineligible"
    assert report.failed_prerequisites == ("P1", "P5")
    assert report.failed_binding == (10,)


def test_failed_binding_ascending(catalog, assessment_for):
    entries = {"50": {"score": 0}, "8": {"score": 0}, "33": {"score": 0}}
    report = score_assessment(assessment_for(entries=entries), catalog)
    assert report.failed_binding == (8, 33, 50) and report.verdict == "not_qualified"


def test_record_is_passed_through(catalog, assessment_for):
    record = "2025-07-02 张三、李四到一号排土场查看了排土台阶与挡墙"
    report = score_assessment(assessment_for(entries={"9": {"score": 8, "record": record}}), catalog).to_dict()
    assert report["indicator_scores"]["9"]["record"] == record


def test_report_shape(catalog, assessment_for, report_validator):
    report = score_assessment(assessment_for(), catalog).to_dict()
    report_validator.validate(report)
    assert report["total"] == "100.00" and report["verdict"] == "qualified"
    assert report["catalog"] == "nm-2025" and report["catalog_version"] == catalog.version
    assert [c["no"] for c in report["categories"]] == [1, 2, 3, 4, 5, 6]
    assert list(report["indicator_scores"]) == [str(i.no) for i in catalog.indicators_for(1, "open_pit")]
    assert report["indicator_scores"]["3"] == {"name": "标识标牌", "category": 1, "points": "1", "binding": False,
                                               "score": "1", "not_applicable": False}


def test_numeric_inputs_in_any_json_form(catalog, assessment_for):
    for value in (1.5, "1.5", Decimal("1.5"), "1.50"):
        assert score_of(catalog, assessment_for(entries={"2": {"score": value}}), 2) == Decimal("1.5")


def test_catalog_resolver(catalog, assessment_for):
    def resolver(catalog_id):
        if catalog_id == "nm-2025":
            return catalog
        raise CatalogError(catalog_id, ["未找到评价指标"])
    assert score_assessment(assessment_for(), resolver).catalog_id == "nm-2025"
    assessment = assessment_for()
    assessment["catalog"] = "nm-1999"
    errors = errors_of(resolver, assessment)
    assert fields(errors) == ["catalog"] and "nm-1999" in errors[0]["message"]


def test_input_is_not_mutated(catalog, assessment_for):
    assessment = assessment_for(entries={"45": {"items": {"invention_patents": 3}}})
    before = copy.deepcopy(assessment)
    score_assessment(assessment, catalog)
    assert assessment == before


# ------------------------------------------------------------------------------------------------------------
# Errors: each named by field, all collected.


def test_missing_indicators(catalog, assessment_for):
    errors = errors_of(catalog, assessment_for(entries={"5": None, "37": None}))
    assert errors == [{"field": "indicators.5", "message": "缺少第5项「环境卫生」的评分"},
                      {"field": "indicators.37", "message": "缺少第37项「噪声排放」的评分"}]


def test_indicator_of_the_other_branch(catalog, assessment_for):
    errors = errors_of(catalog, assessment_for(1, entries={"21": {"score": 5}}))
    assert fields(errors) == ["indicators.21"] and "(二)" in errors[0]["message"]
    errors = errors_of(catalog, assessment_for(2, entries={"12": {"score": 3}}))
    assert fields(errors) == ["indicators.12"] and "(一)" in errors[0]["message"]


@pytest.mark.parametrize("key", ["51", "0", "03", "x", "-1"])
def test_unknown_indicator_numbers(catalog, assessment_for, key):
    assert fields(errors_of(catalog, assessment_for(entries={key: {"score": 1}}))) == [f"indicators.{key}"]


@pytest.mark.parametrize("score,message", [
    (3, "超过"), (-1, "负数"), ("1.255", "2位小数"), (0.001, "2位小数"), ("abc", "数字"), (True, "数字"),
    (None, "数字"), ("NaN", "数字"), ("Infinity", "数字")])
def test_bad_scores(catalog, assessment_for, score, message):
    errors = errors_of(catalog, assessment_for(entries={"2": {"score": score}}))
    assert fields(errors) == ["indicators.2.score"] and message in errors[0]["message"]


@pytest.mark.parametrize("score,shown", [(Decimal("1e999999999"), "1E+999999999"), (Decimal("-1e999999999"),
                                                                                        "-1E+999999999")])
def test_a_score_of_a_billion_digits_is_named_short(catalog, assessment_for, score, shown):
    """Written out plain it is a billion characters: building that message held a worker for a minute."""
    errors = errors_of(catalog, assessment_for(entries={"2": {"score": score}}))
    assert fields(errors) == ["indicators.2.score"] and f"得分 {shown} " in errors[0]["message"]
    assert len(errors[0]["message"]) < 100


def test_findings_on_a_non_deduction_rule(catalog, assessment_for):
    for no in ("10", "45", "9"):
        errors = errors_of(catalog, assessment_for(entries={no: {"findings": 1}}))
        assert fields(errors) == [f"indicators.{no}.findings"]


@pytest.mark.parametrize("entry", [{"not_applicable": True}, {"not_applicable": True, "reason": "  "},
                                   {"not_applicable": True, "reason": 3}])
def test_na_without_reason(catalog, assessment_for, entry):
    errors = errors_of(catalog, assessment_for(entries={"16": entry}))
    assert fields(errors) == ["indicators.16.reason"] and "判定依据和理由" in errors[0]["message"]


def test_entry_shape_errors(catalog, assessment_for):
    errors = errors_of(catalog, assessment_for(entries={
        "2": {"score": 2, "findings": 0},
        "4": {},
        "5": {"not_applicable": True, "reason": "无", "score": 0},
        "6": {"score": 2, "reason": "因为"},
        "7": {"score": 1, "comment": "?"},
        "10": {"not_applicable": "yes"},
        "13": 2,
        "14": {"score": 2, "record": 5}}))
    assert fields(errors) == ["indicators.2", "indicators.4", "indicators.5", "indicators.6.reason",
                              "indicators.7.comment", "indicators.10.not_applicable", "indicators.13",
                              "indicators.14.record"]


def test_prerequisite_errors(catalog, assessment_for):
    assessment = assessment_for()
    del assessment["prerequisites"]["P2"]
    assessment["prerequisites"]["P4"] = "yes"
    assessment["prerequisites"]["P9"] = True
    errors = errors_of(catalog, assessment)
    assert fields(errors) == ["prerequisites.P2", "prerequisites.P4", "prerequisites.P9"]
    assert "P2「3年内未受行政处罚或已执行到位」" in errors[0]["message"]
    assessment["prerequisites"] = None
    assert "prerequisites" in fields(errors_of(catalog, assessment))


def test_mine_errors(catalog, assessment_for):
    assessment = assessment_for()
    assessment["mine"] = {"industry_group": 3, "mining_method": "dredging", "owner": "x"}
    errors = errors_of(catalog, assessment)
    assert fields(errors) == ["mine.owner", "mine.industry_group", "mine.mining_method"]
    assessment["mine"] = {}
    assert fields(errors_of(catalog, assessment)) == ["mine.industry_group", "mine.mining_method"]
    assessment["mine"] = {"industry_group": True, "mining_method": "open_pit"}
    assert fields(errors_of(catalog, assessment)) == ["mine.industry_group"]
    assessment["mine"] = "open pit"
    assert fields(errors_of(catalog, assessment)) == ["mine"]


def test_catalog_errors(catalog, assessment_for):
    assessment = assessment_for()
    assessment["catalog"] = "nm-2099"
    assert fields(errors_of(catalog, assessment)) == ["catalog"]
    del assessment["catalog"]
    assert fields(errors_of(catalog, assessment)) == ["catalog"]


def test_top_level_errors(catalog, assessment_for):
    assessment = assessment_for()
    assessment["extra"] = 1
    assessment["indicators"] = []
    assert fields(errors_of(catalog, assessment)) == ["extra", "indicators"]
    with pytest.raises(AssessmentInvalid) as caught:
        score_assessment([], catalog)
    assert caught.value.errors[0]["field"] == "(root)"


def test_every_error_is_collected_not_just_the_first(catalog, assessment_for):
    assessment = assessment_for(entries={"2": {"score": 9}, "3": {"findings": -1}, "5": None,
                                         "21": {"score": 1}, "16": {"not_applicable": True}},
                                prerequisites={"P1": "?"})
    errors = errors_of(catalog, assessment)
    assert set(fields(errors)) == {"prerequisites.P1", "indicators.2.score", "indicators.3.findings",
                                   "indicators.5", "indicators.21", "indicators.16.reason"}
    assert all(e["message"] for e in errors)
    assert "indicators.2.score" in str(AssessmentInvalid(errors))


def test_valid_assessments_match_the_input_schema(assessment_for, assessment_validator):
    assessment_validator.validate(assessment_for(entries={
        "1": {"deductions": ["management_living_unclear"]}, "2": {"findings": 1},
        "16": {"not_applicable": True, "reason": "无"}, "45": {"items": {"invention_patents": 2}},
        "9": {"score": 6, "record": "查看了现场"}}))
    assessment_validator.validate(assessment_for(2, variant="cement_limestone"))
    bad = assessment_for(entries={"2": {"score": 1, "findings": 1}})
    assert list(assessment_validator.iter_errors(bad))
