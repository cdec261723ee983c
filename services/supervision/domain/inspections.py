"""双随机、一公开 (正文 二（二）: "严格落实'双随机、一公开'要求，每年按比例对在库绿色矿山开展随机抽查"; issue 13 5).

* `Inspector`: the pool of inspectors the region office keeps (name, department of 附件3, 盟市, active). Inspectors
  of a 盟市 inspect the mines of that 盟市.
* `InspectionPlan`: one per year (id `plan-<year>`): the ratio of listed mines to check in each 盟市, set by the
  region office (draft, editable), then published (fixed), then drawn once (`draw_inspections`).
* The draw (`draw_inspections`), both random choices with the verifiable `sha256-rank-v1` of `shared/draws.py`:
  - the mines: per 盟市, population = the ids of its listed mines (sorted), seed = `seed_for(population, entered)`,
    the first ⌈ratio × n⌉ in rank order;
  - the inspectors: per drawn mine, population = the ids of the 盟市's active inspectors (sorted), seed =
    `seed_for(pool, entered + ":" + mine_id)`, every inspector ranked (count = n); the first in rank order goes,
    and with them the first after them of ANOTHER department (`PAIR_RULE`). A 盟市 to check whose pool has fewer
    than two departments refuses the whole draw, naming the 盟市.
  The record (`InspectionPlan.draw`) publishes every input, so anyone can recompute it (docs/supervision.md).
* `Inspection`: one per drawn mine (id `<plan id>-<mine id>`), one part per department (its task); each
  department records its result once: conforms, or problems found with their text, optionally suggesting a
  measure (a flag and the situation it may cite; the measures area decides). Completed when every part is in.
Pure: no I/O. Refusals are shared.errors."""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from shared import draws
from shared.contracts import DEPARTMENT_CODES
from shared.errors import Conflict, FieldError, InvalidInput, NotFound, NotPermitted
from shared.stored import StoredDataclass

OUTCOMES = {"conforms": "未发现问题", "problems": "发现问题"}
PLAN_STATUS = {"draft": "草拟", "published": "已公布", "drawn": "已抽取"}
INSPECTION_STATUS = {"assigned": "待检查", "completed": "已完成"}
PAIR_RULE = ("rank every inspector of the 盟市 with the mine's seed; take the first, then the first after it of "
             "another department")
NAME_MAX, TEXT_MAX, ENTERED_MAX = 64, 5000, 200
YEARS = range(2020, 2101)


def plan_id(year: int) -> str:
    return f"plan-{year}"


def inspection_id(year: int, mine_id: str) -> str:
    return f"{plan_id(year)}-{mine_id}"


def _entry(by: str, at: datetime, action: str, **more) -> dict:
    return {"at": at, "by": by, "action": action, **more}


# -- the pool ----------------------------------------------------------------------------------------------------
@dataclass
class Inspector(StoredDataclass):
    id: str
    name: str
    department: str
    league: str
    active: bool = True
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def new(cls, inspector_id: str, name: str, department: str, league: str, *, leagues: Collection[str],
            by: str, at: datetime) -> Inspector:
        errors = []
        name = (name or "").strip()
        if not name:
            errors.append(FieldError("name", "请填写检查人员姓名"))
        elif len(name) > NAME_MAX:
            errors.append(FieldError("name", f"姓名最多 {NAME_MAX} 个字"))
        if department not in DEPARTMENT_CODES:
            errors.append(FieldError("department", "不是附件3所列的部门"))
        if league not in leagues:
            errors.append(FieldError("league", "不是自治区的盟市"))
        if errors:
            raise InvalidInput("检查人员信息有误", errors)
        inspector = cls(id=inspector_id, name=name, department=department, league=league)
        inspector.history.append(_entry(by, at, "added", name=name, department=department, league=league))
        return inspector

    def set_active(self, active: bool, *, by: str, at: datetime) -> bool:
        """False when it already is (nothing changes)."""
        if self.active == active:
            return False
        self.active = active
        self.history.append(_entry(by, at, "activated" if active else "deactivated"))
        return True


# -- the plan ----------------------------------------------------------------------------------------------------
def parse_ratios(ratios, leagues: Sequence[str]) -> dict[str, str]:
    """`{盟市: ratio}` for every 盟市 (0 < ratio ≤ 1, exact decimals), in the region's order, as text."""
    if not isinstance(ratios, Mapping):
        raise InvalidInput("抽查比例有误", [FieldError("ratios", "请按盟市填写抽查比例")])
    errors = [FieldError(f"ratios.{name}", "不是自治区的盟市") for name in ratios if name not in leagues]
    out = {}
    for league in leagues:
        value = ratios.get(league)
        try:
            ratio = Decimal(str(value).strip()) if value is not None and not isinstance(value, bool) else None
        except InvalidOperation:
            ratio = None
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append(FieldError(f"ratios.{league}", f"请填写{league}的抽查比例"))
        elif ratio is None or not ratio.is_finite() or not (Decimal(0) < ratio <= Decimal(1)):
            errors.append(FieldError(f"ratios.{league}", f"{league}的抽查比例应大于 0 且不超过 1（如 0.2 即 20%）"))
        else:
            out[league] = str(ratio.normalize()) if ratio != 1 else "1"
    if errors:
        raise InvalidInput("抽查比例有误", errors)
    return out


def check_year(year) -> int:
    if not isinstance(year, int) or isinstance(year, bool) or year not in YEARS:
        raise InvalidInput("年度有误", [FieldError("year", f"年度应在 {YEARS.start}—{YEARS.stop - 1} 之间")])
    return year


@dataclass
class InspectionPlan(StoredDataclass):
    id: str
    year: int
    ratios: dict[str, str]
    status: str = "draft"                   # draft | published | drawn
    published_at: datetime | None = None
    drawn_at: datetime | None = None
    draw: dict | None = None                # the public record of the draw (see draw_inspections)
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def new(cls, year: int, ratios, *, leagues: Sequence[str], by: str, at: datetime) -> InspectionPlan:
        plan = cls(id=plan_id(check_year(year)), year=year, ratios=parse_ratios(ratios, leagues))
        plan.history.append(_entry(by, at, "set", ratios=dict(plan.ratios)))
        return plan

    def set_ratios(self, ratios, *, leagues: Sequence[str], by: str, at: datetime) -> bool:
        parsed = parse_ratios(ratios, leagues)
        if parsed == self.ratios:
            return False
        if self.status != "draft":
            raise Conflict(f"{self.year}年度抽查计划已公布，抽查比例不能再修改")
        self.ratios = parsed
        self.history.append(_entry(by, at, "set", ratios=dict(parsed)))
        return True

    def publish(self, *, by: str, at: datetime) -> bool:
        """False when already published (nothing changes)."""
        if self.status != "draft":
            return False
        self.status, self.published_at = "published", at
        self.history.append(_entry(by, at, "published"))
        return True

    def record_draw(self, record: dict, *, by: str, at: datetime) -> None:
        if self.status == "draft":
            raise Conflict(f"{self.year}年度抽查计划尚未公布，公布后才能抽取")
        if self.status == "drawn":
            raise Conflict(f"{self.year}年度已抽取")
        self.status, self.drawn_at, self.draw = "drawn", at, record
        self.history.append(_entry(by, at, "drawn", entered_value=record["entered_value"],
                                   k=sum(lg["k"] for lg in record["leagues"])))

    def same_draw(self, entered_value: str) -> bool:
        """A replay of the draw (the same value typed): True; another value once drawn: refused, a draw is never
        redone."""
        if self.draw is None:
            return False
        if self.draw["entered_value"] == (entered_value or "").strip():
            return True
        raise Conflict(f"{self.year}年度已于抽取时确定随机种子并完成抽取，不能重新抽取",
                       [FieldError("entered_value", "与抽取时录入的值不同")])

    @property
    def status_label(self) -> str:
        return PLAN_STATUS[self.status]


# -- the draw ----------------------------------------------------------------------------------------------------
def pair(pool: Sequence[Mapping], seed: str) -> list[str]:
    """The two inspectors of a mine: rank the pool's ids (sha256-rank-v1, every one), the first, then the first
    after it of another department."""
    ids = [p["id"] for p in pool]
    department = {p["id"]: p["department"] for p in pool}
    ranked = draws.draw(ids, None, seed, count=len(ids)).selected
    first = ranked[0]
    second = next(i for i in ranked if department[i] != department[first])
    return [first, second]


def draw_inspections(ratios: Mapping[str, str], mines: Mapping[str, Sequence[str]],
                     pool: Mapping[str, Sequence[Mapping]], entered_value: str, *,
                     department_names: Mapping[str, str]) -> dict:
    """The draw's public record. `ratios`: 盟市 → ratio (the plan's, in the region's order); `mines`: 盟市 → the ids
    of its listed mines; `pool`: 盟市 → its active inspectors `{id, name, department}`; `entered_value`: the value
    the office types at draw time. Refused (naming each 盟市) when a 盟市 with mines to check has inspectors of
    fewer than two departments."""
    entered = (entered_value or "").strip()
    if not entered:
        raise InvalidInput("请录入随机值", [FieldError("entered_value", "请录入抽取时的随机值（如当日公开的数字）")])
    if len(entered) > ENTERED_MAX:
        raise InvalidInput("随机值过长", [FieldError("entered_value", f"随机值最多 {ENTERED_MAX} 个字符")])
    leagues, errors = [], []
    for league, ratio in ratios.items():
        population = sorted(mines.get(league) or ())
        entry = {"league": league, "ratio": ratio, "population": population, "k": 0, "selected": [],
                 "population_digest": draws.population_digest(population), "seed": None,
                 "pool": [], "pool_digest": None, "assignments": []}
        leagues.append(entry)
        if not population:
            continue
        result = draws.draw(population, Decimal(ratio), draws.seed_for(population, entered))
        entry.update(seed=result.seed, k=len(result.selected), selected=list(result.selected))
        inspectors = sorted(({"id": p["id"], "name": p["name"], "department": p["department"]}
                             for p in pool.get(league) or ()), key=lambda p: p["id"])
        departments = sorted({p["department"] for p in inspectors})
        if len(departments) < 2:
            have = "、".join(department_names.get(d, d) for d in departments) or "无"
            errors.append(FieldError(f"pool.{league}", (
                f"{league}抽中 {entry['k']} 座矿山，每座需2名不同部门的检查人员，但在岗检查人员仅 {len(inspectors)} "
                f"人、{len(departments)} 个部门（{have}）：请先在检查人员库中补充其他部门的人员")))
            continue
        ids = [p["id"] for p in inspectors]
        entry.update(pool=inspectors, pool_digest=draws.population_digest(ids))
        for mine_id in entry["selected"]:
            seed = draws.seed_for(ids, f"{entered}:{mine_id}")
            entry["assignments"].append({"mine_id": mine_id, "seed": seed, "inspectors": pair(inspectors, seed)})
    if errors:
        raise InvalidInput("检查人员库不足，未抽取", errors)
    return {"algorithm": draws.ALGORITHM, "entered_value": entered, "pair_rule": PAIR_RULE, "leagues": leagues}


def verify(record: Mapping) -> bool:
    """Whether a published draw record is what its inputs give (the same steps as docs/supervision.md)."""
    for lg in record["leagues"]:
        population = lg["population"]
        if not population:
            if lg["selected"]:
                return False
            continue
        seed = draws.seed_for(population, record["entered_value"])
        if seed != lg["seed"] or not draws.verify({"algorithm": record["algorithm"], "population": population,
                                                   "ratio": lg["ratio"], "count": None, "seed": seed,
                                                   "selected": lg["selected"]}):
            return False
        ids = [p["id"] for p in lg["pool"]]
        for a in lg["assignments"]:
            if a["seed"] != draws.seed_for(ids, f"{record['entered_value']}:{a['mine_id']}") \
                    or pair(lg["pool"], a["seed"]) != a["inspectors"]:
                return False
        if [a["mine_id"] for a in lg["assignments"]] != lg["selected"]:
            return False
    return True


# -- the inspections ---------------------------------------------------------------------------------------------
@dataclass
class Inspection:
    id: str
    plan_id: str
    year: int
    mine_id: str
    mine_name: str
    enterprise_name: str
    credit_code: str | None
    league: str
    county: str | None
    parts: list[dict]          # one per department: {department, inspector_id, inspector_name, result}
    drawn_on: str = ""         # the draw's date (Beijing): no inspection before it
    status: str = "assigned"   # assigned | completed
    history: list[dict] = field(default_factory=list)
    version: int | None = None

    @classmethod
    def new(cls, plan: InspectionPlan, mine: Mapping, inspectors: Sequence[Mapping], *, drawn_on: date, by: str,
            at: datetime) -> Inspection:
        """`mine`: {mine_id, mine_name, enterprise_name, credit_code, league, county}; `inspectors`: the pair."""
        inspection = cls(id=inspection_id(plan.year, mine["mine_id"]), plan_id=plan.id, year=plan.year,
                         mine_id=mine["mine_id"], mine_name=mine["mine_name"],
                         enterprise_name=mine["enterprise_name"], credit_code=mine.get("credit_code"),
                         league=mine["league"], county=mine.get("county"), drawn_on=drawn_on.isoformat(),
                         parts=[{"department": p["department"], "inspector_id": p["id"], "inspector_name": p["name"],
                                 "result": None} for p in inspectors])
        inspection.history.append(_entry(by, at, "assigned", departments=inspection.departments))
        return inspection

    @property
    def departments(self) -> list[str]:
        return [p["department"] for p in self.parts]

    def part(self, department: str) -> dict:
        for p in self.parts:
            if p["department"] == department:
                return p
        raise NotFound("该部门没有这座矿山的检查任务")

    def record(self, department: str, *, outcome: str, problems: str | None, suggest_measure: bool,
               situation: str | None, inspected_on: date, today: date, by: str, at: datetime) -> bool:
        """The department's result; False when the same result is already recorded, refused when another one is
        (a recorded result is not changed)."""
        part = self.part(department)
        problems = (problems or "").strip() or None
        situation = (situation or "").strip() or None
        errors = []
        if outcome not in OUTCOMES:
            errors.append(FieldError("outcome", "请选择检查结果：未发现问题或发现问题"))
        if outcome == "problems" and not problems:
            errors.append(FieldError("problems", "发现问题时须填写问题情况"))
        if problems and len(problems) > TEXT_MAX:
            errors.append(FieldError("problems", f"问题情况最多 {TEXT_MAX} 字"))
        if outcome == "conforms" and (problems or suggest_measure):
            errors.append(FieldError("outcome", "未发现问题时不填写问题情况，也不建议监管措施"))
        if situation and not suggest_measure:
            errors.append(FieldError("situation", "只有建议采取监管措施时才选择情形"))
        if inspected_on > today:
            errors.append(FieldError("inspected_on", "检查日期不能晚于今天"))
        elif inspected_on.isoformat() < self.drawn_on:
            errors.append(FieldError("inspected_on", f"检查日期不能早于抽取日期（{self.drawn_on}）"))
        if errors:
            raise InvalidInput("检查结果有误", errors)
        result = {"outcome": outcome, "problems": problems, "suggest_measure": bool(suggest_measure),
                  "situation": situation, "inspected_on": inspected_on.isoformat()}
        if part["result"] is not None:
            if {k: part["result"][k] for k in result} == result:
                return False
            raise Conflict("该部门已记录检查结果，不能更改", [FieldError("outcome", "已记录的检查结果不能更改")])
        part["result"] = {**result, "recorded_by": by, "recorded_at": at}
        if all(p["result"] is not None for p in self.parts):
            self.status = "completed"
        self.history.append(_entry(by, at, "result_recorded", department=department, outcome=outcome))
        return True

    @property
    def outcome(self) -> str | None:
        """None until every department has recorded; then problems if any found them."""
        if self.status != "completed":
            return None
        return "problems" if any(p["result"]["outcome"] == "problems" for p in self.parts) else "conforms"

    def to_dict(self) -> dict:
        doc = asdict(self)
        doc["_id"] = doc.pop("id")
        doc.pop("version")
        doc["outcome"] = self.outcome
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping) -> Inspection:
        return cls(id=doc["_id"], version=doc.get("version"),
                   **{k: v for k, v in doc.items() if k not in ("_id", "version", "outcome")})


def may_record(principal, inspection: Inspection, department: str) -> None:
    """The department's reviewers whose area covers the mine's 盟市 record its part; the region office may act for
    any department."""
    if principal.role == "region_office":
        return
    if principal.role != "department_reviewer" or principal.department != department:
        raise NotPermitted("只能记录本部门的检查结果")
    if not principal.covers_area(inspection.league):
        raise NotPermitted(f"只能记录本盟市（{principal.area}）矿山的检查结果")
