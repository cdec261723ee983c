"""The public feeds, no sign-in: `/public/feed.atom` (Atom 1.0) and `/public/feed.json` (JSON Feed 1.1) — the
newest 50 of the published announcements (名录公告、移出名录公告、通报) and 公示 batches — and `/public/feeds`, a
page saying how to subscribe (its head carries the `<link rel="alternate">` of both feeds).

Read from the `announcements` and `batches` collections as read models; a collection not yet written (an area
still being built, a fresh install) gives no entries, never an error. Answers carry an ETag (a repeated poll gets
304) and may be cached for 60 seconds."""
from __future__ import annotations

import json
import logging

from flask import Response, render_template, request

from public_notice.domain.notifications import feeds
from shared import identity

log = logging.getLogger(__name__)
MAX_AGE = 60


def entries(db, limit: int = feeds.LIMIT) -> list[feeds.FeedEntry]:
    """The newest published announcements and batches, merged, newest first."""
    found = []
    for collection, build, query in (
            ("announcements", feeds.from_announcement, {"published_at": {"$ne": None}}),
            ("batches", feeds.from_batch, {"status": {"$in": list(feeds.PUBLISHED_BATCH)},
                                           "published_at": {"$ne": None}})):
        try:
            for doc in db[collection].find(query).sort("published_at", -1).limit(limit):
                try:
                    found.append(build(doc))
                except (KeyError, TypeError, ValueError):   # a document of another shape: left out, logged
                    log.warning("feed: %s %s left out (unexpected shape)", collection, doc.get("_id"))
        except Exception:  # noqa: BLE001 - the feed still answers with what it has
            log.exception("feed: reading %s failed", collection)
    return feeds.newest(found, limit)


def _answer(body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


def routes(web, bus) -> None:
    public = web.public

    def base_url() -> str:
        return web.settings.public_url

    @public.get("/feed.atom")
    @identity.public
    def feed_atom():
        from shared.clock import utcnow

        body = feeds.atom(entries(web.db()), base_url=base_url(), now=utcnow())
        return _answer(body, "application/atom+xml")

    @public.get("/feed.json")
    @identity.public
    def feed_json():
        body = json.dumps(feeds.json_feed(entries(web.db()), base_url=base_url()), ensure_ascii=False, indent=1)
        return _answer(body.encode(), "application/feed+json")

    @public.get("/feeds")
    @identity.public
    def feeds_page():
        return render_template("public_notice/notifications/feeds.html", items=entries(web.db(), 10),
                               base=base_url(), labels=feeds.KIND_LABELS, cn_date=feeds.cn_date)
