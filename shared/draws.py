"""Publicly verifiable random draws (抽查 / 双随机): which cases or mines are visited and which inspectors go.

Algorithm `sha256-rank-v1` (issue 11, also used by the yearly 双随机、一公开 of supervision): rank every id of the
population by the lowercase hex SHA-256 of ``seed + ":" + id`` (UTF-8), ascending; take the first
k = ceil(ratio × n). A draw record publishes the population (ids in the order they were listed), the ratio, the
seed and the algorithm, so anyone can recompute the selection with a few lines of any language.

The seed must be fixed before the draw from inputs nobody controls alone: `seed_for` takes the SHA-256 of the
population list (ids joined by "\\n") and a value entered by the office at draw time, and hashes them together,
so the office cannot choose the population after seeing the value's effect, nor the value without the list.

Pure: no I/O. Ratios are Decimals (no binary rounding at the ceiling: 0.3 × 10 is exactly 3).
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared.errors import FieldError, InvalidInput

ALGORITHM = "sha256-rank-v1"
MAX_POPULATION = 100_000


def rank_key(seed: str, item: str) -> str:
    """The rank of one id: hex SHA-256 of `seed:id`."""
    return hashlib.sha256(f"{seed}:{item}".encode()).hexdigest()


def population_digest(population: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(population).encode()).hexdigest()


def seed_for(population: Sequence[str], entered: str) -> str:
    """The seed of a draw: SHA-256 of the population's digest, ":" and the value entered at draw time."""
    return hashlib.sha256(f"{population_digest(population)}:{entered}".encode()).hexdigest()


def selection_size(ratio: Decimal, n: int) -> int:
    """k = ceil(ratio × n), exactly."""
    return math.ceil(ratio * n)


@dataclass(frozen=True)
class Draw:
    population: tuple[str, ...]
    ratio: Decimal
    seed: str
    selected: tuple[str, ...]            # in rank order
    algorithm: str = ALGORITHM
    count: int | None = None             # set when a fixed number was drawn instead of a ratio

    def to_dict(self) -> dict:
        return {"algorithm": self.algorithm, "population": list(self.population), "ratio": str(self.ratio),
                "count": self.count, "seed": self.seed, "k": len(self.selected), "selected": list(self.selected)}


def _ratio(value) -> Decimal | None:
    try:
        ratio = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return ratio if ratio.is_finite() else None


def draw(population: Sequence[str], ratio, seed: str, *, count: int | None = None) -> Draw:
    """Draw ceil(ratio × n) ids of `population` with `seed` (or exactly `count` ids, ratio then recorded as
    count/n for the reader, e.g. the institutions proposed for one commission); refuses bad input naming each
    field."""
    errors = []
    items = tuple(population)
    if not items:
        errors.append(FieldError("population", "抽取范围不能为空"))
    elif len(items) > MAX_POPULATION:
        errors.append(FieldError("population", f"抽取范围最多 {MAX_POPULATION} 个"))
    if any(not isinstance(i, str) or not i.strip() for i in items):
        errors.append(FieldError("population", "抽取范围中的编号不能为空"))
    elif len(set(items)) != len(items):
        repeated = sorted({i for i in items if items.count(i) > 1})[:5]
        errors.append(FieldError("population", f"抽取范围中有重复编号：{'、'.join(repeated)}"))
    if count is not None:
        if not isinstance(count, int) or isinstance(count, bool) or not (1 <= count <= max(len(items), 1)):
            errors.append(FieldError("count", "抽取数量应至少为 1 且不超过抽取范围的数量"))
        parsed = Decimal(count) / Decimal(len(items)) if items else None
    else:
        parsed = _ratio(ratio)
        if parsed is None or not (Decimal(0) < parsed <= Decimal(1)):
            errors.append(FieldError("ratio", "抽取比例应大于 0 且不超过 1"))
    if not isinstance(seed, str) or not seed:
        errors.append(FieldError("seed", "随机种子不能为空"))
    if errors:
        raise InvalidInput("抽取条件有误", errors)
    # Ties between two hashes cannot be produced on purpose; the id breaks one anyway, so the order is total.
    ranked = sorted(items, key=lambda i: (rank_key(seed, i), i))
    k = count if count is not None else selection_size(parsed, len(items))
    return Draw(items, parsed, seed, tuple(ranked[:k]), count=count)


def verify(record: dict) -> bool:
    """Whether a published draw record's selection is what its population, ratio and seed give."""
    if record.get("algorithm") != ALGORITHM:
        return False
    if record.get("count") is not None:
        result = draw(record["population"], None, record["seed"], count=record["count"])
    else:
        result = draw(record["population"], record["ratio"], record["seed"])
    return list(result.selected) == list(record["selected"])
