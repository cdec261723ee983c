"""Site-check photos (现场照片): which uploads are accepted. Only JPEG and PNG, recognised by their bytes
(never by the name or the declared type alone), within a size limit; never served inline."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from review_routing.domain.errors import FieldError, InvalidInput

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}


@dataclass(frozen=True)
class PhotoPolicy:
    max_bytes: int = DEFAULT_MAX_BYTES


def sniff(head: bytes) -> str | None:
    for content_type, signatures in SIGNATURES.items():
        if any(head.startswith(s) for s in signatures):
            return content_type
    return None


def safe_filename(filename: str, content_type: str) -> str:
    """A file name safe for Content-Disposition: no path, no control characters, the right extension."""
    name = unicodedata.normalize("NFKC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f\"<>:|?*]", "", name).strip(" .") or "现场照片"
    stem, dot, ext = name.rpartition(".")
    if not dot or f".{ext.lower()}" not in EXTENSIONS[content_type]:
        stem = name
        ext = EXTENSIONS[content_type][0][1:]
    return f"{stem[:100]}.{ext.lower()}"


def check_photo(filename: str, declared_type: str | None, data: bytes, policy: PhotoPolicy) -> tuple[str, str]:
    """(content type, safe file name) of an acceptable photo; raises InvalidInput saying why not."""
    errors = []
    if not data:
        errors.append(FieldError("photo", "照片文件为空"))
    elif len(data) > policy.max_bytes:
        errors.append(FieldError("photo", f"照片不能超过 {policy.max_bytes / 1024 / 1024:.0f} MB"
                                          f"(本文件 {len(data) / 1024 / 1024:.1f} MB)"))
    content_type = sniff(data[:16]) if data else None
    if data and content_type is None:
        errors.append(FieldError("photo", "只接受 JPEG 或 PNG 格式的照片"))
    elif content_type and declared_type and declared_type.split(";")[0].strip().lower() not in (
            content_type, "application/octet-stream", "image/jpg", "image/pjpeg"):
        errors.append(FieldError("photo", f"文件内容为 {content_type},与声明的类型 {declared_type} 不符"))
    if errors:
        raise InvalidInput("照片不能上传", errors)
    return content_type, safe_filename(filename, content_type)
