"""目标进度 (issue 13 item 6): progress toward the 2028 targets, each 盟市's yearly targets and the green-mine
construction contracts. Pure: no I/O.

The notice (正文 一): “到 2028 年底……持证在产的 90%大型矿山、80%中型矿山要达到绿色矿山标准要求，持证在产的小型矿山和
剩余储量可采年限不足 3 年的生产矿山应参照绿色矿山标准管理。” And 正文 二（二）: each 盟市 sets its yearly targets and
signs contracts with the 采矿权人 “明确绿色矿山建设任务、进度、时限、要求及违约责任”.

Our reading, from what the register keeps of each mine (intake's latest snapshot, `SupervisedMine.register`):

* 持证 on a day: every licence of the snapshot (采矿许可证, 安全生产许可证, 营业执照) is valid that day
  (valid_from ≤ day ≤ valid_to; no valid_to is 长期). 在产: production_status `in_production`.
* A mine of the 名录 counts as a green mine when it is listed (`status` listed: a removed mine is not) by that day.
* 剩余储量可采年限不足 3 年 (< 3): such a licensed producing mine is managed 参照 the standard, whatever its scale:
  it is counted apart (`short_reserve`) and left out of the base the 90 % / 80 % apply to (`base`).
* Small mines: the whole row is managed 参照 (`target` None).
* `listed`: the green mines of the base; `share` = listed / base; `needed`: how many more green mines the base needs
  for the 2028 target (⌈target × base⌉ − listed, not below 0)."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from shared.errors import FieldError, InvalidInput
from shared.stored import StoredDataclass

SCALES = ("large", "medium", "small")
SCALE_LABELS = {"large": "大型", "medium": "中型", "small": "小型"}
TARGET_YEAR = 2028
TARGETS = {"large": Decimal("0.90"), "medium": Decimal("0.80")}     # 正文 一: the share to reach by the end of 2028
SHORT_RESERVE_YEARS = Decimal(3)
FIRST_YEAR = 2025                        # the notice (内政办发〔2025〕24号)
LAST_YEAR = 2100
MANAGED_LABELS = {"target": "目标考核", "reference": "参照管理"}


@dataclass(frozen=True)
class Standing:
    """What the targets read of one mine of the register on one day."""

    mine_id: str
    league: str
    scale: str | None
    listed: bool                 # on the 名录 that day
    registered: bool             # intake's register has a snapshot of it
    producing: bool = False
    licensed: bool = False
    short_reserve: bool = False  # 剩余储量可采年限 < 3

    @property
    def licensed_producing(self) -> bool:
        return self.registered and self.producing and self.licensed


def licensed_on(licences: Mapping[str, Mapping], on: date) -> bool:
    """Every licence valid on `on` (no licence at all: not licensed)."""
    if not licences:
        return False
    for licence in licences.values():
        start, end = licence.get("valid_from"), licence.get("valid_to")
        if start is not None and date.fromisoformat(start) > on:
            return False
        if end is not None and date.fromisoformat(end) < on:
            return False
    return True


def standing(mine_id: str, league: str, scale: str | None, status: str, listed_on: str | None,
             register: Mapping | None, on: date) -> Standing:
    """A register entry (SupervisedMine's fields) as the targets see it on `on`."""
    listed = status == "listed" and (listed_on is None or date.fromisoformat(listed_on) <= on)
    if register is None:
        return Standing(mine_id, league, scale, listed, registered=False)
    years = register.get("remaining_reserve_years")
    return Standing(mine_id, league, scale, listed, registered=True,
                    producing=register.get("production_status") == "in_production",
                    licensed=licensed_on(register.get("licences") or {}, on),
                    short_reserve=years is not None and Decimal(str(years)) < SHORT_RESERVE_YEARS)


@dataclass(frozen=True)
class Row:
    """One 盟市 and scale."""

    league: str
    scale: str
    licensed_producing: int      # 持证在产
    short_reserve: int           # of those, 剩余储量可采年限不足 3 年 (参照管理)
    base: int                    # the target's base: licensed producing less short reserve
    listed: int                  # green mines (在库) of the base
    listed_total: int            # every green mine of this scale in the 盟市 (whatever its production)
    unregistered: int            # green mines of this scale the register has no facts of (not counted above)
    target: Decimal | None       # the 2028 share (None: managed 参照)
    yearly_target: int | None    # the 盟市's target of green mines in the base by the end of the year

    @property
    def managed(self) -> str:
        return "target" if self.target is not None else "reference"

    @property
    def share(self) -> Decimal | None:
        return None if self.base == 0 else (Decimal(self.listed) / Decimal(self.base))

    @property
    def needed(self) -> int | None:
        if self.target is None:
            return None
        return max(0, math.ceil(self.target * self.base) - self.listed)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.needed == 0

    @property
    def yearly_met(self) -> bool | None:
        return None if self.yearly_target is None else self.listed >= self.yearly_target


def percent(share: Decimal | None) -> str | None:
    """A share as a percentage with one decimal ("87.5"), half up; None stays None."""
    if share is None:
        return None
    return str((share * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def tally(standings: Iterable[Standing], leagues: Sequence[str],
          yearly: Mapping[str, Mapping[str, int | None]] | None = None) -> list[Row]:
    """A row per 盟市 of `leagues` (in that order) and scale; `yearly` is {盟市: {scale: target}} of the year."""
    counts: dict[tuple[str, str], dict[str, int]] = {
        (league, scale): dict.fromkeys(("lp", "short", "listed", "listed_total", "unregistered"), 0)
        for league in leagues for scale in SCALES}
    for s in standings:
        c = counts.get((s.league, s.scale))
        if c is None:
            continue
        if s.listed:
            c["listed_total"] += 1
            if not s.registered:
                c["unregistered"] += 1
        if s.licensed_producing:
            c["lp"] += 1
            if s.short_reserve:
                c["short"] += 1
            elif s.listed:
                c["listed"] += 1
    yearly = yearly or {}
    return [Row(league, scale, c["lp"], c["short"], c["lp"] - c["short"], c["listed"], c["listed_total"],
                c["unregistered"], TARGETS.get(scale), (yearly.get(league) or {}).get(scale))
            for (league, scale), c in counts.items()]


def totals(rows: Iterable[Row]) -> list[Row]:
    """The region's row per scale (league "全区"); its yearly target is the sum of those set (None if none)."""
    by_scale: dict[str, list[Row]] = {scale: [] for scale in SCALES}
    for row in rows:
        by_scale[row.scale].append(row)
    out = []
    for scale, group in by_scale.items():
        set_ = [r.yearly_target for r in group if r.yearly_target is not None]
        out.append(Row("全区", scale, *(sum(getattr(r, name) for r in group) for name in
                                      ("licensed_producing", "short_reserve", "base", "listed", "listed_total",
                                       "unregistered")),
                       TARGETS.get(scale), sum(set_) if set_ else None))
    return out


def check_year(year, field_name: str = "year") -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput("年度不正确", [FieldError(field_name, f"年度应为 {FIRST_YEAR}–{LAST_YEAR} 年的整数")])
    return year


# -- the 盟市's yearly targets (正文 二（二）) -------------------------------------------------------------------

@dataclass
class YearlyTarget(StoredDataclass):
    """A 盟市's target for one year: green mines (在库, of the licensed producing base) by the end of the year, per
    scale; entered by the region office, changed with a trail."""

    id: str
    league: str
    year: int
    targets: dict[str, int | None]
    basis: str | None = None          # the document it comes from (e.g. the 盟市's plan)
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @staticmethod
    def key(league: str, year: int) -> str:
        return f"{year}:{league}"

    @classmethod
    def set(cls, existing: YearlyTarget | None, league: str, year: int, targets: Mapping[str, int | None],
            basis: str | None, by: str, at) -> YearlyTarget | None:
        """The target as now entered; None when it is what `existing` already says (nothing changes)."""
        check_year(year)
        errors = [FieldError(scale, "应为不小于 0 的整数") for scale in SCALES
                  if targets.get(scale) is not None and (not isinstance(targets[scale], int)
                                                          or isinstance(targets[scale], bool) or targets[scale] < 0)]
        if all(targets.get(scale) is None for scale in SCALES):
            errors.append(FieldError("large", "至少填写一个规模的年度目标"))
        if errors:
            raise InvalidInput("年度目标有误", errors)
        values = {scale: targets.get(scale) for scale in SCALES}
        entry = existing or cls(id=cls.key(league, year), league=league, year=year, targets={})
        if existing is not None and existing.targets == values and existing.basis == basis:
            return None
        entry.history.append({"at": at, "by": by, "action": "set" if existing is None else "changed",
                              "before": dict(entry.targets) if existing is not None else None, "after": values,
                              "basis": basis})
        entry.targets, entry.basis = values, basis
        return entry
