"""Autosave edits the draft every few seconds: one history entry per editing session, revision on every save."""
from __future__ import annotations

from datetime import timedelta

from intake_builders import CREDIT_CODE, at

from intake.domain.application import DRAFT_LOG_WINDOW, Application


def test_consecutive_draft_edits_share_one_history_entry():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    app.update_draft(at(1), "u1", declared_penalties=False)
    app.update_draft(at(2), "u1", records={"3": "查看警示牌"})
    app.update_draft(at(3), "u1", assessment={"indicators": {"1": {"score": 2}}})
    assert [h.action for h in app.history] == ["created", "draft_updated"]
    last = app.history[-1]
    assert last.at == at(3) and last.detail["since"] == at(1).isoformat()
    assert list(last.detail["fields"]) == ["assessment", "declared_penalties", "records"]
    assert app.revision == 4 and app.updated_at == at(3)


def test_a_new_entry_after_the_window_another_person_or_another_step():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    app.update_draft(at(1), "u1", declared_penalties=False)
    window = int(DRAFT_LOG_WINDOW / timedelta(minutes=1))
    app.update_draft(at(2 + window), "u1", declared_penalties=True)
    app.update_draft(at(3 + window), "u2", declared_penalties=False)
    app.set_record("3", "查看警示牌", at(4 + window), "u2")
    app.update_draft(at(5 + window), "u2", declared_penalties=True)
    assert [(h.action, h.actor) for h in app.history] == [
        ("created", "u1"), ("draft_updated", "u1"), ("draft_updated", "u1"), ("draft_updated", "u2"),
        ("record_updated", "u2"), ("draft_updated", "u2")]


def test_coalesced_history_round_trips():
    app = Application.start("a1", "m1", CREDIT_CODE, "nm-2025", at(), "u1")
    app.update_draft(at(1), "u1", declared_penalties=False)
    app.update_draft(at(2), "u1", declared_penalties=True)
    again = Application.from_dict(app.to_dict())
    assert again.to_dict() == app.to_dict()
    again.update_draft(at(3), "u1", declared_penalties=False)
    assert len(again.history) == 2 and again.history[-1].detail["since"] == at(1).isoformat()
