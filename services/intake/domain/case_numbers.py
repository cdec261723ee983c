"""办件编号: the formal case number an application gets on its first submission.

``<盟市 administrative division code>-<year>-<sequence>``, e.g. ``150600-2026-00012``: the GB/T 2260 code of the
mine's 盟市 (the bureau that handles the case), the year in Beijing of the first submission, and the 盟市's
sequence within that year (from 1, five digits, more when a year ever needs them).  The number is allocated once,
in the transaction of the first submission, and kept by every later version (补正 resubmissions).

Pure rules only: the sequence itself comes from the counter the adapter keeps (``CaseNumbers.next``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from shared.clock import beijing_date

from .plain import aware

__all__ = ["CaseNumber", "counter_key", "case_year", "SEQUENCE_DIGITS"]

SEQUENCE_DIGITS = 5
_PATTERN = re.compile(r"^(15\d{2}00)-(\d{4})-(\d{5,})$")


def case_year(at: datetime) -> int:
    """The year in Beijing at ``at`` (a submission at 2026-12-31 16:00 UTC is Beijing's 2027)."""
    return beijing_date(aware(at)).year


def counter_key(division_code: str, year: int) -> str:
    """The sequence counter's key: one counter per 盟市 and year."""
    _check_division(division_code)
    return f"{division_code}-{year:04d}"


def _check_division(division_code: str) -> None:
    if not (isinstance(division_code, str) and re.fullmatch(r"15\d{2}00", division_code)
            and division_code != "150000"):
        raise ValueError(f"not a 盟市 division code of Inner Mongolia: {division_code!r}")


@dataclass(frozen=True, order=True)
class CaseNumber:
    division_code: str
    year: int
    sequence: int

    def __post_init__(self):
        _check_division(self.division_code)
        if not (2000 <= self.year <= 9999):
            raise ValueError(f"year out of range: {self.year}")
        if self.sequence < 1:
            raise ValueError(f"sequence starts at 1: {self.sequence}")

    def __str__(self) -> str:
        return f"{self.division_code}-{self.year:04d}-{self.sequence:0{SEQUENCE_DIGITS}d}"

    @classmethod
    def parse(cls, text: str) -> CaseNumber:
        match = _PATTERN.match(text or "")
        if match is None:
            raise ValueError(f"not a case number: {text!r}")
        return cls(match.group(1), int(match.group(2)), int(match.group(3)))
