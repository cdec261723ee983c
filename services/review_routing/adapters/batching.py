"""A consumer that handles a poll's records in a few transactions instead of one transaction per record.

Every department queue event is a tiny write, and every submission fans out to ~10 of them; at tens of
submissions per second one transaction (and its round trips) per record is what limits the embedded stack.
This consumer keeps every guarantee of `shared.messaging.EventConsumer`:

* each record is validated against contracts/ (and upcast) before a handler sees it; an invalid record is
  dead-lettered with the reason;
* handlers that offer `.batch(envelopes, tx)` get consecutive events of a chunk together (one read and one
  bulk write for a run of queue events instead of one each);
* the inbox claims and the handlers' effects (and their outbox events) of a chunk of records are written in
  ONE transaction: all or nothing, and a replayed event id is skipped (also within the chunk). The inbox ids
  are claimed without a look-up first (look-ups by id are what the embedded database is slowest at); if one
  was processed before, the transaction rolls back and the chunk runs again with the look-up;
* offsets are committed only after the chunk's transaction committed;
* if the chunk fails, its records are handled again one at a time by the platform's own `handle` (retries
  with backoff, poison records dead-lettered alone), so one bad record never blocks the others.
"""
from __future__ import annotations

import logging

from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.clock import utcnow
from shared.logging import correlation_id
from shared.messaging import EventConsumer, Outcome
from shared.storage import INBOX, Transaction

log = logging.getLogger(__name__)


class _SeenBefore(Exception):
    """An event id of the chunk is in the inbox already (a redelivery)."""


class BatchingConsumer(EventConsumer):
    def __init__(self, *args, chunk_size: int = 200, **kwargs):
        super().__init__(*args, **kwargs)
        self.chunk_size = chunk_size

    def consumer_options(self) -> dict:
        # Polls as big as a chunk, and a short fetch wait: the light-load latency halves.
        return {"max_poll_records": self.chunk_size, "fetch_max_wait_ms": 100}

    def handle_polled(self, records: list) -> None:
        self.handle_batch(records)

    def handle_batch(self, records: list) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(records), self.chunk_size):
            outcomes.extend(self._handle_chunk(records[start:start + self.chunk_size]))
        return outcomes

    def _handle_chunk(self, records: list) -> list[Outcome]:
        outcomes: list[Outcome] = []
        work_items = []
        for record in records:
            parsed = self.parse(record)
            if isinstance(parsed, Outcome):
                outcomes.append(parsed)
            else:
                work_items.append((record, *parsed))
        if not work_items:
            return outcomes

        def work(tx: Transaction, look_up: bool) -> list[Outcome]:
            # Fast path: claim the inbox ids blindly (an id processed before makes the insert fail and the
            # transaction roll back: then the chunk runs again with a look-up). Within the chunk, a repeated id
            # is a duplicate either way.
            done: set[str] = set()
            if look_up:
                ids = [envelope["event_id"] for _, envelope, _, _ in work_items]
                done = {d["_id"] for d in tx.db[INBOX].find({"_id": {"$in": ids}}, {"_id": 1}, session=tx.session)}
            fresh, results, runs = [], [], []
            for _, envelope, handler, topic in work_items:
                event_id = envelope["event_id"]
                if event_id in done:
                    results.append(Outcome("duplicate", event_id))
                    continue
                done.add(event_id)
                fresh.append({"_id": event_id, "type": envelope["type"], "topic": topic, "processed_at": utcnow()})
                results.append(Outcome("processed", event_id))
                # Consecutive events for the same batch handler are handed over together, in order.
                if runs and getattr(handler, "batch", None) is not None and runs[-1][0] is handler:
                    runs[-1][1].append(envelope)
                else:
                    runs.append((handler, [envelope]))
            if fresh:
                try:
                    tx.db[INBOX].insert_many(fresh, ordered=True, session=tx.session)
                except (BulkWriteError, DuplicateKeyError) as exc:
                    raise _SeenBefore() from exc
            for handler, envelopes in runs:
                batch = getattr(handler, "batch", None)
                token = correlation_id.set(envelopes[0]["correlation_id"])
                try:
                    if batch is not None:
                        batch(envelopes, tx)
                    else:
                        for envelope in envelopes:
                            handler(envelope, tx)
                finally:
                    correlation_id.reset(token)
            return results

        try:
            try:
                outcomes.extend(self.store.transaction(lambda tx: work(tx, look_up=False)))
            except _SeenBefore:
                outcomes.extend(self.store.transaction(lambda tx: work(tx, look_up=True)))
        except Exception as exc:  # one record may be poison: let the platform handle them one by one
            log.warning("chunk of %d records failed (%s: %s); handling them one at a time", len(work_items),
                        type(exc).__name__, exc)
            outcomes.extend(EventConsumer.handle(self, record) for record, *_ in work_items)
        return outcomes
