"""The publicly verifiable draw `sha256-rank-v1` (issue 11 item 4, issue 13's 双随机): an independent
implementation in a few lines gives the same selection; the size is exactly ceil(ratio × n); bad input is refused
naming the field."""
from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.draws import ALGORITHM, draw, seed_for, selection_size, verify
from shared.errors import InvalidInput


def independent(population: list[str], ratio: str, seed: str) -> list[str]:
    """What anyone would write from the published description, with exact fractions for the ceiling."""
    k = math.ceil(Fraction(ratio) * len(population))
    return sorted(population, key=lambda i: hashlib.sha256((seed + ":" + i).encode("utf-8")).hexdigest())[:k]


ids = st.lists(st.text(alphabet="abcdef0123456789-煤矿", min_size=1, max_size=12), min_size=1, max_size=60,
               unique=True)
ratios = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=2)


@given(ids, ratios, st.text(min_size=1, max_size=40))
def test_the_selection_is_what_an_independent_implementation_computes(population, ratio, seed):
    result = draw(population, ratio, seed)
    assert list(result.selected) == independent(population, str(ratio), seed)
    assert len(result.selected) == math.ceil(Fraction(str(ratio)) * len(population))
    assert verify(result.to_dict())


@given(ids, ratios, st.text(min_size=1, max_size=40), st.randoms())
def test_the_order_the_population_is_listed_in_does_not_change_who_is_drawn(population, ratio, seed, rnd):
    shuffled = list(population)
    rnd.shuffle(shuffled)
    assert set(draw(population, ratio, seed).selected) == set(draw(shuffled, ratio, seed).selected)


def test_a_known_draw():
    population = [f"app-{n:03d}" for n in range(1, 11)]
    seed = seed_for(population, "2026-12-01 公开抽取 现场输入 4711")
    result = draw(population, "0.3", seed)
    assert len(result.selected) == 3 == selection_size(Decimal("0.3"), 10)   # 0.3 × 10 is exactly 3, not 4
    assert result.to_dict()["algorithm"] == ALGORITHM and result.to_dict()["ratio"] == "0.3"
    assert list(result.selected) == independent(population, "0.3", seed)


def test_the_seed_depends_on_the_population_and_the_entered_value():
    population = ["a", "b", "c"]
    assert seed_for(population, "1") != seed_for(population, "2")
    assert seed_for(population, "1") != seed_for(["a", "b", "c", "d"], "1")
    assert seed_for(population, "1") == seed_for(list(population), "1")


def test_a_tampered_record_does_not_verify():
    record = draw(["a", "b", "c", "d"], "0.5", "seed").to_dict()
    other = next(i for i in record["population"] if i not in record["selected"])
    record["selected"] = [record["selected"][0], other]
    assert not verify(record)
    assert not verify(dict(record, algorithm="md5-rank"))


@pytest.mark.parametrize(("population", "ratio", "seed", "field"), [
    ([], "0.5", "s", "population"),
    (["a", "a"], "0.5", "s", "population"),
    (["a", " "], "0.5", "s", "population"),
    (["a"], "0", "s", "ratio"),
    (["a"], "1.5", "s", "ratio"),
    (["a"], "NaN", "s", "ratio"),
    (["a"], "三成", "s", "ratio"),
    (["a"], "0.5", "", "seed"),
])
def test_bad_input_is_refused_naming_the_field(population, ratio, seed, field):
    with pytest.raises(InvalidInput) as refused:
        draw(population, ratio, seed)
    assert field in {e.field for e in refused.value.errors}
