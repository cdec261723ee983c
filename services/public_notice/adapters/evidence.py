"""Objection evidence files in GridFS (bucket `objection_evidence` of the public notice's database), as intake
stores its attachments: the type is read from the magic bytes (JPEG, PNG, PDF; never from the name), each file is
bounded (GREENMINE_OBJECTION_MAX_FILE_BYTES, default 10 MB), at most 5 per objection, streamed in chunks with its
SHA-256. Files are written before the filing's transaction; the caller deletes them when the filing is refused
or fails (`delete_all`), so nothing half-written stays."""
from __future__ import annotations

import os
from typing import BinaryIO

from shared.errors import FieldError, InvalidInput
from shared.gridfs_files import GridFSFiles, megabytes

BUCKET = "objection_evidence"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
TYPES = {"image/jpeg": "JPEG 图片", "image/png": "PNG 图片", "application/pdf": "PDF 文件"}


def max_file_bytes(env: dict | None = None) -> int:
    raw = (os.environ if env is None else env).get("GREENMINE_OBJECTION_MAX_FILE_BYTES") or str(DEFAULT_MAX_BYTES)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"GREENMINE_OBJECTION_MAX_FILE_BYTES must be a number of bytes, got {raw!r}") from None
    if value < 1024:
        raise ValueError("GREENMINE_OBJECTION_MAX_FILE_BYTES must be at least 1024")
    return value


def sniff(head: bytes) -> str | None:
    """The content type by magic bytes, or None (not one of JPEG, PNG, PDF)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def safe_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    return "".join(c for c in name if c.isprintable())[:120] or "证据材料"


def check_uploads(files: list, limit: int) -> None:
    """Count, emptiness, type by magic bytes and size of the uploads (werkzeug FileStorage-like: `.stream`,
    `.filename`), before anything is stored. Problems name `files[i]` (or `files`)."""
    errors = []
    if len(files) > MAX_FILES:
        errors.append(FieldError("files", f"证据材料最多{MAX_FILES}个文件"))
    for i, upload in enumerate(files[:MAX_FILES]):
        stream = upload.stream
        head = stream.read(16)
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(0)
        label = safe_name(upload.filename)
        if size == 0:
            errors.append(FieldError(f"files[{i}]", f"“{label}”是空文件"))
        elif sniff(head) is None:
            errors.append(FieldError(f"files[{i}]", f"“{label}”不是 JPEG、PNG 或 PDF 文件（按文件内容识别）"))
        elif size > limit:
            errors.append(FieldError(f"files[{i}]", f"“{label}”超过 {megabytes(limit)}"))
    if errors:
        raise InvalidInput("证据材料有误，请按提示修改", errors)


class EvidenceFiles(GridFSFiles):
    def __init__(self, db, limit: int | None = None):
        super().__init__(db, BUCKET)
        self.limit = limit or max_file_bytes()

    def store(self, stream: BinaryIO, filename: str, field: str = "files") -> dict:
        """One checked upload → {file_id, filename, content_type, size, sha256}; InvalidInput on `field` when it
        is not JPEG/PNG/PDF or too large (nothing stored then)."""
        head = stream.read(16)
        stream.seek(0)
        ctype = sniff(head)
        name = safe_name(filename)

        def refused(reason: str) -> InvalidInput:
            return InvalidInput("证据材料有误", [FieldError(field, f"“{name}”{reason}")])

        if ctype is None:
            raise refused("不是 JPEG、PNG 或 PDF 文件")
        file_id, size, sha256 = self.write(stream, name, {"content_type": ctype}, self.limit,
                                           too_large=lambda: refused(f"超过 {megabytes(self.limit)}"),
                                           empty=lambda: refused("是空文件"))
        return {"file_id": file_id, "filename": name, "content_type": ctype, "size": size, "sha256": sha256}

    def delete_all(self, stored: list[dict]) -> None:
        for item in stored:
            self.delete(item["file_id"])

    def count(self) -> int:
        return self.db[f"{BUCKET}.files"].count_documents({})
