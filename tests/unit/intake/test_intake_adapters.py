"""Pure parts of the intake adapters and use cases: sniffing uploads, the submitted event against its contract,
the form generated from the index, draft shape checks, access rules, review reasons."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from intake_builders import ASSESSMENT, CREDIT_CODE, TODAY, at, attachment, mine_data, ready_application

from intake.adapters.files import UploadRefused, check_file, dangerous_reason, sniff
from intake.adapters.translators import submitted_event
from intake.domain.application import Application
from intake.domain.mine import Mine
from intake.service_layer import access, drafts
from intake.service_layer.form import form_model
from intake.service_layer.submission import reasons_from_decision, valid_reasons, verdict_problems
from intake.service_layer.unit_of_work import Scope
from shared import identity
from shared.catalog import load_catalog
from shared.config import REPO_ROOT
from shared.contracts import ContractRegistry

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
MB = 1024 * 1024


def docx(part: str = "word/document.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(part, "<w:document/>")
    return buffer.getvalue()


# -- sniffing --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("head,name,expected", [
    (PDF, "a.pdf", "application/pdf"),
    (b"\xff\xd8\xff\xe1", "a.jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\nxxxx", "a.png", "image/png"),
    (b"II*\x00abcd", "a.tif", "image/tiff"),
    (b"\x00\x00\x00\x18ftypmp42", "a.mp4", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  ", "a.mov", "video/quicktime"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a.doc", "application/msword"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a.xls", "application/vnd.ms-excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a.pdf", None),
    (b"plain text", "a.pdf", None),
])
def test_sniff(head, name, expected):
    assert sniff(head, name) == expected


def test_sniff_ooxml_needs_its_parts():
    word = docx()
    assert sniff(word[:4096], "报告.docx", io.BytesIO(word)) == \
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert sniff(word[:4096], "报表.xlsx", io.BytesIO(word)) is None  # a Word file named .xlsx
    sheet = docx("xl/workbook.xml")
    assert sniff(sheet[:4096], "报表.xlsx", io.BytesIO(sheet)) == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert sniff(b"PK\x03\x04broken", "a.docx", io.BytesIO(b"PK\x03\x04broken")) is None


@pytest.mark.parametrize("head", [
    b"<!DOCTYPE html><html>", b"  <html><body>", b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'>",
    b"<?xml version='1.0'?><svg/>", b"MZ\x90\x00", b"\x7fELF\x02", b"#!/usr/bin/env python",
    b"%PDF-1.4 <script>app.alert(1)</script>", b"\xff\xd8\xff\xe0 <iframe src=x>", b"<?php echo 1; ?>",
])
def test_dangerous_heads_are_named(head):
    assert dangerous_reason(head)


@given(st.binary(min_size=1, max_size=64).filter(lambda b: not b.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(
    (b"<", b"MZ", b"\x7fELF", b"#!", b"\xca\xfe", b"\xfe\xed", b"\xcf\xfa"))))
def test_random_bytes_after_a_pdf_header_are_not_flagged_unless_markup(tail):
    head = PDF + tail
    if not any(m in head.lower() for m in (b"<html", b"<script", b"<svg", b"<iframe", b"<body", b"<head",
                                            b"<object", b"<embed", b"javascript:", b"<?php", b"<%@",
                                            b"<!doctype html")):
        assert dangerous_reason(head) is None


def test_check_file_uses_the_sniffed_type_and_the_smaller_limit():
    assert check_file("business_licence", "执照.pdf", "application/octet-stream", PDF, 100, None, 50 * MB) == \
        "application/pdf"
    with pytest.raises(UploadRefused) as refused:
        check_file("business_licence", "执照.pdf", "image/png", PDF, 100, None, 50 * MB)
    assert "不符" in refused.value.errors["file"][0]
    with pytest.raises(UploadRefused) as refused:
        check_file("promo_video", "宣传片.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42", 60 * MB, None, 50 * MB)
    assert refused.value.errors["file"] == ["文件：“宣传片”文件不能超过 50 MB"]
    with pytest.raises(UploadRefused) as refused:
        check_file("nope", "a.pdf", None, PDF, 1, None, MB)
    assert "kind" in refused.value.errors


# -- the submitted event ----------------------------------------------------------------------------------------------

def submitted(app: Application):
    mine = Mine.create(mine_data(), TODAY, id="mine-1")
    app.submit(at(10), "ent-user", mine_snapshot=mine.to_dict())
    return app, app.latest_version


def test_the_submitted_event_matches_its_contract():
    registry = ContractRegistry([REPO_ROOT / "contracts"])
    app, version = submitted(ready_application())
    full = load_catalog("nm-2025")
    app_assessment = {**ASSESSMENT, "indicators": {str(i.no): {"score": str(i.points)}
                                                   for i in full.indicators_for(1, "open_pit")}}
    app.mark_routed(at(11), "review_routing")
    app.return_for_correction(at(12), "bureau", {"3": "请补充检查记录"})
    app.update_draft(at(20), "ent-user", assessment=app_assessment, records={"3": "王工查看"})
    app.add_attachment(attachment("evidence", "P4"), at(21), "ent-user")
    second = app.submit(at(22), "ent-user", mine_snapshot=version.mine)
    for v in (version, second):
        envelope = submitted_event(app, v)
        registry.validate(envelope)
    payload = submitted_event(app, second)["payload"]
    assert payload["resubmission"] is True and payload["version_no"] == 2
    assert payload["mine"]["league"] == "鄂尔多斯市" and payload["mine"]["county"] == "伊金霍洛旗"
    assert payload["assessment"]["indicators"]["3"]["record"] == "王工查看"
    assert payload["attachments"][-1]["prerequisite"] == "P4" and payload["attachments"][-1]["indicator"] is None
    assert payload["submitted_at"].endswith("+08:00") or payload["submitted_at"].endswith("Z")


def test_decision_reasons_become_domain_reasons():
    reasons, comment = reasons_from_decision([
        {"indicator": 9, "text": "开采技术资料不全"}, {"indicator": 9, "text": "缺少照片"},
        {"prerequisite": "P2", "text": "处罚未执行到位"}, {"check": "site_photos", "text": "照片模糊"},
        {"check": "现场核查", "text": "排土场未见分层"}, {"text": "  "}, {"text": "请尽快补正"},
        {"check": "C3", "text": "生态修复费用未按规定提取"}, {"check": "x_internal", "text": "另有问题"},
    ])
    assert reasons == {"9": "开采技术资料不全；缺少照片", "P2": "处罚未执行到位", "materials.site_photos": "照片模糊",
                       "general": "现场核查：排土场未见分层；请尽快补正；"
                                  "初审内容（三）：生态修复费用未按规定提取；另有问题"}
    assert valid_reasons({"99x": "无效键", "3": "有效"}) == {"general": "无效键", "3": "有效"}


def test_verdict_problems_name_each_item():
    catalog = load_catalog("nm-2025")
    report = {"verdict": "not_qualified", "total": "55.00", "pass_total": "60", "failed_prerequisites": [],
              "failed_binding": [8], "indicator_scores": {"8": {"name": "开采方式", "points": "5", "score": "0"}}}
    problems = verdict_problems(report, catalog)
    assert [p["field"] for p in problems] == ["indicators.8", "total"]
    assert verdict_problems({"verdict": "qualified"}, catalog) == []
    ineligible = verdict_problems({"verdict": "ineligible", "failed_prerequisites": ["P3"], "total": "90",
                                   "pass_total": "60"}, catalog)
    assert ineligible[0]["field"] == "prerequisites.P3" and "矿业权人异常名录" in ineligible[0]["message"]


# -- the form from the index ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("group,method,count,absent", [
    (1, "open_pit", 46, 21), (1, "underground", 46, 24), (1, "oil_gas", 46, 22), (2, "open_pit", 41, 12),
])
def test_the_form_covers_the_branch_and_method(group, method, count, absent):
    catalog = load_catalog("nm-2025")
    model = form_model(catalog, group, method)
    items = [i for c in model["categories"] for s in c["subcategories"] for i in s["indicators"]]
    assert len(items) == model["indicator_count"] == count
    assert absent not in [i["no"] for i in items]
    assert [p["code"] for p in model["prerequisites"]] == ["P1", "P2", "P3", "P4", "P5"]
    assert sum(1 for i in items if i["binding"]) == len(catalog.binding_indicators(group))
    no_rule = [i["no"] for i in items if i["no_rule"]]
    assert no_rule == ([8, 9] if method == "oil_gas" else [])
    kinds = {i["no"]: i["input"]["kind"] for i in items if i["input"]}
    assert kinds[1] == "conditional_deductions" and kinds[2] == "deduct_per_finding"
    if method != "oil_gas":
        assert kinds[9] == "additive_items"
    if group == 2:
        twenty_one = next(i for i in items if i["no"] == 21)
        assert set(twenty_one["variants"]) == {"sand_gravel_stone", "cement_limestone"}
        assert model["industry_variants"]
    for item in items:
        if item["input"]:
            assert item["input"]["provisional"]  # the lowest input, for the running total


# -- drafts and access ------------------------------------------------------------------------------------------------

def test_draft_shape_fills_the_mine_and_moves_records():
    catalog = load_catalog("nm-2025")
    mine = Mine.create(mine_data(), TODAY, id="m1")
    clean, records, errors = drafts.normalise(
        {"indicators": {"3": {"findings": 1, "record": "查看"}, "4": {}}, "prerequisites": {"P1": None, "P2": True}},
        catalog, mine)
    assert errors == []
    assert clean == {"catalog": "nm-2025", "mine": {"industry_group": 1, "mining_method": "open_pit"},
                     "prerequisites": {"P2": True}, "indicators": {"3": {"findings": 1}}}
    assert records == {"3": "查看"}
    sand = Mine.create(mine_data(minerals=["cement_limestone"], industry_group=2), TODAY, id="m2")
    assert drafts.suggested_industry_variant(sand) == "cement_limestone"
    assert drafts.suggested_industry_variant(mine) is None


def test_access_rules():
    ent = identity.Principal("e", "enterprise", enterprise=CREDIT_CODE)
    other = identity.Principal("o", "enterprise", enterprise="91150200MA0N00002B")
    ordos = identity.Principal("b", "bureau", area="鄂尔多斯市")
    regional_reviewer = identity.Principal("r", "department_reviewer", department="energy", area="自治区")
    assert access.can_read(ent, CREDIT_CODE, "baotou") and not access.can_read(other, CREDIT_CODE, "ordos")
    assert access.can_read(ordos, CREDIT_CODE, "ordos") and not access.can_read(ordos, CREDIT_CODE, "baotou")
    assert access.can_read(regional_reviewer, CREDIT_CODE, "alxa")
    assert access.scope(ordos) == Scope(league="ordos") and access.scope(regional_reviewer) == Scope()
    assert access.scope(ent) == Scope(credit_code=CREDIT_CODE)
    assert access.scope(identity.Principal("v", "evaluator", area="自治区")) == Scope()


def test_history_of_a_submission_is_dated_in_order():
    app, version = submitted(ready_application())
    assert version.submitted_at == at(10) and app.status == "submitted"
    assert date.fromisoformat(version.mine["production_start_date"]) < TODAY
