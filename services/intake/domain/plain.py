"""Plain values: JSON-compatible copies (``to_plain``), deeply read-only views (``freeze``/``thaw``) and aware
timestamps. Generic helpers of the aggregates; no rule of the programme lives here."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

__all__ = ["to_plain", "freeze", "thaw", "aware", "iso", "parse_dt"]


def to_plain(value: object, path: str = "") -> object:
    """A JSON-compatible copy: dicts with string keys, lists, str, int, bool, None.  ``Decimal`` and ``float``
    become decimal strings (the scoring contract accepts scores as ``"1.5"``), so nothing inexact is stored.
    Raises ``ValueError`` naming the path of anything else."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{path or '值'}不是有限数字")
        return str(Decimal(repr(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{path or '值'}不是有限数字")
        return str(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{path or '对象'}的键应为文字")
            out[k] = to_plain(v, f"{path}.{k}" if path else k)
        return out
    if isinstance(value, (list, tuple)):
        return [to_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"{path or '值'}的类型不受支持")


def freeze(value: object) -> object:
    """Deeply read-only view of a plain value (mappings → MappingProxyType, lists → tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: object) -> object:
    """The plain (mutable, JSON-compatible) copy of a frozen value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def aware(at: object, what: str = "at") -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    return at


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def parse_dt(value: object) -> datetime | None:
    if value is None:
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return aware(dt, "timestamp")
