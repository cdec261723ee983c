"""The scoring service over HTTP (never imported: services meet through contracts and HTTP).

``POST /api/v1/scoring/evaluate`` with the assessment (contracts/scoring/assessment.v1.schema.json) answers the
report (report.v1) or 422 ``{"errors": {field: [message, ...]}}``.  ``POST /api/v1/scoring/sheet`` with
``{"assessment", "format"}`` answers the printable score sheet (评分表).

The caller's identity travels as a short-lived bearer token signed with the shared secret, so the scoring
service applies its own access rules to the real user.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import requests

from shared import identity
from shared.config import Settings


class ScoringUnavailable(Exception):
    """The scoring service did not answer usefully (down, timed out, 5xx, or refused our identity)."""


@dataclass(frozen=True)
class Evaluation:
    report: dict | None          # the report when the assessment could be scored
    errors: list[dict]           # [{"field", "message"}] when it could not


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

    def _headers(self, principal) -> dict:
        token = identity.issue_token(self.settings.secret_key, principal)
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _post(self, path: str, body: dict, principal) -> requests.Response:
        try:
            return self.http.post(self.base_url + path, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                  headers={**self._headers(principal), "Content-Type": "application/json"},
                                  timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ScoringUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def evaluate(self, assessment: dict, principal) -> Evaluation:
        response = self._post("/api/v1/scoring/evaluate", assessment, principal)
        if response.status_code == 200:
            return Evaluation(response.json(), [])
        if response.status_code == 422:
            return Evaluation(None, field_errors(response))
        raise ScoringUnavailable(f"scoring answered {response.status_code}: {response.text[:200]}")

    def sheet(self, assessment: dict, fmt: str, principal) -> Sheet:
        response = self._post("/api/v1/scoring/sheet", {"assessment": assessment, "format": fmt}, principal)
        if response.status_code == 422:
            errors = field_errors(response)
            raise ValueError("；".join(f"{e['field']}：{e['message']}" for e in errors) or "评估数据有误")
        if response.status_code != 200:
            raise ScoringUnavailable(f"scoring answered {response.status_code}: {response.text[:200]}")
        return Sheet(response.content, response.headers.get("Content-Type", "application/octet-stream"),
                     response.headers.get("Content-Disposition"))


def field_errors(response: requests.Response) -> list[dict]:
    """422 bodies as [{"field", "message"}]: accepts {"errors": {field: [msgs]}} and {"errors": [{field, message}]}."""
    try:
        body = response.json()
    except ValueError:
        return [{"field": "", "message": response.text[:500] or "评估数据有误"}]
    errors = body.get("errors") if isinstance(body, dict) else None
    out: list[dict] = []
    if isinstance(errors, dict):
        for field, messages in errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                out.append({"field": str(field), "message": str(message)})
    elif isinstance(errors, list):
        for e in errors:
            if isinstance(e, dict):
                out.append({"field": str(e.get("field", "")), "message": str(e.get("message", ""))})
    if not out:
        out.append({"field": "", "message": str((body or {}).get("message") or "评估数据有误")})
    return out
