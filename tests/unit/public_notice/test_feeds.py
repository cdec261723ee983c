"""The feeds: Atom 1.0 validated against RFC 4287's RELAX NG schema, JSON Feed against a JSON Schema of version
1.1 (both in tests/fixtures), entries from announcements and published 公示 batches only, newest 50."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from lxml import etree

from public_notice.domain.notifications import feeds

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
A = "{http://www.w3.org/2005/Atom}"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
BASE = "https://greenmine.example.gov.cn"


def atom_schema():
    return etree.RelaxNG(etree.parse(str(FIXTURES / "atom-rfc4287.rng")))


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _datetime(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@FORMATS.checks("uri", raises=ValueError)
def _uri(value):
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def validate_json_feed(doc):
    schema = json.loads((FIXTURES / "jsonfeed-1.1.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(doc)


def announcement(n, *, kind="listing", at=None):
    return {"_id": f"ann-{n}", "kind": kind, "number": f"内蒙古自治区绿色矿山名录公告〔2026〕第{n}号",
            "title": "内蒙古自治区绿色矿山名录公告", "text": "根据……，现将纳入名录的矿山予以公告，接受社会监督。",
            "columns": ["序号", "矿山名称", "企业名称"], "rows": [["1", f"示范矿山{n}号", "示范煤业有限公司"]],
            "item_count": 1, "published_at": at or T0 + timedelta(hours=n)}


def batch(n, *, status="open", at=None):
    return {"_id": f"batch-{n}", "status": status, "title": f"2026年第{n}批绿色矿山公示",
            "published_at": (at or T0 + timedelta(hours=n)).isoformat(), "window_start": "2026-12-02",
            "window_end": "2026-12-08",
            "entries": [{"mine_name": "示范矿山1号", "enterprise_name": "示范煤业有限公司", "league": "鄂尔多斯市"}]}


def sample():
    return feeds.newest([feeds.from_announcement(announcement(1)), feeds.from_batch(batch(2)),
                         feeds.from_announcement(announcement(3, kind="bulletin"))])


def test_atom_validates_against_rfc_4287_and_has_what_the_rfc_requires():
    doc = feeds.atom(sample(), base_url=BASE, now=T0)
    root = etree.fromstring(doc)
    schema = atom_schema()
    assert schema.validate(root), schema.error_log
    assert root.tag == A + "feed"
    assert root.findtext(A + "updated") == "2026-12-01T05:00:00Z"   # the newest entry
    links = {link.get("rel"): link.get("href") for link in root.findall(A + "link")}
    assert links["self"] == BASE + "/public/feed.atom" and links["alternate"] == BASE + "/public/announcements"
    assert root.find(A + "author").findtext(A + "name") == "内蒙古自治区自然资源厅"
    entries = root.findall(A + "entry")
    assert [e.findtext(A + "title") for e in entries] == [
        "内蒙古自治区绿色矿山名录公告（内蒙古自治区绿色矿山名录公告〔2026〕第3号）", "2026年第2批绿色矿山公示",
        "内蒙古自治区绿色矿山名录公告（内蒙古自治区绿色矿山名录公告〔2026〕第1号）"]
    for e in entries:
        assert e.findtext(A + "id").startswith("urn:uuid:")
        assert e.find(A + "link").get("href").startswith(BASE + "/public/")
        assert e.findtext(A + "published") and e.findtext(A + "summary") and e.findtext(A + "content")
    assert entries[1].find(A + "link").get("href") == BASE + "/public/publicity/batch-2"
    assert "公示期2026年12月2日至2026年12月8日" in entries[1].findtext(A + "summary")


@pytest.mark.parametrize("remove", ["id", "title", "updated"])
def test_the_schema_refuses_a_feed_or_entry_missing_a_required_element(remove):
    root = etree.fromstring(feeds.atom(sample(), base_url=BASE, now=T0))
    broken_feed, broken_entry = copy.deepcopy(root), copy.deepcopy(root)
    broken_feed.remove(broken_feed.find(A + remove))
    entry = broken_entry.find(A + "entry")
    entry.remove(entry.find(A + remove))
    schema = atom_schema()
    assert not schema.validate(broken_feed) and not schema.validate(broken_entry)


def test_the_schema_refuses_a_bad_date():
    root = etree.fromstring(feeds.atom(sample(), base_url=BASE, now=T0))
    root.find(A + "updated").text = "2026年12月1日"
    assert not atom_schema().validate(root)


def test_ids_are_permanent_and_distinct():
    one, again = feeds.from_announcement(announcement(1)), feeds.from_announcement(announcement(1))
    assert one.id == again.id != feeds.from_batch(batch(1)).id
    assert feeds.atom([one], base_url=BASE, now=T0).count(one.id.encode()) == 1


def test_json_feed_validates():
    doc = feeds.json_feed(sample(), base_url=BASE)
    validate_json_feed(doc)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == BASE + "/public/feed.json"
    assert [i["url"] for i in doc["items"]] == [BASE + "/public/announcements/ann-3",
                                               BASE + "/public/publicity/batch-2",
                                               BASE + "/public/announcements/ann-1"]
    assert all(i["content_text"] and i["date_published"].endswith("Z") for i in doc["items"])
    with pytest.raises(jsonschema.ValidationError):
        validate_json_feed({**doc, "items": [{"id": "x"}]})   # no content
    with pytest.raises(jsonschema.ValidationError):
        validate_json_feed({**doc, "version": "1.1"})


def test_drafts_and_unpublished_are_left_out_and_the_newest_fifty_kept():
    assert feeds.from_batch(batch(1, status="draft")) is None
    assert feeds.from_batch({**batch(1), "published_at": None}) is None
    assert feeds.from_announcement({**announcement(1), "published_at": None}) is None
    many = [feeds.from_announcement(announcement(n)) for n in range(1, 61)]
    kept = feeds.newest(many)
    assert len(kept) == 50 and kept[0].title.endswith("第60号）") and kept[-1].title.endswith("第11号）")


def test_an_empty_feed_is_still_valid():
    root = etree.fromstring(feeds.atom([], base_url=BASE, now=T0))
    assert atom_schema().validate(root) and root.findtext(A + "updated") == "2026-12-01T02:00:00Z"
    validate_json_feed(feeds.json_feed([], base_url=BASE))


def test_naive_and_string_dates_are_read_as_utc():
    entry = feeds.from_announcement({**announcement(1), "published_at": datetime(2026, 12, 1, 16, 30)})
    assert entry.published == datetime(2026, 12, 1, 16, 30, tzinfo=UTC)
    assert "2026年12月2日" in entry.summary     # Beijing date
