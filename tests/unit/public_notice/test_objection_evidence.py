"""Evidence checks before anything is stored: type by magic bytes (not by name), count, emptiness, size; the
environment's bounds."""
from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from public_notice.adapters.evidence import check_uploads, max_file_bytes, safe_name, sniff
from public_notice.service_layer.objections import proposed_departments, verify_days
from shared.errors import InvalidInput

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"x" * 100


def upload(name, content):
    return SimpleNamespace(filename=name, stream=io.BytesIO(content))


def test_the_type_is_read_from_the_content():
    assert sniff(PNG) == "image/png" and sniff(JPEG) == "image/jpeg" and sniff(PDF) == "application/pdf"
    assert sniff(b"MZ\x90\x00") is None and sniff(b"<html>") is None and sniff(b"GIF89a") is None


def test_refusals_name_each_file():
    check_uploads([upload("a.png", PNG), upload("b.jpg", JPEG), upload("c.pdf", PDF)], 1024)
    with pytest.raises(InvalidInput) as caught:
        check_uploads([upload("photo.png", b"MZ" + b"\x00" * 50), upload("big.pdf", PDF * 20),
                       upload("empty.png", b""), upload("ok.png", PNG)], 1024)
    errors = caught.value.error_map()
    assert set(errors) == {"files[0]", "files[1]", "files[2]"}
    assert "JPEG、PNG 或 PDF" in errors["files[0]"][0] and "超过" in errors["files[1]"][0]
    assert "空文件" in errors["files[2]"][0]
    with pytest.raises(InvalidInput) as caught:
        check_uploads([upload(f"{i}.png", PNG) for i in range(6)], 1024)
    assert "最多5个" in caught.value.error_map()["files"][0]


def test_names_are_made_safe():
    assert safe_name("../../etc/passwd") == "passwd" and safe_name("C:\\x\\证据.pdf") == "证据.pdf"
    assert safe_name("") == "证据材料"


def test_environment_bounds():
    assert max_file_bytes({}) == 10 * 1024 * 1024
    assert max_file_bytes({"GREENMINE_OBJECTION_MAX_FILE_BYTES": "2048"}) == 2048
    with pytest.raises(ValueError):
        max_file_bytes({"GREENMINE_OBJECTION_MAX_FILE_BYTES": "ten"})
    assert verify_days({}) == 10 and verify_days({"GREENMINE_OBJECTION_VERIFY_DAYS": "15"}) == 15
    for bad in ("0", "x", "61"):
        with pytest.raises(ValueError):
            verify_days({"GREENMINE_OBJECTION_VERIFY_DAYS": bad})


def test_departments_proposed_from_the_catalog():
    from shared.catalog import load_catalog

    catalog = load_catalog("nm-2025")
    for indicator in catalog.indicators:
        proposed = proposed_departments([indicator.no])
        assert set(proposed) == set(indicator.departments) or (not indicator.departments
                                                               and proposed == ["natural_resources"])
    both = proposed_departments([1, 2])
    assert set(both) == set(catalog.indicator(1).departments) | set(catalog.indicator(2).departments)
    assert proposed_departments([]) == ["natural_resources"]
