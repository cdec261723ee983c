"""MongoDB side of the public_notice service: its repositories and the unit of work over them."""
from __future__ import annotations

from public_notice.service_layer.unit_of_work import BulletinRepository, PublicNoticeUnitOfWork
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork

BULLETINS = "bulletins"


class MongoBulletins(BulletinRepository):
    def __init__(self, tx: Transaction):
        self.coll, self.session = tx.db[BULLETINS], tx.session

    def get(self, bulletin_id: str) -> dict | None:
        return self.coll.find_one({"_id": bulletin_id}, session=self.session)

    def add(self, bulletin: dict) -> None:
        self.coll.insert_one(dict(bulletin), session=self.session)


class MongoPublicNoticeUnitOfWork(MongoUnitOfWork, PublicNoticeUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.bulletins = MongoBulletins(tx)
