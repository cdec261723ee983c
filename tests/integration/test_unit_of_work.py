"""`MongoUnitOfWork` on a real MongoDB-wire server: one transaction with the outbox, rollback of everything on
an error, nesting joins the outer transaction, and `within` joins a consumer's open transaction."""
from __future__ import annotations

import pytest

from shared.contracts import ContractError, new_event
from shared.storage import OUTBOX, ServiceStore, Transaction, mongo_client, outbox_messages
from shared.unit_of_work import MongoUnitOfWork

pytestmark = pytest.mark.integration


class Notes:
    """A minimal repository: what a service's repositories look like to the unit of work."""

    def __init__(self, tx: Transaction):
        self.tx = tx

    def add(self, note_id: str, text: str) -> None:
        self.tx.db["notes"].insert_one({"_id": note_id, "text": text}, session=self.tx.session)


class NotesUnitOfWork(MongoUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.notes = Notes(tx)


def probe(n: int) -> dict:
    return new_event("test.probe_recorded", producer="intake", aggregate_type="probe", aggregate_id=f"p{n}",
                     aggregate_version=1, payload={"n": n})


@pytest.fixture
def store(settings, registry):
    store = ServiceStore(mongo_client(settings.mongodb_uri), settings.database_name("uow"), registry, "intake",
                         settings.topic_prefix)
    store.ensure_indexes()
    return store


def test_a_change_and_its_events_are_stored_together(store):
    uow = NotesUnitOfWork(store)

    def work():
        uow.notes.add("n1", "first")
        uow.publish(probe(1))
        return "done"

    assert uow.run(work) == "done"
    assert store.db["notes"].count_documents({}) == 1
    assert [m["type"] for m in outbox_messages(store.db)] == ["test.probe_recorded"]


def test_an_error_rolls_back_the_change_and_its_events(store):
    uow = NotesUnitOfWork(store)

    def work():
        uow.notes.add("n1", "first")
        uow.publish(probe(1))
        raise RuntimeError("refused after writing")

    with pytest.raises(RuntimeError):
        uow.run(work)
    assert store.db["notes"].count_documents({}) == 0
    assert store.db[OUTBOX].count_documents({}) == 0


def test_an_invalid_event_fails_the_whole_change(store):
    uow = NotesUnitOfWork(store)
    bad = new_event("test.probe_recorded", producer="intake", aggregate_type="probe", aggregate_id="p",
                    aggregate_version=1, payload={"n": "not a number"})

    with pytest.raises(ContractError):
        uow.run(lambda: (uow.notes.add("n1", "first"), uow.publish(bad)))
    assert store.db["notes"].count_documents({}) == 0


def test_nested_runs_join_the_outer_transaction(store):
    uow = NotesUnitOfWork(store)

    def inner():
        uow.notes.add("n2", "inner")

    def outer():
        uow.notes.add("n1", "outer")
        uow.run(inner)
        raise RuntimeError("outer fails after the inner run")

    with pytest.raises(RuntimeError):
        uow.run(outer)
    assert store.db["notes"].count_documents({}) == 0


def test_within_joins_an_open_transaction(store):
    def consumer_transaction(tx: Transaction):
        uow = NotesUnitOfWork.within(store, tx)
        uow.run(lambda: uow.notes.add("n1", "from an event"))
        uow.publish(probe(2))

    store.transaction(consumer_transaction)
    assert store.db["notes"].find_one({"_id": "n1"})["text"] == "from an event"
    assert len(outbox_messages(store.db)) == 1


def test_repositories_are_out_of_reach_outside_run(store):
    uow = NotesUnitOfWork(store)
    uow.run(lambda: uow.notes.add("n0", "inside"))
    with pytest.raises(AttributeError):
        uow.notes.add("n1", "outside")
    with pytest.raises(RuntimeError):
        uow.publish(probe(3))


def test_read_sees_committed_data_without_a_transaction_and_cannot_publish(store):
    uow = NotesUnitOfWork(store)
    uow.run(lambda: uow.notes.add("n1", "committed"))
    assert uow.read(lambda: uow.notes.tx.db["notes"].count_documents({})) == 1
    assert uow.read(lambda: uow.notes.tx.session) is None
    with pytest.raises(RuntimeError):
        uow.read(lambda: uow.publish(probe(5)))
    with pytest.raises(AttributeError):
        uow.notes.add("n2", "outside")
    assert uow.run(lambda: uow.read(lambda: uow.notes.tx.session)) is not None  # inside run: joins it
