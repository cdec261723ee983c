"""Viewing a material in the browser (issue 10, defect 1): `?inline=true` shows PDF and JPEG/PNG with the
browser's own viewer (Content-Disposition: inline), still with nosniff and the sandboxing CSP; anything else stays
a download. Every view is audited like a download."""
from __future__ import annotations

import pytest
from intake_api_support import JPEG, PDF, PNG

TIFF = b"II*\x00" + b"\x00" * 100




@pytest.mark.parametrize("kind,content,name,ctype,shown", [
    ("eia_approval", PDF, "环评批复.pdf", "application/pdf", "inline"),
    ("site_photos", JPEG, "采场.jpg", "image/jpeg", "inline"),
    ("site_photos", PNG, "排土场.png", "image/png", "inline"),
    ("remote_sensing_image", TIFF, "遥感.tif", "image/tiff", "attachment"),
])
def test_inline_view_only_for_pdf_and_images(ent1, draft, service, kind, content, name, ctype, shown):
    response = ent1.upload(draft, kind, content, name, ctype)
    assert response.status_code == 201, response.get_data(as_text=True)
    url = response.json["download_url"]
    viewed = ent1.get(url + "?inline=true")
    assert viewed.status_code == 200 and viewed.data == content
    assert viewed.headers["Content-Type"].startswith(ctype)
    assert viewed.headers["Content-Disposition"].startswith(shown + ";")
    assert viewed.headers["X-Content-Type-Options"] == "nosniff"
    assert viewed.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert ent1.get(url).headers["Content-Disposition"].startswith("attachment;")     # the default stays a download
    actions = [e["action"] for e in ent1.get(f"/api/v1/applications/{draft}/audit").json]
    assert actions[-2:] == ["attachment_downloaded", "attachment_downloaded"]
