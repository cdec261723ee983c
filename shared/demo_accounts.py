"""The demo's accounts (`greenmine demo-data` creates them; `make run` prints them): one per role, a demo
enterprise and a 盟市 bureau in each of the 12 盟市 (the living demo region, `shared.demo_region`), a reviewer of
every department review routing can give a task in each of the five demo review 盟市 (their cases can pass the
initial review), the region's spot-check inspectors, and the evaluators of the demo institutions."""
from __future__ import annotations

from shared import identity

DEMO_PASSWORD = "Greenmine-2025"
# The demo's review 盟市: every department of 附件3 that review routing can give a task has a reviewer in each
# (鄂尔多斯市 and 包头市 since the first demo; the demo region adds three more, whose cases pass the initial review).
DEMO_LEAGUES = (("鄂尔多斯市", ""), ("包头市", "_baotou"), ("赤峰市", "_chifeng"), ("呼伦贝尔市", "_hulunbuir"),
                ("锡林郭勒盟", "_xilingol"))
# department code -> (username part, the office's short name as people call it)
DEMO_DEPARTMENTS = {
    "natural_resources": ("nr", "自然资源局"),
    "development_reform": ("ndrc", "发展改革委"),
    "industry_it": ("industry", "工业和信息化局"),
    "finance": ("finance", "财政局"),
    "ecology_environment": ("eco", "生态环境局"),
    "water_resources": ("water", "水利局"),
    "emergency_management": ("safety", "应急管理局"),
    "market_regulation": ("market", "市场监督管理局"),
    "energy": ("energy", "能源局"),
    "forestry_grassland": ("forestry", "林草局"),
    "financial_regulation": ("finreg", "金融监管分局"),
    "taxation": ("tax", "税务局"),
}


def routed_departments() -> list[str]:
    """Every department code an indicator or a prerequisite of the index names (those review routing can give
    a task), in the index's order."""
    from shared.catalog import load_catalog

    catalog = load_catalog("nm-2025")
    named = {d.code for i in catalog.indicators for d in catalog.departments_for_indicator(i.no)}
    named |= {d.code for p in catalog.prerequisite_codes for d in catalog.departments_for_prerequisite(p)}
    return [code for code in catalog.department_codes if code in named]


def _demo_reviewers() -> list[tuple]:
    users = []
    for league, suffix in DEMO_LEAGUES:
        for code in routed_departments():
            short, office = DEMO_DEPARTMENTS[code]
            users.append((f"reviewer_{short}{suffix}", "department_reviewer", {"department": code, "area": league},
                          f"{league}{office}"))
    return users


# The demo's evaluation institutions the evaluator accounts belong to: review_routing's demo register
# (`review_routing.entrypoints.region.institutions.DEMO_INSTITUTIONS`) registers them with these ids.
DEMO_INSTITUTION = "inst-91150100ma0p00011n"      # 内蒙古绿原矿山评估咨询有限公司 (active)
DEMO_INSTITUTION_2 = "inst-91150200ma0p000220"    # 包头华测资源环境技术有限公司 (active; conflict with `enterprise`)

def _region_users() -> tuple[list[tuple], list[tuple]]:
    """(the demo region's enterprises, one per 盟市; a bureau per 盟市 beyond 鄂尔多斯市 and 包头市)."""
    from shared.demo_region import DEMO_ENTERPRISES, bureau_of

    enterprises = [(e.username, "enterprise", {"enterprise": e.credit_code}, e.name) for e in DEMO_ENTERPRISES]
    bureaus = [(bureau_of(e.league), "bureau", {"area": e.league}, f"{e.league}自然资源局")
               for e in DEMO_ENTERPRISES if e.league not in ("鄂尔多斯市", "包头市")]
    return enterprises, bureaus


_REGION_ENTERPRISES, _REGION_BUREAUS = _region_users()

DEMO_USERS = [
    # username, role, options, display name
    ("enterprise", "enterprise", {"enterprise": "91150600MA0N00001W"}, "鄂尔多斯示范煤业有限公司"),
    ("enterprise2", "enterprise", {"enterprise": "91150200MA0N00002B"}, "包头示范砂石有限公司"),
    *_REGION_ENTERPRISES,
    ("bureau", "bureau", {"area": "鄂尔多斯市"}, "鄂尔多斯市自然资源局"),
    ("bureau_baotou", "bureau", {"area": "包头市"}, "包头市自然资源局"),
    *_REGION_BUREAUS,
    *_demo_reviewers(),
    ("region", "region_office", {}, "自治区自然资源厅"),
    # The region's own inspectors (抽查人员库) of the natural-resources department, drawn for on-site spot checks.
    *[(f"inspector_nr_{n}", "department_reviewer", {"department": "natural_resources", "area": "自治区"},
       f"自治区自然资源厅抽查专家{n}") for n in (1, 2, 3)],
    ("evaluator", "evaluator", {"institution": DEMO_INSTITUTION}, "内蒙古绿原矿山评估咨询有限公司"),
    ("evaluator2", "evaluator", {"institution": DEMO_INSTITUTION_2}, "包头华测资源环境技术有限公司"),
    ("admin", "admin", {}, "系统管理员"),
]


def demo_logins() -> str:
    """The demo accounts as `make run` prints them: by role, a username first on each line (the Chinese name after
    it, so the columns stay aligned); the department reviewers one line per department, a column per demo 盟市."""
    lines = []
    for role, label in identity.ROLES.items():
        users = [u for u in DEMO_USERS if u[1] == role]
        if role != "department_reviewer":
            lines.append(f"    {label}")
            lines += [f"      {u[0]:<28}{u[3]}" for u in users]
            continue
        regional = [u for u in users if u[2].get("area") == "自治区"]
        lines.append(f"    {label}（" + " | ".join(league for league, _ in DEMO_LEAGUES) + "，每个审核部门一个）")
        for code in routed_departments():
            names = [next(u[0] for u in users if u[2] == {"department": code, "area": league})
                     for league, _ in DEMO_LEAGUES]
            lines.append("      " + "".join(f"{n:<28}" for n in names[:-1]) + f"{names[-1]}  "
                         + DEMO_DEPARTMENTS[code][1])
        lines += [f"      {u[0]:<28}{u[3]}（自治区）" for u in regional]
    return "\n".join(lines)
