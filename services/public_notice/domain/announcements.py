"""公告: the numbered announcements of the green-mine list — a listing (名录公告), a removal (移出名录公告) and an
evaluator 通报 — and the yearly number series that numbers them.

The notice (附件2 三): "由自治区自然资源厅向社会公示，将公示无异议的矿山纳入绿色矿山名录库管理并向社会公告，
接受社会监督"; (附件2 四(三)): "经自治区绿色矿山建设协调机制审定后，移出绿色矿山名录，不再享受相应支持政策，并向社会
公告"; (正文 二(四)): "对经核实存在……违规行为的第三方评估机构和评估人员予以通报".

* Numbers: `内蒙古自治区绿色矿山名录公告〔2026〕第N号` — N counts from 1 per calendar year (Beijing) and series.
  Listing and removal announcements are both 名录公告 and share one series; 通报 have their own
  (`内蒙古自治区绿色矿山通报〔2026〕第N号`). A `NumberSeries` per series and year hands out the numbers; it is saved
  versioned, so two confirmations at once never get one number (the second transaction retries and takes the next).
* The issuer of every announcement is 内蒙古自治区自然资源厅.
Pure: no I/O.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

ISSUER = "内蒙古自治区自然资源厅"
NOTICE = "《内蒙古自治区人民政府办公厅关于进一步加强绿色矿山建设的通知》（内政办发〔2025〕24号）"
SERIES = {
    "listing": "内蒙古自治区绿色矿山名录公告",
    "removal": "内蒙古自治区绿色矿山名录公告",
    "bulletin": "内蒙古自治区绿色矿山通报",
}
# The series a kind is numbered in (listing and removal share the 名录公告 series).
SERIES_OF = {"listing": "list", "removal": "list", "bulletin": "bulletin"}
KIND_LABELS = {"listing": "名录公告", "removal": "移出名录公告", "bulletin": "通报",
               "historical": "名录公告（平台启用前）"}
SCALE_LABELS = {"large": "大型", "medium": "中型", "small": "小型"}
LISTING_COLUMNS = ["序号", "矿山名称", "企业名称", "盟市", "矿种", "规模"]
REMOVAL_COLUMNS = ["序号", "矿山名称", "企业名称", "盟市", "移出原因"]
BULLETIN_COLUMNS = ["序号", "评估机构", "统一社会信用代码", "评估人员", "违规情形", "不再采信至"]


def cn_day(day: date | str) -> str:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.year}年{day.month}月{day.day}日"


def format_number(kind: str, year: int, n: int) -> str:
    """`内蒙古自治区绿色矿山名录公告〔2026〕第3号`."""
    return f"{SERIES[kind]}〔{year}〕第{n}号"


def series_id(kind: str, year: int) -> str:
    return f"{SERIES_OF[kind]}-{year}"


def scale_label(scale: str | None) -> str:
    return SCALE_LABELS.get(scale or "", scale or "")


def key_of(*parts: Any) -> str:
    """A short stable digest of the parts (ids of announcements made from the same request are equal)."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _dt(value):
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass
class NumberSeries:
    """The numbers handed out in one series and year: `take(announcement_id)` gives the next (or the one that
    announcement already has: taking twice for one announcement never uses two numbers)."""

    id: str
    series: str
    year: int
    last: int = 0
    issued: dict[str, int] = field(default_factory=dict)
    version: int | None = None

    @classmethod
    def start(cls, kind: str, year: int) -> NumberSeries:
        return cls(id=series_id(kind, year), series=SERIES_OF[kind], year=year)

    def take(self, announcement_id: str) -> int:
        if announcement_id not in self.issued:
            self.last += 1
            self.issued[announcement_id] = self.last
        return self.issued[announcement_id]

    def to_dict(self) -> dict:
        return {"_id": self.id, "series": self.series, "year": self.year, "last": self.last,
                "issued": dict(self.issued), "version": self.version}

    @classmethod
    def from_dict(cls, doc: Mapping) -> NumberSeries:
        return cls(id=doc["_id"], series=doc["series"], year=doc["year"], last=doc.get("last", 0),
                   issued=dict(doc.get("issued") or {}), version=doc.get("version"))


@dataclass
class Announcement:
    """One numbered 公告 as published: number, title, formal text, its table, date and issuer; `refs` says what it
    announces (batch, mines, finding)."""

    id: str
    kind: str
    year: int
    seq: int
    number: str
    title: str
    text: str
    columns: list[str]
    rows: list[list[str]]
    published_at: datetime
    published_on: str
    published_by: str
    published_by_name: str = ISSUER
    issuer: str = ISSUER
    refs: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict:
        return {"_id": self.id, "kind": self.kind, "year": self.year, "seq": self.seq, "number": self.number,
                "title": self.title, "text": self.text, "columns": list(self.columns),
                "rows": [list(r) for r in self.rows], "item_count": len(self.rows),
                "published_at": self.published_at, "published_on": self.published_on,
                "published_by": self.published_by, "published_by_name": self.published_by_name,
                "issuer": self.issuer, "refs": dict(self.refs), "history": list(self.history),
                "version": self.version}

    @classmethod
    def from_dict(cls, doc: Mapping) -> Announcement:
        return cls(id=doc["_id"], kind=doc["kind"], year=doc["year"], seq=doc["seq"], number=doc["number"],
                   title=doc["title"], text=doc["text"], columns=list(doc.get("columns") or []),
                   rows=[list(r) for r in doc.get("rows") or []], published_at=_dt(doc["published_at"]),
                   published_on=doc["published_on"], published_by=doc["published_by"],
                   published_by_name=doc.get("published_by_name", ISSUER), issuer=doc.get("issuer", ISSUER),
                   refs=dict(doc.get("refs") or {}), history=list(doc.get("history") or []),
                   version=doc.get("version"))


@dataclass(frozen=True)
class Draft:
    """What an announcement says, before it has a number."""

    kind: str
    title: str
    text: str
    columns: list[str]
    rows: list[list[str]]
    refs: dict


def listing_announcement(entries: Iterable[Mapping], *, batch_id: str, batch_title: str | None = None) -> Draft:
    """The 名录公告 of mines entering the list from one 公示 batch: the formal text and its table (序号, 矿山名称,
    企业名称, 盟市, 矿种, 规模), ordered by 盟市 then mine name."""
    entries = sorted(entries, key=lambda e: (e.get("league") or "", e.get("mine_name") or ""))
    n = len(entries)
    publicity = f"“{batch_title}”" if batch_title else "公示"
    text = (f"根据{NOTICE}和《内蒙古自治区绿色矿山申报评估遴选及动态管理要求》，经企业申报、盟市初审、第三方评估、"
            f"自治区抽查和社会公示，{publicity}期满无异议，现将{n}座矿山列入内蒙古自治区绿色矿山名录（名单见附表），"
            f"接受社会监督。纳入名录的矿山实行动态管理，对出现规定情形的，采取标注、限期整改、移出名录等措施及时处置。"
            f"特此公告。")
    rows = [[str(i), e.get("mine_name") or "", e.get("enterprise_name") or "", e.get("league") or "",
             "、".join(e.get("minerals") or []), scale_label(e.get("scale"))] for i, e in enumerate(entries, 1)]
    title = f"关于将{n}座矿山列入内蒙古自治区绿色矿山名录的公告"
    return Draft("listing", title, text, list(LISTING_COLUMNS), rows,
                 {"batch_id": batch_id, "mine_ids": [e["mine_id"] for e in entries],
                  "application_ids": [e["application_id"] for e in entries]})


def removal_announcement(mines: Iterable[Mapping], *, document_no: str, reasons: Mapping[str, str]) -> Draft:
    """The 移出名录公告: mines (each {mine_id, mine_name, enterprise_name, league}) removed by the 协调机制's
    decision `document_no`, each with its reason (`reasons[mine_id]`)."""
    mines = sorted(mines, key=lambda m: (m.get("league") or "", m.get("mine_name") or ""))
    n = len(mines)
    text = (f"根据{NOTICE}和《内蒙古自治区绿色矿山申报评估遴选及动态管理要求》，经自治区绿色矿山建设协调机制审定"
            f"（{document_no}），现将{n}座矿山移出内蒙古自治区绿色矿山名录（名单及原因见附表），自公告之日起不再享受"
            f"相应支持政策，后续整改工作由问题涉及的相关部门负责监督。特此公告。")
    rows = [[str(i), m.get("mine_name") or "", m.get("enterprise_name") or "", m.get("league") or "",
             reasons[m["mine_id"]]] for i, m in enumerate(mines, 1)]
    more = f"等{n}座矿山" if n > 1 else ""
    title = f"关于将{mines[0].get('mine_name')}{more}移出内蒙古自治区绿色矿山名录的公告"
    return Draft("removal", title, text, list(REMOVAL_COLUMNS), rows,
                 {"document_no": document_no, "mine_ids": [m["mine_id"] for m in mines]})


def bulletin_announcement(payload: Mapping, *, text: str) -> Draft:
    """The numbered 通报 of a misconduct finding (review_routing's `misconduct_found`), with the bulletin's text."""
    row = ["1", payload["institution_name"], payload.get("credit_code") or "", payload.get("person") or "—",
           payload["kind_label"], cn_day(payload["banned_until"])]
    title = f"关于{payload['institution_name']}{payload['kind_label']}的通报"
    return Draft("bulletin", title, text, list(BULLETIN_COLUMNS), [row],
                 {"finding_id": payload["finding_id"], "institution_id": payload.get("institution_id"),
                  "document_no": payload.get("document_no")})


def publish(draft: Draft, *, announcement_id: str, seq: int, at: datetime, on: date, by: str,
            by_name: str | None = None) -> Announcement:
    """The announcement of `draft`, numbered `seq` in its series for the year of `on`."""
    return Announcement(id=announcement_id, kind=draft.kind, year=on.year, seq=seq,
                        number=format_number(draft.kind, on.year, seq), title=draft.title, text=draft.text,
                        columns=draft.columns, rows=draft.rows, published_at=at, published_on=on.isoformat(),
                        published_by=by, published_by_name=by_name or ISSUER, refs=draft.refs,
                        history=[{"at": at, "by": by, "by_name": by_name or ISSUER, "action": "published"}])


# -- the announcements of the list kept before the platform (list_import) ------------------------------------------
def historical_text(document_no: str, n: int) -> str:
    return (f"本公告为绿色矿山遴选平台启用前已发布的公告（{document_no}），平台按原公告录入，文号、标题和日期均为原公告"
            f"所载。原公告列入绿色矿山名录的矿山中，以下{n}座矿山录入本平台名录（名单见附表），"
            f"纳入名录动态管理，接受社会监督。")


def historical_rows(mines: Iterable[Mapping]) -> list[list[str]]:
    """The table (LISTING_COLUMNS) of a historical announcement's mines, by 盟市 then name."""
    mines = sorted(mines, key=lambda m: (m.get("league") or "", m.get("mine_name") or ""))
    return [[str(i), m.get("mine_name") or "", m.get("enterprise_name") or "", m.get("league") or "",
             "、".join(m.get("minerals") or []), scale_label(m.get("scale"))] for i, m in enumerate(mines, 1)]


def historical_announcement(mines: Iterable[Mapping], *, announcement_id: str, document_no: str, title: str,
                            year: int, seq: int, on: date, at: datetime, by: str, by_name: str,
                            source: str) -> Announcement:
    """An announcement published before the platform existed (kind `historical`), carrying its ORIGINAL document
    number (e.g. 内自然资字〔2023〕45号, never a new 〔2026〕 number of the platform's series), title and date;
    `mines` are its mines as imported. Its history says who imported it from which file, and when."""
    mines = list(mines)
    published_at = datetime(on.year, on.month, on.day, 1, 0, tzinfo=at.tzinfo)  # 09:00 Beijing
    return Announcement(id=announcement_id, kind="historical", year=year, seq=seq, number=document_no,
                        title=title, text=historical_text(document_no, len(mines)), columns=list(LISTING_COLUMNS),
                        rows=historical_rows(mines), published_at=published_at, published_on=on.isoformat(),
                        published_by="historical", published_by_name=ISSUER,
                        refs={"document_no": document_no, "mine_ids": [m["id"] for m in mines],
                              "mines": [dict(m) for m in mines]},
                        history=[{"at": at, "by": by, "by_name": by_name, "action": "imported",
                                  "source": source, "mine_ids": [m["id"] for m in mines]}])


def add_historical_mines(announcement: Announcement, mines: Iterable[Mapping], *, at: datetime, by: str,
                         by_name: str, source: str) -> bool:
    """More mines of an already imported historical announcement (from another file): its table grows; False
    when every mine is already in it."""
    known = set(announcement.refs.get("mine_ids") or [])
    new = [dict(m) for m in mines if m["id"] not in known]
    if not new:
        return False
    every = list(announcement.refs.get("mines") or []) + new
    announcement.rows = historical_rows(every)
    announcement.text = historical_text(announcement.number, len(every))
    announcement.refs = {**announcement.refs, "mine_ids": [m["id"] for m in every], "mines": every}
    announcement.history.append({"at": at, "by": by, "by_name": by_name, "action": "imported", "source": source,
                                 "mine_ids": [m["id"] for m in new]})
    return True
