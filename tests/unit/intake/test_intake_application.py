from __future__ import annotations

import copy
import json
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intake_builders import (
    ASSESSMENT,
    CREDIT_CODE,
    TODAY,
    at,
    attachment,
    mine_data,
    ready_application,
    returned,
    submitted,
)

from intake.domain import application as appmod
from intake.domain.application import (
    ACTIONS,
    STATUSES,
    TRANSITIONS,
    Application,
    ApplicationResubmitted,
    ApplicationSubmitted,
    allowed_actions,
)
from intake.domain.errors import (
    FieldError,
    InvalidApplicationData,
    InvalidTransition,
    NotEditable,
    SubmissionRefused,
)
from intake.domain.mine import Mine

# -- creation ------------------------------------------------------------------------------------------------


def test_start_creates_a_draft_with_history():
    app = Application.start("a1", "m1", " 9144 0300 1922 0382 16", "nm-2025", at(), "u1")
    assert app.status == "draft" and app.status_label == "草稿" and app.is_editable
    assert app.credit_code == CREDIT_CODE
    assert [h.action for h in app.history] == ["created"]
    assert app.events == []  # only submissions are events other services hear of
    assert app.created_at == app.updated_at == at() and app.revision == 1
    assert app.versions == [] and app.latest_version is None


def test_start_refuses_bad_identity_listing_every_field():
    with pytest.raises(InvalidApplicationData) as exc:
        Application.start("", "", "914403001922038217", "", at(), "u1")
    assert [e.field for e in exc.value.errors] == ["id", "mine_id", "credit_code", "catalog"]
    assert "校验位不正确" in exc.value.errors[2].message


def test_time_must_be_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        Application.start("a1", "m1", CREDIT_CODE, "nm-2025", datetime(2025, 7, 1, 9), "u1")


def test_start_with_an_assessment():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1", assessment=ASSESSMENT)
    assert app.assessment == ASSESSMENT
    assert [h.action for h in app.history] == ["created", "draft_updated"]


# -- the status machine --------------------------------------------------------------------------------------


def test_transition_table_is_closed_over_known_statuses_and_actions():
    for (status, action), target in TRANSITIONS.items():
        assert status in STATUSES and target in STATUSES and action in ACTIONS
    # every status is reachable from draft
    reachable, frontier = {"draft"}, ["draft"]
    while frontier:
        s = frontier.pop()
        for (src, _a), dst in TRANSITIONS.items():
            if src == s and dst not in reachable:
                reachable.add(dst)
                frontier.append(dst)
    assert reachable == set(STATUSES)
    assert allowed_actions("routed") == ["return", "forward", "reject"]
    assert allowed_actions("rejected") == [] and allowed_actions("removed") == []


def _do(app: Application, action: str) -> None:
    t = at(100)
    if action in ("submit", "resubmit"):
        app.submit(t, "ent-user")
    elif action == "route":
        app.mark_routed(t, "review_routing")
    elif action == "return":
        app.return_for_correction(t, "nr", {"9": "理由"})
    elif action == "forward":
        app.forward(t, "nr")
    elif action == "reject":
        app.reject(t, "nr", comment="不符合条件")
    elif action == "list":
        app.mark_listed(t, "public_notice")
    elif action == "not_list":
        app.mark_not_listed(t, "public_notice")
    elif action == "remove":
        app.mark_removed(t, "supervision")
    elif action == "commission":
        app.mark_commissioned(t, "review_routing")
    elif action == "propose":
        app.propose(t, "review_routing")
    elif action == "rectify":
        app.rectify(t, "review_routing", {"9": "整改理由"})
    elif action == "region_reject":
        app.region_reject(t, "review_routing", comment="自治区评估不予通过")
    elif action == "publicise":
        app.publicise(t, "public_notice")
    elif action == "objection_return":
        app.return_after_objection(t, "public_notice")
    else:  # pragma: no cover
        raise AssertionError(action)


def _app_in(status: str) -> Application:
    app = ready_application()
    app.status = status
    if status != "draft":
        # give it a version 1 (as if submitted earlier) so a return/resubmission has one to follow
        app.versions.append(appmod.ApplicationVersion(
            1, at(5), "ent-user", appmod.freeze(ASSESSMENT), appmod.freeze({}), False, tuple(app.attachments)))
        if status in ("returned", "rectification"):
            app.set_record("1", "补正后的记录", at(6), "ent-user")  # a change on top of version 1
    app.events.clear()
    return app


ALL_PAIRS = [(s, a) for s in STATUSES for a in ACTIONS if a != "resubmit"]


@pytest.mark.parametrize("status,action", ALL_PAIRS, ids=[f"{s}-{a}" for s, a in ALL_PAIRS])
def test_every_status_action_pair(status, action):
    app = _app_in(status)
    # "submit" from returned (or the region's rectification) is a resubmission: the table names it "resubmit"
    table_action = "resubmit" if (action == "submit" and status in ("returned", "rectification")) else action
    expected = TRANSITIONS.get((status, table_action))
    if expected is None:
        history = len(app.history)
        with pytest.raises(InvalidTransition) as exc:
            _do(app, action)
        assert exc.value.status == status
        assert f"申报当前状态为“{STATUSES[status]}”，不能{ACTIONS[action]}" in str(exc.value)
        assert app.status == status and len(app.history) == history and app.events == []
    else:
        _do(app, action)
        assert app.status == expected
        assert app.history[-1].action == table_action
        assert app.history[-1].detail["from"] == status and app.history[-1].detail["to"] == expected


def test_invalid_transition_message_lists_what_is_possible(app):
    with pytest.raises(InvalidTransition) as exc:
        app.forward(at(5), "nr")
    assert str(exc.value) == "申报当前状态为“草稿”，不能报自治区（当前可进行：提交申报）"
    submitted(app)
    app.mark_routed(at(20), "rr")
    app.reject(at(30), "nr", comment="先决条件P4不满足")
    with pytest.raises(InvalidTransition, match="当前状态下不能再进行任何操作"):
        app.mark_routed(at(40), "rr")


def test_route_twice_is_refused(app):
    submitted(app).mark_routed(at(20), "rr")
    with pytest.raises(InvalidTransition):
        app.mark_routed(at(21), "rr")
    assert app.can("forward") and not app.can("route")


def test_full_listing_path(app):
    submitted(app)
    app.mark_routed(at(20), "review_routing")
    app.forward(at(30), "nr-ordos", comment="初审通过")
    app.mark_listed(at(40), "public_notice", {"notice": "2025-第1批"})
    app.mark_removed(at(50), "supervision", {"reason": "采矿许可证过期未延续"})
    assert app.status == "removed" and app.status_label == "已移出绿色矿山名录"
    assert [h.action for h in app.history][-5:] == ["submit", "route", "forward", "list", "remove"]


# -- draft editing -------------------------------------------------------------------------------------------


def test_assessment_is_stored_as_plain_json_with_decimals_as_strings():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    a = copy.deepcopy(ASSESSMENT)
    a["indicators"]["1"] = {"score": Decimal("1.5")}
    a["indicators"]["2"] = {"score": 1.5}
    a["prerequisites"] = {"P1": True}
    del a["catalog"]
    app.update_draft(at(1), "u1", assessment=a)
    assert app.assessment["indicators"]["1"] == {"score": "1.5"}
    assert app.assessment["indicators"]["2"] == {"score": "1.5"}
    assert app.assessment["catalog"] == "nm-2025"  # defaulted to the application's index
    json.dumps(app.to_dict())


@pytest.mark.parametrize(
    "assessment,field,fragment",
    [
        ("not a dict", "assessment", "应为一个对象"),
        ({"indicators": {"1": {"score": float("nan")}}}, "assessment", "不是有限数字"),
        ({"indicators": {"1": {"score": Decimal("Infinity")}}}, "assessment", "不是有限数字"),
        ({"indicators": {1: {"score": 2}}}, "assessment", "键应为文字"),
        ({"indicators": {"1": {"score": object()}}}, "assessment", "类型不受支持"),
        ({"catalog": "nm-2030", "indicators": {}}, "assessment.catalog", "应为“nm-2025”"),
    ],
)
def test_assessment_errors(assessment, field, fragment):
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    with pytest.raises(InvalidApplicationData) as exc:
        app.update_draft(at(1), "u1", assessment=assessment)
    assert exc.value.errors[0].field == field and fragment in exc.value.errors[0].message
    assert app.assessment is None and app.revision == 1


def test_update_draft_is_all_or_nothing():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    with pytest.raises(InvalidApplicationData) as exc:
        app.update_draft(at(1), "u1", assessment=ASSESSMENT, records={"99x": "?"}, declared_penalties="是")
    assert [e.field for e in exc.value.errors] == ["records.99x", "declared_penalties"]
    assert app.assessment is None and app.records == {} and app.declared_penalties is None


def test_the_draft_and_a_new_version_say_which_evidence_supports_each_entry():
    """缺少支撑材料或证明材料不得分: every scored entry carries `evidence` (the ids of its indicator's evidence files,
    possibly none) for the live score and the submission; not-applicable entries carry none."""
    app = ready_application()
    app.add_attachment(attachment("evidence", indicator="3", id="ev-3a"), at(3), "ent-user")
    app.add_attachment(attachment("evidence", indicator="3", id="ev-3b"), at(3), "ent-user")
    app.add_attachment(attachment("evidence", indicator="P1", id="ev-p1"), at(3), "ent-user")
    merged = app.assessment_with_records()
    assert merged["indicators"]["3"]["evidence"] == ["ev-3a", "ev-3b"]
    assert merged["indicators"]["1"]["evidence"] == []
    assert "evidence" not in merged["indicators"]["16"]            # 不涉及 needs no evidence
    assert "evidence" not in app.assessment["indicators"]["3"]     # the draft itself is untouched
    version = app.submit(at(10), "ent-user")
    assert version.evidence_rule and version.assessment_with_records() == merged
    stored = version.to_dict()
    assert stored["evidence_rule"] is True
    assert type(version).from_dict(stored).assessment_with_records() == merged
    # A version stored before the rule is read without evidence: its score does not change.
    old = {k: v for k, v in stored.items() if k != "evidence_rule"}
    assert all("evidence" not in e for e in type(version).from_dict(old).assessment_with_records()["indicators"]
               .values())


def test_records_per_indicator():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    app.update_draft(at(1), "u1", assessment=ASSESSMENT,
                     records={"1": "张三于2025-06-20查看了矿区功能分区", "P4": "储量年报"})
    app.set_record("3", "发现一处标牌缺失", at(2), "u1")
    app.set_record("P4", "", at(3), "u1")  # clears
    assert app.records == {"1": "张三于2025-06-20查看了矿区功能分区", "3": "发现一处标牌缺失"}
    merged = app.assessment_with_records()
    assert merged["indicators"]["1"] == {"score": 2, "record": "张三于2025-06-20查看了矿区功能分区", "evidence": []}
    assert merged["indicators"]["3"] == {"findings": 1, "record": "发现一处标牌缺失", "evidence": []}
    assert "record" not in merged["indicators"]["16"]
    assert "record" not in app.assessment["indicators"]["1"]  # the draft itself is untouched
    with pytest.raises(InvalidApplicationData, match="过长"):
        app.set_record("5", "字" * 5001, at(4), "u1")
    with pytest.raises(InvalidApplicationData, match="不是指标编号"):
        app.set_record("51a", "x", at(4), "u1")
    with pytest.raises(InvalidApplicationData, match="应为文字"):
        app.update_draft(at(4), "u1", records={"5": 5})
    with pytest.raises(InvalidApplicationData, match="格式不正确"):
        app.update_draft(at(4), "u1", records=["5"])


def test_attachments_and_evidence(app):
    ev = attachment("evidence", indicator="9", id="ev-9")
    app.add_attachment(ev, at(3), "ent-user")
    assert app.evidence_for("9") == [ev]
    assert app.history[-1].action == "attachment_added" and app.history[-1].detail["indicator"] == "9"
    assert app.remove_attachment("ev-9", at(4), "ent-user") == ev
    assert app.evidence_for("9") == []
    with pytest.raises(InvalidApplicationData, match="附件不存在"):
        app.remove_attachment("ev-9", at(5), "ent-user")


@pytest.mark.parametrize(
    "ref,field,fragment",
    [
        (lambda: attachment("evidence"), "attachment.indicator", "须注明所属指标"),
        (lambda: attachment("evidence", indicator="99x"), "attachment.indicator", "不是指标编号"),
        (lambda: attachment("nope_kind", content_type="application/pdf"), "attachment.kind", "未知的材料类型"),
        (lambda: attachment("mining_licence", content_type="text/html"), "attachment.file", "不接受该文件类型"),
        (lambda: attachment("mining_licence", size=50 * 1024 * 1024), "attachment.file", "不能超过"),
        (lambda: attachment("mining_licence", sha256="abc"), "attachment.sha256", "SHA-256"),
        (lambda: attachment("mining_licence", filename=""), "attachment.filename", "不能为空"),
        (lambda: attachment("mining_licence", id=""), "attachment.id", "不能为空"),
        (lambda: attachment("mining_licence", uploaded_at=datetime(2025, 1, 1)), "attachment.uploaded_at", "时区"),
    ],
)
def test_attachment_refusals(app, ref, field, fragment):
    r = ref()
    count = len(app.attachments)
    with pytest.raises(InvalidApplicationData) as exc:
        app.add_attachment(r, at(3), "ent-user")
    assert any(e.field == field and fragment in e.message for e in exc.value.errors), exc.value.errors
    assert len(app.attachments) == count


def test_duplicate_attachment_id_refused(app):
    with pytest.raises(InvalidApplicationData, match="附件已存在"):
        app.add_attachment(app.attachments[0], at(3), "ent-user")


def test_nothing_is_editable_after_submission(app):
    submitted(app)
    for edit in (
        lambda: app.update_draft(at(11), "u", assessment=ASSESSMENT),
        lambda: app.set_record("1", "x", at(11), "u"),
        lambda: app.add_attachment(attachment("other"), at(11), "u"),
        lambda: app.remove_attachment(app.attachments[0].id, at(11), "u"),
    ):
        with pytest.raises(NotEditable, match="只有草稿或退回补正的申报可以修改"):
            edit()


# -- submission ----------------------------------------------------------------------------------------------


def test_check_can_submit_lists_everything_missing():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    problems = app.check_can_submit()
    fields = [p.field for p in problems]
    assert fields[:2] == ["assessment", "declared_penalties"]
    assert "materials.truthfulness_pledge" in fields and "materials.mining_licence" in fields
    assert "materials.penalty_rectification" not in fields
    pledge = next(p for p in problems if p.field == "materials.truthfulness_pledge")
    assert pledge.message == "申报材料（六）：缺少“申报材料真实性承诺书”"


def test_submit_refused_changes_nothing():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    app.update_draft(at(1), "u1", assessment=ASSESSMENT)
    before = app.to_dict()
    with pytest.raises(SubmissionRefused) as exc:
        app.submit(at(2), "u1")
    assert "申报材料尚不齐全，暂不能提交" in str(exc.value)
    assert {e.field for e in exc.value.errors} >= {"declared_penalties", "materials.site_photos"}
    assert app.to_dict() == before and app.versions == []


def test_penalties_declared_make_the_rectification_proof_required():
    app = ready_application(declared_penalties=False)
    app.update_draft(at(3), "ent-user", declared_penalties=True)
    assert [p.field for p in app.check_can_submit()] == ["materials.penalty_rectification"]
    app.add_attachment(attachment("penalty_rectification"), at(4), "ent-user")
    assert app.check_can_submit() == []


def test_assessment_and_mine_problems_are_passed_through(app):
    mine_problem = FieldError("mine.safety_licence.valid_to", "安全生产许可证已于2025-06-30过期")
    problems = app.check_can_submit(
        assessment_errors=[FieldError("indicators.12", "缺少第12项"),
                           {"field": "prerequisites.P3", "message": "缺少P3"},
                           "总体格式错误"],
        mine_problems=[mine_problem],
    )
    assert problems == [
        FieldError("assessment.indicators.12", "自评估：缺少第12项"),
        FieldError("assessment.prerequisites.P3", "自评估：缺少P3"),
        FieldError("assessment", "自评估：总体格式错误"),
        mine_problem,
    ]
    with pytest.raises(SubmissionRefused):
        app.submit(at(10), "ent-user", mine_problems=[mine_problem])


def test_an_explicit_checklist_can_be_given(app):
    checklist = [{"kind": "truthfulness_pledge", "label": "申报材料真实性承诺书", "status": "missing"}]
    assert [p.field for p in app.check_can_submit(checklist)] == ["materials.truthfulness_pledge"]
    assert app.check_can_submit(app.evaluate_materials()) == []


def test_submit_freezes_a_version(app):
    mine = Mine.create(mine_data(), TODAY, id="mine-1")
    v = app.submit(at(10), "ent-user", mine_snapshot=mine.to_dict())
    assert v.number == 1 and v.submitted_at == at(10) and v.submitted_by == "ent-user"
    assert app.status == "submitted" and app.latest_version is v and app.version(1) is v
    assert v.assessment == ASSESSMENT and v.mine["league"] == "ordos"
    assert v.attachments == tuple(app.attachments) and v.declared_penalties is False
    assert v.score_report is None
    assert app.events[-1] == ApplicationSubmitted("app-1", "mine-1", CREDIT_CODE, "nm-2025", 1, at(10), "ent-user")
    assert app.history[-1].action == "submit" and app.history[-1].detail["version"] == 1


def test_versions_are_deeply_read_only(app):
    v = submitted(app).latest_version
    with pytest.raises(TypeError):
        v.assessment["catalog"] = "x"
    with pytest.raises(TypeError):
        v.assessment["indicators"]["1"]["score"] = 0
    with pytest.raises(AttributeError):
        v.number = 2
    # plain copies are independent
    d = v.to_dict()
    d["assessment"]["indicators"]["1"]["score"] = 0
    assert v.assessment["indicators"]["1"]["score"] == 2


def test_the_draft_does_not_alias_the_version(app):
    v = submitted(app).latest_version
    app.assessment["indicators"]["1"]["score"] = 0  # even an in-place change of the working copy
    assert v.assessment["indicators"]["1"]["score"] == 2


def test_return_and_resubmit(app):
    returned(app)
    assert app.status == "returned" and app.is_editable
    r = app.current_return
    assert r.version == 1 and r.actor == "nr-ordos" and r.comment == "请补充后重新提交"
    assert dict(r.reasons) == {"9": "缺少凿岩降尘的现场照片", "materials.site_photos": "照片不清晰"}
    assert app.history[-1].action == "return" and app.history[-1].detail["to"] == "returned"
    assert app.history[-1].detail["reasons"]["9"] == "缺少凿岩降尘的现场照片"

    # nothing changed yet: refused
    with pytest.raises(SubmissionRefused, match="没有任何修改"):
        app.submit(at(40), "ent-user")

    # answer the return on top of version 1
    app.add_attachment(attachment("evidence", indicator="9", id="ev-9"), at(41), "ent-user")
    app.set_record("9", "补充了凿岩降尘照片", at(42), "ent-user")
    assert app.has_unsubmitted_changes()
    v2 = app.submit(at(43), "ent-user")
    assert v2.number == 2 and app.status == "resubmitted"
    assert app.events[-1] == ApplicationResubmitted(
        "app-1", "mine-1", CREDIT_CODE, "nm-2025", 2, 1, at(43), "ent-user")
    assert app.current_return is None

    # version 1 is still there, unchanged
    v1 = app.version(1)
    assert v1.records == {} and v1.evidence_for("9") == []
    assert v2.records == {"9": "补充了凿岩降尘照片"} and [a.id for a in v2.evidence_for("9")] == ["ev-9"]
    assert not app.has_unsubmitted_changes()

    # routed again, with the earlier return kept
    app.mark_routed(at(50), "review_routing")
    assert app.status == "routed" and len(app.returns) == 1
    app.return_for_correction(at(60), "nr-ordos", {"P4": "储量年报未盖章"})
    assert [r.version for r in app.returns] == [1, 2]


def test_attachment_removed_from_draft_stays_in_the_version(app):
    first = app.attachments[0].id
    returned(app)
    app.remove_attachment(first, at(41), "ent-user")
    assert app.is_referenced_by_a_version(first)
    assert first in [a.id for a in app.version(1).attachments]


@pytest.mark.parametrize(
    "reasons,fragment",
    [
        ({}, "请至少就一项指标或材料说明退回理由"),
        ({"9": "  "}, "理由不能为空"),
        ({"x9": "理由"}, "不是指标编号或材料类型"),
        ({"materials.nope": "理由"}, "不是指标编号或材料类型"),
        ({"9": "长" * 2001}, "过长"),
        ("理由", "格式不正确"),
    ],
)
def test_return_reason_errors(app, reasons, fragment):
    submitted(app).mark_routed(at(20), "rr")
    with pytest.raises(InvalidApplicationData, match=fragment):
        app.return_for_correction(at(30), "nr", reasons)
    assert app.status == "routed" and app.returns == []


def test_return_accepts_general_and_prerequisite_keys(app):
    submitted(app).mark_routed(at(20), "rr")
    app.return_for_correction(at(30), "nr", {"general": "请补充材料", "P1": "安全生产许可证即将到期"})
    assert set(app.current_return.reasons) == {"general", "P1"}


def test_reject_needs_a_reason(app):
    submitted(app).mark_routed(at(20), "rr")
    with pytest.raises(InvalidApplicationData, match="须说明理由"):
        app.reject(at(30), "nr")
    app.reject(at(30), "nr", {"P4": "剩余储量可采年限不足3年"})
    assert app.status == "rejected"
    assert app.history[-1].detail["reasons"] == {"P4": "剩余储量可采年限不足3年"}


# -- property: random walks stay inside the table ------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(ACTIONS) + ["edit"]), max_size=25))
def test_random_action_sequences_follow_the_table(actions):
    app = ready_application()
    n = 0
    for action in actions:
        n += 1
        before = app.status
        versions = len(app.versions)
        try:
            if action == "edit":
                app.set_record("1", f"记录{n}", at(1000 + n), "ent-user")
            else:
                _do(app, "submit" if action == "resubmit" else action)
        except (InvalidTransition, NotEditable, SubmissionRefused):
            assert app.status == before and len(app.versions) == versions
            continue
        if action == "edit":
            assert app.status == before
        else:
            act = action
            if action in ("submit", "resubmit"):
                act = "resubmit" if before in ("returned", "rectification") else "submit"
            assert TRANSITIONS[(before, act)] == app.status
            assert len(app.versions) == versions + (1 if act in ("submit", "resubmit") else 0)
    # every frozen version is numbered 1..n and readable
    assert [v.number for v in app.versions] == list(range(1, len(app.versions) + 1))
    json.dumps(app.to_dict())
