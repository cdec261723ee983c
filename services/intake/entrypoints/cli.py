"""Operator entry points of the intake service.

``load_demo_data(settings)`` is registered under the ``greenmine.demo_data`` entry-point group, so
``greenmine demo-data`` (run by ``make run``) loads it: mines of the two demo enterprises in six 盟市 and one draft
application, and the mines of the list kept before the platform (``contracts/demo/historical-green-mines.csv``,
listed in public_notice's demo data under ids of their own) so that the demo's targets have their facts.
Idempotent: records have fixed ids and are only inserted when absent, so a second run changes nothing.
"""
from __future__ import annotations

import csv
from datetime import UTC, datetime

from shared import regions
from shared.config import REPO_ROOT, Settings

E1 = {"name": "鄂尔多斯示范煤业有限公司", "credit_code": "91150600MA0N00001W"}
E2 = {"name": "包头示范砂石有限公司", "credit_code": "91150200MA0N00002B"}


def _mine(enterprise, name, number, league, county, minerals, scale, group, method, start, reserve,
          safety_number, status="in_production"):
    return {
        "enterprise": enterprise, "name": name,
        "mining_licence": {"number": number, "valid_from": "2021-01-01", "valid_to": "2041-12-31"},
        "safety_licence": {"number": safety_number, "valid_from": "2024-01-01", "valid_to": "2040-12-31"},
        "business_licence": {"valid_from": "2008-05-20", "valid_to": None},
        "league": league, "county": county, "minerals": minerals, "scale": scale, "industry_group": group,
        "mining_method": method, "production_status": status, "production_start_date": start,
        "remaining_reserve_years": reserve,
    }


DEMO_MINES = {
    # the two the README names: a branch (一) open-pit coal mine in 准格尔旗, a branch (二) sand mine in 包头市
    "mine-demo-ordos-coal": _mine(E1, "鄂尔多斯示范露天煤矿", "C1506002010061120067890", "ordos", "准格尔旗",
                                  ["coal"], "large", 1, "open_pit", "2011-08-01", "32",
                                  "（蒙）MK安许证字〔2024〕0101号"),
    "mine-demo-baotou-sand": _mine(E2, "包头示范建筑砂石矿", "C1502002018071120012345", "baotou", "九原区",
                                   ["construction_sand", "construction_gravel"], "medium", 2, "open_pit",
                                   "2018-09-01", "9.5", "（蒙）FM安许证字〔2024〕0207号"),
    # more 盟市
    "mine-demo-xilingol-coal": _mine(E1, "锡林郭勒示范井工煤矿", "C1525002012031120030011", "xilingol", "西乌珠穆沁旗",
                                     ["coal"], "large", 1, "underground", "2013-06-18", "41",
                                     "（蒙）MK安许证字〔2024〕0315号"),
    "mine-demo-alxa-fluorite": _mine(E1, "阿拉善示范萤石矿", "C1529002016091120004417", "alxa", "阿拉善左旗",
                                     ["fluorite"], "small", 1, "underground", "2017-04-01", "7",
                                     "（蒙）FM安许证字〔2024〕0420号"),
    "mine-demo-ulanqab-cement": _mine(E2, "乌兰察布示范水泥用灰岩矿", "C1509002015111120008823", "ulanqab",
                                      "察哈尔右翼前旗", ["cement_limestone"], "medium", 2, "open_pit", "2016-03-01",
                                      "18", "（蒙）FM安许证字〔2024〕0511号"),
    "mine-demo-chifeng-granite": _mine(E2, "赤峰示范饰面花岗岩矿", "C1504002019041120002219", "chifeng", "巴林右旗",
                                       ["dimension_granite"], "small", 2, "open_pit", "2019-10-10", "11",
                                       "（蒙）FM安许证字〔2024〕0612号"),
}

HISTORICAL_CSV = REPO_ROOT / "contracts" / "demo" / "historical-green-mines.csv"


def historical_mines() -> dict[str, dict]:
    """The mines of the earlier green-mine list (read from the contracts' CSV: intake imports no public_notice
    code) as intake registers them: ids ``mine-hist-01``…, 盟市/旗县/矿种/规模 in intake's vocabularies, licences
    valid, in production, reserves of many years. public_notice lists them under its own ids; supervision's
    register matches the two by credit code and mine name."""
    from intake.domain.minerals import find_mineral

    with HISTORICAL_CSV.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    mines = {}
    for n, row in enumerate(rows, start=1):
        league = regions.league_by_name(row["盟市"].strip())
        county = regions.find_county(league.code, row["旗县"].strip())
        minerals = [find_mineral(name.strip()) for name in row["矿种"].replace("，", "、").split("、")]
        scale = {"大型": "large", "中型": "medium", "小型": "small"}[row["规模"].strip()]
        name = row["矿山名称"].strip()
        mines[f"mine-hist-{n:02d}"] = {
            "enterprise": {"name": row["企业名称"].strip(), "credit_code": row["统一社会信用代码"].strip()},
            "name": name, "league": league.code, "county": county.name, "minerals": [m.code for m in minerals],
            "scale": scale, "industry_group": minerals[0].industry_group,
            "mining_method": "underground" if "井" in name else "open_pit", "production_status": "in_production",
            "production_start_date": f"{2000 + n % 12}-0{1 + n % 9}-01",
            "remaining_reserve_years": {"large": "30", "medium": "16", "small": "9"}[scale],
            "mining_licence": {"number": f"C{league.division_code}2018{1 + n % 12:02d}1130{n:06d}",
                               "valid_from": "2021-01-01", "valid_to": "2041-12-31"},
            "safety_licence": {"number": f"（蒙）{'MK' if 'coal' in [m.code for m in minerals] else 'FM'}安许证字"
                                         f"〔2023〕{n + 900:04d}号", "valid_from": "2023-01-01",
                               "valid_to": "2040-12-31"},
            "business_licence": {"valid_from": "2006-05-20", "valid_to": None},
        }
    return mines


DEMO_APPLICATION = "app-demo-ordos-coal"
DEMO_ASSESSMENT = {
    "catalog": "nm-2025",
    "mine": {"industry_group": 1, "mining_method": "open_pit"},
    "prerequisites": {"P1": True, "P2": True, "P3": True, "P4": True, "P5": True},
    "indicators": {"1": {"deductions": []}, "2": {"findings": 0}, "3": {"findings": 1}, "4": {"findings": 0},
                   "5": {"findings": 0}, "6": {"findings": 0}, "7": {"findings": 0}, "8": {"score": "5"},
                   "9": {"items": {"drilling": True, "blasting": True, "loading": True, "dumping": True}},
                   "10": {"score": "2"}, "11": {"findings": 0}},
}
DEMO_RECORDS = {
    "1": "2026年3月5日安环部王工、李工查阅矿区总平面布置图，现场查看生产区、管理区、生活区分区明确",
    "3": "2026年3月5日王工查看采场入口和破碎车间：破碎车间缺1处安全警示标志，已列入整改",
    "8": "采用单斗-卡车开采工艺，开采方式与开发利用方案一致",
}
DEMO_AT = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def load_demo_data(settings: Settings | None = None) -> dict:
    """Insert the demo mines and the draft application that are missing; returns what was created."""
    from intake.bootstrap import bootstrap
    from intake.domain.commands import ImportDraft, ImportMine

    settings = settings or Settings.from_env()
    bus = bootstrap(settings).bus
    created = {"mines": [], "applications": []}
    for mine_id, data in DEMO_MINES.items():
        if bus.handle(ImportMine(mine_id, data, "demo-data", DEMO_AT)):
            created["mines"].append(mine_id)
    # the living demo region: 60 mines of the 12 盟市's demo enterprises (their cases are taken to their stages
    # through the API by `greenmine demo-scenario`, shared.demo_region.run)
    from shared.demo_region import demo_mines, mine_data

    for mine in demo_mines():
        if bus.handle(ImportMine(mine.id, mine_data(mine), "demo-data", DEMO_AT)):
            created["mines"].append(mine.id)
    for mine_id, data in historical_mines().items():     # the earlier list's mines (listed by public_notice)
        if bus.handle(ImportMine(mine_id, data, "demo-data", DEMO_AT)):
            created["mines"].append(mine_id)
    draft = {"assessment": DEMO_ASSESSMENT, "records": DEMO_RECORDS, "declared_penalties": False}
    if bus.handle(ImportDraft(DEMO_APPLICATION, "mine-demo-ordos-coal", "nm-2025", draft, "demo-data", "enterprise",
                              DEMO_AT)):
        created["applications"].append(DEMO_APPLICATION)
    return created
