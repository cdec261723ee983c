"""The minerals (开采矿种) vocabulary, read from its data file ``contracts/vocabularies/minerals.yaml``.

This module is the file's only reader: it turns the rows into ``MineralType`` values once, at import (reference
data, like the 盟市 list of ``shared.regions``), and answers look-ups by code or Chinese name."""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from shared.config import contracts_path

__all__ = ["MineralType", "MINERALS", "MINERAL_CATEGORIES", "OTHER_MINERAL", "OTHER_MINERAL_LABEL", "MAX_MINERALS",
           "mineral_by_code", "find_mineral", "Mineral", "suggest_industry_group", "load_minerals"]

DATA_FILE = contracts_path("vocabularies", "minerals.yaml")


@dataclass(frozen=True)
class MineralType:
    code: str
    name: str
    category: str  # energy 能源 / metal 金属 / nonmetal 非金属 / water_gas 水气 / construction 建筑用
    industry_group: int  # 1 or 2 — the branch of 附件1 三 a mine of this main mineral normally belongs to
    well: bool = False  # extracted through wells (石油, 天然气 …): the oil_gas method applies


def load_minerals(data: dict) -> tuple[dict[str, str], tuple[MineralType, ...], dict[str, str], dict]:
    """(categories, minerals, aliases name → code, the "other" entry) from the file's parsed content."""
    categories = dict(data["categories"])
    minerals = tuple(MineralType(str(m["code"]), str(m["name"]), str(m["category"]), int(m["industry_group"]),
                                 bool(m.get("well", False))) for m in data["minerals"])
    for m in minerals:
        if m.category not in categories or m.industry_group not in (1, 2):
            raise ValueError(f"{DATA_FILE}: mineral {m.code} has an unknown category or branch")
    codes = {m.code for m in minerals}
    aliases = {str(k): str(v) for k, v in (data.get("aliases") or {}).items()}
    unknown = [code for code in aliases.values() if code not in codes]
    if unknown or len(codes) != len(minerals):
        raise ValueError(f"{DATA_FILE}: duplicate codes, or aliases of unknown codes {unknown}")
    return categories, minerals, aliases, {**data["other"], "max_per_mine": int(data["max_per_mine"])}


MINERAL_CATEGORIES, MINERALS, _ALIASES, _OTHER = load_minerals(
    yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")))
OTHER_MINERAL: str = _OTHER["code"]
OTHER_MINERAL_LABEL: str = _OTHER["name"]
MAX_MINERALS: int = _OTHER["max_per_mine"]
_MINERAL_BY_CODE = {m.code: m for m in MINERALS}
_MINERAL_BY_NAME = {m.name: m for m in MINERALS}
_MINERAL_BY_NAME.update({name: _MINERAL_BY_CODE[code] for name, code in _ALIASES.items()})


def mineral_by_code(code: str) -> MineralType | None:
    return _MINERAL_BY_CODE.get(code)


def find_mineral(value: str) -> MineralType | None:
    """By code (``"coal"``) or Chinese name (``"煤"``)."""
    v = value.strip()
    return _MINERAL_BY_CODE.get(v.lower()) or _MINERAL_BY_NAME.get(v)


@dataclass(frozen=True)
class Mineral:
    """One mineral of a mine: a vocabulary code, or ``other`` with its name as free text."""

    code: str
    other: str | None = None

    @property
    def name(self) -> str:
        if self.code == OTHER_MINERAL:
            return self.other or OTHER_MINERAL_LABEL
        return _MINERAL_BY_CODE[self.code].name

    @property
    def type(self) -> MineralType | None:
        return _MINERAL_BY_CODE.get(self.code)

    def to_dict(self) -> dict:
        return {"code": self.code, "other": self.other} if self.code == OTHER_MINERAL else {"code": self.code}


def suggest_industry_group(minerals) -> int | None:
    """The branch suggested by the main mineral (the first listed one from the vocabulary); None if only 其他.

    Only a suggestion: the user confirms the branch (a mine's main product decides, which the list cannot know).
    """
    for m in minerals:
        code = m.code if isinstance(m, Mineral) else m
        t = _MINERAL_BY_CODE.get(code)
        if t is not None:
            return t.industry_group
    return None
