"""The application's record: a version's score report written once, the history of every step, the events for
the loop, the round trip through plain JSON."""
from __future__ import annotations

import json

import pytest
from intake_builders import REPORT, at, returned, submitted

from intake.domain.application import Application
from intake.domain.errors import VersionFrozen

# -- score report --------------------------------------------------------------------------------------------


def test_score_report_written_once(app):
    submitted(app)
    assert app.record_score_report(1, REPORT, at(11), "scoring") is True
    assert app.version(1).score_report["verdict"] == "qualified"
    assert app.history[-1].action == "score_recorded" and app.history[-1].detail["verdict"] == "qualified"
    assert app.record_score_report(1, dict(REPORT), at(12)) is False  # replayed event: no change
    with pytest.raises(VersionFrozen, match="已有评分结果"):
        app.record_score_report(1, {**REPORT, "total": "10.00"}, at(13))
    with pytest.raises(KeyError):
        app.record_score_report(7, REPORT, at(13))
    assert [h.action for h in app.history].count("score_recorded") == 1


# -- history, events, persistence ----------------------------------------------------------------------------


def test_history_records_every_step(app):
    returned(app)
    app.set_record("9", "补充", at(41), "ent-user")
    app.submit(at(42), "ent-user")
    actions = [h.action for h in app.history]
    assert actions[0] == "created" and actions[1] == "draft_updated"
    assert actions[-5:] == ["submit", "route", "return", "record_updated", "resubmit"]
    assert all(h.actor for h in app.history)
    assert [h.at for h in app.history] == sorted(h.at for h in app.history)
    assert app.revision == len(app.history)


def test_events_for_the_loop(app):
    app.events.clear()
    returned(app)
    app.set_record("9", "补充", at(41), "ent-user")
    app.submit(at(42), "ent-user")
    kinds = [type(e).__name__ for e in app.pop_events()]
    assert kinds == ["ApplicationSubmitted", "ApplicationResubmitted"]
    assert app.events == []


def test_round_trip_through_plain_json(app):
    returned(app)
    app.record_score_report(1, REPORT, at(35))
    app.set_record("9", "补充", at(41), "ent-user")
    d = app.to_dict()
    text = json.dumps(d, ensure_ascii=False)
    again = Application.from_dict(json.loads(text))
    assert again.to_dict() == d
    assert again.events == []
    assert again.version(1).score_report["total"] == "92.50"
    assert again.current_return.reasons["9"] == "缺少凿岩降尘的现场照片"
    assert again.history[0].at == app.history[0].at
    # the reloaded aggregate carries on
    again.submit(at(50), "ent-user")
    assert again.status == "resubmitted" and again.latest_version.number == 2


def test_from_dict_refuses_unknown_status(app):
    d = app.to_dict()
    d["status"] = "teleported"
    with pytest.raises(ValueError):
        Application.from_dict(d)
