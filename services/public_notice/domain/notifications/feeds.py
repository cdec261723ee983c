"""The public feeds of announcements (公告、通报) and 公示 batches: Atom 1.0 (RFC 4287) and JSON Feed 1.1. Pure:
entries in, documents out.

Ids are `urn:uuid:` UUIDs (version 5) of the item's kind and id, so they never change when the site's address
does (RFC 4287 4.2.6: an entry's id is permanent and universally unique)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
NAMESPACE = uuid.UUID("6f1c1f1e-6a43-5d0a-9c37-0b1f2a3c4d5e")   # greenmine's feed ids
TITLE = "内蒙古自治区绿色矿山公示与名录公告"
SUBTITLE = "内蒙古自治区自然资源厅发布的绿色矿山公示、名录公告（纳入、移出名录）和第三方评估机构违规通报"
AUTHOR = "内蒙古自治区自然资源厅"
LIMIT = 50
BEIJING = timezone(timedelta(hours=8))
KIND_LABELS = {"listing": "名录公告", "removal": "移出名录公告", "bulletin": "通报", "publicity": "公示"}


@dataclass(frozen=True)
class FeedEntry:
    key: str                  # "announcement:<id>" / "publicity:<id>": makes the permanent id
    title: str
    path: str                 # the public page, from the site's root: /public/announcements/<id>
    published: datetime
    updated: datetime
    summary: str
    content: str
    category: str             # listing / removal / bulletin / publicity

    @property
    def id(self) -> str:
        return "urn:uuid:" + str(uuid.uuid5(NAMESPACE, self.key))


def _aware(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cn_date(value) -> str:
    at = _aware(value).astimezone(BEIJING)
    return f"{at.year}年{at.month}月{at.day}日"


def from_announcement(doc: Mapping) -> FeedEntry | None:
    """An entry for a published 公告 (the `announcements` collection's document); None if it is not one."""
    published = _aware(doc.get("published_at"))
    if not doc.get("_id") or published is None:
        return None
    kind = doc.get("kind") or "listing"
    number = doc.get("number") or ""
    title = doc.get("title") or KIND_LABELS.get(kind, "公告")
    text = (doc.get("text") or "").strip()
    rows = doc.get("rows") or []
    count = doc.get("item_count", len(rows))
    summary = f"{number} {KIND_LABELS.get(kind, '公告')}，{cn_date(published)}发布" + (
        f"，共{count}座矿山" if kind in ("listing", "removal") and count else "") + "。"
    table = ""
    columns = doc.get("columns") or []
    if columns and rows:
        table = "\n\n" + "\n".join("　".join(str(c) for c in row) for row in [columns, *rows])
    return FeedEntry(key=f"announcement:{doc['_id']}", title=f"{title}（{number}）" if number else title,
                     path=f"/public/announcements/{doc['_id']}", published=published,
                     updated=_aware(doc.get("updated_at")) or published, summary=summary,
                     content=(text + table).strip() or summary, category=kind)


PUBLISHED_BATCH = ("published", "open", "closed", "listed", "concluded")


def from_batch(doc: Mapping) -> FeedEntry | None:
    """An entry for a published 公示 batch (the `batches` collection's document); None for a draft."""
    published = _aware(doc.get("published_at"))
    if not doc.get("_id") or published is None or doc.get("status") not in PUBLISHED_BATCH:
        return None
    title = doc.get("title") or "绿色矿山公示"
    entries = doc.get("entries") or doc.get("mines") or []
    start, end = doc.get("window_start"), doc.get("window_end")
    window = f"公示期{cn_date(start)}至{cn_date(end)}" if start and end else ""
    summary = "，".join(x for x in (f"{cn_date(published)}发布", window, f"共{len(entries)}座矿山" if entries else "")
                       if x) + "。公示期内，任何单位和个人可实名提出异议。"
    lines = []
    for i, e in enumerate(entries, 1):
        mine = e.get("mine_name") or (e.get("mine") or {}).get("name") or ""
        enterprise = e.get("enterprise_name") or (e.get("enterprise") or {}).get("name") or ""
        league = e.get("league") or ""
        lines.append(f"{i}. {mine}　{enterprise}　{league}".rstrip())
    return FeedEntry(key=f"publicity:{doc['_id']}", title=title, path=f"/public/publicity/{doc['_id']}",
                     published=published, updated=_aware(doc.get("updated_at")) or published, summary=summary,
                     content="\n".join([summary, *lines]), category="publicity")


def newest(entries: Iterable[FeedEntry | None], limit: int = LIMIT) -> list[FeedEntry]:
    return sorted((e for e in entries if e is not None), key=lambda e: (e.updated, e.id), reverse=True)[:limit]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def atom(entries: list[FeedEntry], *, base_url: str, now: datetime) -> bytes:
    """The Atom 1.0 document (UTF-8 XML)."""
    base = base_url.rstrip("/")
    E = lambda tag, text=None, **attrs: _el(tag, text, attrs)  # noqa: E731
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-CN")
    feed.append(E("id", "urn:uuid:" + str(uuid.uuid5(NAMESPACE, "feed"))))
    feed.append(E("title", TITLE))
    feed.append(E("subtitle", SUBTITLE))
    feed.append(E("updated", _iso(max((e.updated for e in entries), default=now))))
    feed.append(E("link", rel="self", type="application/atom+xml", href=f"{base}/public/feed.atom"))
    feed.append(E("link", rel="alternate", type="text/html", href=f"{base}/public/announcements"))
    feed.append(E("link", rel="related", type="application/feed+json", href=f"{base}/public/feed.json"))
    author = E("author")
    author.append(E("name", AUTHOR))
    author.append(E("uri", base + "/public/list"))
    feed.append(author)
    feed.append(E("generator", "greenmine", uri=base + "/"))
    feed.append(E("rights", "内蒙古自治区自然资源厅"))
    for entry in entries:
        el = E("entry")
        el.append(E("id", entry.id))
        el.append(E("title", entry.title))
        el.append(E("updated", _iso(entry.updated)))
        el.append(E("published", _iso(entry.published)))
        el.append(E("link", rel="alternate", type="text/html", href=base + entry.path))
        el.append(E("category", term=entry.category, label=KIND_LABELS.get(entry.category, entry.category)))
        el.append(E("summary", entry.summary, type="text"))
        el.append(E("content", entry.content, type="text"))
        feed.append(el)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _el(tag: str, text, attrs: dict):
    el = etree.Element(f"{{{ATOM}}}{tag}")
    for key, value in attrs.items():
        el.set(key, value)
    if text is not None:
        el.text = text
    return el


def json_feed(entries: list[FeedEntry], *, base_url: str) -> dict:
    """The JSON Feed 1.1 document."""
    base = base_url.rstrip("/")
    return {
        "version": JSON_FEED_VERSION, "title": TITLE, "description": SUBTITLE, "language": "zh-CN",
        "home_page_url": f"{base}/public/announcements", "feed_url": f"{base}/public/feed.json",
        "authors": [{"name": AUTHOR, "url": f"{base}/public/list"}],
        "items": [{"id": e.id, "url": base + e.path, "title": e.title, "summary": e.summary,
                   "content_text": e.content, "date_published": _iso(e.published),
                   "date_modified": _iso(e.updated), "tags": [KIND_LABELS.get(e.category, e.category)]}
                  for e in entries],
    }
