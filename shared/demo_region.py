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
#: The 盟市 whose fifth mine (registered only) has under 3 years of reserves left: managed 参照 the standard (正文 一).
SHORT_RESERVE_LEAGUES = ("ordos", "chifeng", "alxa")
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
    if mine.n == 5 and mine.league_code in SHORT_RESERVE_LEAGUES:   # registered only: nearly worked out (参照管理)
        reserve = "2.5"
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
# returns what it made (or found made by an earlier run). Progress lines go to `s.progress` (set by `run`). The
# public notice's stages live in `shared.demo_public_notice`.
def evaluation_stage(s, cases: dict) -> dict:
    """自治区评估: the forwarded case of 包头市 (`EVALUATED_LEAGUES`) goes the way the demo scenario takes its
    鄂尔多斯市 cases (`shared.demo_scenario`: institutions drawn and commissioned, accepted with both pledges,
    evaluated and submitted; a check round with its draws, every department's check part by its reviewer of the
    case's 盟市, the spot check when drawn) and the region office proposes it (拟公示), so the 公示 batch holds
    mines of several 盟市. Resumed from the case's status (待委托评估, 待核查, 核查中, 待决定); a proposed case is
    left as it is, so a second run adds nothing."""
    from shared.demo_public_notice import evaluate_other_leagues

    return evaluate_other_leagues(s, cases)


def publicity_stage(s, cases: dict) -> dict:
    """公示 with an objection (public_notice's batches and objections): the region office composes one batch of
    the cases proposed so far and publishes it (today if a working day); while its window is open a citizen
    files a real-name objection with a photo, the office triages it and the department records its finding —
    left for the office to conclude. A public email subscription is confirmed through the local mail receiver.
    Webhooks are not registered (an endpoint pointing at nothing would fail forever). A second run adds no
    second batch, objection or subscription."""
    from shared.demo_public_notice import publicise

    return publicise(s, cases)


def listing_stage(s, cases: dict) -> dict:
    """Listed mines with their announcements: nothing to do through the 公示 window (it cannot close today); the
    earlier list (30 mines of the 12 盟市 with their original announcements) is imported by `greenmine demo-data`
    (public_notice's `list_import`). Reports what the public list holds."""
    from shared.demo_public_notice import report_list

    return report_list(s)


def supervision_stage(s, cases: dict) -> dict:
    """The supervision states (one marked, one rectifying, one removed mine of 鄂尔多斯市) are made by the demo
    scenario itself (`shared.demo_scenario.measures`, through the API); the demo region adds none here."""
    return {}


def targets_stage(s, cases: dict) -> dict:
    """目标进度 (supervision's targets): this year's yearly target of every 盟市 (region office) and three
    construction contracts (completed, in progress, breached) recorded by their bureaux (`shared.demo_targets`)."""
    from shared.demo_targets import set_up

    return set_up(s, getattr(s, "progress", print))


LATER_STAGES: tuple[Callable, ...] = (evaluation_stage, publicity_stage, listing_stage, supervision_stage,
                                      targets_stage)


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
