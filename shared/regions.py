"""The 12 盟市 of the Inner Mongolia Autonomous Region and their 103 旗县级 divisions, as one list for every service.

The data is `contracts/regions/inner-mongolia.yaml` (GB/T 2260 codes); this module is its only reader. A 盟市 may
be named by its ASCII code (``ordos``), its Chinese name (``鄂尔多斯市``), its short form (``鄂尔多斯``) or its
6-digit division code (``150600``); every look-up accepts any spelling, folded with NFKC (a Chinese IME types
full-width digits). Accounts, routing and stored documents compare the Chinese name (`canonical_league`).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from shared.config import contracts_path

__all__ = [
    "County", "League", "LEAGUES", "LEAGUE_NAMES", "COUNTIES", "PROVINCE_CODE", "PROVINCE_NAME",
    "league_by_code", "league_by_name", "league_by_division_code", "find_league", "county_by_code",
    "find_county", "counties_of", "is_valid_county", "canonical_league", "league_of_county_code",
]

DATA_FILE = Path("regions") / "inner-mongolia.yaml"


@dataclass(frozen=True)
class County:
    """A 旗县级 division: 旗, 自治旗, 县, 县级市 or 市辖区."""

    code: str  # 6-digit administrative division code, e.g. "150627"
    name: str  # e.g. "伊金霍洛旗"
    league_code: str  # ASCII code of its 盟市, e.g. "ordos"

    @property
    def kind(self) -> str:
        """旗 / 自治旗 / 县 / 县级市 / 市辖区, derived from the name (xx81–xx99 are 县级市)."""
        if self.name.endswith("自治旗"):
            return "自治旗"
        if self.name.endswith("旗"):
            return "旗"
        if self.name.endswith("县"):
            return "县"
        if self.name.endswith("市"):
            return "县级市"
        return "市辖区"

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "league": self.league_code, "kind": self.kind}


@dataclass(frozen=True)
class League:
    """A 盟市 (地级): 9 地级市 and 3 盟."""

    code: str  # stable ASCII code, e.g. "ordos"
    name: str  # e.g. "鄂尔多斯市"
    division_code: str  # 6-digit code, e.g. "150600"
    counties: tuple[County, ...]

    @property
    def short_name(self) -> str:
        """The name without 市/盟, e.g. 鄂尔多斯, 锡林郭勒 (users often type it that way)."""
        return self.name[:-1]

    def county(self, name_or_code: str) -> County | None:
        key = _norm(name_or_code)
        for c in self.counties:
            if key in (c.code, c.name):
                return c
        return None

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "division_code": self.division_code,
                "counties": [c.to_dict() for c in self.counties]}


def _data_path() -> Path:
    return contracts_path(*DATA_FILE.parts)


@lru_cache(maxsize=1)
def _load() -> tuple[dict, tuple[League, ...]]:
    data = yaml.safe_load(_data_path().read_text(encoding="utf-8"))
    leagues = tuple(
        League(str(lg["code"]), str(lg["name"]), str(lg["division_code"]),
               tuple(County(str(c["code"]), str(c["name"]), str(lg["code"])) for c in lg["counties"]))
        for lg in data["leagues"])
    return data["province"], leagues


_PROVINCE, LEAGUES = _load()
PROVINCE_CODE: str = str(_PROVINCE["code"])
PROVINCE_NAME: str = str(_PROVINCE["name"])
LEAGUE_NAMES: tuple[str, ...] = tuple(lg.name for lg in LEAGUES)
COUNTIES: tuple[County, ...] = tuple(c for lg in LEAGUES for c in lg.counties)

_BY_CODE = {lg.code: lg for lg in LEAGUES}
_BY_NAME = {lg.name: lg for lg in LEAGUES}
_BY_SHORT = {lg.short_name: lg for lg in LEAGUES}
_BY_DIVISION = {lg.division_code: lg for lg in LEAGUES}
_COUNTY_BY_CODE = {c.code: c for c in COUNTIES}


def _norm(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def league_by_code(code: str) -> League | None:
    """By ASCII code (``"ordos"``, case-insensitive)."""
    return _BY_CODE.get(_norm(code).lower())


def league_by_name(name: str) -> League | None:
    """By Chinese name (``"鄂尔多斯市"``, also the short form ``"鄂尔多斯"``)."""
    key = _norm(name)
    return _BY_NAME.get(key) or _BY_SHORT.get(key)


def league_by_division_code(code: str) -> League | None:
    """By 6-digit division code (``"150600"``)."""
    return _BY_DIVISION.get(_norm(code))


def find_league(value: object) -> League | None:
    """Any of the spellings: ASCII code, Chinese name or its short form, division code."""
    if not isinstance(value, str) or not value.strip():
        return None
    return league_by_code(value) or league_by_division_code(value) or league_by_name(value)


def canonical_league(value: object) -> str | None:
    """The Chinese name of a 盟市 given any of its names or codes; None when it is not one of the 12."""
    league = find_league(value)
    return league.name if league else None


def league_of_county_code(code: object) -> str | None:
    """The 盟市 (Chinese name) of a 6-digit 旗县 code (its first four digits), e.g. 150627 → 鄂尔多斯市."""
    if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
        return None
    league = _BY_DIVISION.get(code[:4] + "00")
    return league.name if league else None


def county_by_code(code: str) -> County | None:
    return _COUNTY_BY_CODE.get(_norm(code))


def find_county(league: object, county: object) -> County | None:
    """The county (by name or 6-digit code) within the given 盟市 (any spelling); None if it is not there."""
    lg = league if isinstance(league, League) else find_league(league)
    if lg is None or not isinstance(county, str) or not county.strip():
        return None
    return lg.county(county)


def counties_of(league: object) -> tuple[County, ...]:
    lg = league if isinstance(league, League) else find_league(league)
    return lg.counties if lg else ()


def is_valid_county(league: object, county: object) -> bool:
    """True when ``county`` (name or code) is a 旗县级 division of ``league`` (any spelling)."""
    return find_county(league, county) is not None
