"""Builders and fixtures support for the intake API tests (a uniquely named module: tests/* has no packages)."""
from __future__ import annotations

import copy
import io
import json
import threading
from dataclasses import replace

from werkzeug.serving import make_server

from shared import identity
from shared.catalog import load_catalog

ENT1_CODE = "91150600MA0N00001W"
ENT2_CODE = "91150200MA0N00002B"
ENT1 = identity.Principal("enterprise", "enterprise", display_name="鄂尔多斯示范煤业有限公司", enterprise=ENT1_CODE)
ENT2 = identity.Principal("enterprise2", "enterprise", display_name="包头示范砂石有限公司", enterprise=ENT2_CODE)
BUREAU_ORDOS = identity.Principal("bureau", "bureau", display_name="鄂尔多斯市自然资源局", area="鄂尔多斯市")
BUREAU_BAOTOU = identity.Principal("bureau_baotou", "bureau", display_name="包头市自然资源局", area="包头市")
REGION = identity.Principal("region", "region_office", area="自治区")
REVIEWER = identity.Principal("reviewer_eco", "department_reviewer", department="ecology_environment",
                              area="鄂尔多斯市")

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 100

COAL_MINE = {
    "name": "鄂尔多斯示范露天煤矿",
    "mining_licence": {"number": "C1500002010061120067890", "valid_from": "2020-01-01", "valid_to": "2040-12-31"},
    "safety_licence": {"number": "（蒙）FM安许证字〔2023〕0001号",
                       "valid_from": "2023-03-01", "valid_to": "2039-02-28"},
    "business_licence": {"valid_from": "2005-06-01", "valid_to": None},
    "league": "ordos", "county": "准格尔旗", "minerals": ["coal"], "scale": "large", "industry_group": 1,
    "mining_method": "open_pit", "production_status": "in_production", "production_start_date": "2012-05-01",
    "remaining_reserve_years": "25.5",
}

SAND_MINE = {
    "name": "包头示范砂石矿",
    "mining_licence": {"number": "C1502002019071120012345", "valid_from": "2019-07-01", "valid_to": "2039-06-30"},
    "safety_licence": {"number": "（蒙）FM安许证字〔2024〕0207号",
                       "valid_from": "2024-01-01", "valid_to": "2038-12-31"},
    "business_licence": {"valid_from": "2018-03-01", "valid_to": "2048-02-28"},
    "league": "baotou", "county": "九原区", "minerals": ["construction_sand", "construction_gravel"],
    "scale": "medium", "industry_group": 2, "mining_method": "open_pit", "production_status": "in_production",
    "production_start_date": "2019-08-01", "remaining_reserve_years": "12",
}


def mine(base: dict, **overrides) -> dict:
    data = copy.deepcopy(base)
    for key, value in overrides.items():
        if "." in key:
            section, field = key.split(".", 1)
            data[section][field] = value
        else:
            data[key] = value
    return data


def full_assessment(industry_group: int = 1, mining_method: str = "open_pit", variant: str | None = None) -> dict:
    """Every applicable indicator at full marks (16 not applicable for branch 1): a qualified assessment."""
    catalog = load_catalog("nm-2025")
    indicators = {}
    for i in catalog.indicators_for(industry_group, mining_method):
        indicators[str(i.no)] = {"score": format(i.points.normalize(), "f")}
    if industry_group == 1:
        indicators["16"] = {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产"}
        indicators["3"] = {"findings": 0}
    mine = {"industry_group": industry_group, "mining_method": mining_method}
    if variant:
        mine["industry_variant"] = variant
    return {"catalog": "nm-2025", "mine": mine,
            "prerequisites": {f"P{n}": True for n in range(1, 6)}, "indicators": indicators}


def headers(settings, principal) -> dict:
    return {"Authorization": f"Bearer {identity.issue_token(settings.secret_key, principal)}",
            "Accept": "application/json"}


class Api:
    """The Flask test client with one principal's bearer token."""

    def __init__(self, client, settings, principal):
        self.client = client
        self.settings = settings
        self.principal = principal

    def _h(self):
        return headers(self.settings, self.principal)

    def get(self, path, **kw):
        return self.client.get(path, headers=self._h(), **kw)

    def post(self, path, json_body=None, **kw):
        return self.client.post(path, json=json_body, headers=self._h(), **kw)

    def put(self, path, json_body=None, **kw):
        return self.client.put(path, json=json_body, headers=self._h(), **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=self._h(), **kw)

    def upload(self, app_id, kind, content=PDF, filename="材料.pdf", content_type="application/pdf",
               indicator=None, **extra):
        data = {"kind": kind, "file": (io.BytesIO(content), filename, content_type), **extra}
        if indicator is not None:
            data["indicator"] = indicator
        return self.client.post(f"/api/v1/applications/{app_id}/attachments", data=data, headers=self._h(),
                                content_type="multipart/form-data")


def upload_required(api: Api, app_id: str, declared_penalties: bool = False) -> None:
    from intake.domain import materials as mat

    for kind in mat.KINDS:
        if kind.requirement == mat.REQUIRED or (declared_penalties and kind.requirement == mat.CONDITIONAL):
            content, name, ctype = {"site_photos": (JPEG, "现场.jpg", "image/jpeg"),
                                    "promo_video": (MP4, "宣传片.mp4", "video/mp4")}.get(
                kind.code, (PDF, f"{kind.label}.pdf", "application/pdf"))
            response = api.upload(app_id, kind.code, content, name, ctype)
            assert response.status_code == 201, response.get_data(as_text=True)
    upload_evidence(api, app_id)


def upload_evidence(api: Api, app_id: str) -> list[str]:
    """One evidence file for every scored indicator of the draft that has none yet (缺少支撑材料或证明材料不得分:
    a score without its evidence counts 0); returns the indicators it was uploaded for."""
    draft = api.get(f"/api/v1/applications/{app_id}").json.get("draft") or {}
    indicators = (draft.get("assessment") or {}).get("indicators") or {}
    have = {a.get("indicator") for a in draft.get("attachments") or () if a.get("kind") == "evidence"}
    done = []
    for key, entry in indicators.items():
        if entry.get("not_applicable") or key in have:
            continue
        response = api.upload(app_id, "evidence", PDF, f"第{key}项佐证.pdf", "application/pdf", indicator=key)
        assert response.status_code == 201, response.get_data(as_text=True)
        done.append(key)
    return done


class ThreadedServer:
    """A real HTTP server for a WSGI app in a thread (the scoring service, called over HTTP)."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)


def with_scoring(settings, url: str):
    return replace(settings, service_urls={**settings.service_urls, "scoring": url})


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
