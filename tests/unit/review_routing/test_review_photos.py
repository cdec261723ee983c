"""Site-check photos: JPEG or PNG by their bytes, within the size limit, with a safe name."""
from __future__ import annotations

import pytest

from review_routing.adapters.config import photo_policy
from review_routing.domain.errors import InvalidInput
from review_routing.domain.photos import PhotoPolicy, check_photo, safe_filename

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def test_accepted_photos():
    assert check_photo("采场.JPG", "image/jpeg", JPEG, PhotoPolicy()) == ("image/jpeg", "采场.jpg")
    assert check_photo("../../etc/x.png", "image/png", PNG, PhotoPolicy()) == ("image/png", "x.png")
    assert check_photo("photo", None, PNG, PhotoPolicy()) == ("image/png", "photo.png")
    assert check_photo("a.jpeg", "application/octet-stream", JPEG, PhotoPolicy())[0] == "image/jpeg"


@pytest.mark.parametrize("name,declared,data,message", [
    ("a.jpg", "image/jpeg", b"", "为空"),
    ("a.svg", "image/svg+xml", b"<svg onload=alert(1)>", "只接受 JPEG 或 PNG"),
    ("a.html", "text/html", b"<html>", "只接受 JPEG 或 PNG"),
    ("a.png", "text/html", PNG, "与声明的类型"),
    ("a.jpg", "image/jpeg", JPEG + b"\x00" * 2048, "不能超过"),
])
def test_refused_photos(name, declared, data, message):
    with pytest.raises(InvalidInput) as raised:
        check_photo(name, declared, data, PhotoPolicy(max_bytes=1024 + 104 if "超过" not in message else 1024))
    assert message in raised.value.errors[0].message


def test_safe_names_and_the_limit_from_the_environment():
    assert safe_filename('a"b<c>.png', "image/png") == "abc.png"
    assert safe_filename("", "image/jpeg") == "现场照片.jpg"
    assert safe_filename("x.exe", "image/jpeg") == "x.exe.jpg"
    assert photo_policy({"GREENMINE_REVIEW_PHOTO_MAX_BYTES": "2048"}).max_bytes == 2048
    assert photo_policy({}).max_bytes == 10 * 1024 * 1024
    with pytest.raises(ValueError, match="GREENMINE_REVIEW_PHOTO_MAX_BYTES"):
        photo_policy({"GREENMINE_REVIEW_PHOTO_MAX_BYTES": "big"})
    with pytest.raises(ValueError, match="1024"):
        photo_policy({"GREENMINE_REVIEW_PHOTO_MAX_BYTES": "10"})
