"""The scoring service over HTTP, for the services that need a score now (intake's live score, the review's
re-score, the evaluator's recorded third-party evaluation). Services never import one another; they meet through
contracts and HTTP.

`POST /api/v1/scoring/evaluate` with an assessment (contracts/scoring/assessment.v1.schema.json) answers the
report (report.v1) or 422 with field errors; `POST /api/v1/scoring/assessments` records one stage's assessment
(201, the stored record with its report); `POST /api/v1/scoring/sheet` with `{"assessment", "format"}`
answers the printable score sheet (评分表). The caller's identity travels as a short-lived bearer token signed
with the shared secret for the real user, so the scoring service applies its own access rules to that person.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from shared import identity
from shared.config import Settings
from shared.errors import FieldError, InvalidInput, Unavailable


class ScoringUnavailable(Unavailable):
    """The scoring service did not answer usefully (down, timed out, 5xx, or refused our identity)."""


class ScoringRejected(InvalidInput):
    """Scoring refused the assessment (422); `errors` names the fields."""


@dataclass(frozen=True)
class Sheet:
    content: bytes
    content_type: str
    content_disposition: str | None


class ScoringClient:
    def __init__(self, settings: Settings, session: requests.Session | None = None, timeout_s: float = 15.0):
        self.settings = settings
        self.base_url = (settings.service_urls.get("scoring") or settings.public_url).rstrip("/")
        self.http = session or requests.Session()
        self.timeout_s = timeout_s

    def evaluate(self, assessment: dict, principal: Any) -> dict:
        """The report of `assessment`; raises ScoringRejected (with field errors) or ScoringUnavailable."""
        response = self._post("/api/v1/scoring/evaluate", assessment, principal)
        if response.status_code == 200:
            return response.json()
        if response.status_code == 422:
            raise ScoringRejected(_message(response, "评估数据有误"), field_errors(response))
        raise ScoringUnavailable(f"评分服务返回 {response.status_code}:{response.text[:200]}")

    def record(self, subject_id: str, version_no: int, stage: str, assessment: dict, principal: Any, *,
               league: str | None = None, request_key: str | None = None) -> dict:
        """Record (score, store and publish) the assessment of one stage of an application version: `POST
        /api/v1/scoring/assessments`. Answers the recorded assessment ({id, subject, stage, report, …}); raises
        ScoringRejected (field errors, e.g. an evaluator's score above 0 without its record) or
        ScoringUnavailable (down, or our identity refused)."""
        body = {"subject_id": subject_id, "version_no": version_no, "stage": stage, "league": league,
                "assessment": assessment}
        if request_key:   # the same key again answers the stored record: a retry never records twice
            body["request_key"] = request_key
        response = self._post("/api/v1/scoring/assessments", body, principal)
        if response.status_code in (200, 201):
            return response.json()
        if response.status_code == 422:
            raise ScoringRejected(_message(response, "评估数据有误"), field_errors(response))
        raise ScoringUnavailable(f"评分服务返回 {response.status_code}:{response.text[:200]}")

    def sheet(self, assessment: dict, fmt: str, principal: Any) -> Sheet:
        response = self._post("/api/v1/scoring/sheet", {"assessment": assessment, "format": fmt}, principal)
        if response.status_code == 422:
            raise ScoringRejected(_message(response, "评估数据有误"), field_errors(response))
        if response.status_code != 200:
            raise ScoringUnavailable(f"评分服务返回 {response.status_code}:{response.text[:200]}")
        return Sheet(response.content, response.headers.get("Content-Type", "application/octet-stream"),
                     response.headers.get("Content-Disposition"))

    def _post(self, path: str, body: dict, principal: Any) -> requests.Response:
        token = identity.issue_token(self.settings.secret_key, principal)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                   "Content-Type": "application/json"}
        data = json.dumps(body, ensure_ascii=False, default=_decimal).encode("utf-8")
        try:
            return self.http.post(self.base_url + path, data=data, headers=headers, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ScoringUnavailable(f"评分服务无法访问:{type(exc).__name__}") from exc


def request_key(scope: str, assessment: dict) -> str:
    """An idempotency key for recording `assessment` on behalf of `scope` (an evaluation, a round's case): the same
    content again gives the same key, changed content a new one."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(assessment, sort_keys=True, default=str, ensure_ascii=False).encode())
    return f"{scope}.{digest.hexdigest()[:20]}"


def _decimal(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _message(response: requests.Response, default: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return default
    return str(body.get("message") or default) if isinstance(body, dict) else default


def field_errors(response: requests.Response) -> list[FieldError]:
    """A 422 body's errors, whether `{"errors": {field: [messages]}}` or `{"errors": [{field, message}]}`."""
    try:
        body = response.json()
    except ValueError:
        return [FieldError("(body)", response.text[:500] or "评估数据有误")]
    errors = body.get("errors") if isinstance(body, dict) else None
    out: list[FieldError] = []
    if isinstance(errors, dict):
        for field, messages in errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                out.append(FieldError(str(field), str(message)))
    elif isinstance(errors, list):
        for e in errors:
            if isinstance(e, dict):
                out.append(FieldError(str(e.get("field", "")), str(e.get("message", ""))))
    if not out:
        out.append(FieldError("(body)", _message(response, "评估数据有误")))
    return out
