"""What people read (issue 10, defects 3 and 4): Beijing time for every stored UTC moment, Chinese labels for
services, the index's basis without reconstruction remarks, and printable PDFs that carry their text."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.catalog import load_catalog
from shared.display import actor_label, local_seconds, local_time
from shared.documents import pdf_response, render_pdf


@pytest.mark.parametrize(("stored", "shown"), [
    (datetime(2026, 11, 30, 20, 15, tzinfo=UTC), "2026-12-01 04:15"),      # the Beijing date is the next day
    ("2026-11-30T20:15:00+00:00", "2026-12-01 04:15"),
    ("2026-11-30T20:15:00Z", "2026-12-01 04:15"),
    ("2026-11-30T20:15:00", "2026-12-01 04:15"),                           # naive stored times are UTC
    (datetime(2026, 3, 2, 8, 15), "2026-03-02 16:15"),
    (datetime(2026, 3, 2, 16, 15, tzinfo=timezone(timedelta(hours=8))), "2026-03-02 16:15"),
])
def test_stored_moments_are_shown_in_beijing_time(stored, shown):
    assert local_time(stored) == shown


def test_dates_text_and_nothing_are_shown_as_they_are():
    assert local_time(date(2026, 12, 4)) == "2026-12-04"
    assert local_time(None) == "" and local_time("") == ""
    assert local_time("待定") == "待定"
    assert local_seconds("2026-11-30T20:15:09+00:00") == "2026-12-01 04:15:09"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_beijing_time_is_eight_hours_ahead_of_utc(moment):
    assert local_seconds(moment) == (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def test_services_are_named_in_chinese_and_people_by_name():
    assert actor_label("scoring") == "评分系统"
    assert actor_label("review_routing") == "审核分派系统"
    assert actor_label(None) == "系统"
    assert actor_label("reviewer_eco", "鄂尔多斯市生态环境局") == "鄂尔多斯市生态环境局"


def test_the_basis_is_shown_without_ocr_remarks_and_marked_as_reconstructed():
    catalog = load_catalog("nm-2025")
    for indicator in catalog.indicators:
        assert "OCR" not in indicator.display_basis
    seventeen = catalog.indicator(17)
    assert "(OCR不可辨)" in seventeen.basis
    assert seventeen.display_basis.endswith("及尾矿库相关标准,符合环评批复相关要求")
    assert seventeen.basis_reconstructed and "依据" in seventeen.reconstructed_fields
    plain = next(i for i in catalog.indicators if not i.inferred and i.basis)
    assert plain.display_basis == plain.basis and not plain.basis_reconstructed


def test_a_printed_document_carries_its_chinese_text():
    pdf = render_pdf("<html><body><h1>受理回执</h1><p>办件编号 150600-2026-00012 鄂尔多斯示范煤业有限公司</p>"
                     "<p>提交时间 2026-12-01 04:15</p></body></html>")
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "受理回执" in text and "150600-2026-00012" in text and "鄂尔多斯示范煤业有限公司" in text
    assert "第 1 页 共 1 页" in text


def test_a_pdf_opens_in_the_browser_with_its_chinese_name():
    from flask import Flask

    with Flask(__name__).app_context():
        response = pdf_response(b"%PDF-1.7", "受理回执.pdf")
    assert response.mimetype == "application/pdf"
    disposition = "inline; filename*=UTF-8''%E5%8F%97%E7%90%86%E5%9B%9E%E6%89%A7.pdf"
    assert response.headers["Content-Disposition"] == disposition
    assert response.headers["Cache-Control"] == "private, no-store"
