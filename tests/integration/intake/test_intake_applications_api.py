"""Applications over HTTP on real servers (MongoDB + GridFS, the scoring service over HTTP): draft validation,
uploads and their limits, submission with the submitted event in the outbox, access rules, audit log."""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from intake_api_support import (
    COAL_MINE,
    ENT1,
    JPEG,
    PDF,
    PNG,
    SAND_MINE,
    Api,
    full_assessment,
    upload_required,
)

from shared.contracts import ContractRegistry
from shared.storage import outbox_messages

pytestmark = pytest.mark.integration
# The outbox also holds intake.mine_recorded (the mine register, for supervision): these tests read the submission.
SUBMITTED = "intake.application_submitted"
CJK = re.compile(r"[\u4e00-\u9fff]")




def ready(ent1, app_id, assessment=None, declared_penalties=False):
    response = ent1.put(f"/api/v1/applications/{app_id}", {"assessment": assessment or full_assessment(),
                                                            "declared_penalties": declared_penalties})
    assert response.status_code == 200, response.get_data(as_text=True)
    upload_required(ent1, app_id, declared_penalties)


def snapshot(service, app_id):
    doc = service.db["applications"].find_one({"_id": app_id})
    return {"revision": doc["revision"], "version": doc["version"], "status": doc["status"],
            "draft": doc["draft"], "audit": service.db["audit_log"].count_documents({}),
            "files": service.db["attachments.files"].count_documents({}),
            "versions": service.db["application_versions"].count_documents({}),
            "outbox": service.db["outbox"].count_documents({})}


# -- starting and editing ----------------------------------------------------------------------------------------

def test_start_an_application_with_a_first_draft(ent1, coal, service):
    response = ent1.post("/api/v1/applications", {"mine_id": coal, "assessment": full_assessment(),
                                                  "records": {"3": "7月2日王工查看破碎车间警示牌，齐全"}})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert body["status"] == "draft" and body["status_label"] == "草稿" and body["editable"]
    assert body["draft"]["assessment"]["mine"] == {"industry_group": 1, "mining_method": "open_pit"}
    assert body["draft"]["records"] == {"3": "7月2日王工查看破碎车间警示牌，齐全"}
    assert body["mine"]["name"] == COAL_MINE["name"] and body["league_name"] == "鄂尔多斯市"
    missing = {p["field"] for p in body["missing"]}
    assert "declared_penalties" in missing and "materials.truthfulness_pledge" in missing
    assert ent1.get("/api/v1/applications").json[0]["id"] == body["id"]


def test_one_open_application_per_mine(ent1, coal, draft):
    again = ent1.post("/api/v1/applications", {"mine_id": coal})
    assert again.status_code == 409 and draft in again.json["message"]


def test_another_enterprises_mine_and_application_are_403(ent1, ent2, coal, draft, service):
    assert ent2.post("/api/v1/applications", {"mine_id": coal}).status_code == 403
    assert ent2.get(f"/api/v1/applications/{draft}").status_code == 403
    assert ent2.put(f"/api/v1/applications/{draft}", {"declared_penalties": False}).status_code == 403
    assert ent2.upload(draft, "business_licence").status_code == 403
    assert ent2.post(f"/api/v1/applications/{draft}/submit").status_code == 403
    assert ent2.get(f"/api/v1/applications/{draft}/versions/1").status_code == 403
    assert ent2.get(f"/api/v1/applications/{draft}/audit").status_code == 403
    assert ent2.get("/api/v1/applications").json == []
    assert ent1.get("/api/v1/applications/app-nope").status_code == 404
    assert service.db["applications"].count_documents({}) == 1


@pytest.mark.parametrize("body,field", [
    ({}, "mine_id"),
    ({"mine_id": ""}, "mine_id"),
    ({"mine_id": "mine-nope"}, "mine_id"),
    ({"mine_id": "{coal}", "catalog": "nm-1999"}, "catalog"),
    ({"mine_id": "{coal}", "assessment": {"indicators": {"99": {"score": 1}}}}, "assessment.indicators.99"),
    ({"mine_id": "{coal}", "colour": "green"}, "colour"),
])
def test_start_errors_name_the_field(ent1, coal, service, body, field):
    body = {k: (v.format(coal=coal) if isinstance(v, str) else v) for k, v in body.items()}
    response = ent1.post("/api/v1/applications", body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"], response.json
    assert service.db["applications"].count_documents({}) == 0


DRAFT_ERRORS = [
    ({"assessment": {"indicators": {"99": {"score": 1}}}}, "assessment.indicators.99"),
    ({"assessment": {"indicators": {"21": {"score": 5}}}}, "assessment.indicators.21"),
    ({"assessment": {"indicators": {"03": {"score": 1}}}}, "assessment.indicators.03"),
    ({"assessment": {"indicators": {"1": {"score": "abc"}}}}, "assessment.indicators.1.score"),
    ({"assessment": {"indicators": {"1": {"score": 3}}}}, "assessment.indicators.1.score"),
    ({"assessment": {"indicators": {"2": {"findings": -1}}}}, "assessment.indicators.2.findings"),
    ({"assessment": {"indicators": {"2": {"grade": "A"}}}}, "assessment.indicators.2.grade"),
    ({"assessment": {"indicators": {"1": {"deductions": "all"}}}}, "assessment.indicators.1.deductions"),
    ({"assessment": {"indicators": {"9": {"items": ["drilling"]}}}}, "assessment.indicators.9.items"),
    ({"assessment": {"indicators": {"16": {"not_applicable": "yes"}}}}, "assessment.indicators.16.not_applicable"),
    ({"assessment": {"prerequisites": {"P9": True}}}, "assessment.prerequisites.P9"),
    ({"assessment": {"prerequisites": {"P1": "yes"}}}, "assessment.prerequisites.P1"),
    ({"assessment": {"mine": {"industry_group": 2}}}, "assessment.mine.industry_group"),
    ({"assessment": {"mine": {"mining_method": "underground"}}}, "assessment.mine.mining_method"),
    ({"assessment": {"mine": {"industry_variant": "cement_limestone"}}}, "assessment.mine.industry_variant"),
    ({"assessment": {"catalog": "nm-1999"}}, "assessment.catalog"),
    ({"assessment": {"score": 100}}, "assessment.score"),
    ({"assessment": "全部满分"}, "assessment"),
    ({"records": {"abc": "文字"}}, "records.abc"),
    ({"records": {"3": "字" * 5001}}, "records.3"),
    ({"record": {"indicator": "X1", "text": "文字"}}, "records.X1"),
    ({"declared_penalties": "maybe"}, "declared_penalties"),
    ({"status": "listed"}, "status"),
]


@pytest.mark.parametrize("body,field", DRAFT_ERRORS, ids=[f for _b, f in DRAFT_ERRORS])
def test_every_draft_error_names_its_field_and_stores_nothing(ent1, draft, service, body, field):
    before = snapshot(service, draft)
    response = ent1.put(f"/api/v1/applications/{draft}", body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"], response.json["errors"]
    assert all(CJK.search(m) for ms in response.json["errors"].values() for m in ms), response.json["errors"]
    assert snapshot(service, draft) == before


def test_draft_edits_records_and_concurrency(ent1, draft, service):
    first = ent1.put(f"/api/v1/applications/{draft}", {"assessment": {"indicators": {"1": {"deductions": []}}},
                                                        "declared_penalties": True})
    assert first.status_code == 200 and first.json["draft"]["declared_penalties"] is True
    revision = first.json["revision"]
    one = ent1.put(f"/api/v1/applications/{draft}", {"record": {"indicator": "1", "text": "查阅矿区总平面布置图"}})
    assert one.json["draft"]["records"] == {"1": "查阅矿区总平面布置图"}
    inner = ent1.put(f"/api/v1/applications/{draft}", {"assessment": {"indicators": {
        "1": {"deductions": [], "record": "现场查看三区分区"}}}})
    assert inner.json["draft"]["records"] == {"1": "现场查看三区分区"}
    assert "record" not in inner.json["draft"]["assessment"]["indicators"]["1"]
    cleared = ent1.put(f"/api/v1/applications/{draft}", {"record": {"indicator": "1", "text": ""}})
    assert cleared.json["draft"]["records"] == {}
    unchanged = ent1.put(f"/api/v1/applications/{draft}", {"declared_penalties": True})
    assert unchanged.json["revision"] == cleared.json["revision"]  # nothing changed: nothing written
    stale = ent1.put(f"/api/v1/applications/{draft}", {"declared_penalties": False, "expected_revision": revision})
    assert stale.status_code == 409 and CJK.search(stale.json["message"])
    fresh = ent1.put(f"/api/v1/applications/{draft}", {"declared_penalties": False,
                                                        "expected_revision": cleared.json["revision"]})
    assert fresh.status_code == 200 and fresh.json["draft"]["declared_penalties"] is False
    assert (fresh.json["missing"] and all(p["field"] != "materials.penalty_rectification"
                                          for p in fresh.json["missing"]))


# -- attachments ------------------------------------------------------------------------------------------------

def test_upload_download_and_remove_an_attachment(ent1, draft, service):
    response = ent1.upload(draft, "business_licence", PDF, "营业执照.pdf", "application/pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    att = response.json
    assert att["sha256"] == hashlib.sha256(PDF).hexdigest() and att["size"] == len(PDF)
    assert att["content_type"] == "application/pdf" and att["kind_label"] == "营业执照"
    download = ent1.get(att["download_url"])
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["X-Checksum-SHA256"] == att["sha256"]
    actions = [e["action"] for e in ent1.get(f"/api/v1/applications/{draft}/audit").json]
    assert actions[-2:] == ["attachment_added", "attachment_downloaded"]

    evidence = ent1.upload(draft, "evidence", JPEG, "标牌.jpg", "image/jpeg", indicator="3")
    assert evidence.status_code == 201 and evidence.json["indicator"] == "3"
    photo = ent1.upload(draft, "site_photos", PNG, "现场.png", "application/octet-stream")
    assert photo.status_code == 201 and photo.json["content_type"] == "image/png"  # sniffed, not declared

    removed = ent1.delete(f"/api/v1/applications/{draft}/attachments/{att['id']}")
    assert removed.status_code == 200
    assert [a["id"] for a in removed.json["draft"]["attachments"]] == [evidence.json["id"], photo.json["id"]]
    assert service.files.open(att["id"]) is None  # no version refers to it: the bytes are gone too
    assert ent1.get(att["download_url"]).status_code == 404


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
UPLOAD_ERRORS = [
    ("html-named-pdf", dict(kind="business_licence", content=HTML, filename="x.pdf", content_type="application/pdf"),
     "file", "网页"),
    ("html", dict(kind="other", content=HTML, filename="x.html", content_type="text/html"), "file", "网页"),
    ("svg", dict(kind="site_photos", content=b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
                 filename="x.svg", content_type="image/svg+xml"), "file", "SVG"),
    ("script-in-pdf-head", dict(kind="business_licence", content=b"%PDF-1.4 <script>alert(1)</script>",
                                filename="x.pdf", content_type="application/pdf"), "file", "脚本"),
    ("exe", dict(kind="other", content=b"MZ\x90\x00" + b"\x00" * 100, filename="setup.pdf",
                 content_type="application/pdf"), "file", "可执行"),
    ("elf", dict(kind="other", content=b"\x7fELF" + b"\x00" * 100, filename="run.pdf",
                 content_type="application/octet-stream"), "file", "可执行"),
    ("shell", dict(kind="other", content=b"#!/bin/sh\nrm -rf /\n", filename="a.pdf",
                   content_type="application/pdf"), "file", "脚本"),
    ("declared-mismatch", dict(kind="site_photos", content=PNG, filename="x.jpg", content_type="image/jpeg"),
     "file", "不符"),
    ("type-not-allowed", dict(kind="business_licence", content=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64,
                              filename="x.mp4", content_type="video/mp4"), "file", "不接受该文件类型"),
    ("extension-mismatch", dict(kind="business_licence", content=PDF, filename="x.jpg",
                                content_type="application/octet-stream"), "file", "扩展名"),
    ("unknown-bytes", dict(kind="other", content=b"just some text", filename="x.pdf",
                           content_type="application/pdf"), "file", "无法识别"),
    ("empty", dict(kind="other", content=b"", filename="x.pdf", content_type="application/pdf"), "file", "为空"),
    ("unknown-kind", dict(kind="selfie", content=PDF, filename="x.pdf", content_type="application/pdf"),
     "kind", "未知"),
    ("evidence-without-indicator", dict(kind="evidence", content=PDF, filename="x.pdf",
                                        content_type="application/pdf"), "indicator", "所属指标"),
    ("evidence-other-branch", dict(kind="evidence", content=PDF, filename="x.pdf",
                                   content_type="application/pdf", indicator="21"), "indicator", "不适用"),
    ("evidence-bad-indicator", dict(kind="evidence", content=PDF, filename="x.pdf",
                                    content_type="application/pdf", indicator="P9"), "indicator", "P9"),
    ("fake-docx", dict(kind="other", content=b"PK\x03\x04" + b"\x00" * 100, filename="x.docx",
                       content_type="application/octet-stream"), "file", "无法识别"),
]


@pytest.mark.parametrize("case,upload,field,words", UPLOAD_ERRORS, ids=[c[0] for c in UPLOAD_ERRORS])
def test_refused_uploads_name_the_field_and_store_nothing(ent1, draft, service, case, upload, field, words):
    before = snapshot(service, draft)
    response = ent1.upload(draft, **upload)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"], response.json
    assert words in "".join(response.json["errors"][field]), response.json["errors"]
    assert snapshot(service, draft) == before
    assert service.db["attachments.chunks"].count_documents({}) == 0


def test_a_missing_file_or_kind_is_a_field_error(ent1, draft, client, intake_settings):
    from intake_api_support import headers

    no_file = client.post(f"/api/v1/applications/{draft}/attachments", data={"kind": "other"},
                          headers=headers(intake_settings, ENT1), content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.json["errors"]
    no_kind = client.post(f"/api/v1/applications/{draft}/attachments",
                          data={"file": (io.BytesIO(PDF), "x.pdf", "application/pdf")},
                          headers=headers(intake_settings, ENT1), content_type="multipart/form-data")
    assert no_kind.status_code == 422 and "kind" in no_kind.json["errors"]


def test_size_limits_per_kind_and_per_deployment(settings, scoring_server, service):
    """The kind's limit (营业执照 10 MB) and the deployment's (GREENMINE_UPLOAD_MAX_BYTES), streamed, nothing kept."""
    from intake_api_support import with_scoring

    from intake.entrypoints.http import create_app

    small = replace(with_scoring(settings, scoring_server.url), upload_max_bytes=2 * 1024 * 1024)
    api = Api(create_app(small).test_client(), small, ENT1)
    mine_id = api.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = api.post("/api/v1/applications", {"mine_id": mine_id}).json["id"]
    exactly = api.upload(app_id, "other", PDF + b"0" * (2 * 1024 * 1024 - len(PDF)), "ok.pdf")
    assert exactly.status_code == 201, exactly.get_data(as_text=True)
    over = api.upload(app_id, "other", PDF + b"0" * (2 * 1024 * 1024), "big.pdf")
    assert over.status_code == 422 and "不能超过 2 MB" in over.json["errors"]["file"][0]
    huge = api.upload(app_id, "other", PDF + b"0" * (4 * 1024 * 1024), "huge.pdf")
    assert huge.status_code == 413 and CJK.search(huge.json["message"])
    big = Api(create_app(replace(small, upload_max_bytes=50 * 1024 * 1024)).test_client(), small, ENT1)
    kind_limit = big.upload(app_id, "business_licence", PDF + b"0" * (10 * 1024 * 1024), "营业执照.pdf")
    assert kind_limit.status_code == 422 and "不能超过 10 MB" in kind_limit.json["errors"]["file"][0]
    assert service.db["attachments.files"].count_documents({}) == 1
    assert service.db["attachments.chunks"].count_documents({}) == 9  # the one 2 MB file, 255 KB chunks


def test_a_failed_metadata_write_deletes_the_uploaded_file(ent1, draft, service, monkeypatch):
    from intake.adapters import mongo

    def broken(self, tx, app, listing):
        raise RuntimeError("database went away between the upload and the metadata")

    monkeypatch.setattr(mongo.ApplicationRepository, "save", broken)
    before = snapshot(service, draft)
    response = ent1.upload(draft, "business_licence")
    assert response.status_code == 500
    monkeypatch.undo()
    assert snapshot(service, draft) == before
    assert service.db["attachments.files"].count_documents({}) == 0
    assert service.db["attachments.chunks"].count_documents({}) == 0


# -- submission -----------------------------------------------------------------------------------------------------

def test_submit_refused_with_the_list_of_what_is_missing(ent1, draft, service):
    before = snapshot(service, draft)
    response = ent1.post(f"/api/v1/applications/{draft}/submit")
    assert response.status_code == 422
    errors = response.json["errors"]
    assert {"assessment", "declared_penalties", "materials.business_licence", "materials.truthfulness_pledge",
            "materials.site_photos"} <= set(errors)
    assert "materials.penalty_rectification" not in errors
    assert errors["materials.truthfulness_pledge"] == ["申报材料（六）：缺少“申报材料真实性承诺书”"]
    # 附件2 一 (七): 宣传片、遥感影像、现场照片 are each required, each named.
    assert errors["materials.promo_video"] == ["申报材料（七）：缺少“宣传片”"]
    assert errors["materials.remote_sensing_image"] == ["申报材料（七）：缺少“遥感影像”"]
    assert errors["materials.site_photos"] == ["申报材料（七）：缺少“现场照片”"]
    assert snapshot(service, draft) == before


def test_submit_lists_the_scoring_engines_errors(ent1, draft, service):
    incomplete = full_assessment()
    del incomplete["indicators"]["45"]
    incomplete["indicators"]["2"] = {"score": "1.7"}
    ready(ent1, draft, incomplete)
    ent1.put(f"/api/v1/applications/{draft}", {"declared_penalties": True})
    before = snapshot(service, draft)
    response = ent1.post(f"/api/v1/applications/{draft}/submit")
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.json["errors"]
    assert "materials.penalty_rectification" in errors
    assert any(f.startswith("assessment.indicators.45") for f in errors), errors
    assert any(f.startswith("assessment.indicators.2") for f in errors), errors
    assert snapshot(service, draft) == before


def test_a_self_assessment_short_of_the_standard_cannot_be_submitted(ent1, draft, service):
    failing = full_assessment()
    failing["indicators"]["8"] = {"score": "0"}
    failing["prerequisites"]["P3"] = False
    ready(ent1, draft, failing)
    response = ent1.post(f"/api/v1/applications/{draft}/submit")
    assert response.status_code == 422
    errors = response.json["errors"]
    assert "约束性指标第8项「开采方式」须得满分" in errors["assessment.indicators.8"][0]
    assert "先决条件P3" in errors["assessment.prerequisites.P3"][0]
    assert not outbox_messages(service.db, SUBMITTED)


def test_submit_freezes_a_version_and_publishes_the_contract_event(ent1, draft, service, intake_settings):
    ready(ent1, draft)
    ent1.put(f"/api/v1/applications/{draft}", {"record": {"indicator": "3", "text": "查看采场入口警示牌：齐全"}})
    evidence = ent1.upload(draft, "evidence", JPEG, "标牌.jpg", "image/jpeg", indicator="3").json
    pledge = ent1.upload(draft, "evidence", PDF, "P1证照.pdf", indicator="P1").json
    response = ent1.post(f"/api/v1/applications/{draft}/submit")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["status"] == "submitted" and not body["editable"] and body["score_pending"]
    assert [v["number"] for v in body["versions"]] == [1] and body["versions"][0]["resubmission"] is False
    outbox = outbox_messages(service.db, SUBMITTED)
    assert len(outbox) == 1
    envelope = outbox[0]["envelope"]
    ContractRegistry([intake_settings.contracts_dir]).validate(envelope)
    assert outbox[0]["topic"] == intake_settings.topic("intake.application.events") and outbox[0]["key"] == draft
    payload = envelope["payload"]
    assert payload["application_id"] == draft and payload["version_no"] == 1 and payload["resubmission"] is False
    assert payload["enterprise"] == {"name": "鄂尔多斯示范煤业有限公司", "credit_code": "91150600MA0N00001W"}
    assert payload["mine"]["league"] == "鄂尔多斯市" and payload["mine"]["county"] == "准格尔旗"
    assert payload["mine"]["minerals"] == ["煤"] and payload["mine"]["industry_group"] == 1
    three = payload["assessment"]["indicators"]["3"]
    assert {k: three[k] for k in ("findings", "record")} == {"findings": 0, "record": "查看采场入口警示牌：齐全"}
    assert evidence["id"] in three["evidence"]          # each scored entry names its evidence (说明二(二))
    assert "evidence" not in payload["assessment"]["indicators"]["16"]   # 不涉及 needs none
    evidence_files = sum(1 for a in payload["attachments"] if a["kind"] == "evidence")
    by_id = {a["attachment_id"]: a for a in payload["attachments"]}
    assert by_id[evidence["id"]]["indicator"] == 3 and by_id[evidence["id"]]["prerequisite"] is None
    assert by_id[pledge["id"]]["prerequisite"] == "P1" and by_id[pledge["id"]]["indicator"] is None
    assert len(payload["attachments"]) == 14 + evidence_files     # 14 materials of 附件2 一, then the evidence

    version = ent1.get(f"/api/v1/applications/{draft}/versions/1").json
    assert version["records"] == {"3": "查看采场入口警示牌：齐全"}
    assert len(version["attachment_list"]) == 14 + evidence_files
    assert ent1.post(f"/api/v1/applications/{draft}/submit").status_code == 409
    frozen = ent1.put(f"/api/v1/applications/{draft}", {"declared_penalties": True})
    assert frozen.status_code == 409 and "不能修改" in frozen.json["message"]
    assert ent1.upload(draft, "other").status_code == 409
    assert service.db["attachments.files"].count_documents({}) == 14 + evidence_files
    actions = [e["action"] for e in ent1.get(f"/api/v1/applications/{draft}/audit").json]
    assert actions[0] == "application_created" and actions[-1] == "application_submitted"


def test_expired_licence_blocks_submission(ent1, draft, intake_settings, service):
    from intake.bootstrap import bootstrap
    from intake.entrypoints.http import create_app

    ready(ent1, draft)
    later = bootstrap(intake_settings, service.store, clock=lambda: datetime(2041, 3, 1, tzinfo=UTC))
    in_2041 = Api(create_app(intake_settings, intake=later).test_client(), intake_settings, ENT1)
    response = in_2041.post(f"/api/v1/applications/{draft}/submit")
    assert response.status_code == 422
    assert "采矿许可证已于2040-12-31过期" in response.json["errors"]["mine.mining_licence.valid_to"][0]


def test_scoring_unavailable_means_503_and_nothing_changes(settings, service):
    from intake_api_support import with_scoring

    from intake.entrypoints.http import create_app
    from shared.embedded import free_port

    down = with_scoring(settings, f"http://127.0.0.1:{free_port()}")
    api = Api(create_app(down).test_client(), down, ENT1)
    mine_id = api.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = api.post("/api/v1/applications", {"mine_id": mine_id}).json["id"]
    ready(api, app_id)
    before = snapshot(service, app_id)
    response = api.post(f"/api/v1/applications/{app_id}/submit")
    assert response.status_code == 503 and "评分服务暂时不可用" in response.json["message"]
    assert snapshot(service, app_id) == before


def test_branch_two_mine_with_its_sub_industry(ent2, service, intake_settings):
    mine_id = ent2.post("/api/v1/mines", SAND_MINE).json["id"]
    app = ent2.post("/api/v1/applications", {"mine_id": mine_id,
                                             "assessment": full_assessment(2, "open_pit", "sand_gravel_stone")})
    assert app.status_code == 201, app.get_data(as_text=True)
    ready(ent2, app.json["id"], full_assessment(2, "open_pit", "sand_gravel_stone"))
    submitted = ent2.post(f"/api/v1/applications/{app.json['id']}/submit")
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    payload = outbox_messages(service.db, SUBMITTED)[0]["envelope"]["payload"]
    assert payload["mine"]["league"] == "包头市" and payload["mine"]["industry_group"] == 2
    assert payload["assessment"]["mine"]["industry_variant"] == "sand_gravel_stone"
    assert "21" in payload["assessment"]["indicators"] and "12" not in payload["assessment"]["indicators"]


# -- officials ----------------------------------------------------------------------------------------------------

def test_officials_read_applications_of_their_area_and_audit_their_downloads(ent1, draft, bureau, bureau_baotou,
                                                                             region, reviewer):
    att = ent1.upload(draft, "business_licence").json
    assert [a["id"] for a in bureau.get("/api/v1/applications").json] == [draft]
    assert bureau_baotou.get("/api/v1/applications").json == []
    assert bureau_baotou.get(f"/api/v1/applications/{draft}").status_code == 403
    assert region.get(f"/api/v1/applications/{draft}").status_code == 200
    assert reviewer.get(att["download_url"]).status_code == 200
    assert bureau.put(f"/api/v1/applications/{draft}", {"declared_penalties": False}).status_code == 403
    audit = ent1.get(f"/api/v1/applications/{draft}/audit").json
    assert audit[-1]["action"] == "attachment_downloaded" and audit[-1]["actor"]["username"] == "reviewer_eco"
    assert audit[-1]["actor"]["department"] == "ecology_environment"


UNSAFE_NAMES = [
    ("../../../../etc/passwd.pdf", "passwd.pdf"),
    ("/etc/shadow.pdf", "shadow.pdf"),
    ("C:/Users/x/营业执照.pdf", "营业执照.pdf"),
    ("营业\x00执照.pdf", "营业执照.pdf"),
    ("\u202egnp.exe.pdf", "gnp.exe.pdf"),
    ("营\u200b业\ufeff执照.pdf", "营业执照.pdf"),
    ("../.hidden.pdf", "hidden.pdf"),
    ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),
]


@pytest.mark.parametrize("sent,kept", UNSAFE_NAMES, ids=[f"name-{i}" for i in range(len(UNSAFE_NAMES))])
def test_upload_names_are_reduced_to_a_safe_base_name(ent1, draft, service, sent, kept):
    """No path parts, controls, bidi or zero-width characters, NFC: in the answer, the draft and the download
    header; the name as sent is kept only as data (GridFS metadata, the audit entry)."""
    response = ent1.upload(draft, "business_licence", PDF, sent, "application/pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["filename"] == kept
    assert [a["filename"] for a in ent1.get(f"/api/v1/applications/{draft}").json["draft"]["attachments"]] == [kept]
    disposition = ent1.get(response.json["download_url"]).headers["Content-Disposition"]
    from urllib.parse import quote
    assert disposition.endswith(f"filename*=UTF-8''{quote(kept)}"), disposition
    assert "%2F" not in disposition and "%E2%80%AE" not in disposition and "%00" not in disposition
    stored = service.db["attachments.files"].find_one({"filename": kept})
    assert stored is not None and stored["metadata"]["original_filename"] == sent
    added = [e for e in ent1.get(f"/api/v1/applications/{draft}/audit").json if e["action"] == "attachment_added"]
    assert added[-1]["detail"]["filename"] == kept and added[-1]["detail"]["original_filename"] == sent


def test_a_score_without_its_evidence_counts_zero_and_the_submission_names_it(ent1, draft, service):
    """缺少支撑材料或证明材料不得分: the submitted assessment says which evidence supports each entry; a binding
    item whose evidence was removed scores 0, and the refusal says why."""
    ready(ent1, draft)
    attachments = ent1.get(f"/api/v1/applications/{draft}").json["draft"]["attachments"]
    for a in attachments:
        if a["kind"] == "evidence" and a["indicator"] == "8":
            assert ent1.delete(f"/api/v1/applications/{draft}/attachments/{a['id']}").status_code in (200, 204)
    before = snapshot(service, draft)
    response = ent1.post(f"/api/v1/applications/{draft}/submit")
    assert response.status_code == 422
    assert response.json["errors"]["assessment.indicators.8"] == [
        "自评估：约束性指标第8项「开采方式」须得满分：自评5分，但缺少支撑材料，按0分计；请上传佐证材料"]
    assert snapshot(service, draft) == before
