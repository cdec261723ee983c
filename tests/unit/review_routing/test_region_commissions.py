"""Commissioning (委托): the Commission's states, deadlines and pledge hashes (domain), and the handlers through the
bus on the fakes — the institution draw, commissioning (a banned or conflicted institution refused), acceptance
with both pledges (a replay changes nothing), decline and recusal, expiry by the sweep."""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from region_builders import CALENDAR, POLICY, REGION_OFFICE, Clock, forwarded, make_bus
from review_builders import COAL_ENTERPRISE
from review_fakes import FakeReviewUnitOfWork

from review_routing.domain.access import Actor
from review_routing.domain.region.commissions import Commission, load_pledges, parse_pledges, sha256
from review_routing.domain.region.draws import DrawRecord
from review_routing.domain.region.institutions import EvaluationInstitution
from review_routing.domain.region.review import RegionReview
from review_routing.service_layer.region import commissions as com
from review_routing.service_layer.region.commissions import (
    AcceptCommission,
    CommissionInstitution,
    DeclineCommission,
    DrawInstitutions,
    ListCommissions,
    ShowCommission,
    expire_commissions,
)
from shared import draws as shared_draws
from shared.contracts import ContractRegistry
from shared.errors import Conflict, InvalidInput, InvalidTransition, NotFound, NotPermitted

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
AT = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)           # Wednesday 2026-05-20, 10:00 Beijing
CONTACT = {"person": "王工", "phone": "0471-1234567"}
CODES = {"a": "91150100MA0P00011N", "b": "91150200MA0P000220", "c": "91150300MA0P000339",
         "d": "91150400MA0P00044J"}
BOTH = ({"code": "truthfulness", "accepted": True}, {"code": "no_fee", "accepted": True})


def evaluator(inst_id: str, username: str = "eval_a") -> Actor:
    return Actor(username, "evaluator", "李评", institution=inst_id)


def review(**overrides) -> RegionReview:
    fields = dict(application_id="app-1", version_no=1, league="鄂尔多斯市",
                  enterprise={"id": "ent-1", **COAL_ENTERPRISE},
                  mine={"mine_id": "mine-001", "name": "鄂尔多斯示范煤矿"}, catalog_id="nm-2025", forwarded_at=AT,
                  forwarded_by="bureau", initial_report=None, confirmed_not_applicable=(), binding=(),
                  case_no="150600-2026-00001", calendar=CALENDAR, policy=POLICY)
    return RegionReview.open(**{**fields, **overrides})


def draw_for(population=("inst-a", "inst-b", "inst-c"), review_ids=("app-1.v1",)) -> DrawRecord:
    return DrawRecord.run(purpose="institutions", title="评估机构抽取", population=list(population),
                          entered_value="20260520", at=AT, by="region", count=len(population),
                          context={"review_ids": list(review_ids)}, labels={i: f"机构{i[-1]}" for i in population})


def commission(draw=None, institution=None, reason=None, at=AT, rev=None) -> Commission:
    draw = draw or draw_for()
    institution = institution or {"id": draw.selected[0], "name": "首选机构"}
    return Commission.create(review=rev or review(), institution=institution, draw=draw, reason=reason,
                             note="请按期开展现场评估", by="region", by_name="自治区自然资源厅", at=at,
                             calendar=CALENDAR, policy=POLICY)


# -- the pledges --------------------------------------------------------------------------------------------------
def test_the_pledge_vocabulary_holds_both_pledges_in_the_notices_words():
    pledges = load_pledges()
    assert pledges.codes == ("truthfulness", "no_fee")
    assert pledges.version
    texts = {p.code: p for p in pledges.pledges}
    assert texts["truthfulness"].title == "真实性承诺"
    assert "严禁向矿山企业收取评估费用" in texts["no_fee"].template
    assert "编制形成第三方评估报告并附核查记录及影像资料" in texts["truthfulness"].template
    assert "确保结果公平、公正" in texts["truthfulness"].template


def test_pledge_texts_are_filled_for_the_commission_and_hashed_exactly():
    c = commission()
    texts = load_pledges().texts_for(c.facts())
    for t in texts:
        assert "鄂尔多斯示范煤矿" in t["text"] and "150600-2026-00001" in t["text"] and "首选机构" in t["text"]
        assert "{" not in t["text"]
        assert t["sha256"] == hashlib.sha256(t["text"].encode("utf-8")).hexdigest() == sha256(t["text"])
    # A changed wording is a new version and a new hash.
    other = parse_pledges({"version": "2099.1", "pledges": [
        {"code": "truthfulness", "title": "真实性承诺", "text": "本机构（{institution}）承诺如实评估{mine}。"}]})
    assert other.texts_for(c.facts())[0]["sha256"] != texts[0]["sha256"]
    assert other.texts_for(c.facts())[0]["version"] == "2099.1"


# -- creating a commission ----------------------------------------------------------------------------------------
def test_a_commission_awaits_acceptance_for_the_accept_days_in_working_days():
    c = commission()
    assert c.status == "awaiting_acceptance" and c.status_label == "待评估机构接受"
    assert c.due_date == CALENDAR.add_working_days(date(2026, 5, 20), POLICY.accept_days)
    assert c.due_date == date(2026, 5, 25)          # Wed + 3 working days over a weekend
    assert c.choice_reason is None and c.proposed_institution["id"] == c.institution["id"]
    assert c.history[-1]["action"] == "commissioned"


def test_choosing_another_than_the_draws_first_needs_a_reason_which_is_recorded():
    draw = draw_for()
    second = draw.selected[1]
    with pytest.raises(InvalidInput) as refused:
        commission(draw, {"id": second, "name": "次选机构"})
    assert refused.value.errors[0].field == "reason"
    c = commission(draw, {"id": second, "name": "次选机构"}, reason="首选机构本月评估任务已满")
    assert c.choice_reason == "首选机构本月评估任务已满"
    assert c.proposed_institution == {"id": draw.selected[0], "name": draw.labels[draw.selected[0]]}
    assert "首选机构本月评估任务已满" in c.history[-1]["text"]


def test_a_commission_refuses_an_institution_outside_the_draw_or_a_draw_of_another_case():
    with pytest.raises(InvalidInput) as refused:
        commission(institution={"id": "inst-z", "name": "名录外"}, reason="x")
    assert refused.value.errors[0].field == "institution_id"
    with pytest.raises(InvalidInput) as refused:
        commission(draw_for(review_ids=("app-9.v1",)))
    assert refused.value.errors[0].field == "draw_id"
    spot = DrawRecord.run(purpose="spot_check_cases", title="抽查", population=["a", "b"], entered_value="1",
                          at=AT, by="region", ratio="0.5", context={"review_ids": ["app-1.v1"]})
    with pytest.raises(InvalidInput):
        commission(spot, {"id": "a", "name": "a"})


def test_only_a_case_awaiting_commission_can_be_commissioned():
    rev = review()
    rev.commissioned("com-x", {"id": "inst-a", "name": "a"}, "region", AT, CALENDAR, POLICY)
    with pytest.raises(InvalidTransition):
        commission(rev=rev)


# -- acceptance ---------------------------------------------------------------------------------------------------
def test_acceptance_signs_both_pledges_storing_signer_time_version_and_hash():
    c = commission()
    at = AT + timedelta(days=1)
    acceptance = c.accept(pledges=BOTH, signer_name=" 李评 ", signer_title="项目负责人", by="eval_a", at=at,
                          pledge_set=load_pledges())
    assert c.status == "accepted"
    assert acceptance["signer_name"] == "李评" and acceptance["signer_title"] == "项目负责人"
    assert acceptance["signed_by"] == "eval_a" and acceptance["signed_at"] == at.isoformat()
    assert [p["code"] for p in acceptance["pledges"]] == ["truthfulness", "no_fee"]
    for p in acceptance["pledges"]:
        assert p["version"] == load_pledges().version
        assert p["sha256"] == hashlib.sha256(p["text"].encode("utf-8")).hexdigest()
    assert "严禁向矿山企业收取评估费用" in acceptance["pledges"][1]["text"]
    with pytest.raises(InvalidTransition):
        c.accept(pledges=BOTH, signer_name="李评", signer_title="项目负责人", by="eval_a", at=at,
                 pledge_set=load_pledges())


@pytest.mark.parametrize("pledges, field", [
    (({"code": "truthfulness", "accepted": True},), "pledges.no_fee"),
    (({"code": "no_fee", "accepted": True},), "pledges.truthfulness"),
    (({"code": "truthfulness", "accepted": True}, {"code": "no_fee", "accepted": False}), "pledges.no_fee"),
    (({"code": "truthfulness", "accepted": "yes"}, {"code": "no_fee", "accepted": True}), "pledges.truthfulness"),
    ((*BOTH, {"code": "bribe", "accepted": True}), "pledges[2].code"),
    ((*BOTH, {"code": "no_fee", "accepted": True}), "pledges[2].code"),
    ((), "pledges.truthfulness"),
])
def test_acceptance_without_both_pledges_signed_is_refused_naming_the_missing_one(pledges, field):
    c = commission()
    with pytest.raises(InvalidInput) as refused:
        c.accept(pledges=pledges, signer_name="李评", signer_title="项目负责人", by="eval_a", at=AT,
                 pledge_set=load_pledges())
    assert field in {e.field for e in refused.value.errors}
    assert c.status == "awaiting_acceptance" and c.acceptance is None


def test_acceptance_needs_the_signers_name_and_title():
    c = commission()
    with pytest.raises(InvalidInput) as refused:
        c.accept(pledges=BOTH, signer_name=" ", signer_title="x" * 51, by="eval_a", at=AT, pledge_set=load_pledges())
    assert {e.field for e in refused.value.errors} == {"signer_name", "signer_title"}


def test_acceptance_is_possible_through_the_due_date_and_not_after_it():
    c = commission()
    last_day = datetime.combine(c.due_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)  # 23:00 北京
    c.accept(pledges=BOTH, signer_name="李评", signer_title="负责人", by="e", at=last_day, pledge_set=load_pledges())
    late = commission()
    day_after = datetime.combine(late.due_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=16)  # 00:00 北京
    with pytest.raises(InvalidTransition) as refused:
        late.accept(pledges=BOTH, signer_name="李评", signer_title="负责人", by="e", at=day_after,
                    pledge_set=load_pledges())
    assert "期限" in refused.value.message


# -- decline, expiry --------------------------------------------------------------------------------------------
def test_decline_needs_a_reason_and_ends_an_open_commission():
    c = commission()
    with pytest.raises(InvalidInput):
        c.decline(reason="  ", conflict=False, by="eval_a", by_name="李评", at=AT)
    c.decline(reason="评估人员不足", conflict=False, by="eval_a", by_name="李评", at=AT)
    assert c.status == "declined" and c.ended["outcome"] == "declined" and c.ended["conflict"] is False
    with pytest.raises(InvalidTransition):
        c.decline(reason="again", conflict=False, by="eval_a", by_name="李评", at=AT)
    recused = commission()
    recused.accept(pledges=BOTH, signer_name="李评", signer_title="负责人", by="e", at=AT, pledge_set=load_pledges())
    recused.decline(reason="发现曾为该企业提供咨询服务", conflict=True, by="eval_a", by_name="李评", at=AT)
    assert recused.status == "declined" and recused.ended["conflict"] is True
    assert "回避" in recused.history[-1]["text"]


def test_expiry_only_after_the_due_date_once_and_only_while_awaiting_acceptance():
    c = commission()
    assert not c.expire(c.due_date, AT)
    assert c.expire(c.due_date + timedelta(days=1), AT)
    assert c.status == "expired" and "未在期限" in c.ended["reason"] and c.ended["by"] == "system"
    assert not c.expire(c.due_date + timedelta(days=2), AT)
    accepted = commission()
    accepted.accept(pledges=BOTH, signer_name="李评", signer_title="负责人", by="e", at=AT, pledge_set=load_pledges())
    assert not accepted.expire(accepted.due_date + timedelta(days=5), AT)


def test_a_commission_round_trips_through_its_document():
    c = commission()
    c.accept(pledges=BOTH, signer_name="李评", signer_title="负责人", by="e", at=AT, pledge_set=load_pledges())
    again = Commission.from_dict({**c.to_dict(), "version": 3})
    assert again.to_dict() == c.to_dict() and again.version == 3 and again.id == c.id


# -- the handlers on the fakes ------------------------------------------------------------------------------------
@pytest.fixture
def uow():
    return FakeReviewUnitOfWork(ContractRegistry([CONTRACTS]))


@pytest.fixture
def clock():
    return Clock(AT)


@pytest.fixture
def bus(uow, clock):
    return make_bus(uow, clock)


def register(uow, key: str, name: str, **extra) -> EvaluationInstitution:
    inst = EvaluationInstitution.register(name=name, credit_code=CODES.get(key, key), contact=CONTACT, by="region",
                                          at=AT, institution_id=f"inst-{key}", **extra)
    uow.run(lambda: uow.institutions.save(inst))
    return inst


@pytest.fixture
def case(bus, uow, catalog, clock):
    """A forwarded case (awaiting commission) and two eligible institutions, a third banned, a fourth conflicted."""
    rid = forwarded(bus, uow, catalog)
    register(uow, "a", "甲评估咨询有限公司")
    register(uow, "b", "乙评估咨询有限公司")
    banned = register(uow, "c", "丙评估咨询有限公司")
    banned.record_finding(kind="collusion_fraud", facts="串通企业弄虚作假", found_on="2026-01-05", by="region",
                          by_name="自治区", at=AT)
    uow.run(lambda: uow.institutions.save(banned))
    enterprise = uow.region_reviews.get(rid).enterprise
    register(uow, "d", "丁评估咨询有限公司",
             conflicts=[{"kind": "consulting", "credit_code": enterprise["credit_code"], "note": "曾提供咨询"}])
    return rid


def draw(bus, rid, value="20260520"):
    return bus.handle(DrawInstitutions(REGION_OFFICE, (rid,), value))


def commission_first(bus, rid):
    d = draw(bus, rid)
    return bus.handle(CommissionInstitution(REGION_OFFICE, (rid,), d["proposal"]["id"], d["draw_id"]))["commissions"][0]


def test_the_draw_ranks_every_eligible_institution_and_publishes_the_excluded_with_reasons(bus, uow, case):
    answer = draw(bus, case)
    record = uow.draws.get(answer["draw_id"])
    assert list(record.population) == ["inst-a", "inst-b"]           # eligible, in id order
    assert record.count == 2 and len(record.selected) == 2          # the whole ranking
    assert answer["proposal"] == answer["ranking"][0] and answer["proposal"]["id"] == record.selected[0]
    assert {r["name"] for r in answer["ranking"]} == {"甲评估咨询有限公司", "乙评估咨询有限公司"}
    excluded = {e["id"]: e["reason"] for e in record.excluded}
    assert set(excluded) == {"inst-c", "inst-d"}
    assert "3年内不再采信" in excluded["inst-c"] and "利益冲突" in excluded["inst-d"]
    assert record.verifies()
    # Recomputed from the published record alone by the algorithm as written.
    pub = record.public()
    ranked = sorted(pub["population"], key=lambda i: hashlib.sha256(f"{pub['seed']}:{i}".encode()).hexdigest())
    assert ranked == pub["selected"]
    assert pub["seed"] == shared_draws.seed_for(pub["population"], "20260520")
    assert "institutions_drawn" in uow.audit.actions()


def test_the_draw_needs_the_entered_value_the_region_office_and_cases_awaiting_commission(bus, uow, case):
    with pytest.raises(InvalidInput) as refused:
        draw(bus, case, value=" ")
    assert refused.value.errors[0].field == "entered_value"
    with pytest.raises(NotPermitted):
        bus.handle(DrawInstitutions(evaluator("inst-a"), (case,), "1"))
    with pytest.raises(InvalidInput):
        bus.handle(DrawInstitutions(REGION_OFFICE, (), "1"))
    with pytest.raises(NotFound):
        bus.handle(DrawInstitutions(REGION_OFFICE, ("nope.v1",), "1"))
    commission_first(bus, case)
    with pytest.raises(InvalidTransition):
        draw(bus, case)


def test_no_eligible_institution_is_a_conflict(bus, uow, catalog):
    rid = forwarded(bus, uow, catalog)
    with pytest.raises(Conflict) as refused:
        draw(bus, rid)
    assert "没有符合条件的评估机构" in refused.value.message
    assert not uow.draws.docs


def test_commissioning_the_proposal_moves_the_case_and_publishes_the_event(bus, uow, case):
    d = draw(bus, case)
    made = bus.handle(CommissionInstitution(REGION_OFFICE, (case,), d["proposal"]["id"], d["draw_id"], "请尽快"))
    c = made["commissions"][0]
    assert c["status"] == "awaiting_acceptance" and c["due_date"] == "2026-05-25"
    rev = uow.region_reviews.get(case)
    assert rev.status == "commissioned" and rev.commission_id == c["commission_id"]
    assert rev.institution["id"] == d["proposal"]["id"]
    [event] = uow.events("review_routing.evaluation_commissioned")
    assert event["aggregate_id"] == c["commission_id"] and event["payload"]["draw_id"] == d["draw_id"]
    assert event["payload"]["choice_reason"] is None and event["payload"]["due_date"] == "2026-05-25"
    assert "evaluation_commissioned" in uow.audit.actions()


def test_a_banned_institution_cannot_be_commissioned(bus, uow, case):
    d = draw(bus, case)
    with pytest.raises(Conflict) as refused:
        bus.handle(CommissionInstitution(REGION_OFFICE, (case,), "inst-c", d["draw_id"], reason="指定"))
    assert "3年内不再采信" in refused.value.message and "丙评估咨询有限公司" in refused.value.message
    with pytest.raises(Conflict) as refused:
        bus.handle(CommissionInstitution(REGION_OFFICE, (case,), "inst-d", d["draw_id"], reason="指定"))
    assert "利益冲突" in refused.value.message
    assert uow.region_reviews.get(case).status == "awaiting_commission"
    assert not uow.commissions.docs and not uow.events("review_routing.evaluation_commissioned")


def test_an_institution_banned_after_the_draw_is_refused(bus, uow, case):
    d = draw(bus, case)
    inst = uow.institutions.get(d["proposal"]["id"])
    inst.record_finding(kind="leak_secrets", facts="泄露矿山企业秘密", found_on="2026-05-19", by="region",
                        by_name="自治区", at=AT)
    uow.run(lambda: uow.institutions.save(inst))
    with pytest.raises(Conflict):
        bus.handle(CommissionInstitution(REGION_OFFICE, (case,), inst.id, d["draw_id"]))


def test_another_than_the_draws_first_needs_a_reason(bus, uow, case):
    d = draw(bus, case)
    second = d["ranking"][1]["id"]
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CommissionInstitution(REGION_OFFICE, (case,), second, d["draw_id"]))
    assert refused.value.errors[0].field == "reason"
    made = bus.handle(CommissionInstitution(REGION_OFFICE, (case,), second, d["draw_id"], reason="首选机构在外地"))
    assert uow.commissions.get(made["commissions"][0]["commission_id"]).choice_reason == "首选机构在外地"
    assert uow.events("review_routing.evaluation_commissioned")[0]["payload"]["choice_reason"] == "首选机构在外地"


def test_a_batch_is_drawn_once_and_commissioned_in_one_transaction(bus, uow, catalog, case):
    other = forwarded(bus, uow, catalog, app_id="app-2")
    d = bus.handle(DrawInstitutions(REGION_OFFICE, (case, other), "batch-1"))
    assert d["review_ids"] == [case, other]
    made = bus.handle(CommissionInstitution(REGION_OFFICE, (case, other), d["proposal"]["id"], d["draw_id"]))
    assert [c["review_id"] for c in made["commissions"]] == [case, other]
    assert len(uow.events("review_routing.evaluation_commissioned")) == 2
    # Nothing half-written: a batch with one case already commissioned changes nothing.
    third = forwarded(bus, uow, catalog, app_id="app-3")
    d3 = bus.handle(DrawInstitutions(REGION_OFFICE, (third,), "x"))
    with pytest.raises(InvalidTransition):
        bus.handle(CommissionInstitution(REGION_OFFICE, (third, case), d3["proposal"]["id"], d3["draw_id"]))
    assert uow.region_reviews.get(third).status == "awaiting_commission"


def test_a_draw_of_another_case_cannot_serve(bus, uow, catalog, case):
    other = forwarded(bus, uow, catalog, app_id="app-2")
    d = draw(bus, other)
    with pytest.raises(InvalidInput) as refused:
        bus.handle(CommissionInstitution(REGION_OFFICE, (case,), d["proposal"]["id"], d["draw_id"]))
    assert refused.value.errors[0].field == "draw_id"
    with pytest.raises(InvalidInput):
        bus.handle(CommissionInstitution(REGION_OFFICE, (case,), "inst-a", "no-such-draw"))


def test_the_institution_accepts_with_both_pledges_and_the_case_is_under_evaluation(bus, uow, case, clock):
    c = commission_first(bus, case)
    me = evaluator(c["institution"]["id"])
    clock.advance(days=1)
    view = bus.handle(ShowCommission(me, c["commission_id"]))
    assert view["permissions"] == {"accept": True, "decline": True}
    assert [p["code"] for p in view["pledge_texts"]] == ["truthfulness", "no_fee"]
    shown = {p["code"]: p["sha256"] for p in view["pledge_texts"]}
    done = bus.handle(AcceptCommission(me, c["commission_id"], BOTH, "李评", "项目负责人"))
    assert done["status"] == "accepted"
    assert {p["code"]: p["sha256"] for p in done["acceptance"]["pledges"]} == shown
    rev = uow.region_reviews.get(case)
    assert rev.status == "under_evaluation"
    assert rev.due_date == CALENDAR.add_working_days(date(2026, 5, 21), POLICY.region_step_days("evaluation"))
    [event] = uow.events("review_routing.commission_accepted")
    assert event["payload"]["signer"] == {"name": "李评", "title": "项目负责人", "username": "eval_a"}
    assert {p["code"]: p["sha256"] for p in event["payload"]["pledges"]} == shown
    assert event["payload"]["signed_at"] == "2026-05-21T02:00:00Z"


def test_a_replayed_accept_changes_nothing(bus, uow, case, clock):
    c = commission_first(bus, case)
    me = evaluator(c["institution"]["id"])
    first = bus.handle(AcceptCommission(me, c["commission_id"], BOTH, "李评", "项目负责人"))
    stored = uow.commissions.docs[c["commission_id"]]
    before = (stored["version"], len(uow.published), len(uow.audit.docs), uow.region_reviews.get(case).version)
    clock.advance(hours=2)
    again = bus.handle(AcceptCommission(me, c["commission_id"], BOTH, "别人", "别的职务"))
    assert again["acceptance"] == first["acceptance"]
    after = uow.commissions.docs[c["commission_id"]]
    assert (after["version"], len(uow.published), len(uow.audit.docs), uow.region_reviews.get(case).version) == before


def test_only_the_commissioned_institutions_evaluators_accept_and_see_it(bus, uow, case):
    c = commission_first(bus, case)
    other = "inst-b" if c["institution"]["id"] == "inst-a" else "inst-a"
    with pytest.raises(NotPermitted):
        bus.handle(AcceptCommission(evaluator(other, "eval_b"), c["commission_id"], BOTH, "王", "负责人"))
    with pytest.raises(NotPermitted):
        bus.handle(AcceptCommission(REGION_OFFICE, c["commission_id"], BOTH, "王", "负责人"))
    with pytest.raises(NotPermitted):
        bus.handle(ShowCommission(evaluator(other, "eval_b"), c["commission_id"]))
    assert bus.handle(ListCommissions(evaluator(other, "eval_b"))) == []
    mine = bus.handle(ListCommissions(evaluator(c["institution"]["id"])))
    assert [m["commission_id"] for m in mine] == [c["commission_id"]]
    assert len(bus.handle(ListCommissions(REGION_OFFICE))) == 1
    with pytest.raises(InvalidInput):
        bus.handle(ListCommissions(REGION_OFFICE, ("nonsense",)))
    with pytest.raises(NotFound):
        bus.handle(ShowCommission(REGION_OFFICE, "com-none"))


def test_acceptance_after_the_due_date_is_refused(bus, uow, case, clock):
    c = commission_first(bus, case)
    clock.now = datetime(2026, 5, 25, 16, 0, tzinfo=UTC)    # 2026-05-26 00:00 Beijing, the day after
    with pytest.raises(InvalidTransition):
        bus.handle(AcceptCommission(evaluator(c["institution"]["id"]), c["commission_id"], BOTH, "李评", "负责人"))
    assert uow.region_reviews.get(case).status == "commissioned"


def test_a_declined_commission_sends_the_case_back_to_the_queue(bus, uow, case):
    c = commission_first(bus, case)
    me = evaluator(c["institution"]["id"])
    with pytest.raises(InvalidInput):
        bus.handle(DeclineCommission(me, c["commission_id"], ""))
    done = bus.handle(DeclineCommission(me, c["commission_id"], "本月评估人员不足"))
    assert done["status"] == "declined"
    rev = uow.region_reviews.get(case)
    assert rev.status == "awaiting_commission" and rev.commission_id is None
    [event] = uow.events("review_routing.commission_declined")
    assert event["payload"]["outcome"] == "declined" and event["payload"]["reason"] == "本月评估人员不足"
    assert event["payload"]["conflict"] is False
    # The case can be drawn and commissioned again; the institution that declined is still eligible.
    assert c["institution"]["id"] in {r["id"] for r in draw(bus, case, "again")["ranking"]}


def test_a_recusal_for_a_conflict_teaches_the_register_and_the_next_draw_excludes_it(bus, uow, case):
    c = commission_first(bus, case)
    inst_id = c["institution"]["id"]
    bus.handle(AcceptCommission(evaluator(inst_id), c["commission_id"], BOTH, "李评", "负责人"))
    bus.handle(DeclineCommission(evaluator(inst_id), c["commission_id"], "发现本机构曾为该企业编制储量报告", True))
    inst = uow.institutions.get(inst_id)
    learnt = inst.conflict_with(uow.region_reviews.get(case).enterprise)
    assert learnt is not None and "发现本机构曾为该企业编制储量报告" in learnt.note
    assert uow.region_reviews.get(case).status == "awaiting_commission"
    again = draw(bus, case, "again")
    assert inst_id not in {r["id"] for r in again["ranking"]}
    assert "利益冲突" in {e["id"]: e["reason"] for e in again["excluded"]}[inst_id]
    assert uow.events("review_routing.commission_declined")[0]["payload"]["conflict"] is True


def test_the_sweep_expires_unaccepted_commissions_once(bus, uow, case, clock):
    c = commission_first(bus, case)
    policy, calendar = bus.dependencies["policy"], bus.dependencies["calendar"]
    assert expire_commissions(uow, datetime(2026, 5, 25, 10, 0, tzinfo=UTC), calendar, policy) == 0
    later = datetime(2026, 5, 26, 2, 0, tzinfo=UTC)
    assert expire_commissions(uow, later, calendar, policy) == 1
    assert expire_commissions(uow, later, calendar, policy) == 0
    assert uow.commissions.get(c["commission_id"]).status == "expired"
    rev = uow.region_reviews.get(case)
    assert rev.status == "awaiting_commission" and rev.commission_id is None
    [event] = uow.events("review_routing.commission_declined")
    assert event["payload"]["outcome"] == "expired" and event["payload"]["ended_by"] == "system"
    assert "commission_expired" in uow.audit.actions()
    with pytest.raises(InvalidTransition):
        bus.handle(AcceptCommission(evaluator(c["institution"]["id"]), c["commission_id"], BOTH, "李评", "负责人"))


def test_the_handlers_are_on_the_bus():
    assert set(com.COMMAND_HANDLERS) == {DrawInstitutions, CommissionInstitution, AcceptCommission,
                                         DeclineCommission, ListCommissions, ShowCommission}
