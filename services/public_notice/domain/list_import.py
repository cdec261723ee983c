"""The green-mine list kept before the platform (national and regional lists of earlier years), read from a
spreadsheet and checked row by row before anything is stored.

The file (xlsx, or CSV in UTF-8 / UTF-8 with BOM / GB18030) has one header row with these Chinese column names
(order free, other columns refused so a typo is never silently ignored):

| 列 | 内容 |
|---|---|
| 矿山名称 | the mine's name (≤ 100 字) |
| 企业名称 | the mining enterprise (≤ 100 字) |
| 统一社会信用代码 | 18 characters, GB 32100-2015 check character |
| 盟市 | one of the 12 盟市 (name, short name, code or division code; stored as the Chinese name) |
| 旗县 | a 旗县级 division of that 盟市 (name or 6-digit code) |
| 矿种 | minerals of contracts/vocabularies/minerals.yaml by Chinese name or code, several joined by 、 , ; / (stored |
|  | as the Chinese names) |
| 规模 | 大型 / 中型 / 小型 (or large / medium / small) |
| 入库日期 or 入库年份 | the date the mine entered the list (2023-06-15, 2023/6/15, 2023年6月15日, an Excel |
|  | date) or only the year (taken as 12月31日 of that year; today if it is this year) |
| 公告文号 | the original announcement's document number, e.g. 内自然资字〔2023〕45号 |
| 公告标题 | the original announcement's title (the same for every row of one 公告文号) |

A row is identified by 统一社会信用代码 + 矿山名称 (`imported_id`); the same mine twice in one file is a problem of
the later row. Pure: no I/O except `read_table`, which reads the file.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from public_notice.domain.announcements import key_of
from shared import regions
from shared.accounts.rules import credit_code_problems, normalise_credit_code

COLUMNS = {"矿山名称": "mine_name", "企业名称": "enterprise_name", "统一社会信用代码": "credit_code",
           "盟市": "league", "旗县": "county", "矿种": "minerals", "规模": "scale", "入库日期": "listed_on",
           "入库年份": "listed_on", "公告文号": "document_no", "公告标题": "title"}
REQUIRED = ("矿山名称", "企业名称", "统一社会信用代码", "盟市", "旗县", "矿种", "规模", "公告文号", "公告标题")
DATE_COLUMNS = ("入库日期", "入库年份")
SCALES = {"大型": "large", "中型": "medium", "小型": "small", "large": "large", "medium": "medium",
          "small": "small"}
FIRST_YEAR = 2010
MAX_NAME = 100
MAX_DOCUMENT_NO = 64
MAX_TITLE = 200
MAX_ROWS = 20000
_SPLIT = re.compile(r"[、,，;；/／\s]+")
_DOCUMENT_YEAR = re.compile(r"[〔\[［(（【](\d{4})[〕\]］)）】]\s*(?:第)?\s*(\d+)\s*号")


@dataclass(frozen=True)
class Problem:
    """One reason the file cannot be imported: the spreadsheet row (the header is row 1) and the column."""

    row: int
    column: str
    message: str

    @property
    def where(self) -> str:
        return f"第{self.row}行 {self.column}" if self.row else self.column

    def __str__(self) -> str:
        return f"{self.where}：{self.message}"


class ImportRefused(Exception):
    def __init__(self, problems: Sequence[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


def imported_id(credit_code: str, mine_name: str) -> str:
    """The list entry's id of a mine from the earlier lists: from its enterprise's credit code and its name, so
    importing the same mine again finds it."""
    return "hist-" + key_of(credit_code, _fold(mine_name))


def historical_announcement_id(document_no: str) -> str:
    return "ann-hist-" + key_of("historical", _fold(document_no))


def historical_batch_id(document_no: str) -> str:
    """What stands for the 公示 batch of a mine listed before the platform: its announcement's listing round."""
    return "historical-" + key_of(_fold(document_no))


def document_year_and_seq(document_no: str) -> tuple[int | None, int]:
    """(year, number) read from a document number such as 内自然资字〔2023〕45号 → (2023, 45); (None, 0) when it
    has no 〔year〕N号 part."""
    found = _DOCUMENT_YEAR.search(_fold(document_no))
    return (int(found.group(1)), int(found.group(2))) if found else (None, 0)


def _fold(value) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(value)).split()) if value is not None else ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@lru_cache(maxsize=1)
def mineral_vocabulary() -> dict[str, str]:
    """Chinese name or code → Chinese name (contracts/vocabularies/minerals.yaml). The list stores the names: the
    public list, its filter, exports and announcements show them as they are (as the 公示 entries carry them)."""
    import yaml

    from shared.config import contracts_path

    data = yaml.safe_load((contracts_path() / "vocabularies" / "minerals.yaml").read_text(encoding="utf-8"))
    out = {}
    for m in data["minerals"]:
        out[m["code"]] = m["name"]
        out[m["name"]] = m["name"]
    return out


def parse_listed_on(value, *, today: date) -> tuple[date | None, str | None]:
    """(date, problem): a date or a year alone (12月31日 of that year, or today if that year is this year)."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = _fold(_text(value)).replace(" ", "")
        if not text:
            return None, "请填写入库日期或入库年份"
        year_only = re.fullmatch(r"(\d{4})年?", text)
        full = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
        if year_only:
            year = int(year_only.group(1))
            day = date(year, 12, 31) if year != today.year else today
            if year > today.year:
                return None, f"入库年份 {year} 晚于今天"
        elif full:
            try:
                day = date(int(full.group(1)), int(full.group(2)), int(full.group(3)))
            except ValueError:
                return None, f"“{text}”不是有效日期"
        else:
            return None, f"“{text}”不是日期：请写 2023-06-15、2023年6月15日 或年份 2023"
    if day.year < FIRST_YEAR:
        return None, f"入库日期早于{FIRST_YEAR}年，请核对"
    if day > today:
        return None, f"入库日期 {day.isoformat()} 晚于今天"
    return day, None


def header_problems(headers: Sequence) -> tuple[dict[str, int], list[Problem]]:
    """({Chinese column name: index}, problems of the header row)."""
    problems, index = [], {}
    for i, raw in enumerate(headers):
        name = _fold(_text(raw)).replace(" ", "")
        if not name:
            continue
        if name not in COLUMNS:
            problems.append(Problem(1, name, f"不认识的列名（可用的列：{'、'.join(dict.fromkeys(COLUMNS))}）"))
        elif name in index:
            problems.append(Problem(1, name, "列名重复"))
        else:
            index[name] = i
    for name in REQUIRED:
        if name not in index:
            problems.append(Problem(1, name, "缺少这一列"))
    dates = [n for n in DATE_COLUMNS if n in index]
    if not dates:
        problems.append(Problem(1, "入库日期", "缺少入库日期（或入库年份）列"))
    elif len(dates) == 2:
        problems.append(Problem(1, "入库年份", "入库日期与入库年份只能有一列"))
    return index, problems


def validate(headers: Sequence, rows: Iterable[Sequence], *, today: date) -> tuple[list[dict], list[Problem]]:
    """(records, problems): every problem of every row, named by row number and column; records only when there
    is no problem at all (an import is all or nothing)."""
    index, problems = header_problems(headers)
    if problems:
        return [], problems
    date_column = next(n for n in DATE_COLUMNS if n in index)
    records, seen, titles = [], {}, {}
    count = 0
    for offset, row in enumerate(rows):
        row_no = offset + 2
        cell = {name: (row[i] if i < len(row) else None) for name, i in index.items()}
        if all(_text(v) == "" for v in cell.values()):
            continue  # blank lines at the end of a sheet
        count += 1
        if count > MAX_ROWS:
            problems.append(Problem(row_no, "(文件)", f"一次最多导入{MAX_ROWS}行"))
            break
        record, row_problems = _row(cell, row_no, date_column, today)
        problems += row_problems
        if record is None:
            continue
        key = record["id"]
        if key in seen:
            problems.append(Problem(row_no, "矿山名称",
                                    f"与第{seen[key]}行是同一矿山（同一统一社会信用代码和矿山名称）"))
            continue
        seen[key] = row_no
        doc = record["document_no"]
        if doc in titles and titles[doc][1] != record["title"]:
            problems.append(Problem(row_no, "公告标题",
                                    f"同一公告文号 {doc} 在第{titles[doc][0]}行的标题是“{titles[doc][1]}”，两者须一致"))
            continue
        titles.setdefault(doc, (row_no, record["title"]))
        records.append(record)
    if not problems and not records:
        problems.append(Problem(0, "(文件)", "文件中没有数据行"))
    return ([] if problems else records), problems


def _row(cell: Mapping, row_no: int, date_column: str, today: date) -> tuple[dict | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(column: str, message: str) -> None:
        problems.append(Problem(row_no, column, message))

    names = {}
    for column, limit in (("矿山名称", MAX_NAME), ("企业名称", MAX_NAME), ("公告文号", MAX_DOCUMENT_NO),
                          ("公告标题", MAX_TITLE)):
        value = _fold(_text(cell[column]))
        if not value:
            bad(column, "不能为空")
        elif len(value) > limit:
            bad(column, f"不超过{limit}字")
        names[column] = value
    code = normalise_credit_code(_text(cell["统一社会信用代码"]))
    for message in credit_code_problems(code):
        bad("统一社会信用代码", message)
    league = regions.find_league(_fold(_text(cell["盟市"])))
    if league is None:
        bad("盟市", f"“{_text(cell['盟市'])}”不是自治区的盟市（{'、'.join(regions.LEAGUE_NAMES)}）")
    county_text = _fold(_text(cell["旗县"]))
    county = regions.find_county(league, county_text) if league else None
    if not county_text:
        bad("旗县", "不能为空")
    elif league is not None and county is None:
        bad("旗县", f"“{county_text}”不是{league.name}的旗县（市、区）")
    vocabulary = mineral_vocabulary()
    minerals = [m for m in _SPLIT.split(_fold(_text(cell["矿种"]))) if m]
    unknown = [m for m in minerals if m not in vocabulary]
    if not minerals:
        bad("矿种", "不能为空")
    elif unknown:
        bad("矿种", f"不认识的矿种：{'、'.join(unknown)}（按矿种目录填写中文名，多个用“、”分隔）")
    scale_text = _fold(_text(cell["规模"])).replace(" ", "")
    scale = SCALES.get(scale_text) or SCALES.get(scale_text.lower())
    if scale is None:
        bad("规模", f"“{scale_text}”不是规模：请填 大型、中型 或 小型")
    listed_on, why = parse_listed_on(cell[date_column], today=today)
    if why:
        bad(date_column, why)
    document_no = names["公告文号"]
    year, _seq = document_year_and_seq(document_no) if document_no else (None, 0)
    if document_no and year is None:
        bad("公告文号", "文号须含〔年份〕和序号，如 内自然资字〔2023〕45号")
    elif listed_on and year and year > listed_on.year:
        bad("公告文号", f"文号年份 {year} 晚于入库日期 {listed_on.isoformat()}")
    if problems:
        return None, problems
    return {"id": imported_id(code, names["矿山名称"]), "mine_name": names["矿山名称"],
            "enterprise_name": names["企业名称"], "credit_code": code, "league": league.name, "county": county.name,
            "minerals": list(dict.fromkeys(vocabulary[m] for m in minerals)), "scale": scale,
            "listed_on": listed_on.isoformat(), "document_no": document_no, "title": names["公告标题"],
            "row": row_no}, []


# -- reading a file ------------------------------------------------------------------------------------------------
def read_table(path: str | Path) -> tuple[list, list[list]]:
    """(header row, data rows) of an .xlsx (the first sheet) or a .csv file; ImportRefused when it cannot be
    read."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRefused([Problem(0, "(文件)", f"无法读取 {path.name}：{exc.strerror or exc}")]) from None
    if suffix == ".xlsx":
        return _read_xlsx(raw, path.name)
    if suffix == ".csv":
        return _read_csv(raw, path.name)
    raise ImportRefused([Problem(0, "(文件)", f"{path.name}：只接受 .xlsx 或 .csv 文件")])


def _read_xlsx(raw: bytes, name: str) -> tuple[list, list[list]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ImportRefused([Problem(0, "(文件)", f"{name} 不是可读的 xlsx 文件（{type(exc).__name__}）")]) from None
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    if not rows:
        raise ImportRefused([Problem(0, "(文件)", f"{name} 的第一个工作表是空的")])
    return rows[0], rows[1:]


def _read_csv(raw: bytes, name: str) -> tuple[list, list[list]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused([Problem(0, "(文件)", f"{name} 须为 UTF-8 或 GB18030 编码的 CSV")])
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ImportRefused([Problem(0, "(文件)", f"{name} 是空的")])
    return rows[0], rows[1:]


def load(path: str | Path, *, today: date) -> list[dict]:
    """The valid records of the file, or ImportRefused with every problem."""
    headers, rows = read_table(path)
    records, problems = validate(headers, rows, today=today)
    if problems:
        raise ImportRefused(problems)
    return records
