"""The institution's evaluation over real Kafka, MongoDB (GridFS) and the scoring service: an accepted commission →
a draft saved piece by piece with 核查记录 and a photo → a score above 0 without its record refused at submission →
submitted: recorded by scoring (GET /api/v1/scoring/assessments?subject=…), the case evaluated, the events on
Kafka without the scores, the 评估报告 PDF; a replayed submission records nothing again; a banned institution's
report is refused with the reason."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import requests
from pypdf import PdfReader
from review_harness import PASSWORD, forward, wait_for

from review_routing.domain.access import Actor
from review_routing.service_layer.region.institutions import RecordMisconduct, RegisterInstitution
from shared import identity
from shared.clock import utcnow
from shared.messaging import read_topic
from shared.workdays import beijing_date

pytestmark = pytest.mark.integration

OFFICE = Actor("region", "region_office", "自治区自然资源厅", area="自治区")
CONTACT = {"person": "王工", "phone": "0471-1234567"}
STAFF = ({"name": "李评", "title": "高级工程师"}, {"name": "赵核", "title": "工程师"})
BOTH = [{"code": "truthfulness", "accepted": True}, {"code": "no_fee", "accepted": True}]
TOPIC = "review_routing.region.events"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00"
       b"\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")




def commissioned(review, rid: str, name: str, code: str, evaluator: str) -> tuple[str, str]:
    """Register the institution (with its staff) and its evaluator, commission it, accept with both pledges:
    (institution id, commission id)."""
    inst = review.bus.handle(RegisterInstitution(OFFICE, name, code, CONTACT, STAFF, ()))["institution_id"]
    identity.UserDirectory(review.identity_db).add(evaluator, PASSWORD, "evaluator", display_name="李评",
                                                   replace=True, institution=inst)
    draw = review.call("POST", "/api/v1/evaluation/commissions/draw", "region",
                       {"review_ids": [rid], "entered_value": "20260520"}).get_json()
    chosen = {"review_ids": [rid], "institution_id": inst, "draw_id": draw["draw_id"]}
    if draw["proposal"]["id"] != inst:
        chosen["reason"] = "本案指定该机构（测试）"
    made = review.call("POST", "/api/v1/evaluation/commissions", "region", chosen)
    assert made.status_code == 201, made.get_json()
    cid = made.get_json()["commissions"][0]["commission_id"]
    accepted = review.call("POST", f"/api/v1/evaluation/commissions/{cid}/accept", evaluator,
                           {"pledges": BOTH, "signer_name": "李评", "signer_title": "项目负责人"})
    assert accepted.status_code == 200, accepted.get_json()
    return inst, cid


def record(day: str) -> dict:
    return {"inspectors": ["李评", "赵核"], "location": "一号露天采场东帮", "date": day,
            "observations": "查看排土场复绿、洒水降尘设施，现场运行正常"}


def full_draft(view: dict, day: str) -> dict:
    return {"indicators": {str(i["no"]): {"score": i["points"], "record": record(day)} for i in view["indicators"]},
            "prerequisites": {p["code"]: {"met": True} for p in view["prerequisites"]}}


def region_events(review, event_type: str) -> list[dict]:
    return [e for e in (json.loads(r.value) for r in read_topic(review.settings, review.settings.topic(TOPIC)))
            if e["type"] == event_type]


def scoring_records(review, app_id: str) -> list[dict]:
    url = review.settings.service_urls["scoring"] + "/api/v1/scoring/assessments"
    answer = requests.get(url, params={"subject": app_id}, headers=review.headers("region"), timeout=30)
    assert answer.status_code == 200, answer.text
    return [r for r in answer.json() if r["stage"] == "third_party_evaluation"]


def test_an_evaluation_is_drafted_with_records_and_a_photo_submitted_scored_and_reported(review, catalog):
    rid = forward(review, catalog, "app-evaluation")
    _, cid = commissioned(review, rid, "甲评估咨询有限公司", "91150100MA0P00011N", "eval_jia")
    eid = f"{cid}.eval"
    base = f"/api/v1/evaluation/evaluations/{eid}"
    today = beijing_date(utcnow()).isoformat()

    view = review.call("GET", base, "eval_jia").get_json()
    assert view["saved"] is False and view["staff"] == ["李评", "赵核"] and len(view["pledges"]) == 2
    assert review.call("GET", base, "enterprise").status_code == 403
    draft = full_draft(view, today)
    first = str(view["indicators"][0]["no"])
    without_record = {**draft, "indicators": {**draft["indicators"], first: {"score": view["indicators"][0]["points"]}}}
    saved = review.call("PUT", base, "eval_jia", without_record)
    assert saved.status_code == 200, saved.get_json()
    assert [p["field"] for p in saved.get_json()["problems"]] == [f"indicators.{first}.record"]
    # A score above 0 without its 核查记录 is refused at submission, naming the field; scoring is not asked.
    refused = review.call("POST", base + "/submit", "eval_jia")
    assert refused.status_code == 422
    assert "评估机构给分须附核查记录" in refused.get_json()["errors"][f"indicators.{first}.record"][0]
    assert scoring_records(review, "app-evaluation") == []
    # A record dated in the future is refused; then the record is added.
    future = (beijing_date(utcnow()) + timedelta(days=2)).isoformat()
    bad = review.call("PUT", base, "eval_jia", {"indicators": {first: {"record": record(future)}}})
    assert bad.status_code == 422 and f"indicators.{first}.record.date" in bad.get_json()["errors"]
    assert review.call("PUT", base, "eval_jia", {"indicators": {first: {"record": record(today)}}}).status_code == 200
    photo = review.call("POST", base + "/images", "eval_jia",
                        data={"photo": (io.BytesIO(PNG), "采场.png", "image/png"), "indicator": first,
                              "caption": "一号采场复绿"}, content_type="multipart/form-data")
    assert photo.status_code == 201, photo.get_json()
    assert review.call("GET", photo.get_json()["url"], "region").data == PNG
    assert review.db["site_photos.files"].count_documents({"metadata.photo_id": photo.get_json()["image_id"]}) == 1
    office_view = review.call("GET", base, "region").get_json()
    assert office_view["status"] == "draft" and office_view["permissions"]["edit"] is False
    assert review.call("PUT", base, "region", {"indicators": {}}).status_code == 403

    submitted = review.call("POST", base + "/submit", "eval_jia")
    assert submitted.status_code == 200, submitted.get_json()
    result = submitted.get_json()
    [stored] = scoring_records(review, "app-evaluation")
    assert stored["id"] == result["assessment_id"] and stored["report"]["total"] == result["total"]
    assert result["verdict"] == "qualified"
    reviewed = review.call("GET", f"/api/v1/evaluation/reviews/{rid}", "region").get_json()
    assert reviewed["status"] == "evaluated" and reviewed["evaluation"]["assessment_id"] == result["assessment_id"]
    [event] = wait_for(lambda: region_events(review, "review_routing.evaluation_submitted"), what="submitted event")
    assert event["payload"]["total"] == result["total"] and event["payload"]["evaluation_id"] == eid
    assert "indicators" not in event["payload"]
    recorded = wait_for(lambda: region_events(review, "review_routing.evaluation_recorded"), what="recorded events")
    assert {e["payload"]["change"] for e in recorded} == {"draft_saved", "image_added"}
    assert all("score" not in json.dumps(e["payload"]) for e in recorded)

    # A replayed submission answers the stored result and records nothing again.
    outbox = review.db["outbox"].count_documents({})
    again = review.call("POST", base + "/submit", "eval_jia")
    assert again.status_code == 200 and again.get_json() == result
    assert len(scoring_records(review, "app-evaluation")) == 1 and review.db["outbox"].count_documents({}) == outbox
    assert review.call("PUT", base, "eval_jia", {"indicators": {first: None}}).status_code == 409

    pdf = review.call("GET", base + "/report.pdf", "region")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    commission = review.db["commissions"].find_one({"_id": cid})
    for expected in (commission["case_no"], "甲评估咨询有限公司", result["total"], "一号露天采场东帮",
                     commission["acceptance"]["pledges"][0]["sha256"]):
        assert expected in text, expected
    page = review.call("GET", f"/evaluation/evaluations/{eid}", "region").get_data(as_text=True)
    assert "report.pdf" in page and result["total"] in page


def test_a_banned_institutions_report_is_refused_with_the_reason(review, catalog):
    rid = forward(review, catalog, "app-banned-eval")
    inst, cid = commissioned(review, rid, "乙评估咨询有限公司", "91150200MA0P000220", "eval_yi")
    base = f"/api/v1/evaluation/evaluations/{cid}.eval"
    view = review.call("GET", base, "eval_yi").get_json()
    today = beijing_date(utcnow())
    assert review.call("PUT", base, "eval_yi", full_draft(view, today.isoformat())).status_code == 200
    review.bus.handle(RecordMisconduct(OFFICE, inst, "collusion_fraud", "串通企业弄虚作假", today.isoformat()))
    refused = review.call("POST", base + "/submit", "eval_yi")
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    assert "乙评估咨询有限公司" in message and "串通企业弄虚作假" in message and "3年内不再采信" in message
    assert scoring_records(review, "app-banned-eval") == []
    assert review.call("GET", f"/api/v1/evaluation/reviews/{rid}", "region").get_json()["status"] == \
        "under_evaluation"
    assert review.db["evaluations"].find_one({"_id": f"{cid}.eval"})["status"] == "draft"
    assert review.db["audit"].find_one({"action": "evaluation_refused", "target": f"{cid}.eval"})
