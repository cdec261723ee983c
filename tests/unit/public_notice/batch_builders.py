"""Real `PublicityBatch`es in a given state for tests that need many entries (the 名录 and objection tests): built
only through the batch's own methods — compose from `ProposedCase`s, publish, objections filed in the window,
advance through the window on the official calendar — never a stand-in class. (Tests that need a batch's whole
life through the commands use ComposeBatch / PublishBatch / Sweep; see test_publicity_flow.py.)"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from public_notice.domain.publicity import PUBLIC_FIELDS, ProposedCase, PublicityBatch
from shared.workdays import WorkingCalendar

CALENDAR = WorkingCalendar()


def case(entry: Mapping) -> ProposedCase:
    """A proposed case with the public fields of `entry` (application_id required; the rest defaulted)."""
    app = entry["application_id"]
    fields = {name: entry.get(name) for name in PUBLIC_FIELDS}
    fields.update(review_id=entry.get("review_id") or f"{app}.v1", version_no=int(entry.get("version_no") or 1),
                  mine_name=entry.get("mine_name") or "", enterprise_name=entry.get("enterprise_name") or "",
                  league=entry.get("league") or "", minerals=list(entry.get("minerals") or []))
    return ProposedCase(id=fields["review_id"], proposed_at="2026-01-05T02:00:00Z", status="in_batch",
                        **fields)


def _noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=4)   # 12:00 in Beijing


def published(batch_id: str, entries: Iterable[Mapping], *, published_on: date, start: date | None = None,
              working_days: int = 5, title: str | None = None, by: str = "region") -> PublicityBatch:
    """Composed and published on `published_on` (window from `start`, default the next working day)."""
    at = _noon(published_on)
    batch = PublicityBatch.compose(batch_id, [case(e) for e in entries], title=title, working_days=working_days,
                                   start=start, calendar=CALENDAR, today=published_on, n=1, at=at, by=by)
    batch.publish(calendar=CALENDAR, today=published_on, n=1, at=at, by=by)
    return batch


def open_batch(batch_id: str, entries: Iterable[Mapping], *, start: date, working_days: int = 5,
               published_on: date | None = None) -> PublicityBatch:
    """Published before `start` and opened on it (what the sweep does on the first day)."""
    batch = published(batch_id, entries, published_on=published_on or start - timedelta(days=3),
                      start=start, working_days=working_days)
    batch.advance(start, _noon(start))
    assert batch.status == "open", batch.status
    return batch


def closed_batch(batch_id: str, entries: Iterable[Mapping], *, open_objections: Iterable[str] = (),
                 published_on: date = date(2026, 5, 20), working_days: int = 5) -> PublicityBatch:
    """Published on `published_on`, an objection filed (and still open at the close) on each application of
    `open_objections`, advanced past the window: the others `clear` (listable), those in `objection`."""
    batch = published(batch_id, entries, published_on=published_on, working_days=working_days)
    start = date.fromisoformat(batch.window_start)
    batch.advance(start, _noon(start))
    for n, application_id in enumerate(open_objections, start=1):
        batch.objection_filed(application_id, f"obj-{batch_id}-{n}")
    after = CALENDAR.add_working_days(date.fromisoformat(batch.window_end), 1)
    batch.advance(after, _noon(after))
    assert batch.status == "closed", batch.status
    return batch
