"""Points and other exact numbers as text: `Decimal` in, the shortest exact decimal string out."""
from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal | int | str) -> str:
    """``Decimal("2.50")`` → ``"2.5"``, ``Decimal("3.00")`` → ``"3"``, ``Decimal("1E+1")`` → ``"10"``: no exponent,
    no trailing zeros (a string is taken as already formatted and only trimmed)."""
    text = value if isinstance(value, str) else format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def plain_or_none(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)
