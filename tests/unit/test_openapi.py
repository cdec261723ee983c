"""The checked-in OpenAPI documents (contracts/http) match what the code generates."""
from __future__ import annotations

from shared.cli import openapi_documents
from shared.config import REPO_ROOT


def test_checked_in_openapi_matches_the_code():
    stale = []
    for name, text in openapi_documents().items():
        path = REPO_ROOT / "contracts" / "http" / f"{name}.openapi.json"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
    assert stale == [], f"run `greenmine openapi` and commit: {stale}"


def test_portal_documents_the_token_endpoint():
    import json

    spec = json.loads(openapi_documents()["portal"])
    post = spec["paths"]["/api/v1/auth/token"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("TokenRequest")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
