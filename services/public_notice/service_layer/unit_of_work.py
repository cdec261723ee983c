"""The public_notice service's unit-of-work port: the repositories its handlers may use inside `uow.run(...)`.

Besides the bulletins, every aggregate of the service has the one generic shape `shared.aggregates.Aggregates`
(get / get_many / find by equality / versioned save), one collection each (`adapters/repository.py` KINDS):

| attribute | aggregate | area |
|---|---|---|
| `proposals` | ProposedCase: a case the region proposed (拟公示), waiting for a batch | 公示 publicity |
| `batches` | PublicityBatch: a 公示 batch, its window and mines | 公示 publicity |
| `objections` | Objection: a real-name 异议, its triage, findings and conclusion | 异议 objections |
| `listings` | ListedMine: a mine on the green-mine list (名录) with its history | 名录 listing |
| `announcements` | Announcement: a numbered 公告 (listing, removal, 通报) | 名录 listing |
| `number_series` | NumberSeries: the next number of a yearly series (公告〔2026〕第N号) | 名录 listing |
| `list_stamps` | ListStamp: the list's change stamp (web processes cache the list until it moves) | 名录 listing |
| `inbox` | InboxEntry: one notification for one user | notifications |
| `case_contacts` | CaseContact: who to tell about a case (its enterprise, its institution) | notifications |
| `deliveries` | Delivery: one message to send on one channel (email, webhook), with its attempts | notifications |
| `subscriptions` | EmailSubscription: a public email subscription (double opt-in) | notifications |
| `webhooks` | WebhookEndpoint: a subscribing system's URL, secret and delivery health | notifications |
"""
from __future__ import annotations

import abc

from shared.aggregates import Aggregates
from shared.unit_of_work import UnitOfWork


class BulletinRepository(abc.ABC):
    """通报 (bulletins), one per source record (a misconduct finding), by id."""

    @abc.abstractmethod
    def get(self, bulletin_id: str) -> dict | None: ...

    @abc.abstractmethod
    def add(self, bulletin: dict) -> None:
        """Store a new bulletin (an existing id fails the transaction)."""


class PublicNoticeUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the public_notice service's state and the events it causes."""

    bulletins: BulletinRepository
    proposals: Aggregates
    batches: Aggregates
    objections: Aggregates
    listings: Aggregates
    announcements: Aggregates
    number_series: Aggregates
    list_stamps: Aggregates
    inbox: Aggregates
    case_contacts: Aggregates
    deliveries: Aggregates
    subscriptions: Aggregates
    webhooks: Aggregates
