"""The institution's evaluation (附件2 三): the Evaluation's rules (domain) and the handlers through the bus on the
fakes — the draft saved piece by piece with its 核查记录 and images, who may read and write it, the submission
through scoring (a banned institution refused with the reason, a replay recording nothing again), the report's
content."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from region_builders import CALENDAR, POLICY, REGION_OFFICE, Clock, Scoring, advance, forwarded, make_bus
from review_fakes import FakePhotoFiles, FakeReviewUnitOfWork

from review_routing.domain.access import Actor
from review_routing.domain.region.commissions import Commission, load_pledges
from review_routing.domain.region.draws import DrawRecord
from review_routing.domain.region.evaluations import RECORD_NEEDED, Evaluation, needs_record, record_text
from review_routing.domain.region.institutions import EvaluationInstitution
from review_routing.service_layer.region.evaluations import (
    ListEvaluations,
    OpenEvaluationImage,
    RemoveEvaluationImage,
    SaveEvaluationDraft,
    ShowEvaluation,
    ShowEvaluationReport,
    SubmitEvaluation,
    UploadEvaluationImage,
)
from shared.contracts import ContractRegistry
from shared.errors import Conflict, InvalidInput, InvalidTransition, NotFound, NotPermitted
from shared.scoring_client import ScoringRejected

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
AT = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)            # Wednesday 2026-05-20, 10:00 Beijing
TODAY = date(2026, 5, 20)
INST = {"id": "inst-1", "name": "内蒙古示范评估咨询有限公司"}
EVALUATOR = Actor("eval_li", "evaluator", "李评", institution="inst-1")
STRANGER = Actor("eval_other", "evaluator", "王评", institution="inst-2")
ENTERPRISE = Actor("ent", "enterprise", "示范煤业")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
RECORD = {"inspectors": ["李评", "赵核"], "location": "一号露天采场", "date": "2026-05-19",
          "observations": "查看了排土场复绿和洒水降尘设施，运行正常"}


# -- the domain -----------------------------------------------------------------------------------------------------
def evaluation(applicable=(1, 2, 3), binding=(1,), points=None) -> Evaluation:
    return Evaluation.start(commission_id="com-1", review_id="app-1.v1", application_id="app-1", version_no=1,
                            league="鄂尔多斯市", catalog_id="nm-2025", institution=INST, applicable=applicable,
                            binding=binding, points=points or {1: "4", 2: "3", 3: "2"},
                            prerequisite_codes=("P1", "P2"), at=AT, by="eval_li")


def update(ev: Evaluation, changes: dict, staff=("李评", "赵核")) -> dict:
    return ev.update(changes, staff=staff, today=TODAY, at=AT, by="eval_li")


def fields_of(exc) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def test_a_draft_is_saved_piece_by_piece_in_the_scoring_entry_shape():
    ev = evaluation()
    assert update(ev, {"indicators": {"2": {"score": 3, "record": RECORD}}}) == {"indicators": [2],
                                                                                  "prerequisites": []}
    assert update(ev, {"indicators": {"3": {"not_applicable": True, "reason": "无选矿厂"}},
                       "prerequisites": {"P1": {"met": True}}}) == {"indicators": [3], "prerequisites": ["P1"]}
    assert ev.entries == {"2": {"score": "3"}, "3": {"not_applicable": True, "reason": "无选矿厂"}}
    assert ev.records["2"] == {**RECORD, "inspectors": ["李评", "赵核"]}
    assert ev.prerequisites == {"P1": {"met": True, "note": ""}}
    # inspectors may come as one text; the record alone can be changed; null clears
    update(ev, {"indicators": {"2": {"record": {**RECORD, "inspectors": "李评、赵核"}}}})
    assert ev.entries["2"] == {"score": "3"} and ev.records["2"]["inspectors"] == ["李评", "赵核"]
    assert update(ev, {"indicators": {"2": {"score": "3.00", "record": RECORD}}}) == {"indicators": [],
                                                                                      "prerequisites": []}
    update(ev, {"indicators": {"3": None}})
    assert "3" not in ev.entries
    assert ev.not_applicable == []


def test_bad_pieces_are_refused_naming_each_field_and_nothing_is_kept():
    ev = evaluation()
    update(ev, {"indicators": {"2": {"score": "1"}}})
    with pytest.raises(InvalidInput) as exc:
        update(ev, {"indicators": {
            "1": {"score": "5"},                                                # above the standard points
            "2": {"score": "2", "record": {**RECORD, "date": "2026-05-21",      # tomorrow
                                           "inspectors": ["李评", "张三"]}},     # not of the institution
            "3": {"not_applicable": True, "reason": " "},                       # N/A without reason
            "9": {"score": "1"}},                                               # not applicable to the mine
            "prerequisites": {"P2": {"met": False}, "P9": {"met": True}}})
    errors = fields_of(exc)
    assert errors["indicators.1.score"] == "得分应在 0 至 4 分之间"
    assert errors["indicators.2.record.date"] == "核查日期不能晚于今天（2026-05-20）"
    assert errors["indicators.2.record.inspectors"] == "张三不是本机构登记的评估人员"
    assert errors["indicators.3.reason"] == "判定不涉及须写明判定依据和理由"
    assert errors["indicators.9"] == "第9项不是该矿山适用的指标"
    assert errors["prerequisites.P2.note"] == "不满足时须写明情况"
    assert errors["prerequisites.P9"] == "没有先决条件 P9"
    assert ev.entries == {"2": {"score": "1"}} and ev.records == {} and ev.prerequisites == {}
    with pytest.raises(InvalidInput) as exc:
        update(ev, {"indicators": {"2": {"score": "1", "findings": 2}, "1": {"score": "1", "reason": "x"},
                                   "3": {"score": "1.005"}}})
    errors = fields_of(exc)
    assert "score、findings、deductions、items 之一" in errors["indicators.2"]
    assert errors["indicators.1.reason"].startswith("理由仅用于不涉及项")
    assert errors["indicators.3.score"] == "得分最多保留两位小数"
    with pytest.raises(InvalidInput) as exc:
        update(ev, {"indicators": {"²": {"score": "1"}, "1": {"items": {"$where": True}}}})
    assert set(fields_of(exc)) == {"indicators.²", "indicators.1.items"}


def test_a_score_above_zero_needs_its_record_and_every_item_must_be_judged_before_submission():
    ev = evaluation()
    update(ev, {"indicators": {"1": {"score": "4"}, "2": {"score": "0"}}})
    problems = {p.field: p.message for p in ev.submission_problems()}
    assert problems == {"indicators.1.record": f"第1项：{RECORD_NEEDED}", "indicators.3": "第3项尚未评分",
                        "prerequisites.P1": "先决条件P1尚未判定", "prerequisites.P2": "先决条件P2尚未判定"}
    assert "评估机构给分须附核查记录" in problems["indicators.1.record"]
    with pytest.raises(InvalidInput) as exc:
        ev.check_submittable(None)
    assert "indicators.1.record" in fields_of(exc)
    assert needs_record({"items": {"a": False}}) is False and needs_record({"items": {"a": 1}}) is True
    assert needs_record({"findings": 0}) is True and needs_record({"score": "0.00"}) is False


def test_a_binding_indicator_judged_not_applicable_needs_its_reason_and_the_on_site_record():
    ev = evaluation()
    update(ev, {"indicators": {"1": {"not_applicable": True, "reason": "无尾矿库"}, "2": {"score": "0"},
                               "3": {"score": "0"}},
                "prerequisites": {"P1": {"met": True}, "P2": {"met": False, "note": "采矿许可证过期"}}})
    assert [(p.field, p.message) for p in ev.submission_problems()] == [
        ("indicators.1.record", "第1项为约束性指标，判定不涉及须附现场核查记录")]
    update(ev, {"indicators": {"1": {"record": RECORD}}})
    assert ev.submission_problems() == []
    assert ev.not_applicable == [1]


def test_a_banned_institution_cannot_submit_and_a_submitted_report_cannot_change():
    ev = evaluation(applicable=(2,), binding=())
    update(ev, {"indicators": {"2": {"score": "3", "record": RECORD}},
                "prerequisites": {"P1": {"met": True}, "P2": {"met": True}}})
    with pytest.raises(Conflict) as exc:
        ev.check_submittable("内蒙古示范评估咨询有限公司因评估结论严重失实被通报")
    assert "评估结论严重失实" in exc.value.message and ev.is_draft
    ev.submit({"assessment_id": "rec-1", "report": {"total": "91.50", "verdict": "qualified",
                                                    "verdict_label": "达标"}}, refusal=None, at=AT, by="eval_li",
              by_name="李评")
    assert ev.summary() == {"evaluation_id": "com-1.eval", "assessment_id": "rec-1", "total": "91.50",
                            "verdict": "qualified", "not_applicable": []}
    with pytest.raises(InvalidTransition):
        update(ev, {"indicators": {"2": {"score": "0"}}})
    with pytest.raises(InvalidTransition):
        ev.add_image({"image_id": "img-1", "indicator": None}, AT, "eval_li")


def test_the_assessment_is_in_the_scoring_contract_shape_with_the_records_written_in():
    ev = evaluation()
    update(ev, {"indicators": {"1": {"score": "4", "record": RECORD}, "2": {"findings": 1, "record": RECORD},
                               "3": {"not_applicable": True, "reason": "无选矿厂"}},
                "prerequisites": {"P1": {"met": True}, "P2": {"met": False, "note": "缺少证照"}}})
    assessment = ev.assessment({"industry_group": 1, "mining_method": "open_pit", "industry_variant": None,
                                "name": "x"})
    schema = json.loads((CONTRACTS / "scoring" / "assessment.v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(assessment, schema)
    assert assessment["mine"] == {"industry_group": 1, "mining_method": "open_pit"}
    assert assessment["prerequisites"] == {"P1": True, "P2": False}
    assert assessment["indicators"]["1"] == {"score": "4", "record": record_text(RECORD)}
    written = assessment["indicators"]["2"]["record"]
    assert written.startswith("核查人员：李评、赵核；核查地点：一号露天采场；核查日期：2026-05-19")


def test_an_evaluation_round_trips_through_its_document():
    ev = evaluation()
    update(ev, {"indicators": {"1": {"score": "4", "record": RECORD}}})
    ev.add_image({"image_id": "img-1", "indicator": 1, "filename": "a.png"}, AT, "eval_li")
    again = Evaluation.from_dict({**ev.to_dict(), "version": 3})
    assert again.to_dict() == ev.to_dict() and again.version == 3 and again.id == "com-1.eval"
    with pytest.raises(InvalidInput):
        ev.add_image({"image_id": "img-2", "indicator": 40}, AT, "eval_li")


# -- the handlers ---------------------------------------------------------------------------------------------------
@pytest.fixture
def uow():
    return FakeReviewUnitOfWork(ContractRegistry([CONTRACTS]))


@pytest.fixture
def clock():
    return Clock(AT)


@pytest.fixture
def scoring():
    return Scoring()


@pytest.fixture
def files():
    return FakePhotoFiles()


@pytest.fixture
def bus(uow, clock, scoring, files):
    return make_bus(uow, clock, scoring=scoring, photo_files=files)


@pytest.fixture
def case(bus, uow, catalog, clock):
    """A forwarded case under evaluation by inst-1 (commission com-1, accepted with both pledges)."""
    rid = forwarded(bus, uow, catalog)
    clock.now = AT
    review = advance(uow, rid, "under_evaluation", AT, institution=INST)
    institution = EvaluationInstitution.register(
        name=INST["name"], credit_code="91150100MA0P00011N", contact={"person": "王工", "phone": "0471-1234567"},
        staff=[{"name": "李评", "title": "高级工程师"}, {"name": "赵核", "title": "工程师"}], by="region", at=AT,
        institution_id="inst-1")
    draw = DrawRecord.run(purpose="institutions", title="评估机构抽取", population=["inst-1"], entered_value="1",
                          at=AT, by="region", count=1, context={"review_ids": [rid]})
    commission = Commission.create(review=_awaiting(review), institution=INST, draw=draw, reason=None, note="",
                                   by="region", by_name="自治区自然资源厅", at=AT, calendar=CALENDAR, policy=POLICY)
    commission.commission_id = "com-1"
    commission.accept(pledges=[{"code": c, "accepted": True} for c in load_pledges().codes], signer_name="李评",
                      signer_title="技术负责人", by="eval_li", at=AT, pledge_set=load_pledges())

    def store():
        uow.institutions.save(institution)
        uow.commissions.save(commission)

    uow.run(store)
    return review


def _awaiting(review):
    from review_routing.domain.region.review import RegionReview

    copy = RegionReview.from_dict(review.to_dict())
    copy.status = "awaiting_commission"
    return copy


def full_changes(review, catalog, uow) -> dict:
    applicable = uow.cases.get(review.application_id).version_of(1).applicable_indicators
    return {"indicators": {str(no): {"score": str(catalog.indicator(no).points), "record": RECORD}
                           for no in applicable},
            "prerequisites": {code: {"met": True} for code in catalog.prerequisite_codes}}


def test_the_evaluator_saves_a_draft_with_records_and_images_and_the_events_say_what_changed(bus, uow, case, files):
    view = bus.handle(ShowEvaluation(EVALUATOR, "com-1.eval"))
    assert view["saved"] is False and view["status"] == "draft" and view["permissions"]["edit"]
    assert view["staff"] == ["李评", "赵核"] and view["pledges"][0]["sha256"]
    first = view["indicators"][0]["no"]
    answer = bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", {
        "indicators": {str(first): {"score": "1", "record": RECORD}}}))
    assert answer["judged"] == 1 and answer["version"] == 1
    again = bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", {
        "indicators": {str(first): {"score": "1", "record": RECORD}}}))
    assert again["version"] == 1 and len(uow.events("review_routing.evaluation_recorded")) == 1
    image = bus.handle(UploadEvaluationImage(EVALUATOR, "com-1.eval", "采场.png", "image/png", PNG, first, "采场"))
    general = bus.handle(UploadEvaluationImage(EVALUATOR, "com-1.eval", "全景.png", "image/png", PNG))
    assert bus.handle(UploadEvaluationImage(EVALUATOR, "com-1.eval", "全景.png", "image/png", PNG)) == general
    assert len(files.files) == 2
    view = bus.handle(ShowEvaluation(EVALUATOR, "com-1.eval"))
    assert view["indicators"][0]["record"]["location"] == "一号露天采场"
    assert [i["image_id"] for i in view["indicators"][0]["images"]] == [image["image_id"]]
    assert [i["image_id"] for i in view["general_images"]] == [general["image_id"]]
    stored, stream = bus.handle(OpenEvaluationImage(REGION_OFFICE, "com-1.eval", image["image_id"]))
    assert stream.read() == PNG and stored["sha256"] == image["sha256"]
    bus.handle(RemoveEvaluationImage(EVALUATOR, "com-1.eval", general["image_id"]))
    assert len(files.files) == 1
    recorded = [e["payload"] for e in uow.events("review_routing.evaluation_recorded")]
    assert [(p["change"], p["indicators"]) for p in recorded] == [
        ("draft_saved", [first]), ("image_added", [first]), ("image_added", []), ("image_removed", [])]
    assert all("score" not in json.dumps(p) for p in recorded)
    actions = uow.audit.actions()
    assert {"evaluation_saved", "evaluation_image_uploaded", "evaluation_image_removed"} <= set(actions)
    with pytest.raises(InvalidInput) as exc:
        bus.handle(UploadEvaluationImage(EVALUATOR, "com-1.eval", "x.gif", "image/gif", b"GIF89a...."))
    assert "JPEG 或 PNG" in exc.value.errors[0].message
    assert len(files.files) == 1


def test_only_the_commissioned_institution_writes_the_office_reads_and_the_enterprise_sees_nothing(bus, uow, case):
    first = str(bus.handle(ShowEvaluation(EVALUATOR, "com-1.eval"))["indicators"][0]["no"])
    bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", {"indicators": {first: {"score": "0"}}}))
    with pytest.raises(NotPermitted):
        bus.handle(ShowEvaluation(STRANGER, "com-1.eval"))
    with pytest.raises(NotPermitted):
        bus.handle(SaveEvaluationDraft(STRANGER, "com-1.eval", {"indicators": {first: {"score": "0"}}}))
    with pytest.raises(NotPermitted):
        bus.handle(ShowEvaluation(ENTERPRISE, "com-1.eval"))
    with pytest.raises(NotPermitted):
        bus.handle(ListEvaluations(ENTERPRISE))
    office = bus.handle(ShowEvaluation(REGION_OFFICE, "com-1.eval"))
    assert office["judged"] == 1 and office["permissions"]["edit"] is False
    with pytest.raises(NotPermitted):
        bus.handle(SaveEvaluationDraft(REGION_OFFICE, "com-1.eval", {"indicators": {first: {"score": "0"}}}))
    with pytest.raises(NotPermitted):
        bus.handle(SubmitEvaluation(REGION_OFFICE, "com-1.eval"))
    with pytest.raises(NotFound):
        bus.handle(ShowEvaluation(EVALUATOR, "com-9.eval"))
    assert [r["evaluation_id"] for r in bus.handle(ListEvaluations(EVALUATOR))] == ["com-1.eval"]
    assert bus.handle(ListEvaluations(STRANGER)) == []
    assert bus.handle(ListEvaluations(REGION_OFFICE))[0]["status_label"] == "现场评估中（草稿）"


def test_submission_records_the_assessment_with_scoring_and_the_case_is_evaluated(bus, uow, case, catalog, scoring):
    with pytest.raises(InvalidInput) as exc:
        bus.handle(SubmitEvaluation(EVALUATOR, "com-1.eval"))
    assert exc.value.message == "评估尚未填写，不能提交评估报告"
    changes = full_changes(case, catalog, uow)
    first = next(iter(changes["indicators"]))
    partial = {**changes, "indicators": {**changes["indicators"], first: {"score": changes["indicators"][first]
                                                                          ["score"], "record": None}}}
    bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", partial))
    with pytest.raises(InvalidInput) as exc:
        bus.handle(SubmitEvaluation(EVALUATOR, "com-1.eval"))
    assert fields_of(exc) == {f"indicators.{first}.record": f"第{first}项：{RECORD_NEEDED}"}
    assert scoring.recorded == []
    bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", {"indicators": {first: {"record": RECORD}}}))
    answer = bus.handle(SubmitEvaluation(EVALUATOR, "com-1.eval"))
    assert answer["assessment_id"] == "rec-1" and answer["total"] == "95" and answer["verdict"] == "qualified"
    (args, kwargs), = scoring.recorded
    assert args[:3] == ("app-1", 1, "third_party_evaluation")
    assessment, principal = args[3], args[4]
    assert assessment["mine"]["industry_group"] == 1 and set(assessment["prerequisites"].values()) == {True}
    assert assessment["indicators"][first]["record"] == record_text(RECORD)
    assert principal.role == "evaluator" and principal.institution == "inst-1" and kwargs["league"] == "鄂尔多斯市"
    review = uow.region_reviews.get(case.id)
    assert review.status == "evaluated"
    assert review.evaluation["assessment_id"] == "rec-1" and review.evaluation["evaluation_id"] == "com-1.eval"
    submitted, = uow.events("review_routing.evaluation_submitted")
    assert submitted["payload"]["total"] == "95" and submitted["payload"]["institution"] == INST
    assert "indicators" not in submitted["payload"]
    assert "evaluation_submitted" in uow.audit.actions()
    # a replay answers the stored result and records nothing again
    assert bus.handle(SubmitEvaluation(EVALUATOR, "com-1.eval")) == answer
    assert len(scoring.recorded) == 1 and len(uow.events("review_routing.evaluation_submitted")) == 1
    with pytest.raises(InvalidTransition):
        bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", {"indicators": {first: {"score": "0"}}}))
    view = bus.handle(ShowEvaluation(REGION_OFFICE, "com-1.eval"))
    assert view["status"] == "submitted" and view["report"]["verdict_label"] == "达标"


def test_a_banned_institutions_report_is_refused_with_the_reason_and_the_refusal_audited(bus, uow, case, catalog,
                                                                                       scoring, clock):
    bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", full_changes(case, catalog, uow)))

    def ban():
        institution = uow.institutions.get("inst-1")
        institution.record_finding(kind="seriously_false_conclusion", facts="另一项目评估结论严重失实",
                                   found_on=TODAY, by="region", by_name="自治区自然资源厅", at=AT)
        uow.institutions.save(institution)

    uow.run(ban)
    clock.advance(days=1)
    with pytest.raises(Conflict) as exc:
        bus.handle(SubmitEvaluation(EVALUATOR, "com-1.eval"))
    assert "评估结论严重失实" in exc.value.message and "3年内不再采信" in exc.value.message
    assert scoring.recorded == [] and uow.region_reviews.get(case.id).status == "under_evaluation"
    assert uow.audit.actions()[-1] == "evaluation_refused"
    assert uow.events("review_routing.evaluation_submitted") == []


def test_scoring_refusing_the_assessment_comes_back_with_the_fields_and_nothing_changes(bus, uow, case, catalog,
                                                                                      scoring):
    bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", full_changes(case, catalog, uow)))

    def refuse(*args, **kwargs):
        from shared.errors import FieldError
        raise ScoringRejected("评估数据有误", [FieldError("assessment.indicators.7.score", "得分不是可能的分值")])

    scoring.record = refuse
    with pytest.raises(InvalidInput) as exc:
        bus.handle(SubmitEvaluation(EVALUATOR, "com-1.eval"))
    assert fields_of(exc) == {"indicators.7.score": "得分不是可能的分值"}
    assert uow.evaluations.get("com-1.eval").is_draft
    assert uow.region_reviews.get(case.id).status == "under_evaluation"


def test_a_declined_commission_cannot_be_evaluated(bus, uow, case):
    def decline():
        commission = uow.commissions.get("com-1")
        commission.decline(reason="发现与企业存在咨询关系", conflict=True, by="eval_li", by_name="李评",
                           at=AT + timedelta(hours=1))
        uow.commissions.save(commission)

    uow.run(decline)
    with pytest.raises(InvalidTransition):
        bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", {"prerequisites": {"P1": {"met": True}}}))


def test_the_report_embeds_the_images_and_lists_the_records_and_pledges(bus, uow, case, catalog):
    bus.handle(SaveEvaluationDraft(EVALUATOR, "com-1.eval", full_changes(case, catalog, uow)))
    bus.handle(UploadEvaluationImage(EVALUATOR, "com-1.eval", "全景.png", "image/png", PNG))
    report = bus.handle(ShowEvaluationReport(REGION_OFFICE, "com-1.eval"))
    assert report["images"][0]["data_url"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert report["records"][0]["location"] == "一号露天采场"
    assert len(report["pledges"]) == 2 and all(len(p["sha256"]) == 64 for p in report["pledges"])
    assert report["case_no"] and report["institution"] == INST


# -- over HTTP (the app on the fakes) ---------------------------------------------------------------------------------
def test_the_api_pages_and_the_report_pdf(bus, uow, case, catalog):
    import io

    from pypdf import PdfReader

    from review_routing.entrypoints.http import create_app
    from shared import identity
    from shared.config import Settings

    settings = Settings.from_env({"GREENMINE_SECRET_KEY": "unit-secret", "MONGODB_URI": "mongodb://127.0.0.1:1/",
                                  "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    client = create_app(settings, bus).test_client()
    evaluator = identity.Principal("eval_li", "evaluator", display_name="李评", institution="inst-1")
    office = identity.Principal("region", "region_office", display_name="自治区自然资源厅", area="自治区")

    def call(method, path, who=evaluator, **kwargs):
        token = identity.issue_token(settings.secret_key, who)
        return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    base = "/api/v1/evaluation/evaluations/com-1.eval"
    body = json.dumps(full_changes(case, catalog, uow)).encode()
    answer = call("PUT", base, data=body, content_type="application/json")
    assert answer.status_code == 200, answer.get_json()
    bad = call("PUT", base, json={"indicators": {"1": {"score": "1", "record": {**RECORD, "date": "2099-01-01"}}}})
    assert bad.status_code == 422 and "indicators.1.record.date" in bad.get_json()["errors"]
    image = call("POST", base + "/images", data={"photo": (io.BytesIO(PNG), "采场.png", "image/png"), "indicator": "1",
                                                 "caption": "一号采场"}, content_type="multipart/form-data")
    assert image.status_code == 201, image.get_json()
    assert call("GET", image.get_json()["url"], who=office).data == PNG
    page = call("GET", "/evaluation/evaluations/com-1.eval")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="submit-evaluation"' in html and "一号露天采场" in html and "ecology_environment" not in html
    assert "提交评估报告" in call("GET", "/evaluation/evaluations/com-1.eval", who=office).get_data(as_text=True)
    assert 'id="submit-evaluation"' not in call("GET", "/evaluation/evaluations/com-1.eval",
                                                who=office).get_data(as_text=True)
    assert "com-1.eval" in call("GET", "/evaluation/evaluations").get_data(as_text=True)
    assert call("POST", base + "/submit", who=office).status_code == 403
    submitted = call("POST", base + "/submit")
    assert submitted.status_code == 200, submitted.get_json()
    pdf = call("GET", base + "/report.pdf", who=office)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    commission = uow.commissions.get("com-1")
    pledge_hash = commission.acceptance["pledges"][0]["sha256"]
    for expected in (commission.case_no, INST["name"], "95", "一号露天采场", pledge_hash):
        assert expected in text.replace("\n", ""), expected
