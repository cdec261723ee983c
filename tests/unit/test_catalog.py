"""The evaluation index loads, adds up, and an inconsistent copy is refused with every problem named."""
from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from shared.catalog import (
    AdditiveItems,
    AllOrNothing,
    ByIndustry,
    ByMiningMethod,
    CatalogError,
    ConditionalDeductions,
    DeductPerFinding,
    catalog_directory,
    list_catalogs,
    load_catalog,
)
from shared.contracts import DEPARTMENT_CODES

REPO_CATALOG_DIR = Path(__file__).resolve().parents[2] / "contracts" / "catalog"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("nm-2025")


def test_metadata(catalog):
    assert catalog.id == "nm-2025"
    assert catalog.version
    assert catalog.issued.isoformat() == "2025-06-11"
    assert "24号" in catalog.source
    assert catalog.total_points == Decimal(100)
    assert catalog.pass_total == Decimal(60)


def test_fifty_indicators_numbered_as_in_the_notice(catalog):
    assert [i.no for i in catalog.indicators] == list(range(1, 51))
    assert catalog.indicator(12).name == "选矿加工工艺"
    assert catalog.indicator(37).name == "噪声排放"


def test_six_categories_with_their_points(catalog):
    assert [(c.no, c.name, c.points) for c in catalog.categories] == [
        (1, "矿区环境", 12), (2, "资源开采", 20), (3, "资源综合利用", 18), (4, "绿色低碳", 20),
        (5, "生态修复与环境治理", 18), (6, "科技创新与规范管理", 12)]
    assert sum(len(c.subcategories) for c in catalog.categories) == 24


@pytest.mark.parametrize("group,count,binding", [(1, 46, 20), (2, 41, 17)])
def test_each_branch_is_100_points(catalog, group, count, binding):
    indicators = catalog.indicators_in_group(group)
    assert len(indicators) == count
    assert sum(i.points for i in indicators) == 100
    assert len([i for i in indicators if i.binding]) == binding
    category_three = [i for i in indicators if i.category_no == 3]
    assert sum(i.points for i in category_three) == 18


def test_branch_membership(catalog):
    assert {i.no for i in catalog.indicators if i.industry_group == 1} == set(range(12, 21))
    assert {i.no for i in catalog.indicators if i.industry_group == 2} == set(range(21, 25))


def test_twenty_binding_indicators(catalog):
    assert [i.no for i in catalog.binding_indicators()] == [
        8, 10, 12, 13, 15, 27, 29, 30, 31, 32, 33, 34, 35, 37, 38, 39, 40, 41, 49, 50]
    assert catalog.indicator(8).attribute == "约束性"
    assert catalog.indicator(9).attribute == "提升性"


def test_every_rule_kind_is_present(catalog):
    assert isinstance(catalog.indicator(1).rule, ConditionalDeductions)
    assert [c.amount for c in catalog.indicator(1).rule.conditions] == [Decimal("0.5"), Decimal("1.5")]
    assert catalog.indicator(3).rule == DeductPerFinding(amount=Decimal("0.2"), unit="处")
    assert catalog.indicator(46).rule.unit == "项"
    assert isinstance(catalog.indicator(10).rule, AllOrNothing)
    assert isinstance(catalog.indicator(45).rule, AdditiveItems)
    patents = catalog.indicator(45).rule.item("invention_patents")
    assert patents.per_unit and patents.points == Decimal("0.5") and patents.cap == 2
    assert isinstance(catalog.indicator(9).rule, ByMiningMethod)
    assert set(catalog.indicator(11).rule.variants) == {"open_pit", "underground", "oil_gas"}
    assert isinstance(catalog.indicator(21).rule, ByIndustry)
    assert set(catalog.indicator(22).rule.variants) == {"sand_gravel_stone", "cement_limestone"}


def test_scoring_rule_picks_the_variant(catalog):
    nine = catalog.indicator(9)
    assert isinstance(nine.scoring_rule("open_pit"), AdditiveItems)
    assert len(nine.scoring_rule("open_pit").items) == 4
    assert len(nine.scoring_rule("underground").items) == 3
    assert nine.scoring_rule("oil_gas") is None
    assert catalog.indicator(21).scoring_rule(industry_variant="cement_limestone").text.startswith("结合水泥")
    assert catalog.indicator(3).scoring_rule("oil_gas") is catalog.indicator(3).rule


def test_oil_gas_mines_are_not_assessed_on_8_and_9(catalog):
    assert {i.no for i in catalog.indicators_in_group(1)} - {i.no for i in catalog.indicators_for(1, "oil_gas")} \
        == {8, 9}
    assert len(catalog.indicators_for(1, "open_pit")) == 46
    assert len(catalog.indicators_for(2, "underground")) == 41


def test_prerequisites_and_departments(catalog):
    assert catalog.prerequisite_codes == ("P1", "P2", "P3", "P4", "P5")
    assert [d.code for d in catalog.departments_for_prerequisite("P5")] == ["natural_resources",
                                                                          "ecology_environment"]
    assert catalog.prerequisite("P2").inferred  # the notice names no department for P2
    assert set(catalog.department_codes) == set(DEPARTMENT_CODES)
    assert catalog.department("emergency_management").name == "应急管理部门(矿山安全监管部门)"
    assert catalog.department("finance").duty.startswith("做好绿色矿山监管")


def test_departments_for_indicator(catalog):
    assert [d.code for d in catalog.departments_for_indicator(49)] == ["taxation", "natural_resources"]
    assert [d.code for d in catalog.departments_for_indicator(26)] == ["development_reform", "industry_it",
                                                                       "energy"]
    assert catalog.indicator(44).department_scopes == {"energy": "煤矿", "industry_it": "非煤矿山"}
    assert 43 in [i.no for i in catalog.indicators_for_department("water_resources")]


def test_every_department_code_used_is_known(catalog):
    for indicator in catalog.indicators:
        assert set(indicator.departments) <= set(DEPARTMENT_CODES), indicator.no


def test_inferred_fields_are_kept_for_review(catalog):
    assert "points" in catalog.indicator(10).inferred
    assert "binding" in catalog.indicator(31).inferred
    assert "30%" in catalog.indicator(19).text


def test_unknown_indicator_and_catalog():
    with pytest.raises(KeyError):
        load_catalog().indicator(51)
    with pytest.raises(CatalogError, match="未找到"):
        load_catalog("nm-1999")


def test_list_catalogs_and_directory_resolution(tmp_path, monkeypatch):
    assert "nm-2025" in list_catalogs()
    assert catalog_directory() == REPO_CATALOG_DIR
    monkeypatch.setenv("GREENMINE_CONTRACTS_DIR", str(REPO_CATALOG_DIR.parent))
    assert catalog_directory() == REPO_CATALOG_DIR
    assert load_catalog("nm-2025").id == "nm-2025"


# ------------------------------------------------------------------------------------------------------------
# Broken copies are refused.


def _copy(tmp_path: Path, mutate, new_id: str = "nm-2025") -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    shutil.copy(REPO_CATALOG_DIR / "catalog.schema.json", folder)
    document = yaml.safe_load((REPO_CATALOG_DIR / "nm-2025.yaml").read_text(encoding="utf-8"))
    mutate(document)
    document["id"] = new_id
    (folder / f"{new_id}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                                           encoding="utf-8")
    return tmp_path


def _indicator(document, no):
    for category in document["categories"]:
        for sub in category["subcategories"]:
            for indicator in sub["indicators"]:
                if indicator["no"] == no:
                    return indicator
    raise KeyError(no)


def _refused(tmp_path, mutate) -> list[str]:
    directory = _copy(tmp_path, mutate)
    with pytest.raises(CatalogError) as caught:
        load_catalog("nm-2025", directory)
    return caught.value.problems


def test_a_faithful_copy_loads(tmp_path):
    directory = _copy(tmp_path, lambda d: None, new_id="nm-2026")
    assert load_catalog("nm-2026", directory).id == "nm-2026"
    assert list_catalogs(directory) == ["nm-2026"]


def test_indicator_points_not_matching_subcategory(tmp_path):
    problems = _refused(tmp_path, lambda d: _indicator(d, 10).update(points=5))
    text = "\n".join(problems)
    assert "开采活动" in text and "合计 18" in text
    assert not any("资源开采" in p for p in problems)            # its subcategories still add up to 20
    assert any("行业分支(1)" in p and "103" in p for p in problems)
    assert any("行业分支(2)" in p and "103" in p for p in problems)


def test_branch_two_not_adding_up(tmp_path):
    def mutate(d):
        _indicator(d, 24)["points"] = 3
        d["categories"][2]["subcategories"][-1]["points"] = 7
    problems = _refused(tmp_path, mutate)
    assert any("资源综合利用" in p and "行业分支(2)" in p and "17" in p for p in problems)
    assert not any("行业分支(1)" in p and "资源综合利用" in p for p in problems)


def test_wrong_binding_count(tmp_path):
    problems = _refused(tmp_path, lambda d: _indicator(d, 11).update(binding=True))
    assert problems == ["约束性指标应为 20 项,实为 21 项"]


def test_unknown_department_code(tmp_path):
    problems = _refused(tmp_path, lambda d: _indicator(d, 5)["departments"].append("police"))
    assert any("departments" in p and "police" in p for p in problems)


def test_numbering_gap_and_duplicate(tmp_path):
    problems = _refused(tmp_path, lambda d: _indicator(d, 7).update(no=6))
    assert any("1..50" in p and "重复 [6]" in p and "缺少 [7]" in p for p in problems)


def test_several_problems_are_all_listed(tmp_path):
    def mutate(d):
        _indicator(d, 11)["binding"] = True
        _indicator(d, 2)["points"] = 3
        _indicator(d, 3)["rule"]["amount"] = 5
    problems = _refused(tmp_path, mutate)
    assert len(problems) >= 4
    assert any("约束性" in p for p in problems)
    assert any("矿容矿貌" in p for p in problems)
    assert any("每处扣分" in p for p in problems)


def test_schema_violation(tmp_path):
    problems = _refused(tmp_path, lambda d: _indicator(d, 4)["rule"].update(kind="guess"))
    assert any(p.startswith("格式不符") for p in problems)


def test_additive_items_that_cannot_reach_full_marks(tmp_path):
    problems = _refused(tmp_path, lambda d: _indicator(d, 42)["rule"]["items"].pop())
    assert any("达不到标准分" in p for p in problems)


def test_error_message_lists_every_problem(tmp_path):
    directory = _copy(tmp_path, lambda d: _indicator(d, 11).update(binding=True))
    with pytest.raises(CatalogError) as caught:
        load_catalog("nm-2025", directory)
    assert "约束性指标应为 20 项" in str(caught.value)


def test_schema_file_is_valid_draft_2020_12():
    from jsonschema import Draft202012Validator
    Draft202012Validator.check_schema(json.loads((REPO_CATALOG_DIR / "catalog.schema.json").read_text()))


def test_undefined_industry_branch(tmp_path):
    problems = _refused(tmp_path, lambda d: _indicator(d, 21).update(industry_group=3))
    assert any("未定义的行业分支 3" in p for p in problems)
    assert any("与所属二级指标" in p for p in problems)
