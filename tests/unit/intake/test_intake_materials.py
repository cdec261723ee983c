from __future__ import annotations

import pytest
from intake_builders import attachment, required_attachments

from intake.domain import materials as mat
from intake.domain.materials import (
    CONDITIONAL,
    ITEMS,
    KINDS,
    MB,
    MISSING,
    NOT_REQUIRED,
    OPTIONAL,
    PRESENT,
    REQUIRED,
    MaterialsChecklist,
    check_upload,
    kind_by_code,
)


def test_every_numbered_item_has_kinds():
    assert set(ITEMS) == {1, 2, 3, 4, 5, 6, 7}
    by_item = {}
    for k in KINDS:
        by_item.setdefault(k.item, []).append(k.code)
    assert by_item[1] == ["business_licence", "mining_licence", "safety_licence"]
    assert set(by_item[2]) == {"mining_right_payment", "annual_sales_report", "eia_approval",
                               "environmental_acceptance"}
    assert by_item[3] == ["penalty_rectification"]
    assert by_item[4] == ["reserve_annual_report"]
    assert by_item[5] == ["self_assessment_report", "application_form"]
    assert by_item[6] == ["truthfulness_pledge"]
    assert set(by_item[7]) == {"site_photos", "remote_sensing_image", "promo_video"}
    assert set(by_item[None]) == {"evidence", "other"}
    assert len({k.code for k in KINDS}) == len(KINDS)


def test_requirements():
    assert kind_by_code("penalty_rectification").requirement == CONDITIONAL
    assert kind_by_code("truthfulness_pledge").requirement == REQUIRED
    # 附件2 一 (七) lists 宣传片、遥感影像、现场照片: each is required.
    for code in ("promo_video", "remote_sensing_image", "site_photos"):
        assert kind_by_code(code).requirement == REQUIRED
    assert [k.code for k in KINDS if k.requirement == OPTIONAL] == ["evidence", "other"]
    assert [k.code for k in KINDS if k.requirement == CONDITIONAL] == ["penalty_rectification"]
    assert kind_by_code("nope") is None


def test_video_only_where_it_belongs_and_larger():
    video_kinds = {k.code for k in KINDS if any(t.startswith("video/") for t in k.content_types)}
    assert video_kinds == {"promo_video", "evidence"}
    assert kind_by_code("promo_video").max_bytes > max(
        k.max_bytes for k in KINDS if k.code not in ("promo_video",))
    # nothing that a browser would render as active content
    for k in KINDS:
        assert not any("html" in t or "svg" in t or "javascript" in t for t in k.content_types)


def test_item_labels_and_dicts():
    k = kind_by_code("reserve_annual_report")
    assert k.item_label == ITEMS[4]
    assert k.to_dict()["content_types"][0] == "application/pdf"
    assert kind_by_code("evidence").item_label is None


def test_empty_application_misses_every_required_kind_but_not_the_conditional_one():
    result = MaterialsChecklist().evaluate(False, [])
    assert [e.kind for e in result.missing()] == [k.code for k in KINDS if k.requirement == REQUIRED]
    assert result.entry("penalty_rectification").status == NOT_REQUIRED
    assert result.entry("promo_video").status == MISSING
    assert result.entry("remote_sensing_image").status == MISSING
    assert not result.complete
    # evidence/other are outside the checklist
    assert "evidence" not in [e.kind for e in result]


def test_penalty_rectification_required_only_when_penalties_declared():
    atts = required_attachments()
    checklist = MaterialsChecklist()
    assert checklist.evaluate(False, atts).complete
    with_penalties = checklist.evaluate(True, atts)
    assert [e.kind for e in with_penalties.missing()] == ["penalty_rectification"]
    assert with_penalties.entry("penalty_rectification").status == MISSING
    done = checklist.evaluate(True, atts + [attachment("penalty_rectification")])
    assert done.complete and done.entry("penalty_rectification").status == PRESENT
    # proof handed in although no penalty is declared: shown as present, never demanded
    assert checklist.evaluate(False, atts + [attachment("penalty_rectification")]).entry(
        "penalty_rectification").status == PRESENT


def test_counts_and_dict_attachments():
    atts = [{"kind": "site_photos"}, {"kind": "site_photos"}, {"kind": "promo_video"}, {"kind": None}, {}]
    result = MaterialsChecklist().evaluate(False, atts)
    assert result.entry("site_photos").count == 2 and result.entry("site_photos").status == PRESENT
    assert result.entry("promo_video").status == PRESENT
    assert result.entry("truthfulness_pledge").to_dict() == {
        "kind": "truthfulness_pledge", "label": "申报材料真实性承诺书", "item": 6, "requirement": REQUIRED,
        "status": MISSING, "count": 0,
    }
    assert len(result.to_list()) == len(result) == len([k for k in KINDS if k.item])
    assert result[0].kind == "business_licence"
    with pytest.raises(KeyError):
        result.entry("nope")
    assert MaterialsChecklist().missing(False, atts) == result.missing()


def test_status_vocabulary():
    statuses = {e.status for e in MaterialsChecklist().evaluate(False, [attachment("site_photos")])}
    assert statuses == {PRESENT, MISSING, NOT_REQUIRED}


@pytest.mark.parametrize(
    "kind,ctype,size,filename,fragment",
    [
        ("mining_licence", "text/html", 100, None, "不接受该文件类型"),
        ("mining_licence", "image/svg+xml", 100, None, "不接受该文件类型"),
        ("mining_licence", "video/mp4", 100, None, "不接受该文件类型"),
        ("mining_licence", "application/pdf", 10 * MB + 1, None, "不能超过 10 MB"),
        ("mining_licence", "application/pdf", 0, None, "文件为空"),
        ("mining_licence", "application/pdf", 100, "licence.exe", "扩展名与文件类型不符"),
        ("promo_video", "video/mp4", 500 * MB + 1, "a.mp4", "不能超过 500 MB"),
        ("nope", "application/pdf", 100, None, "未知的材料类型"),
    ],
)
def test_upload_refusals(kind, ctype, size, filename, fragment):
    problems = check_upload(kind, ctype, size, filename)
    assert problems and fragment in problems[0], problems


@pytest.mark.parametrize(
    "kind,ctype,size,filename",
    [
        ("mining_licence", "application/pdf", 10 * MB, "采矿许可证.PDF"),
        ("mining_licence", "Application/PDF; charset=binary", 100, None),
        ("site_photos", "image/jpeg", 5 * MB, "DSC0001.jpeg"),
        ("annual_sales_report", mat.OFFICE[3], 100, "销售报表.xlsx"),
        ("remote_sensing_image", "image/tiff", 150 * MB, "ortho.tif"),
        ("promo_video", "video/mp4", 500 * MB, "宣传片.mp4"),
        ("evidence", "video/quicktime", 50 * MB, "降尘.mov"),
    ],
)
def test_uploads_accepted(kind, ctype, size, filename):
    assert check_upload(kind, ctype, size, filename) == []


def test_the_kinds_are_read_from_the_shared_vocabulary():
    """contracts/vocabularies/materials.yaml is the one owner of the kinds (review_routing reads it too): the
    loaded kinds are its rows, with the limits intake had when they were a hand list."""
    import yaml

    data = yaml.safe_load(mat.DATA_FILE.read_text(encoding="utf-8"))
    assert [k.code for k in KINDS] == [row["code"] for row in data["kinds"]]
    assert {k.code: (k.max_bytes // MB, k.requirement) for k in KINDS} == {
        "business_licence": (10, REQUIRED), "mining_licence": (10, REQUIRED), "safety_licence": (10, REQUIRED),
        "mining_right_payment": (30, REQUIRED), "annual_sales_report": (20, REQUIRED),
        "eia_approval": (50, REQUIRED), "environmental_acceptance": (50, REQUIRED),
        "penalty_rectification": (30, CONDITIONAL), "reserve_annual_report": (50, REQUIRED),
        "self_assessment_report": (50, REQUIRED), "application_form": (20, REQUIRED),
        "truthfulness_pledge": (10, REQUIRED), "site_photos": (20, REQUIRED),
        "remote_sensing_image": (200, REQUIRED), "promo_video": (500, REQUIRED), "evidence": (100, OPTIONAL),
        "other": (50, OPTIONAL)}
    assert kind_by_code("mining_licence").content_types == mat.PDF + mat.IMAGES
    assert kind_by_code("evidence").content_types == mat.PDF + mat.OFFICE + mat.IMAGES + mat.VIDEO
    assert kind_by_code("remote_sensing_image").content_types == mat.IMAGES + mat.TIFF + mat.PDF
    with pytest.raises(ValueError, match="malformed"):
        mat.load_kinds({**data, "kinds": [{**data["kinds"][0], "content_types": ["spreadsheets"]}]})
    with pytest.raises(ValueError, match="duplicate"):
        mat.load_kinds({**data, "kinds": data["kinds"][:1] * 2})
