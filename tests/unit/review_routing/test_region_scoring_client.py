"""`ScoringClient.record` (POST /api/v1/scoring/assessments): the recorded assessment on 201, field errors on 422,
unavailable otherwise; the body carries the stage and the subject, decimals exactly, the caller's token."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from shared import identity
from shared.config import Settings
from shared.scoring_client import ScoringClient, ScoringRejected, ScoringUnavailable

SETTINGS = Settings.from_env({"GREENMINE_SECRET_KEY": "unit-secret"})
EVALUATOR = identity.Principal("eval_li", "evaluator", display_name="李评", institution="inst-1")


class Session:
    def __init__(self, status: int, body):
        self.status, self.body, self.sent = status, body, []

    def post(self, url, data, headers, timeout):
        self.sent.append((url, json.loads(data), headers))
        response = requests.Response()
        response.status_code = self.status
        response._content = json.dumps(self.body, ensure_ascii=False).encode()
        return response


def client(status, body) -> tuple[ScoringClient, Session]:
    session = Session(status, body)
    return ScoringClient(SETTINGS, session=session), session


def test_record_posts_the_stage_and_answers_the_recorded_assessment():
    scoring, session = client(201, {"id": "rec-1", "stage": "third_party_evaluation", "report": {"total": "91.50"}})
    assessment = {"catalog": "nm-2025", "indicators": {"1": {"score": Decimal("0.35")}}}
    answer = scoring.record("app-1", 2, "third_party_evaluation", assessment, EVALUATOR, league="鄂尔多斯市")
    assert answer["id"] == "rec-1"
    (url, body, headers), = session.sent
    assert url.endswith("/api/v1/scoring/assessments")
    assert body == {"subject_id": "app-1", "version_no": 2, "stage": "third_party_evaluation", "league": "鄂尔多斯市",
                    "assessment": {"catalog": "nm-2025", "indicators": {"1": {"score": "0.35"}}}}
    token = headers["Authorization"].removeprefix("Bearer ")
    assert identity.read_token(SETTINGS.secret_key, token, 60).institution == "inst-1"


def test_record_refusals_come_back_with_their_fields_or_as_unavailable():
    scoring, _ = client(422, {"message": "评估数据有误",
                              "errors": {"assessment.indicators.3.record": ["须附核查记录"]}})
    with pytest.raises(ScoringRejected) as exc:
        scoring.record("app-1", 1, "third_party_evaluation", {}, EVALUATOR)
    assert [(e.field, e.message) for e in exc.value.errors] == [("assessment.indicators.3.record", "须附核查记录")]
    for status in (403, 500):
        scoring, _ = client(status, {"message": "x"})
        with pytest.raises(ScoringUnavailable):
            scoring.record("app-1", 1, "third_party_evaluation", {}, EVALUATOR)


def test_a_request_key_goes_with_the_body_and_follows_the_content():
    from shared.scoring_client import request_key

    scoring, session = client(201, {"id": "app-1:2:third_party_evaluation:k", "report": {}})
    assessment = {"catalog": "nm-2025", "indicators": {"1": {"score": "2"}}}
    key = request_key("com-1.eval", assessment)
    scoring.record("app-1", 2, "third_party_evaluation", assessment, EVALUATOR, request_key=key)
    assert session.sent[0][1]["request_key"] == key and key.startswith("com-1.eval.")
    assert request_key("com-1.eval", dict(assessment)) == key                      # the same content, the same key
    assert request_key("com-1.eval", {**assessment, "indicators": {"1": {"score": "1"}}}) != key
