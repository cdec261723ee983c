"""The material kinds as review_routing reads them (contracts/vocabularies/materials.yaml): which departments
review each kind, what it supports, and that every reading of ours says why."""
from __future__ import annotations

from review_routing.domain import materials
from review_routing.domain.checks import CHECK_CODES, INITIAL_REVIEW_CHECKS


def test_every_kind_names_real_departments_prerequisites_and_checks(catalog):
    for kind in materials.KINDS:
        assert set(kind.departments) <= set(catalog.department_codes) | {materials.ALL_DEPARTMENTS}, kind.code
        assert set(kind.prerequisites) <= set(catalog.prerequisite_codes), kind.code
        assert set(kind.checks) <= set(CHECK_CODES), kind.code
        if kind.code != materials.EVIDENCE:           # evidence follows its indicator; every other reading says why
            assert kind.departments or kind.prerequisites, kind.code
            assert kind.inferred, kind.code


def test_the_readings_of_the_brief():
    k = materials.kind
    assert k("business_licence").departments == ("market_regulation",)
    assert k("mining_licence").departments == ("natural_resources",)
    assert k("safety_licence").departments == ("emergency_management",)
    assert k("eia_approval").departments == k("environmental_acceptance").departments == ("ecology_environment",)
    assert k("eia_approval").prerequisites == ("P1", "P5")
    assert k("mining_right_payment").departments == ("natural_resources",)
    assert k("annual_sales_report").prerequisites == k("reserve_annual_report").prerequisites == ("P4",)
    assert k("penalty_rectification").prerequisites == ("P2",)
    for whole in ("self_assessment_report", "application_form", "truthfulness_pledge", "site_photos",
                  "remote_sensing_image"):
        assert k(whole).for_every_department and k(whole).reviewed_by("taxation")
    assert k("eia_approval").reviewed_by("market_regulation", ("P1",))       # supports a prerequisite it reviews
    assert not k("mining_right_payment").reviewed_by("ecology_environment", ("P1", "P5"))


def test_labels_never_codes_and_the_checks_read_their_materials_from_the_vocabulary():
    assert materials.kind_label("eia_approval") == "环境影响评价报告及批复"
    assert materials.kind_label("unknown_kind") == "其他材料"
    assert materials.item_label("safety_licence").startswith("（一）")
    assert materials.item_label("evidence") == ""
    assert materials.kinds_supporting("P2") == ("penalty_rectification",)
    by_code = {c.code: c for c in INITIAL_REVIEW_CHECKS}
    assert by_code["C1"].materials == ("business_licence", "mining_licence", "safety_licence")
    assert set(by_code["C6"].materials) == {"annual_sales_report", "reserve_annual_report"}
    assert by_code["C4"].materials == ("penalty_rectification",)
