"""What the natural-resources department keeps for the daily sweep (issue 13 item 4), per mine (`MineRecords`):

* the 矿业权人勘查开采信息公示异常名录: each time the rights holder was listed (listed on, and removed on once
  taken off) — 移出 9 when not removed within six months;
* the 矿产资源开发利用水平 grade of each year (GRADES) — 移出 10 when 落后 two years running.

Entered by hand (one entry, one grade) or imported from a table (`validate_rows`: every problem by row and
column, nothing stored unless the whole file is right). Identity of an entry: the mine and the day it was listed
(a later record of the same listing adds its removal); of a grade: the mine and the year (a later grade replaces it,
the history keeps both). Recording what is already recorded changes nothing. Pure: no I/O."""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.errors import FieldError, InvalidInput
from shared.stored import StoredDataclass
from supervision.domain import triggers

# 矿产资源开发利用水平 grades. The notice names 领先 (正文 三(六)、(七)) and 落后 (附件2 四(三)10); 先进 and 一般 are
# the other grades of the natural-resources department's 调查评估 (our reading). Only 落后 counts for the sweep.
GRADES = ("领先", "先进", "一般", "落后")
FIRST_YEAR = 2000
ABNORMAL, GRADE = "abnormal", "grades"
KINDS = {ABNORMAL: "矿业权人勘查开采信息公示异常名录", GRADE: "矿产资源开发利用水平"}
MAX_ROWS = 5000
# The columns of each kind of file (Chinese, order free). A row names its mine by 采矿许可证号, or by
# 统一社会信用代码 and 矿山名称.
MINE_COLUMNS = ("采矿许可证号", "统一社会信用代码", "矿山名称")
COLUMNS = {ABNORMAL: (*MINE_COLUMNS, "列入日期", "移出日期"), GRADE: (*MINE_COLUMNS, "年度", "开发利用水平")}
REQUIRED = {ABNORMAL: ("列入日期",), GRADE: ("年度", "开发利用水平")}


@dataclass
class MineRecords(StoredDataclass):
    id: str                          # the mine id (supervision's register)
    league: str                      # 盟市, for who may read and write
    abnormal: list[dict] = field(default_factory=list)   # {"listed_on", "removed_on"} ISO dates, by listed_on
    grades: dict[str, str] = field(default_factory=dict)  # "2025" → 落后
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    def record_abnormal(self, listed_on: date, removed_on: date | None, *, by: str, at: datetime,
                        source: str = "form") -> bool:
        """An entry on the abnormal list; False when it is recorded already just so. A removal date given later
        completes the entry; a removal already recorded is not erased by a record without one."""
        listed, removed = listed_on.isoformat(), removed_on.isoformat() if removed_on else None
        entry = next((e for e in self.abnormal if e["listed_on"] == listed), None)
        if entry is not None and (removed is None or entry["removed_on"] == removed):
            return False
        if entry is None:
            self.abnormal.append({"listed_on": listed, "removed_on": removed})
            self.abnormal.sort(key=lambda e: e["listed_on"])
        else:
            entry["removed_on"] = removed
        self.history.append({"at": at, "by": by, "source": source, "action": "abnormal",
                             "listed_on": listed, "removed_on": removed})
        return True

    def record_grade(self, year: int, grade: str, *, by: str, at: datetime, source: str = "form") -> bool:
        """The year's grade; False when it is recorded already."""
        if self.grades.get(str(year)) == grade:
            return False
        before = self.grades.get(str(year))
        self.grades[str(year)] = grade
        self.history.append({"at": at, "by": by, "source": source, "action": "grade", "year": year,
                             "grade": grade, "before": before})
        return True

    def apply(self, facts: triggers.MineFacts) -> list[triggers.MineFacts]:
        """The register's facts completed with these records: one MineFacts per abnormal-list entry (the rules
        read one entry at a time), or one without any."""
        grades = {int(y): g for y, g in self.grades.items()}
        base = dataclasses.replace(facts, utilisation_grades=grades)
        return [dataclasses.replace(base, abnormal_listed_on=date.fromisoformat(e["listed_on"]),
                                    abnormal_removed_on=_date(e["removed_on"]))
                for e in self.abnormal] or [base]


def facts_with(facts: triggers.MineFacts, records: MineRecords | None) -> list[triggers.MineFacts]:
    return records.apply(facts) if records is not None else [facts]


# -- checking what people enter ------------------------------------------------------------------------------------
def abnormal_problems(listed_on: date | None, removed_on: date | None, today: date) -> list[FieldError]:
    problems = []
    if listed_on is None:
        problems.append(FieldError("listed_on", "请填写列入异常名录的日期"))
    elif listed_on > today:
        problems.append(FieldError("listed_on", f"列入日期 {listed_on.isoformat()} 晚于今天"))
    if removed_on is not None:
        if removed_on > today:
            problems.append(FieldError("removed_on", f"移出日期 {removed_on.isoformat()} 晚于今天"))
        elif listed_on is not None and removed_on < listed_on:
            problems.append(FieldError("removed_on", "移出日期不能早于列入日期"))
    return problems


def grade_problems(year: int | None, grade: str | None, today: date) -> list[FieldError]:
    problems = []
    if year is None:
        problems.append(FieldError("year", "请填写年度"))
    elif not FIRST_YEAR <= year <= today.year:
        problems.append(FieldError("year", f"年度应在{FIRST_YEAR}年至{today.year}年之间"))
    if grade not in GRADES:
        problems.append(FieldError("grade", f"开发利用水平应为{'、'.join(GRADES)}之一"))
    return problems


def refuse(problems: Sequence[FieldError]) -> None:
    if problems:
        message = problems[0].message if len(problems) == 1 else "提交的数据有误，请按提示修改"
        raise InvalidInput(message, list(problems))


# -- a table of records --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    row: int            # the spreadsheet row (the header is row 1); 0: the file
    column: str
    message: str

    @property
    def where(self) -> str:
        return f"第{self.row}行 {self.column}" if self.row else self.column


Resolve = Callable[[str, str, str], tuple[str | None, str | None]]   # (licence, credit code, name) → (id, problem)


def validate_rows(kind: str, headers: Sequence, rows: Iterable[Sequence], *, today: date,
                  resolve: Resolve) -> tuple[list[dict], list[Problem]]:
    """(records, problems) of a table of `kind`: records only when there is no problem at all. A record is
    {"mine_id", "row", and "listed_on", "removed_on" | "year", "grade"}."""
    if kind not in COLUMNS:
        return [], [Problem(0, "kind", f"不认识的记录类别（{'、'.join(KINDS)}）")]
    index, problems = _header(kind, headers)
    if problems:
        return [], problems
    records, seen, count = [], {}, 0
    for offset, row in enumerate(rows):
        row_no = offset + 2
        cell = {name: fold(row[i]) if i < len(row) else "" for name, i in index.items()}
        raw = {name: row[i] if i < len(row) else None for name, i in index.items()}
        if not any(cell.values()):
            continue
        count += 1
        if count > MAX_ROWS:
            problems.append(Problem(row_no, "(文件)", f"一次最多导入{MAX_ROWS}行"))
            break
        record, row_problems = _row(kind, cell, raw, row_no, today, resolve)
        problems += row_problems
        if record is None:
            continue
        key = (record["mine_id"], record.get("listed_on") or record.get("year"))
        if key in seen:
            column = "列入日期" if kind == ABNORMAL else "年度"
            problems.append(Problem(row_no, column, f"与第{seen[key]}行重复（同一矿山、同一{column}）"))
            continue
        seen[key] = row_no
        records.append(record)
    if not problems and not records:
        problems.append(Problem(0, "(文件)", "文件中没有数据行"))
    return ([] if problems else records), problems


def _header(kind: str, headers: Sequence) -> tuple[dict[str, int], list[Problem]]:
    index, problems = {}, []
    for i, raw in enumerate(headers):
        name = fold(raw).replace(" ", "")
        if not name:
            continue
        if name not in COLUMNS[kind]:
            problems.append(Problem(1, name, f"不认识的列名（可用的列：{'、'.join(COLUMNS[kind])}）"))
        elif name in index:
            problems.append(Problem(1, name, "列名重复"))
        else:
            index[name] = i
    for name in REQUIRED[kind]:
        if name not in index:
            problems.append(Problem(1, name, "缺少这一列"))
    if "采矿许可证号" not in index and not {"统一社会信用代码", "矿山名称"} <= set(index):
        problems.append(Problem(1, "采矿许可证号", "须有“采矿许可证号”列，或“统一社会信用代码”和“矿山名称”两列"))
    return index, problems


def _row(kind, cell, raw, row_no, today, resolve) -> tuple[dict | None, list[Problem]]:
    problems: list[Problem] = []
    mine_id, why = resolve(cell.get("采矿许可证号", ""), cell.get("统一社会信用代码", ""), cell.get("矿山名称", ""))
    if why:
        problems.append(Problem(row_no, "采矿许可证号" if cell.get("采矿许可证号") else "矿山名称", why))
    if kind == ABNORMAL:
        listed, listed_why = parse_date(raw["列入日期"])
        removed, removed_why = parse_date(raw.get("移出日期")) if cell.get("移出日期") else (None, None)
        for column, message in (("列入日期", listed_why), ("移出日期", removed_why)):
            if message:
                problems.append(Problem(row_no, column, message))
        if not listed_why and not removed_why:
            columns = {"listed_on": "列入日期", "removed_on": "移出日期"}
            problems += [Problem(row_no, columns[p.field], p.message)
                         for p in abnormal_problems(listed, removed, today)]
        record = {"listed_on": listed, "removed_on": removed}
    else:
        year = int(cell["年度"].removesuffix("年")) if re.fullmatch(r"\d{4}年?", cell["年度"]) else None
        grade = cell["开发利用水平"].removesuffix("档次").removesuffix("档")
        if year is None:
            problems.append(Problem(row_no, "年度", f"“{cell['年度']}”不是年度：请写四位年份，如 2025"))
        columns = {"year": "年度", "grade": "开发利用水平"}
        problems += [Problem(row_no, columns[p.field], p.message) for p in grade_problems(year, grade, today)
                     if not (p.field == "year" and year is None)]
        record = {"year": year, "grade": grade}
    if problems:
        return None, problems
    return {"mine_id": mine_id, "row": row_no, **record}, []


def parse_date(value) -> tuple[date | None, str | None]:
    """(date, problem) of a cell: an Excel date, 2026-03-01, 2026/3/1, 2026.3.1 or 2026年3月1日."""
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    text = fold(value).replace(" ", "")
    if not text:
        return None, "不能为空"
    found = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not found:
        return None, f"“{text}”不是日期：请写 2026-03-01 或 2026年3月1日"
    try:
        return date(*(int(g) for g in found.groups())), None
    except ValueError:
        return None, f"“{text}”不是有效日期"


def fold(value) -> str:
    """A cell or a stored name as compared: NFKC, spaces collapsed, an integral float as an integer."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def _date(value) -> date | None:
    return None if value is None else date.fromisoformat(value)
