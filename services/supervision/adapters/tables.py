"""Reading a table the natural-resources department uploads (异常名录 entries, 开发利用水平 grades): the first sheet
of an .xlsx, or a .csv in UTF-8 (with or without BOM) or GB18030. The rows are checked by
`domain/records.validate_rows`; here only whether the file can be read at all."""
from __future__ import annotations

import csv
import io

from supervision.domain.records import Problem


class Unreadable(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def read_table(name: str, raw: bytes) -> tuple[list, list[list]]:
    """(header row, data rows) of the file `name` with content `raw`; Unreadable when it cannot be read."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == ".xlsx":
        rows = _xlsx(raw, name)
    elif suffix == ".csv":
        rows = _csv(raw, name)
    else:
        raise Unreadable(Problem(0, "(文件)", f"{name}：只接受 .xlsx 或 .csv 文件"))
    if not rows:
        raise Unreadable(Problem(0, "(文件)", f"{name} 是空的"))
    return list(rows[0]), [list(r) for r in rows[1:]]


def _xlsx(raw: bytes, name: str) -> list:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise Unreadable(Problem(0, "(文件)", f"{name} 不是可读的 xlsx 文件（{type(exc).__name__}）")) from None
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _csv(raw: bytes, name: str) -> list:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unreadable(Problem(0, "(文件)", f"{name} 须为 UTF-8 或 GB18030 编码的 CSV"))
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise Unreadable(Problem(0, "(文件)", f"{name} 不是可读的 CSV（{exc}）")) from None
