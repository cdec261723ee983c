"""Builders shared by the intake domain tests (a uniquely named module: tests/unit/* has no packages)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta

from intake.domain import materials as mat
from intake.domain.application import Application, AttachmentRef
from shared.clock import BEIJING

CST = BEIJING
TODAY = date(2025, 7, 1)
T0 = datetime(2025, 7, 1, 9, 0, tzinfo=CST)

#: Real, published codes (营业执照 of well-known companies) used as known-good check-character examples.
REAL_CREDIT_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "9144030071526726XG",
    "91330100799655058B",
]
CREDIT_CODE = "914403001922038216"

VALID_MINE = {
    "enterprise": {"name": "内蒙古某某煤业有限责任公司", "credit_code": CREDIT_CODE},
    "name": "某某露天煤矿",
    "mining_licence": {
        "number": "C1500002010061120067890",
        "valid_from": "2020-01-01",
        "valid_to": "2035-12-31",
    },
    "safety_licence": {
        "number": "（蒙）FM安许证字〔2023〕0001号",
        "valid_from": "2023-03-01",
        "valid_to": "2026-02-28",
    },
    "business_licence": {"valid_from": "2005-06-01", "valid_to": "长期"},
    "league": "ordos",
    "county": "伊金霍洛旗",
    "minerals": ["coal"],
    "scale": "large",
    "industry_group": 1,
    "mining_method": "open_pit",
    "production_status": "in_production",
    "production_start_date": "2012-05-01",
    "remaining_reserve_years": "25.5",
}


def mine_data(**overrides) -> dict:
    d = copy.deepcopy(VALID_MINE)
    d.update(overrides)
    return d


def at(minutes: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes)


ASSESSMENT = {
    "catalog": "nm-2025",
    "mine": {"industry_group": 1, "mining_method": "open_pit"},
    "prerequisites": {"P1": True, "P2": True, "P3": True, "P4": True, "P5": True},
    "indicators": {"1": {"score": 2}, "3": {"findings": 1}, "16": {"not_applicable": True, "reason": "无共伴生矿产"}},
}

_counter = iter(range(10**9))


def attachment(kind: str, indicator: str | None = None, **kw) -> AttachmentRef:
    mk = mat.kind_by_code(kind)
    ctype = mk.content_types[0] if mk else "application/pdf"
    ext = mat.EXTENSIONS[ctype][0]
    return AttachmentRef(
        id=kw.pop("id", f"file-{next(_counter)}"),
        kind=kind,
        filename=kw.pop("filename", f"{kind}{ext}"),
        content_type=kw.pop("content_type", ctype),
        size=kw.pop("size", 1024),
        sha256=kw.pop("sha256", "0" * 64),
        uploaded_at=kw.pop("uploaded_at", T0),
        indicator=indicator,
    )


def required_attachments(declared_penalties: bool = False) -> list[AttachmentRef]:
    out = [attachment(k.code) for k in mat.KINDS if k.requirement == mat.REQUIRED]
    if declared_penalties:
        out.append(attachment("penalty_rectification"))
    return out


def ready_application(app_id: str = "app-1", declared_penalties: bool = False) -> Application:
    """A draft with an assessment, the penalty declaration and every required material: submittable."""
    app = Application.start(app_id, "mine-1", CREDIT_CODE, "nm-2025", at(), "ent-user")
    app.update_draft(at(1), "ent-user", assessment=ASSESSMENT, declared_penalties=declared_penalties)
    for a in required_attachments(declared_penalties):
        app.add_attachment(a, at(2), "ent-user")
    return app


# -- an application moved along its lifecycle (the domain tests share these) ----------------------------------
REPORT = {"verdict": "qualified", "total": "92.50", "failed_binding": []}


def submitted(app):
    app.submit(at(10), "ent-user")
    return app


def returned(app):
    submitted(app)
    app.mark_routed(at(20), "review_routing")
    app.return_for_correction(at(30), "nr-ordos",
                              {"9": "缺少凿岩降尘的现场照片", "materials.site_photos": "照片不清晰"},
                              "请补充后重新提交")
    return app
