"""`make run`'s demo scenario: cases at every point of the region stage (附件2 三), built the way the users would
build them, through the platform's public API (`shared.demo_flows`), so that every page has something to show.

The demo enterprise submits seven open-pit coal mines; every department agrees and the 鄂尔多斯市 bureau forwards
them. Then the region office and the demo institution (`evaluator`) take them to different points:

| case | where it stops |
|---|---|
| 1 | 待委托评估 (forwarded, nothing else) |
| 2 | 已委托，待评估机构接受 (drawn and commissioned) |
| 3 | 现场评估中 (accepted with both pledges, a draft with records saved) |
| 4 | 评估报告已提交，待核查 (evaluated with records and a site photo) |
| 5, 6 | one check round, its spot-check draw and inspector draw published; 5 checked and 拟公示, 6 still in check |
| 7 | 退回整改 (evaluated, returned with a reason on indicator 3) |

And supervision's measures on three mines of the imported list in 鄂尔多斯市 (`measures`): one marked (标注), one
under a 限期整改 (with its 标注 3), one removed from the list by the 协调机制's decision (reported by the bureau,
prepared and recorded by the region office; the public notice announces it).

`run(url, progress)` is idempotent in the sense that matters for `make run`: it only adds cases (each run makes new
mines), and it reports each step through `progress` so a long start is never silent."""
from __future__ import annotations

import io
from collections.abc import Callable

import requests

from shared.demo_flows import DemoStepFailed, _check, agree_everywhere, submit_application, token

BOTH_PLEDGES = [{"code": "truthfulness", "accepted": True}, {"code": "no_fee", "accepted": True}]
ROUND_TITLE = "2026年第1批资料核查与实地抽查"
CASES = 7


class Session:
    """The demo's users on one running system: a token per user, JSON calls that must succeed."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self._tokens: dict[str, dict] = {}

    def headers(self, username: str) -> dict:
        if username not in self._tokens:
            self._tokens[username] = token(self.url, username)
        return self._tokens[username]

    def call(self, method: str, path: str, username: str, body=None, *, expect=(200, 201), **kwargs) -> dict:
        answer = requests.request(method, self.url + path, headers=self.headers(username), json=body, timeout=120,
                                  **kwargs)
        _check(answer.status_code in expect, f"{method} {path} as {username}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else {}


def site_photo(text: str = "排土场复绿") -> bytes:
    """A real JPEG (the evaluation accepts only decodable images): a green field with a grey band."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), (88, 140, 72))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 260, 640, 400), fill=(150, 150, 140))
    draw.rectangle((40, 40, 300, 200), outline=(240, 240, 240), width=4)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def record(day: str, where: str = "一号露天采场东帮") -> dict:
    return {"inspectors": [], "location": where, "date": day,
            "observations": "查看排土场复绿、洒水降尘设施与矿区道路硬化，现场运行正常，与自评材料一致"}


def forward(s: Session, app_id: str) -> str:
    agree_everywhere(s.url, app_id)
    s.call("POST", f"/api/v1/review/cases/{app_id}/decision", "bureau", {"version_no": 1, "decision": "forward"})
    return f"{app_id}.v1"


def commission(s: Session, review_ids: list[str], entered_value: str) -> list[str]:
    """Draw the institutions for the cases and commission the proposal; the commission ids."""
    drawn = s.call("POST", "/api/v1/evaluation/commissions/draw", "region",
                   {"review_ids": review_ids, "entered_value": entered_value})
    made = s.call("POST", "/api/v1/evaluation/commissions", "region",
                  {"review_ids": review_ids, "institution_id": drawn["proposal"]["id"], "draw_id": drawn["draw_id"],
                   "note": "请按期开展现场评估，评估费用不得向矿山企业收取"})
    return [c["commission_id"] for c in made["commissions"]]


def evaluator_of(s: Session, commission_id: str) -> str:
    """The demo evaluator account of the institution the commission went to."""
    from shared.demo_accounts import DEMO_USERS

    view = s.call("GET", f"/api/v1/evaluation/commissions/{commission_id}", "region")
    institution = view.get("institution_id") or (view.get("institution") or {}).get("id")
    for username, role, options, _name in DEMO_USERS:
        if role == "evaluator" and options.get("institution") == institution:
            return username
    raise DemoStepFailed(f"no demo evaluator belongs to institution {institution}")


def accept(s: Session, commission_id: str) -> str:
    evaluator = evaluator_of(s, commission_id)
    s.call("POST", f"/api/v1/evaluation/commissions/{commission_id}/accept", evaluator,
           {"pledges": BOTH_PLEDGES, "signer_name": "李明", "signer_title": "项目负责人（高级工程师）"})
    return evaluator


def evaluate(s: Session, commission_id: str, evaluator: str, *, submit: bool, partial: bool = False) -> dict:
    """The evaluator's on-site evaluation: every indicator scored with its 核查记录 (the first ten only when
    `partial`), a site photo, and the submission."""
    base = f"/api/v1/evaluation/evaluations/{commission_id}.eval"
    view = s.call("GET", base, evaluator)
    day = view.get("today") or _today()
    staff = view.get("staff") or []
    indicators = {}
    for item in view["indicators"][: 10 if partial else None]:
        entry = ({"not_applicable": True, "reason": "经现场核实，本矿无暂不能开采利用的共伴生矿产"}
                 if item.get("confirmed_not_applicable") else
                 {"score": item["points"], "record": {**record(day), "inspectors": staff[:2] or ["李明"]}})
        indicators[str(item["no"])] = entry
    body = {"indicators": indicators}
    if not partial:
        body["prerequisites"] = {p["code"]: {"met": True} for p in view["prerequisites"]}
    s.call("PUT", base, evaluator, body)
    first = str(view["indicators"][0]["no"])
    answer = requests.post(s.url + base + "/images", headers=s.headers(evaluator), timeout=60,
                           data={"indicator": first, "caption": "排土场复绿现场"},
                           files={"photo": ("排土场复绿.jpg", site_photo(), "image/jpeg")})
    _check(answer.status_code in (200, 201), f"image upload: {answer.status_code} {answer.text}")
    return s.call("POST", base + "/submit", evaluator) if submit else view


def _today() -> str:
    from shared.clock import utcnow
    from shared.workdays import beijing_date

    return beijing_date(utcnow()).isoformat()


def check_round(s: Session, review_ids: list[str]) -> dict:
    """A check round over the cases: the spot-check draw and an inspector draw, both published."""
    opened = s.call("POST", "/api/v1/evaluation/check-rounds", "region",
                    {"ratio": "0.5", "threshold": "5", "review_ids": review_ids, "title": ROUND_TITLE})
    round_id = opened["round_id"]
    drawn = s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/draw", "region",
                   {"entered_value": "2026年12月1日上证综指收盘3412.57"})
    s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/inspectors", "region",
           {"department": "natural_resources", "count": 2, "entered_value": "0417",
            "pool": ["inspector_nr_1", "inspector_nr_2", "inspector_nr_3"],
            "recusals": [{"username": "inspector_nr_3", "reason": "曾为本批一家企业编制矿山地质环境保护方案"}]})
    return {"round_id": round_id, "selected": drawn.get("selected") or []}


def finish_check(s: Session, round_id: str, review_id: str) -> None:
    """Every department records its part of the case; the spot check if the case was drawn."""
    from shared.demo_flows import demo_reviewer

    view = s.call("GET", f"/api/v1/evaluation/check-rounds/{round_id}", "region")
    case = next(c for c in view["cases_detail"] if c["review_id"] == review_id)
    for part in case["parts"]:
        s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/cases/{review_id}/parts/{part['department']}",
               demo_reviewer(part["department"]), {"passed": True, "note": "资料齐全，与评估报告一致"})
    if case.get("selected"):
        evaluation = s.call("GET", f"/api/v1/evaluation/reviews/{review_id}", "region")["evaluation"]
        view = s.call("GET", f"/api/v1/evaluation/evaluations/{evaluation['evaluation_id']}", "region")
        spot = {"record": f"{_today()} 自治区抽查组在二号排土场、一号采场实地核查，现场情况与评估报告一致"}
        indicators = {str(i["no"]): dict(i["entry"]) if i["not_applicable"] else {"score": i["score"], **spot}
                      for i in view["indicators"]}
        s.call("POST", f"/api/v1/evaluation/check-rounds/{round_id}/cases/{review_id}/spot-check", "region",
               {"indicators": indicators, "prerequisites": {p["code"]: True for p in view["prerequisites"]},
                "note": "实地抽查结论与评估报告一致"})


def run(url: str, progress: Callable[[str], None] = print) -> dict:
    s = Session(url)
    apps = []
    for n in range(1, CASES + 1):
        app_id, name = submit_application(url, prefix="示范露天煤矿")
        apps.append(app_id)
        progress(f"demo scenario: case {n}/{CASES} submitted ({name})")
    rids = []
    for n, app_id in enumerate(apps, 1):
        rids.append(forward(s, app_id))
        progress(f"demo scenario: case {n}/{CASES} reviewed by every department and forwarded to the region")
    commissions = dict(zip(rids[1:], commission(s, rids[1:], "2026年12月1日深证成指收盘10987.65"), strict=True))
    progress("demo scenario: institutions drawn and commissioned (cases 2-7)")
    evaluators = {rid: accept(s, commissions[rid]) for rid in rids[2:]}
    evaluate(s, commissions[rids[2]], evaluators[rids[2]], submit=False, partial=True)
    for rid in rids[3:]:
        evaluate(s, commissions[rid], evaluators[rid], submit=True)
    progress("demo scenario: evaluations drafted and submitted (cases 3-7)")
    checks = check_round(s, [rids[4], rids[5]])
    finish_check(s, checks["round_id"], rids[4])
    s.call("POST", f"/api/v1/evaluation/reviews/{rids[4]}/decision", "region", {"decision": "propose"})
    s.call("POST", f"/api/v1/evaluation/reviews/{rids[6]}/decision", "region",
           {"decision": "return", "reasons": [{"indicator": 3, "text": "破碎车间安全警示标志缺失，请整改后重新申报"}]})
    progress("demo scenario: check round drawn and published; one case proposed for 公示, one returned")
    built = measures(s)
    progress(f"demo scenario: supervision measures {'placed' if built else 'already there'} (marked, rectifying, "
             "removed)")
    return {"reviews": rids, "round_id": checks["round_id"], "measures": built}


DEMO_LEAGUE = "鄂尔多斯市"
DEMO_MARK = "矿山停产1年以上（2025年9月起停产，盟市自然资源局核查确认）"


def _listed_mines(s: Session, timeout: float = 90) -> list[dict]:
    """The register's listed mines of the demo 盟市 (the imported list reaches supervision through the broker)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        mines = s.call("GET", f"/api/v1/supervision/mines?league={DEMO_LEAGUE}", "bureau")
        if len(mines) >= 3 or time.monotonic() > deadline:
            return mines
        time.sleep(1)


def measures(s: Session) -> dict:
    """One marked, one rectifying and one removed mine of the demo 盟市 (nothing when the demo already has them or
    the register has too few mines): {"marked", "rectifying", "removed"} measure ids."""
    from datetime import date, timedelta

    existing = s.call("GET", "/api/v1/supervision/measures", "bureau")
    if any(m["reason"] == DEMO_MARK for m in existing):
        return {}
    mines = [m for m in _listed_mines(s) if not any(x["mine_id"] == m["mine_id"] for x in existing)]
    if len(mines) < 3:
        return {}
    evidence = [{"text": "2026年11月盟市自然资源局会同有关部门日常监管现场检查记录"}]
    marked = s.call("POST", "/api/v1/supervision/measures", "bureau", {
        "kind": "mark", "mine_id": mines[0]["mine_id"], "situation": "mark.1", "reason": DEMO_MARK,
        "evidence": evidence})
    deadline = (date.fromisoformat(_today()) + timedelta(days=60)).isoformat()
    rectifying = s.call("POST", "/api/v1/supervision/measures", "bureau", {
        "kind": "rectify", "mine_id": mines[1]["mine_id"], "situation": "rectify.2",
        "reason": "排土场部分区域未按矿山地质环境保护与土地复垦方案复绿，矿区道路扬尘较大", "evidence": evidence,
        "deadline": deadline})
    removal = s.call("POST", "/api/v1/supervision/measures", "bureau", {
        "kind": "remove", "mine_id": mines[2]["mine_id"], "situation": "remove.4",
        "reason": "越界开采（2026年10月测量核查越界面积1.2公顷）", "evidence": evidence + [
            {"text": "2026年10月矿区范围测量核查报告：越界开采面积1.2公顷"}]})
    rid = removal["measure_id"]
    s.call("POST", f"/api/v1/supervision/measures/{rid}/review", "region",
           {"action": "prepare", "opinion": "情形属实，证据充分，提请协调机制审定"})
    s.call("POST", f"/api/v1/supervision/measures/{rid}/decision", "region", {
        "meeting_on": _today(), "document_no": "内绿矿协〔2026〕1号", "outcome": "removed",
        "reason": "越界开采，经自治区绿色矿山建设协调机制审定移出绿色矿山名录",
        "follow_up_note": "由鄂尔多斯市自然资源局督促企业完成越界区域恢复治理，整改结果抄送协调机制办公室"})
    return {"marked": marked["measure_id"], "rectifying": rectifying["measure_id"], "removed": rid}
