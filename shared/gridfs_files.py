"""Uploaded files in one GridFS bucket of a service's database: streamed in chunks with their SHA-256 and a size
bound, deleted again when what they belong to is not saved, read back in chunks.

What a file may be (its type by magic bytes, its size limit) is the owning service's rule; this is only how the
bytes are kept. GridFS writes are not part of a transaction (a 50 MB file does not belong in one), so callers
store first and `delete` when their transaction fails."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

import gridfs
from bson import ObjectId
from bson.errors import InvalidId

CHUNK = 255 * 1024


def megabytes(n: int) -> str:
    """A size limit as users read it: 10 MB, or 512 字节 below one megabyte."""
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n} 字节"


class GridFSFiles:
    """The bucket `bucket` of `db`."""

    def __init__(self, db, bucket: str):
        self.db, self.bucket_name = db, bucket
        self.bucket = gridfs.GridFSBucket(db, bucket_name=bucket, chunk_size_bytes=CHUNK)
        self._indexed = False

    def _ensure_indexes(self) -> None:
        """GridFS's own indexes (the ones pymongo makes), once per process. pymongo's upload stream checks them on
        every upload with a `find_one({})` on both collections, which SecantusDB answers by scanning the whole
        collection: preparing 200 drafts of 38 files took over 15 minutes instead of about 2, growing with every
        file. A real MongoDB answers it from the first document, so nothing changes there."""
        if not self._indexed:
            self.db[f"{self.bucket_name}.files"].create_index([("filename", 1), ("uploadDate", 1)])
            self.db[f"{self.bucket_name}.chunks"].create_index([("files_id", 1), ("n", 1)], unique=True)
            self._indexed = True

    def write(self, stream: BinaryIO, filename: str, metadata: dict, limit: int, *,
              too_large: Callable[[], Exception], empty: Callable[[], Exception]) -> tuple[str, int, str]:
        """Stream `stream` into the bucket → (file id, size, SHA-256 hex). Past `limit` bytes, or with no bytes
        at all, the upload is aborted (nothing stays stored) and `too_large()` / `empty()` is raised."""
        self._ensure_indexes()
        file_id = ObjectId()
        digest, size = hashlib.sha256(), 0
        grid_in = self.bucket.open_upload_stream_with_id(file_id, filename, metadata=metadata)
        object.__setattr__(grid_in, "_ensured_index", True)   # done above (see _ensure_indexes); pymongo's own flag
        try:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large()
                digest.update(chunk)
                grid_in.write(chunk)
            if size == 0:
                raise empty()
            # The file document is written once, at close, with its digest: no update after it (one round trip less;
            # chunks without a file document are what an interrupted upload leaves).
            grid_in.metadata = {**metadata, "sha256": digest.hexdigest(), "state": "stored"}
            grid_in.close()
        except BaseException:
            grid_in.abort()
            raise
        return str(file_id), size, digest.hexdigest()

    def delete(self, file_id: str) -> None:
        try:
            self.bucket.delete(ObjectId(file_id))
        except (gridfs.errors.NoFile, InvalidId, TypeError):
            pass

    def open(self, file_id: str):
        """A GridOut (`.length`, `.read(n)`) or None when there is no such file."""
        try:
            return self.bucket.open_download_stream(ObjectId(file_id))
        except (gridfs.errors.NoFile, InvalidId, TypeError):
            return None

    @staticmethod
    def iterate(grid_out, chunk: int = CHUNK) -> Iterator[bytes]:
        """The file's bytes in chunks for a streamed answer; the file is closed when the answer ends."""
        try:
            while data := grid_out.read(chunk):
                yield data
        finally:
            grid_out.close()
