"""MongoDB side of the public_notice service: its repositories and the unit of work over them.

Every aggregate kind lives in the collection of its name (KINDS: collection → "module:Class"), behind
`shared.aggregates.MongoAggregates`; `ensure_indexes` adds what the queries need."""
from __future__ import annotations

from importlib import import_module

from pymongo import ASCENDING, DESCENDING

from public_notice.service_layer.unit_of_work import BulletinRepository, PublicNoticeUnitOfWork
from shared.aggregates import MongoAggregates
from shared.storage import Transaction
from shared.unit_of_work import MongoUnitOfWork

BULLETINS = "bulletins"
KINDS = {
    "proposals": "public_notice.domain.publicity:ProposedCase",
    "batches": "public_notice.domain.publicity:PublicityBatch",
    "objections": "public_notice.domain.objections:Objection",
    "listings": "public_notice.domain.listing:ListedMine",
    "announcements": "public_notice.domain.announcements:Announcement",
    "number_series": "public_notice.domain.announcements:NumberSeries",
    "list_stamps": "public_notice.domain.listing:ListStamp",
    "inbox": "public_notice.domain.notifications.inbox:InboxEntry",
    "case_contacts": "public_notice.domain.notifications.inbox:CaseContact",
    "deliveries": "public_notice.domain.notifications.deliveries:Delivery",
    "subscriptions": "public_notice.domain.notifications.subscriptions:EmailSubscription",
    "webhooks": "public_notice.domain.notifications.webhooks:WebhookEndpoint",
}


def kinds() -> dict[str, type]:
    """Collection → aggregate class."""
    out = {}
    for collection, where in KINDS.items():
        module, name = where.split(":")
        out[collection] = getattr(import_module(module), name)
    return out


# (collection, keys, options): what the handlers' and pages' queries need.
INDEXES = [
    ("proposals", [("status", ASCENDING), ("league", ASCENDING)], {"name": "by_status"}),
    ("batches", [("status", ASCENDING), ("window_end", ASCENDING)], {"name": "by_status"}),
    ("objections", [("batch_id", ASCENDING), ("application_id", ASCENDING)], {"name": "by_batch"}),
    ("objections", [("status", ASCENDING), ("due_date", ASCENDING)], {"name": "by_status"}),
    ("objections", [("receipt_no", ASCENDING)], {"name": "by_receipt", "unique": True}),
    ("listings", [("status", ASCENDING), ("league", ASCENDING), ("mine_name", ASCENDING)], {"name": "by_status"}),
    ("listings", [("league", ASCENDING), ("mine_name", ASCENDING), ("_id", ASCENDING)], {"name": "list_order"}),
    ("listings", [("listed_year", ASCENDING), ("league", ASCENDING)], {"name": "by_year"}),
    ("listings", [("minerals", ASCENDING)], {"name": "by_mineral"}),
    ("listings", [("scale", ASCENDING)], {"name": "by_scale"}),
    ("announcements", [("kind", ASCENDING), ("published_at", DESCENDING)], {"name": "by_kind"}),
    ("announcements", [("published_at", DESCENDING)], {"name": "newest_first"}),
    ("inbox", [("username", ASCENDING), ("read", ASCENDING), ("created_at", DESCENDING)], {"name": "by_user"}),
    ("deliveries", [("status", ASCENDING), ("next_attempt_at", ASCENDING)], {"name": "due"}),
    ("subscriptions", [("email", ASCENDING)], {"name": "by_email"}),
    ("subscriptions", [("status", ASCENDING)], {"name": "by_status"}),
    ("inbox", [("username", ASCENDING), ("created_at", DESCENDING)], {"name": "by_user_newest"}),
    ("deliveries", [("channel", ASCENDING), ("created_at", DESCENDING)], {"name": "by_channel"}),
    ("deliveries", [("target", ASCENDING), ("status", ASCENDING)], {"name": "by_target_status"}),
    ("inbox", [("event_id", ASCENDING)], {"name": "by_event"}),
    ("deliveries", [("target", ASCENDING), ("created_at", DESCENDING)], {"name": "by_target"}),
    ("webhooks", [("enabled", ASCENDING)], {"name": "by_enabled"}),
]


def ensure_indexes(db) -> None:
    for collection, keys, options in INDEXES:
        db[collection].create_index(keys, **options)


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
        for collection, kind in kinds().items():
            setattr(self, collection, MongoAggregates(tx, collection, kind))
