"""The scoring service over HTTP (`POST /api/v1/scoring/evaluate`), never imported: services meet through
contracts. The caller's credentials are forwarded (its bearer token, or its session cookie with a CSRF token),
so scoring applies its own access rules to the same person."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Mapping

import requests


class ScoringUnavailable(Exception):
    """Scoring did not answer usefully (down, timeout, 5xx)."""


class ScoringRejected(Exception):
    """Scoring refused the assessment (422); `errors` maps fields to messages."""

    def __init__(self, message: str, errors: Mapping[str, list[str]]):
        super().__init__(message)
        self.errors = dict(errors)


class ScoringClient:
    def __init__(self, base_url: str | None, timeout_s: float = 10.0, session: requests.Session | None = None):
        self.base_url = (base_url or "").rstrip("/")
        self.timeout_s = timeout_s
        self.session = session or requests.Session()

    def evaluate(self, assessment: Mapping, headers: Mapping[str, str]) -> dict:
        if not self.base_url:
            raise ScoringUnavailable("未配置评分服务地址(GREENMINE_SERVICE_URLS 中的 scoring)")
        body = json.dumps(assessment, ensure_ascii=False, default=_decimal).encode("utf-8")
        try:
            response = self.session.post(f"{self.base_url}/api/v1/scoring/evaluate", data=body,
                                         headers={**headers, "Content-Type": "application/json",
                                                  "Accept": "application/json"},
                                         timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ScoringUnavailable(f"评分服务无法访问:{type(exc).__name__}") from exc
        if response.status_code == 200:
            return response.json()
        if response.status_code == 422:
            data = _json(response)
            raise ScoringRejected(data.get("message") or "评估数据有误", data.get("errors") or {})
        raise ScoringUnavailable(f"评分服务返回 {response.status_code}:{_json(response).get('message', '')}")


def _decimal(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json(response) -> dict:
    try:
        data = response.json()
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}
