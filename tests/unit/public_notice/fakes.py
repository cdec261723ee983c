"""In-memory unit of work of the public_notice service, for the fast handler tests (no server): the bulletins
and one `shared.testing.FakeAggregates` per aggregate kind of `adapters/repository.py` KINDS."""
from __future__ import annotations

from public_notice.adapters.repository import kinds
from public_notice.service_layer.unit_of_work import BulletinRepository
from shared.testing import FakeAggregates, FakeUnitOfWork


class FakeBulletins(BulletinRepository):
    def __init__(self):
        self.docs = {}

    def get(self, bulletin_id):
        return self.docs.get(bulletin_id)

    def add(self, bulletin):
        assert bulletin["_id"] not in self.docs
        self.docs[bulletin["_id"]] = dict(bulletin)


class FakeNoticeUnitOfWork(FakeUnitOfWork):
    def __init__(self, registry=None):
        super().__init__(registry)
        self.bulletins = FakeBulletins()
        for collection, kind in kinds().items():
            setattr(self, collection, FakeAggregates(kind))
        self.repositories = ("bulletins", *kinds())
