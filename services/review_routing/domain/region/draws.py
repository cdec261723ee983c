"""`DrawRecord`: a random draw of the region stage, published so that anyone can recompute it.

Used for the institutions proposed for a commission, the cases of a check round visited on site (按比例实地抽查),
and the inspectors of each department (drawn from a pool, after recusals). The record keeps everything
`shared.draws.verify` needs: the population (ids in the order listed), the ratio (or count), the seed, the
algorithm and the selection; and how the seed was fixed (the population digest and the value entered by the
office at draw time). Labels (a mine's or an institution's name) are public context, never part of the draw.
Pure: no I/O.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from review_routing.domain.task import _dt
from shared import draws

PURPOSES = {"institutions": "评估机构抽取", "spot_check_cases": "实地抽查矿山抽取", "inspectors": "抽查人员抽取"}


@dataclass
class DrawRecord:
    draw_id: str
    purpose: str                          # one of PURPOSES
    title: str                            # e.g. "2026年第1批资料核查与实地抽查 — 实地抽查矿山"
    population: tuple[str, ...]
    ratio: str
    count: int | None
    seed: str
    entered_value: str
    population_digest: str
    selected: tuple[str, ...]
    drawn_at: datetime
    drawn_by: str                         # the office's user name (public: who ran the draw)
    context: Mapping[str, Any] = field(default_factory=dict)   # {round_id | application_id, department, …}
    labels: Mapping[str, str] = field(default_factory=dict)    # id → public label
    excluded: tuple[Mapping[str, str], ...] = ()               # recusals / ineligible: {id, reason}
    algorithm: str = draws.ALGORITHM
    version: int | None = None

    @property
    def id(self) -> str:
        return self.draw_id

    @classmethod
    def run(cls, *, purpose: str, title: str, population: Sequence[str], entered_value: str, at: datetime,
            by: str, ratio=None, count: int | None = None, context: Mapping | None = None,
            labels: Mapping[str, str] | None = None, excluded: Sequence[Mapping[str, str]] = ()) -> DrawRecord:
        """Fix the seed from the population and the entered value, then draw (bad input: InvalidInput)."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown draw purpose {purpose}")
        population = tuple(population)
        seed = draws.seed_for(population, entered_value)
        result = draws.draw(population, ratio, seed, count=count)
        return cls(draw_id=uuid.uuid4().hex[:16], purpose=purpose, title=title, population=population,
                   ratio=str(result.ratio if count is None else Decimal(count) / Decimal(len(population))),
                   count=count, seed=seed, entered_value=entered_value,
                   population_digest=draws.population_digest(population), selected=result.selected,
                   drawn_at=at, drawn_by=by, context=dict(context or {}), labels=dict(labels or {}),
                   excluded=tuple(dict(e) for e in excluded))

    def verifies(self) -> bool:
        return draws.verify(self.public())

    def public(self) -> dict:
        """The published record (no personal data: ids, labels, the seed and how it was fixed)."""
        return {"draw_id": self.draw_id, "purpose": self.purpose, "purpose_label": PURPOSES[self.purpose],
                "title": self.title, "algorithm": self.algorithm, "population": list(self.population),
                "ratio": self.ratio, "count": self.count, "k": len(self.selected), "seed": self.seed,
                "seed_inputs": {"population_digest": self.population_digest, "entered_value": self.entered_value,
                                "rule": "seed = sha256(population_digest + \":\" + entered_value)，"
                                        "population_digest = sha256(按序以换行连接的编号)"},
                "selected": list(self.selected), "drawn_at": self.drawn_at.isoformat().replace("+00:00", "Z"),
                "drawn_by": self.drawn_by, "context": dict(self.context), "labels": dict(self.labels),
                "excluded": [dict(e) for e in self.excluded]}

    def to_dict(self) -> dict:
        return {"_id": self.draw_id, "purpose": self.purpose, "title": self.title,
                "population": list(self.population), "ratio": self.ratio, "count": self.count, "seed": self.seed,
                "entered_value": self.entered_value, "population_digest": self.population_digest,
                "selected": list(self.selected), "drawn_at": self.drawn_at, "drawn_by": self.drawn_by,
                "context": dict(self.context), "labels": dict(self.labels),
                "excluded": [dict(e) for e in self.excluded], "algorithm": self.algorithm}

    @classmethod
    def from_dict(cls, d: Mapping) -> DrawRecord:
        return cls(draw_id=d["_id"], purpose=d["purpose"], title=d.get("title", ""),
                   population=tuple(d["population"]), ratio=d["ratio"], count=d.get("count"), seed=d["seed"],
                   entered_value=d.get("entered_value", ""), population_digest=d.get("population_digest", ""),
                   selected=tuple(d["selected"]), drawn_at=_dt(d["drawn_at"]), drawn_by=d.get("drawn_by", ""),
                   context=d.get("context") or {}, labels=d.get("labels") or {},
                   excluded=tuple(d.get("excluded") or ()), algorithm=d.get("algorithm", draws.ALGORITHM),
                   version=d.get("version"))
