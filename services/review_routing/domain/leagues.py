"""The 12 盟市 as the review service names them: their Chinese names, the names user accounts carry.

Submissions may name a 盟市 by its Chinese name, its short form (鄂尔多斯), its ASCII code (ordos) or its
GB/T 2260 division code (150600); `canonical_league` turns each into the Chinese name so that area scoping
(`Principal.area`) compares like with like. Pure data.
"""
from __future__ import annotations

import unicodedata

# name, ASCII code, division code
_LEAGUES = (
    ("呼和浩特市", "hohhot", "150100"),
    ("包头市", "baotou", "150200"),
    ("乌海市", "wuhai", "150300"),
    ("赤峰市", "chifeng", "150400"),
    ("通辽市", "tongliao", "150500"),
    ("鄂尔多斯市", "ordos", "150600"),
    ("呼伦贝尔市", "hulunbuir", "150700"),
    ("巴彦淖尔市", "bayannur", "150800"),
    ("乌兰察布市", "ulanqab", "150900"),
    ("兴安盟", "hinggan", "152200"),
    ("锡林郭勒盟", "xilingol", "152500"),
    ("阿拉善盟", "alxa", "152900"),
)
LEAGUE_NAMES = tuple(name for name, _, _ in _LEAGUES)
_LOOKUP: dict[str, str] = {}
for _name, _code, _division in _LEAGUES:
    for _key in (_name, _name[:-1], _code, _division):
        _LOOKUP[_key] = _name


def canonical_league(value: str | None) -> str | None:
    """The Chinese name of a 盟市 given any of its names or codes; None when it is not one of the 12."""
    if not isinstance(value, str):
        return None
    key = unicodedata.normalize("NFKC", value).strip()
    return _LOOKUP.get(key) or _LOOKUP.get(key.lower())


def league_of_county_code(code: str | None) -> str | None:
    """The 盟市 of a 6-digit 旗县 code (its first four digits), e.g. 150627 → 鄂尔多斯市."""
    if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
        return None
    return _LOOKUP.get(code[:4] + "00")
