"""Objection evidence files in GridFS (bucket `objection_evidence` of the public notice's database), as intake
stores its attachments: the type is read from the magic bytes (JPEG, PNG, PDF; never from the name), each file is
bounded (GREENMINE_OBJECTION_MAX_FILE_BYTES, default 10 MB), at most 5 per objection, streamed in chunks with its
SHA-256. Files are written before the filing's transaction; the caller deletes them when the filing is refused
or fails (`delete_all`), so nothing half-written stays."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import BinaryIO

import gridfs
from bson import ObjectId

from shared.errors import FieldError, InvalidInput

BUCKET = "objection_evidence"
CHUNK = 255 * 1024
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


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} 字节"


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
            errors.append(FieldError(f"files[{i}]", f"“{label}”超过 {_mb(limit)}"))
    if errors:
        raise InvalidInput("证据材料有误，请按提示修改", errors)


class EvidenceFiles:
    def __init__(self, db, limit: int | None = None):
        self.db = db
        self.bucket = gridfs.GridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK)
        self.limit = limit or max_file_bytes()
        self._indexed = False

    def _ensure_indexes(self) -> None:
        """GridFS's indexes once per process (pymongo's own check scans the collection on SecantusDB)."""
        if not self._indexed:
            self.db[f"{BUCKET}.files"].create_index([("filename", 1), ("uploadDate", 1)])
            self.db[f"{BUCKET}.chunks"].create_index([("files_id", 1), ("n", 1)], unique=True)
            self._indexed = True

    def store(self, stream: BinaryIO, filename: str, field: str = "files") -> dict:
        """One checked upload → {file_id, filename, content_type, size, sha256}; InvalidInput on `field` when it
        is not JPEG/PNG/PDF or too large (nothing stored then)."""
        head = stream.read(16)
        stream.seek(0)
        ctype = sniff(head)
        name = safe_name(filename)
        if ctype is None:
            raise InvalidInput("证据材料有误", [FieldError(field, f"“{name}”不是 JPEG、PNG 或 PDF 文件")])
        self._ensure_indexes()
        file_id = ObjectId()
        digest, size = hashlib.sha256(), 0
        grid_in = self.bucket.open_upload_stream_with_id(file_id, name, metadata={"content_type": ctype})
        object.__setattr__(grid_in, "_ensured_index", True)
        try:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.limit:
                    raise InvalidInput("证据材料有误", [FieldError(field, f"“{name}”超过 {_mb(self.limit)}")])
                digest.update(chunk)
                grid_in.write(chunk)
            if size == 0:
                raise InvalidInput("证据材料有误", [FieldError(field, f"“{name}”是空文件")])
            grid_in.metadata = {"content_type": ctype, "sha256": digest.hexdigest(), "state": "stored"}
            grid_in.close()
        except BaseException:
            grid_in.abort()
            raise
        return {"file_id": str(file_id), "filename": name, "content_type": ctype, "size": size,
                "sha256": digest.hexdigest()}

    def delete(self, file_id: str) -> None:
        try:
            self.bucket.delete(ObjectId(file_id))
        except (gridfs.errors.NoFile, ValueError, TypeError):
            pass

    def delete_all(self, stored: list[dict]) -> None:
        for item in stored:
            self.delete(item["file_id"])

    def count(self) -> int:
        return self.db[f"{BUCKET}.files"].count_documents({})

    def open(self, file_id: str):
        try:
            return self.bucket.open_download_stream(ObjectId(file_id))
        except Exception:
            return None

    @staticmethod
    def iterate(grid_out, chunk: int = CHUNK) -> Iterator[bytes]:
        try:
            while True:
                data = grid_out.read(chunk)
                if not data:
                    break
                yield data
        finally:
            grid_out.close()
