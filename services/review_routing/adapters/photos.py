"""Site-check photos in the service's own GridFS bucket (`site_photos`).

GridFS cannot write inside a MongoDB transaction, so an upload is two steps: the bytes go to GridFS first, then
one transaction registers the photo (collection `photos`) with its audit entry. If that transaction fails the
bytes are deleted again; only registered photos are ever served.
"""
from __future__ import annotations

import hashlib

import gridfs
from bson import ObjectId

from review_routing.adapters.repository import PHOTO_BUCKET
from review_routing.service_layer.unit_of_work import PhotoFiles


class PhotoStore(PhotoFiles):
    def __init__(self, db):
        self.bucket = gridfs.GridFSBucket(db, bucket_name=PHOTO_BUCKET)

    def put(self, photo_id: str, filename: str, content_type: str, data: bytes) -> tuple[ObjectId, str]:
        digest = hashlib.sha256(data).hexdigest()
        file_id = self.bucket.upload_from_stream(
            filename, data, metadata={"photo_id": photo_id, "content_type": content_type, "sha256": digest})
        return file_id, digest

    def delete(self, file_id: ObjectId) -> None:
        try:
            self.bucket.delete(file_id)
        except gridfs.errors.NoFile:
            pass

    def open(self, file_id: ObjectId):
        return self.bucket.open_download_stream(file_id)
