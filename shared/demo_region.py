"""The living demo region: 60 mines of 12 demo enterprises, one enterprise in each of the 12 盟市, both branches of
附件1 三 ((一) 能源、金属和非金属矿山: `industry_group` 1; (二) 砂石土类: 2) and every scale, with their cases at
every stage of the first half of the programme.

* `greenmine demo-data` creates the accounts (`shared.demo_accounts`: the enterprises, a bureau per 盟市, the
  reviewers of five 盟市) and intake's demo data loader registers the mines (`mine_data`, fixed ids, intake's own
  `ImportMine` command), so the mines are there as soon as the system is.
* `run(url, progress)` (after the demo scenario, in `greenmine demo-scenario`, which `make run` starts in the
  background) takes the cases to their stages through the platform's public API, the way the users would:

  | mine of each 盟市 | stage | where |
  |---|---|---|
  | 1 | 初审通过，已报自治区 (forwarded) | the five 盟市 with demo reviewers (`REVIEW_LEAGUES`); elsewhere 审核中 |
  | 2 | 退回补正 (returned by the bureau, a reason on indicator 3) | all 12 |
  | 3 | 已提交，审核中 (tasks in the departments' queues) | the five; elsewhere a draft |
  | 4 | 草稿 (a draft with a self-assessment) | all 12 |
  | 5 | registered only (no application yet) | all 12 |

* Idempotent: each mine's plan is resumed from where its application stands (none → draft → submitted → its
  stage), so a second run adds nothing and an interrupted one finishes its work.
* Later stages (the evaluation, 公示 with an objection, listed mines with their announcements, supervision) are
  hooks: one function per stage in `LATER_STAGES`, each taking the session and the cases so far."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import requests

from shared import regions

# -- the demo enterprises ----------------------------------------------------------------------------------------
_CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character of a 组织机构代码 (positions 9–17 of a 统一社会信用代码)."""
    values = [int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10 for ch in first8]
    c = 11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def credit_code(division_code: str, serial: int) -> str:
    """A 统一社会信用代码 of a company (91) registered in `division_code`, with a valid embedded 组织机构代码 and the
    GB 32100 check character."""
    org8 = f"MA0R{serial:04d}"
    first17 = f"91{division_code}{org8}{org_code_check_char(org8)}"
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(_CREDIT_CHARSET.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return first17 + _CREDIT_CHARSET[(31 - total % 31) % 31]


@dataclass(frozen=True)
class DemoEnterprise:
    league_code: str
    name: str
    serial: int

    @property
    def league(self) -> str:
        return regions.league_by_code(self.league_code).name

    @property
    def username(self) -> str:
        return f"enterprise_{self.league_code}"

    @property
    def credit_code(self) -> str:
        return credit_code(regions.league_by_code(self.league_code).division_code, self.serial)


DEMO_ENTERPRISES = (
    DemoEnterprise("hohhot", "呼和浩特青城矿业有限公司", 101),
    DemoEnterprise("baotou", "包头鹿城资源开发有限公司", 102),
    DemoEnterprise("wuhai", "乌海黄河能源矿业有限公司", 103),
    DemoEnterprise("chifeng", "赤峰红山有色矿业有限公司", 104),
    DemoEnterprise("tongliao", "通辽科尔沁矿业有限公司", 105),
    DemoEnterprise("ordos", "鄂尔多斯康巴什能源有限公司", 106),
    DemoEnterprise("hulunbuir", "呼伦贝尔草原矿业有限公司", 107),
    DemoEnterprise("bayannur", "巴彦淖尔河套矿业有限公司", 108),
    DemoEnterprise("ulanqab", "乌兰察布察哈尔矿业有限公司", 109),
    DemoEnterprise("hinggan", "兴安盟兴安岭矿业有限公司", 110),
    DemoEnterprise("xilingol", "锡林郭勒白音矿业有限公司", 111),
    DemoEnterprise("alxa", "阿拉善戈壁矿业有限公司", 112),
)
#: The bureau account of each 盟市 (the first demo's two keep their names).
_BUREAUS = {"鄂尔多斯市": "bureau", "包头市": "bureau_baotou"}


def bureau_of(league: str) -> str:
    return _BUREAUS.get(league) or f"bureau_{regions.league_by_name(league).code}"


def enterprise_of(league_code: str) -> DemoEnterprise:
    return next(e for e in DEMO_ENTERPRISES if e.league_code == league_code)


# -- the mines ---------------------------------------------------------------------------------------------------
# (county, name, minerals, scale, mining method), five per 盟市; the branch follows the main mineral (minerals.yaml).
MINES: dict[str, tuple[tuple, ...]] = {
    "hohhot": (("清水河县", "清水河露天煤矿", ["coal"], "large", "open_pit"),
               ("武川县", "武川县哈拉沁金矿", ["gold"], "medium", "underground"),
               ("和林格尔县", "和林格尔水泥用灰岩矿", ["cement_limestone"], "medium", "open_pit"),
               ("土默特左旗", "土默特左旗建筑用花岗岩矿", ["construction_granite"], "small", "open_pit"),
               ("托克托县", "托克托县黄河建筑用砂矿", ["construction_sand"], "small", "open_pit")),
    "baotou": (("白云鄂博矿区", "白云鄂博东矿稀土铁矿", ["rare_earth", "iron"], "large", "open_pit"),
               ("固阳县", "固阳县公益明铁矿", ["iron"], "medium", "open_pit"),
               ("石拐区", "石拐区五当沟井工煤矿", ["coal"], "medium", "underground"),
               ("达尔罕茂明安联合旗", "达茂旗赛乌素金矿", ["gold"], "small", "underground"),
               ("土默特右旗", "土右旗建筑石料用灰岩矿", ["construction_limestone"], "small", "open_pit")),
    "wuhai": (("海南区", "海南区公乌素露天煤矿", ["coal"], "large", "open_pit"),
              ("乌达区", "乌达区五虎山井工煤矿", ["coal"], "medium", "underground"),
              ("海勃湾区", "海勃湾熔剂用灰岩矿", ["flux_limestone"], "medium", "open_pit"),
              ("海南区", "海南区电石用灰岩矿", ["carbide_limestone"], "small", "open_pit"),
              ("乌达区", "乌达区建筑用白云岩矿", ["construction_dolomite"], "small", "open_pit")),
    "chifeng": (("元宝山区", "元宝山露天煤矿", ["coal"], "large", "open_pit"),
                ("克什克腾旗", "克什克腾旗拜仁达坝铅锌矿", ["lead_zinc", "silver"], "large", "underground"),
                ("敖汉旗", "敖汉旗金厂沟梁金矿", ["gold"], "medium", "underground"),
                ("巴林左旗", "巴林左旗萤石矿", ["fluorite"], "small", "underground"),
                ("松山区", "松山区建筑用安山岩矿", ["construction_andesite"], "small", "open_pit")),
    "tongliao": (("霍林郭勒市", "霍林河南露天煤矿", ["coal"], "large", "open_pit"),
                 ("扎鲁特旗", "扎鲁特旗巴彦乌拉铅锌矿", ["lead_zinc"], "medium", "underground"),
                 ("科尔沁左翼后旗", "科左后旗膨润土矿", ["bentonite"], "small", "open_pit"),
                 ("奈曼旗", "奈曼旗建筑用砂矿", ["construction_sand"], "medium", "open_pit"),
                 ("开鲁县", "开鲁县砖瓦用粘土矿", ["brick_clay"], "small", "open_pit")),
    "ordos": (("伊金霍洛旗", "伊金霍洛旗补连塔井工煤矿", ["coal"], "large", "underground"),
              ("鄂托克旗", "鄂托克旗石膏矿", ["gypsum"], "medium", "underground"),
              ("鄂托克前旗", "鄂托克前旗建筑石料用灰岩矿", ["construction_limestone"], "medium", "open_pit"),
              ("达拉特旗", "达拉特旗库布其建筑用砂矿", ["construction_sand"], "small", "open_pit"),
              ("杭锦旗", "杭锦旗芒硝矿", ["mirabilite"], "small", "open_pit")),
    "hulunbuir": (("陈巴尔虎旗", "陈巴尔虎旗宝日希勒露天煤矿", ["coal"], "large", "open_pit"),
                  ("新巴尔虎右旗", "新巴尔虎右旗乌努格吐山铜钼矿", ["copper", "molybdenum"], "large", "open_pit"),
                  ("额尔古纳市", "额尔古纳市比利亚谷铅锌矿", ["lead_zinc"], "medium", "underground"),
                  ("牙克石市", "牙克石市乌奴格吐金矿", ["gold"], "small", "underground"),
                  ("扎兰屯市", "扎兰屯市建筑用玄武岩矿", ["construction_basalt"], "small", "open_pit")),
    "bayannur": (("乌拉特后旗", "乌拉特后旗霍各乞铜铅锌矿", ["copper", "lead_zinc"], "large", "underground"),
                 ("乌拉特中旗", "乌拉特中旗浩尧尔忽洞金矿", ["gold"], "large", "open_pit"),
                 ("乌拉特前旗", "乌拉特前旗书记沟铁矿", ["iron"], "medium", "open_pit"),
                 ("磴口县", "磴口县乌兰布和建筑用砂矿", ["construction_sand"], "small", "open_pit"),
                 ("五原县", "五原县砖瓦用粘土矿", ["brick_clay"], "small", "open_pit")),
    "ulanqab": (("兴和县", "兴和县黄土窑石墨矿", ["graphite"], "large", "open_pit"),
                ("察哈尔右翼后旗", "察右后旗萤石矿", ["fluorite"], "medium", "underground"),
                ("商都县", "商都县石墨矿", ["graphite"], "medium", "open_pit"),
                ("四子王旗", "四子王旗萤石矿", ["fluorite"], "small", "underground"),
                ("卓资县", "卓资县建筑用花岗岩矿", ["construction_granite"], "small", "open_pit")),
    "hinggan": (("科尔沁右翼中旗", "科右中旗露天煤矿", ["coal"], "large", "open_pit"),
                ("科尔沁右翼前旗", "科右前旗莲花山铅锌矿", ["lead_zinc"], "medium", "underground"),
                ("乌兰浩特市", "乌兰浩特市饰面用花岗岩矿", ["dimension_granite"], "medium", "open_pit"),
                ("突泉县", "突泉县铜矿", ["copper"], "small", "underground"),
                ("扎赉特旗", "扎赉特旗绰尔河建筑用砂矿", ["construction_sand"], "small", "open_pit")),
    "xilingol": (("锡林浩特市", "锡林浩特胜利露天煤矿", ["coal"], "large", "open_pit"),
                 ("东乌珠穆沁旗", "东乌旗朝不楞铅锌银矿", ["lead_zinc", "silver"], "medium", "underground"),
                 ("多伦县", "多伦县饰面用大理岩矿", ["dimension_marble"], "medium", "open_pit"),
                 ("苏尼特左旗", "苏尼特左旗萤石矿", ["fluorite"], "small", "open_pit"),
                 ("正镶白旗", "正镶白旗建筑用花岗岩矿", ["construction_granite"], "small", "open_pit")),
    "alxa": (("阿拉善左旗", "阿拉善左旗二道岭露天煤矿", ["coal"], "large", "open_pit"),
             ("阿拉善右旗", "阿拉善右旗额肯呼都格铁矿", ["iron"], "medium", "open_pit"),
             ("阿拉善左旗", "阿拉善左旗建筑用砂砾石矿", ["construction_gravel"], "medium", "open_pit"),
             ("额济纳旗", "额济纳旗老硐沟金矿", ["gold"], "small", "underground"),
             ("阿拉善左旗", "阿拉善左旗石膏矿", ["gypsum"], "small", "underground")),
}
#: The 盟市 whose cases pass the initial review in the demo (every routed department has a reviewer there).
REVIEW_LEAGUES = ("ordos", "baotou", "chifeng", "hulunbuir", "xilingol")
#: Where each mine of a 盟市 stops (by its place in MINES); "forwarded" and "returned" only in REVIEW_LEAGUES.
STAGES = ("forwarded", "returned", "submitted", "draft", None)
STAGE_LABELS = {"draft": "草稿", "submitted": "已提交，审核中", "returned": "退回补正",
                "forwarded": "初审通过，已报自治区"}


def mine_id(league_code: str, n: int) -> str:
    return f"mine-region-{league_code}-{n}"


@lru_cache(maxsize=1)
def _branches() -> dict[str, int]:
    import yaml

    from shared.config import contracts_path

    vocabulary = yaml.safe_load((contracts_path() / "vocabularies" / "minerals.yaml").read_text(encoding="utf-8"))
    return {m["code"]: int(m["industry_group"]) for m in vocabulary["minerals"]}


def branch_of(minerals) -> int:
    """The branch of 附件1 三 the main (first) mineral belongs to (contracts/vocabularies/minerals.yaml)."""
    return _branches()[minerals[0]]


@dataclass(frozen=True)
class DemoMine:
    id: str
    league_code: str
    n: int
    county: str
    name: str
    minerals: tuple[str, ...]
    scale: str
    mining_method: str
    industry_group: int

    @property
    def enterprise(self) -> DemoEnterprise:
        return enterprise_of(self.league_code)

    @property
    def stage(self) -> str | None:
        """Where the case stops: see the table above (outside REVIEW_LEAGUES the first mine stays in review and
        the third is a draft, so every 盟市 has a case in its departments' queues)."""
        stage = STAGES[self.n - 1]
        if self.league_code not in REVIEW_LEAGUES and stage in ("forwarded", "submitted"):
            return "submitted" if stage == "forwarded" else "draft"
        return stage


def demo_mines() -> list[DemoMine]:
    out = []
    for league_code, rows in MINES.items():
        for n, (county, name, minerals, scale, method) in enumerate(rows, 1):
            out.append(DemoMine(mine_id(league_code, n), league_code, n, county, name, tuple(minerals), scale,
                                method, branch_of(minerals)))
    return out


def mine_data(mine: DemoMine) -> dict:
    """The mine as intake's `ImportMine` registers it (licences valid, numbers unique per mine)."""
    division = regions.league_by_code(mine.league_code).division_code
    serial = 10 * list(MINES).index(mine.league_code) + mine.n
    reserve = {"large": "28", "medium": "15.5", "small": "8"}[mine.scale]
    return {
        "enterprise": {"name": mine.enterprise.name, "credit_code": mine.enterprise.credit_code},
        "name": mine.name, "league": mine.league_code, "county": mine.county, "minerals": list(mine.minerals),
        "scale": mine.scale, "industry_group": mine.industry_group, "mining_method": mine.mining_method,
        "production_status": "in_production", "production_start_date": f"{2005 + serial % 15}-0{1 + serial % 9}-01",
        "remaining_reserve_years": reserve,
        "mining_licence": {"number": f"C{division}2019{1 + serial % 12:02d}1120{serial:06d}",
                           "valid_from": "2021-01-01", "valid_to": "2041-12-31"},
        "safety_licence": {"number": f"（蒙）{'MK' if 'coal' in mine.minerals else 'FM'}安许证字〔2024〕"
                                     f"{serial + 800:04d}号",
                           "valid_from": "2024-01-01", "valid_to": "2040-12-31"},
        "business_licence": {"valid_from": "2008-05-20", "valid_to": None},
    }


# -- the stages through the API ----------------------------------------------------------------------------------
def assessment_of(mine: DemoMine) -> dict:
    """A full-marks self-assessment for the mine's branch (砂石土类: the 水泥灰岩 or 砂石、建筑石材 sub-industry)."""
    from shared.demo_flows import full_assessment

    variant = "cement_limestone" if "cement_limestone" in mine.minerals else "sand_gravel_stone"
    return full_assessment(mine.industry_group, mine.mining_method, variant)


RETURN_REASON = {"indicator": 3, "text": "采场入口安全警示标志照片不清晰，请补充清晰的现场照片"}


def _application_of(s, mine: DemoMine) -> dict | None:
    found = s.call("GET", f"/api/v1/applications?mine_id={mine.id}", mine.enterprise.username)
    items = found if isinstance(found, list) else found.get("items", [])
    live = [a for a in items if a.get("status") not in ("rejected", "not_listed", "removed")]
    return live[0] if live else None


def _draft(s, mine: DemoMine) -> dict:
    app = _application_of(s, mine)
    if app is None:
        app = s.call("POST", "/api/v1/applications", mine.enterprise.username,
                     {"mine_id": mine.id, "assessment": assessment_of(mine),
                      "declared_penalties": False})
    return app


def _submitted(s, mine: DemoMine) -> dict:
    from shared.demo_flows import complete_and_submit

    app = _draft(s, mine)
    if app["status"] == "draft":
        complete_and_submit(s.url, s.headers(mine.enterprise.username), app["id"],
                            assessment_of(mine))
    return app


def _case(s, mine: DemoMine, app_id: str, timeout: float = 120) -> dict:
    """The routed case as its bureau sees it (routing runs on the submission's event)."""
    deadline = time.monotonic() + timeout
    bureau = bureau_of(mine.enterprise.league)
    while time.monotonic() < deadline:
        answer = requests.get(f"{s.url}/api/v1/review/cases/{app_id}", headers=s.headers(bureau), timeout=60)
        if answer.status_code == 200 and answer.json().get("versions"):
            return answer.json()
        time.sleep(0.5)
    from shared.demo_flows import DemoStepFailed

    raise DemoStepFailed(f"{app_id} was never routed")


def _decided(s, mine: DemoMine, app_id: str, decision: str) -> None:
    from shared.demo_flows import agree_everywhere

    league, bureau = mine.enterprise.league, bureau_of(mine.enterprise.league)
    case = _case(s, mine, app_id)
    if case["versions"][0].get("status") != "under_review":
        return  # decided on an earlier run
    if decision == "forward":
        agree_everywhere(s.url, app_id, league=league, bureau_user=bureau)
        s.call("POST", f"/api/v1/review/cases/{app_id}/decision", bureau, {"version_no": 1, "decision": "forward"})
    else:
        s.call("POST", f"/api/v1/review/cases/{app_id}/decision", bureau,
               {"version_no": 1, "decision": "return", "reasons": [RETURN_REASON]})


def take_to_stage(s, mine: DemoMine) -> str | None:
    """Take one mine's case to its stage (resuming from where it stands); the stage reached."""
    stage = mine.stage
    if stage is None:
        return None
    if stage == "draft":
        _draft(s, mine)
        return stage
    app = _submitted(s, mine)
    if stage in ("forwarded", "returned"):
        _decided(s, mine, app["id"], "forward" if stage == "forwarded" else "return")
    return stage


# Hooks for the later stages: each takes the session and the {stage: [mine ids]} of the first half's cases, and
# returns what it made (or found made by an earlier run). Progress lines go to `s.progress` (set by `run`).
def _say(s, line: str) -> None:
    getattr(s, "progress", print)(line)


#: The 盟市 whose forwarded case the region takes to 拟公示 (so the 公示 batch holds mines of more than one 盟市; the
#: other review 盟市 keep theirs 初审通过，已报自治区 for the first half's picture).
EVALUATED_LEAGUES = ("baotou",)


def _region_review(s, review_id: str, timeout: float = 60) -> dict | None:
    """The region stage's case (made from the forwarding's event), or None when it never appears."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(f"{s.url}/api/v1/evaluation/reviews/{review_id}", headers=s.headers("region"),
                              timeout=60)
        if answer.status_code == 200:
            return answer.json()
        time.sleep(0.5)
    return None


def _finish_check(s, round_id: str, review_id: str, league: str) -> None:
    """Each department's reviewer of the case's 盟市 records its part still pending; the spot check when the
    case was drawn (as `shared.demo_scenario.finish_check` does for 鄂尔多斯市)."""
    from shared.demo_flows import demo_reviewer
    from shared.demo_scenario import _today

    view = s.call("GET", f"/api/v1/evaluation/check-rounds/{round_id}", "region")
    case = next(c for c in view["cases_detail"] if c["review_id"] == review_id)
    for part in case["parts"]:
        if part.get("status") == "pending":
            s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/cases/{review_id}/parts/"
                           f"{part['department']}", demo_reviewer(part["department"], league),
                   {"passed": True, "note": "资料齐全，与评估报告一致"})
    if case.get("selected"):
        evaluation = s.call("GET", f"/api/v1/evaluation/reviews/{review_id}", "region")["evaluation"]
        view = s.call("GET", f"/api/v1/evaluation/evaluations/{evaluation['evaluation_id']}", "region")
        spot = {"record": f"{_today()} 自治区抽查组在采场和排土场实地核查，现场情况与评估报告一致"}
        indicators = {str(i["no"]): dict(i["entry"]) if i["not_applicable"] else {"score": i["score"], **spot}
                      for i in view["indicators"]}
        s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/cases/{review_id}/spot-check", "region",
               {"indicators": indicators, "prerequisites": {p["code"]: True for p in view["prerequisites"]},
                "note": "实地抽查结论与评估报告一致"}, expect=(200, 201, 409))


def evaluation_stage(s, cases: dict) -> dict:
    """自治区评估: the forwarded case of 包头市 (`EVALUATED_LEAGUES`) goes the way the demo scenario takes its
    鄂尔多斯市 cases (`shared.demo_scenario`: institutions drawn and commissioned, accepted with both pledges,
    evaluated and submitted; a check round with its draws, every department's check part by its reviewer of the
    case's 盟市, the spot check when drawn) and the region office proposes it (拟公示), so the 公示 batch holds
    mines of several 盟市. Resumed from the case's status (待委托评估, 待核查, 核查中, 待决定); a proposed case is
    left as it is, so a second run adds nothing."""
    from shared.demo_scenario import accept, check_round, commission, evaluate

    started = time.monotonic()
    status, league, rounds = {}, {}, {}
    for code in EVALUATED_LEAGUES:
        mine = next(m for m in demo_mines() if m.league_code == code and m.stage == "forwarded")
        app = _application_of(s, mine)
        review = _region_review(s, f"{app['id']}.v1") if app else None
        if review is not None:
            rid = f"{app['id']}.v1"
            status[rid], league[rid] = review.get("status"), mine.enterprise.league
            if review.get("check_round_id"):
                rounds[rid] = review["check_round_id"]
    fresh = [rid for rid, st in status.items() if st == "awaiting_commission"]
    if fresh:
        commissions = dict(zip(fresh, commission(s, fresh, "2026年12月1日恒生指数收盘19876.54"), strict=True))
        for rid in fresh:
            evaluate(s, commissions[rid], accept(s, commissions[rid]), submit=True)
            status[rid] = "evaluated"
        _say(s, f"demo region: {len(fresh)} cases of other 盟市 commissioned and evaluated "
                f"({time.monotonic() - started:.0f}s)")
    to_check = [rid for rid, st in status.items() if st == "evaluated"]
    if to_check:
        round_id = check_round(s, to_check)["round_id"]
        rounds.update({rid: round_id for rid in to_check})
    proposed = []
    for rid, st in status.items():
        if st in ("evaluated", "in_check"):
            if rid in rounds:
                _finish_check(s, rounds[rid], rid, league[rid])
                st = "checked"
        if st == "checked":
            s.call("POST", f"/api/v1/evaluation/reviews/{rid}/decision", "region", {"decision": "propose"})
            proposed.append(rid)
    if proposed:
        _say(s, f"demo region: {len(proposed)} cases of other 盟市 checked and proposed for 公示 "
                f"({time.monotonic() - started:.0f}s)")
    cases["proposed"] = proposed   # the 公示 batch waits for these proposals to reach the public notice
    return {"proposed": proposed}


# -- 公示 with an objection in handling -----------------------------------------------------------------------------
OBJECTOR = {"name": "王晓明", "phone": "13904771234", "organisation": "鄂尔多斯市康巴什区某社区居民委员会"}
OBJECTION_GROUNDS = ("该矿山东侧排土场边坡部分区域复绿效果较差，雨季存在水土流失现象，与公示材料所述“排土场已全部复绿”"
                     "不一致，请有关部门现场核实。")
SUBSCRIBER = "demo-subscriber@example.org"


def gb11643_id_number(first17: str) -> str:
    """A 居民身份证号码 with its GB 11643-1999 check character (ISO 7064 MOD 11-2)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def _beijing_today():
    from shared.clock import utcnow
    from shared.workdays import beijing_date

    return beijing_date(utcnow())


def _evidence_png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (170, 150, 110))
    ImageDraw.Draw(image).rectangle((20, 120, 300, 190), fill=(120, 100, 80))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _public_session(s, page: str):
    """A browser-like session of the public: the page's CSRF token and its cookie."""
    import re

    web = requests.Session()
    answer = web.get(s.url + page, headers={"Accept": "text/html"}, timeout=60)
    from shared.demo_flows import DemoStepFailed

    found = re.search(r'name="csrf-token" content="([^"]+)"', answer.text)
    if answer.status_code != 200 or not found:
        raise DemoStepFailed(f"GET {page}: {answer.status_code}")
    web.headers.update({"X-CSRFToken": found.group(1), "Accept": "application/json"})
    return web


def _demo_batch(s, cases: dict) -> dict | None:
    """The demo's 公示 batch: the one made by an earlier run (published or a draft an interrupted run left), or
    a new one of every case proposed so far, starting today when today is a working day on the official
    calendar (else the default: the next working day), published."""
    from shared.workdays import WorkingCalendar

    batches = s.call("GET", "/api/v1/notice/batches", "region")
    batches = batches if isinstance(batches, list) else batches.get("items", [])
    batch = next((b for b in batches if b.get("status") != "draft"), None) or (batches[0] if batches else None)
    if batch is None:
        expected, deadline = set(cases.get("proposed") or ()), time.monotonic() + 60
        proposals = s.call("GET", "/api/v1/notice/proposals", "region")
        while not expected <= {p.get("review_id") for p in proposals} and time.monotonic() < deadline:
            time.sleep(1)
            proposals = s.call("GET", "/api/v1/notice/proposals", "region")
        if not proposals:
            _say(s, "demo region: 公示 — no case is 拟公示 yet, no batch")
            return None
        today = _beijing_today()
        body = {"application_ids": [p["application_id"] for p in proposals]}
        if WorkingCalendar().is_workday(today):
            body["start_date"] = today.isoformat()
        batch = s.call("POST", "/api/v1/notice/batches", "region", body)
    if batch.get("status") == "draft":
        batch = s.call("POST", f"/api/v1/notice/batches/{batch['id']}/publish", "region")
        _say(s, f"demo region: 公示 published — {batch['title']}, {len(batch['entries'])} mines, "
                f"{batch['window_start']} to {batch['window_end']}")
    return batch


def _objection(s, batch: dict) -> dict | None:
    """A real-name objection against one mine of the open batch, triaged to the 自然资源 department, whose
    reviewer records a finding: verified, left for the office to conclude. Resumed from where it stands."""
    from shared.demo_accounts import DEMO_LEAGUES
    from shared.demo_flows import _check, demo_reviewer

    public = requests.get(f"{s.url}/api/v1/notice/publicity/{batch['id']}", timeout=60).json()
    if not public.get("accepts_objections"):
        _say(s, f"demo region: 公示 window opens {public.get('window_start')}: no objection can be filed today")
        return None
    found = s.call("GET", f"/api/v1/notice/objections?batch_id={batch['id']}", "region")
    found = found if isinstance(found, list) else found.get("items", [])
    if found:
        objection = found[0]
        objection_id = objection.get("id") or objection.get("objection_id")
    else:
        leagues = dict(DEMO_LEAGUES)
        entries = [e for e in batch["entries"] if e.get("league") in leagues] or batch["entries"]
        target = entries[0]
        web = _public_session(s, f"/public/objections/new?batch={batch['id']}&application={target['application_id']}")
        form = {"batch_id": batch["id"], "application_id": target["application_id"], **OBJECTOR,
                "id_number": gb11643_id_number("15060319800315123"), "grounds": OBJECTION_GROUNDS,
                "indicators": ["30"], "consent": "true"}
        answer = web.post(s.url + "/api/v1/notice/objections", data=form, timeout=60,
                          files=[("files", ("排土场边坡现场照片.png", _evidence_png(), "image/png"))])
        _check(answer.status_code == 201, f"objection: {answer.status_code} {answer.text}")
        objection_id = answer.json()["objection_id"]
        _say(s, f"demo region: objection filed against {target.get('mine_name')} "
                f"(receipt {answer.json()['receipt_no']})")
    view = s.call("GET", f"/api/v1/notice/objections/{objection_id}", "region")
    if view["status"] == "received":
        view = s.call("POST", f"/api/v1/notice/objections/{objection_id}/triage", "region",
                      {"departments": ["natural_resources"], "working_days": 10})
        _say(s, "demo region: objection triaged to 自然资源部门")
    if view["status"] == "triaged" and not view.get("findings"):
        league = view.get("league") or next(e.get("league") for e in batch["entries"]
                                            if e["application_id"] == view.get("application_id"))
        reviewer = demo_reviewer("natural_resources", league if league in dict(DEMO_LEAGUES) else "鄂尔多斯市")
        today = _beijing_today().isoformat()
        view = s.call("POST", f"/api/v1/notice/objections/{objection_id}/findings", reviewer, {
            "finding": "not_supported",
            "text": "经现场核查，东侧排土场边坡已按复垦方案完成覆土和草灌种植，局部为今年新植区域，尚在养护期，"
                    "未发现明显水土流失，与公示材料基本一致。",
            "site_check": {"date": today, "place": "东侧排土场边坡", "observed": "边坡覆土完整，植被覆盖约七成，"
                                                                         "新植区域设有围栏养护"}})
        _say(s, f"demo region: finding recorded by {reviewer}; the objection waits for the office's conclusion")
    return {"objection_id": objection_id, "status": view["status"]}


def _subscription(s) -> str:
    """A public email subscription to the 公告 and 公示, confirmed through the link of the email the local mail
    receiver got (read through `/api/v1/notice/mail`); left pending when no email arrives within a minute."""
    import re

    web = _public_session(s, "/public/subscriptions")
    answer = web.post(s.url + "/api/v1/notice/subscriptions", timeout=60,
                      json={"email": SUBSCRIBER, "topics": ["announcements", "publicity"]})
    if answer.status_code != 202:
        _say(s, f"demo region: subscription not accepted ({answer.status_code}); skipped")
        return "skipped"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in _mail(s):
            if SUBSCRIBER not in (message.get("to") or "") or "确认" not in (message.get("subject") or ""):
                continue
            text = s.call("GET", f"/api/v1/notice/mail/{message['id']}", "region").get("text") or ""
            link = re.search(r"(\S*/public/subscriptions/confirm\?token=[\w.\-]+)", text)
            if link:
                url = link.group(1)
                path = url[url.index("/public/"):]
                page = requests.get(s.url + path, timeout=60)
                if page.status_code == 200:
                    _say(s, f"demo region: email subscription of {SUBSCRIBER} confirmed")
                    return "confirmed"
        time.sleep(2)
    _say(s, f"demo region: the confirmation email to {SUBSCRIBER} did not arrive: the subscription stays pending")
    return "pending"


def _mail(s) -> list[dict]:
    answer = requests.get(f"{s.url}/api/v1/notice/mail", headers=s.headers("region"), timeout=60)
    return answer.json() if answer.status_code == 200 else []


def publicity_stage(s, cases: dict) -> dict:
    """公示 with an objection (public_notice's batches and objections): the region office composes one batch of
    the cases proposed so far and publishes it (today if a working day); while its window is open a citizen
    files a real-name objection with a photo, the office triages it and the department records its finding —
    left for the office to conclude. A public email subscription is confirmed through the local mail receiver.
    Webhooks are not registered (an endpoint pointing at nothing would fail forever). A second run adds no
    second batch, objection or subscription."""
    batch = _demo_batch(s, cases)
    if batch is None:
        return {}
    objection = _objection(s, batch)
    subscription = _subscription(s)
    return {"batch_id": batch["id"], "objection": objection, "subscription": subscription}


def listing_stage(s, cases: dict) -> dict:
    """Listed mines with their announcements: nothing to do through the 公示 window (it cannot close today); the
    earlier list (30 mines of the 12 盟市 with their original announcements) is imported by `greenmine demo-data`
    (public_notice's `list_import`). Reports what the public list holds."""
    answer = requests.get(f"{s.url}/api/v1/list?per_page=100", timeout=60)
    mines = answer.json() if answer.status_code == 200 else []
    total = int(answer.headers.get("X-Total-Count", len(mines))) if answer.status_code == 200 else 0
    notices = requests.get(f"{s.url}/api/v1/notice/announcements", timeout=60)
    count = len(notices.json()) if notices.status_code == 200 else 0
    leagues = sorted({m["league"] for m in mines})
    _say(s, f"demo region: the public list holds {total} mines in {len(leagues)} 盟市, {count} announcements")
    return {"mines": total, "leagues": leagues, "announcements": count}


def supervision_stage(s, cases: dict) -> dict:
    """The supervision states (marks, rectification, removal): issue 13 (supervision) fills this hook; nothing
    yet."""
    return {}


LATER_STAGES: tuple[Callable, ...] = (evaluation_stage, publicity_stage, listing_stage, supervision_stage)


def run(url: str, progress: Callable[[str], None] = print) -> dict:
    """Take every demo mine's case to its stage; {stage: [application ids]}."""
    from shared.demo_scenario import Session

    s = Session(url)
    mines = [m for m in demo_mines() if m.stage]
    started = time.monotonic()
    reached: dict[str, list[str]] = {}
    # the cheap stages first, so every 盟市 has work to show quickly
    order = sorted(mines, key=lambda m: ("draft", "submitted", "returned", "forwarded").index(m.stage))
    for i, mine in enumerate(order, 1):
        stage = take_to_stage(s, mine)
        reached.setdefault(stage, []).append(mine.id)
        progress(f"demo region: {i}/{len(order)} {mine.enterprise.league} {mine.name} → {STAGE_LABELS[stage]}"
                 f" ({time.monotonic() - started:.0f}s)")
    cases = {stage: ids for stage, ids in reached.items()}
    s.progress = progress
    for hook in LATER_STAGES:
        hook(s, cases)
    return reached
