"""Attachment files in MongoDB GridFS: sniffed, size-limited, checksummed, stored and never executed.

An upload is checked in this order, and refused with Chinese reasons naming the field (``file``, ``kind``):

1. the bytes are sniffed (magic numbers); HTML, SVG, XML, scripts and executables are refused whatever the name
   or declared type says, and so is anything whose type cannot be recognised;
2. the sniffed type must agree with the declared type when the browser declared a specific one, and the domain's
   rules for the material kind (``materials.check_upload``: allowed types, file-name extension, size) apply to
   the *sniffed* type;
3. the bytes are streamed into GridFS while the SHA-256 and the size are computed; a stream that grows past the
   kind's limit (or the deployment's ``GREENMINE_UPLOAD_MAX_BYTES``) is aborted and nothing stays stored.

GridFS writes are not part of the metadata transaction (a 50 MB file does not belong in one), so the caller
uploads first and deletes the file again when the metadata transaction fails (``AttachmentFiles.delete``).
Downloads are always ``Content-Disposition: attachment`` with ``X-Content-Type-Options: nosniff`` and a sandboxing
``Content-Security-Policy`` (see the HTTP entry point).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from bson import ObjectId
from bson.errors import InvalidId

from intake.domain import materials as mat
from shared.errors import FieldError, InvalidInput
from shared.gridfs_files import GridFSFiles, megabytes

BUCKET = "attachments"
HEAD_BYTES = 4096
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/x-download",
                 "application/force-download", "application/unknown"}
# The same family for a sniff: old and new Office formats cannot be told apart by their first bytes alone.
_OLE = ("application/msword", "application/vnd.ms-excel")
_OOXML = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_DANGEROUS_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<svg",
                      b"<object", b"<embed", b"javascript:", b"<?php", b"<%@")
_EXTENSION_TYPE = {ext: ctype for ctype, exts in mat.EXTENSIONS.items() for ext in exts}


class UploadRefused(Exception):
    """The upload cannot be stored; ``errors`` maps a field (``file``, ``kind``) to Chinese reasons."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("；".join(m for msgs in errors.values() for m in msgs))


@dataclass(frozen=True)
class StoredFile:
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str


def _extension(filename: str) -> str:
    name = filename.lower().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return "." + name.rsplit(".", 1)[1] if "." in name else ""


def dangerous_reason(head: bytes) -> str | None:
    """Why these leading bytes must never be stored (HTML, SVG/XML, scripts, executables); None when harmless."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
    lower = head[:HEAD_BYTES].lower()
    if stripped.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe")):
        return "不接受可执行文件"
    if stripped.startswith(b"#!"):
        return "不接受脚本文件"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        return "不接受网页（HTML）、SVG 或 XML 文件"
    if any(marker in lower for marker in _DANGEROUS_MARKERS):
        return "文件开头含有网页或脚本代码，不予接收"
    return None


def sniff(head: bytes, filename: str, stream: BinaryIO | None = None) -> str | None:
    """The content type the bytes really have (one of materials.EXTENSIONS), or None when unrecognised.

    Office documents share their container with their sibling format (OLE2 for .doc/.xls, ZIP for .docx/.xlsx):
    the extension decides between the siblings, and a ZIP must hold the matching ``word/`` or ``xl/`` part."""
    ext = _extension(filename)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        wanted = _EXTENSION_TYPE.get(ext)
        return wanted if wanted in _OLE else None
    if head.startswith(b"PK\x03\x04"):
        wanted = _EXTENSION_TYPE.get(ext)
        if wanted not in _OOXML or stream is None:
            return None
        part = "word/" if wanted == _OOXML[0] else "xl/"
        position = stream.tell()
        try:
            stream.seek(0)
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            stream.seek(position)
        if "[Content_Types].xml" in names and any(n.startswith(part) for n in names):
            return wanted
        return None
    return None


def _family(ctype: str) -> tuple[str, ...]:
    for family in (_OLE, _OOXML):
        if ctype in family:
            return family
    if ctype in ("image/jpg", "image/pjpeg"):
        return ("image/jpeg",)
    return (ctype,)


def check_file(kind: str, filename: str, declared: str | None, head: bytes, size_hint: int | None,
               stream: BinaryIO | None, deployment_limit: int) -> str:
    """The content type to store for this upload, or raises UploadRefused naming the field."""
    errors: dict[str, list[str]] = {}
    kind_info = mat.kind_by_code(kind)
    if kind_info is None:
        raise UploadRefused({"kind": [f"材料类型：未知的材料类型“{kind}”（可选：" +
                                      "、".join(k.code for k in mat.KINDS) + "）"]})
    if not filename or not filename.strip():
        raise UploadRefused({"file": ["文件：缺少文件名"]})
    if len(filename) > 255:
        raise UploadRefused({"file": ["文件：文件名不能超过255个字符"]})
    danger = dangerous_reason(head)
    if danger:
        raise UploadRefused({"file": [f"文件：{danger}"]})
    if not head:
        raise UploadRefused({"file": ["文件：文件为空"]})
    sniffed = sniff(head, filename, stream)
    if sniffed is None:
        allowed = "、".join(sorted({e for t in kind_info.content_types for e in mat.EXTENSIONS[t]}))
        raise UploadRefused({"file": [f"文件：无法识别“{filename}”的文件类型（“{kind_info.label}”允许：{allowed}）"]})
    declared_type = (declared or "").split(";")[0].strip().lower()
    if declared_type not in GENERIC_TYPES and sniffed not in _family(declared_type):
        errors.setdefault("file", []).append(f"文件：内容（{sniffed}）与声明的类型（{declared_type}）不符")
    limit = min(kind_info.max_bytes, deployment_limit)
    size = size_hint if size_hint is not None else 1
    for problem in mat.check_upload(kind, sniffed, min(size, kind_info.max_bytes), filename):
        errors.setdefault("file", []).append(f"文件：{problem}")
    if size_hint is not None and size_hint > limit:
        errors.setdefault("file", []).append(f"文件：“{kind_info.label}”文件不能超过 {megabytes(limit)}")
    if errors:
        raise UploadRefused(errors)
    return sniffed


class AttachmentFiles(GridFSFiles):
    """The attachments bucket of intake's database."""

    def __init__(self, db, deployment_limit: int):
        super().__init__(db, BUCKET)
        self.deployment_limit = deployment_limit

    def store(self, stream: BinaryIO, *, kind: str, filename: str, declared_type: str | None,
              metadata: dict) -> StoredFile:
        """Check and store an upload (see the module docstring); refused with nothing stored, as
        ``shared.errors.InvalidInput`` naming the fields (``file``, ``kind``)."""
        try:
            return self._store(stream, kind=kind, filename=filename, declared_type=declared_type, metadata=metadata)
        except UploadRefused as exc:
            raise InvalidInput("上传的文件有误，请按提示修改",
                               [FieldError(field, m) for field, ms in exc.errors.items() for m in ms]) from None

    def _store(self, stream: BinaryIO, *, kind: str, filename: str, declared_type: str | None,
               metadata: dict) -> StoredFile:
        head = stream.read(HEAD_BYTES)
        size_hint = _stream_size(stream)
        stream.seek(0)
        ctype = check_file(kind, filename, declared_type, head, size_hint, stream, self.deployment_limit)
        label = mat.kind_by_code(kind).label
        limit = min(mat.kind_by_code(kind).max_bytes, self.deployment_limit)
        file_id, size, sha256 = self.write(
            stream, filename, {**metadata, "kind": kind, "content_type": ctype}, limit,
            too_large=lambda: UploadRefused({"file": [f"文件：“{label}”文件不能超过 {megabytes(limit)}"]}),
            empty=lambda: UploadRefused({"file": ["文件：文件为空"]}))
        return StoredFile(file_id, filename, ctype, size, sha256)

    def exists(self, file_id: str) -> bool:
        try:
            return self.db[f"{BUCKET}.files"].count_documents({"_id": ObjectId(file_id)}, limit=1) == 1
        except (InvalidId, TypeError):
            return False


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        position = stream.tell()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(position)
        return size
    except (OSError, AttributeError, ValueError):
        return None
