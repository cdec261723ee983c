"""The demo's users acting through the platform's public API (the one URL of the proxy): sign in with a token,
register an open-pit coal mine in 鄂尔多斯市, fill and hand in its application with every required material and an
evidence file for every scored indicator under a Chinese file name, submit, wait for the review tasks, and have
every department agree. `shared.demo_scenario` builds the demo's cases with it; the end-to-end tests use it too
(`tests/flows.py`). A refused step raises `DemoStepFailed` with the answer."""
from __future__ import annotations

import random
import time

import requests


class DemoStepFailed(RuntimeError):
    """A step of the demo flow was refused: the answer says why."""


def _check(condition, detail) -> None:
    if not condition:
        raise DemoStepFailed(str(detail))

PASSWORD = "Greenmine-2025"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
# The required materials of 附件2 一 with the names an enterprise gives its files.
REQUIRED = {"business_licence": "营业执照.pdf", "mining_licence": "采矿许可证.pdf",
            "safety_licence": "安全生产许可证.pdf",
            "mining_right_payment": "出让收益缴纳票据.pdf", "annual_sales_report": "年度销售报表.pdf",
            "eia_approval": "环评报告及批复.pdf", "environmental_acceptance": "环保竣工验收.pdf",
            "reserve_annual_report": "储量年度报告.pdf", "self_assessment_report": "自评报告.pdf",
            "application_form": "申请表.pdf", "truthfulness_pledge": "真实性承诺书.pdf", "site_photos": "现场.jpg",
            "remote_sensing_image": "遥感影像.pdf", "promo_video": "宣传片.mp4"}
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 200


def token(url: str, username: str, password: str = PASSWORD) -> dict:
    response = requests.post(url + "/api/v1/auth/token", json={"username": username, "password": password},
                             timeout=30)
    _check(response.status_code == 200, response.text)
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def full_assessment(industry_group: int = 1, mining_method: str = "open_pit", industry_variant: str | None = None
                    ) -> dict:
    """A self-assessment at full marks for a mine of the branch and mining method (the branch (一)'s indicator 16
    declared 不涉及: no co-associated minerals; the branch (二) names its sub-industry for items 21-22)."""
    from shared.catalog import load_catalog

    catalog = load_catalog("nm-2025")
    indicators = {str(i.no): {"score": format(i.points.normalize(), "f")}
                  for i in catalog.indicators_for(industry_group, mining_method)}
    if industry_group == 1:
        indicators["16"] = {"not_applicable": True, "reason": "本矿无暂不能开采利用的共伴生矿产"}
    mine = {"industry_group": industry_group, "mining_method": mining_method}
    if industry_group == 2:
        mine["industry_variant"] = industry_variant or "sand_gravel_stone"
    return {"catalog": "nm-2025", "mine": mine, "prerequisites": {f"P{n}": True for n in range(1, 6)},
            "indicators": indicators}


def pdf_of(title: str) -> bytes:
    """A real PDF (a browser's viewer renders it) with the document's title on its page."""
    from shared.documents import render_pdf

    return render_pdf(f"<html><body><h1>{title}</h1><p>鄂环审字〔2019〕123号</p></body></html>")


def submit_application(url: str, username: str = "enterprise", *, prefix: str = "演练煤矿",
                       real_pdfs: bool = False) -> tuple[str, str]:
    """A new open-pit coal mine of the demo enterprise in 鄂尔多斯市, submitted; returns (application id, name).
    `real_pdfs`: files a PDF viewer can show (slower to make) instead of a minimal valid PDF."""
    auth = token(url, username)
    name = f"{prefix}{random.randint(1000, 9999)}"
    mine = requests.post(url + "/api/v1/mines", headers=auth, timeout=30, json={
        "name": name, "league": "ordos", "county": "准格尔旗", "minerals": ["coal"], "scale": "large",
        "industry_group": 1, "mining_method": "open_pit", "production_status": "in_production",
        "production_start_date": "2012-05-01", "remaining_reserve_years": "25.5",
        "mining_licence": {"number": f"C150600201506{random.randint(0, 10**10 - 1):010d}",
                           "valid_from": "2020-01-01", "valid_to": "2040-12-31"},
        "safety_licence": {"number": "（蒙）FM安许证字〔2023〕0001号", "valid_from": "2023-03-01",
                           "valid_to": "2039-02-28"},
        "business_licence": {"valid_from": "2005-06-01", "valid_to": None}})
    _check(mine.status_code == 201, mine.text)
    application = requests.post(url + "/api/v1/applications", headers=auth, json={"mine_id": mine.json()["id"]},
                                timeout=30)
    _check(application.status_code == 201, application.text)
    app_id = application.json()["id"]
    complete_and_submit(url, auth, app_id, full_assessment(), real_pdfs=real_pdfs)
    return app_id, name


def complete_and_submit(url: str, auth: dict, app_id: str, assessment: dict, *, real_pdfs: bool = False) -> None:
    """Save the self-assessment, upload every required material and an evidence file per scored indicator, and
    submit the draft (as the enterprise whose headers are `auth`)."""
    draft = requests.put(f"{url}/api/v1/applications/{app_id}", headers=auth, timeout=30,
                         json={"assessment": assessment, "declared_penalties": False})
    _check(draft.status_code == 200, draft.text)
    def pdf(filename: str) -> bytes:
        return pdf_of(filename.removesuffix(".pdf")) if real_pdfs else PDF

    uploads = [(kind, None, (filename, JPEG, "image/jpeg") if filename.endswith(".jpg") else
                (filename, MP4, "video/mp4") if filename.endswith(".mp4") else
                (filename, pdf(filename), "application/pdf")) for kind, filename in REQUIRED.items()]
    if "19" in assessment["indicators"]:
        uploads.append(("evidence", 19, ("矿井水处理台账.pdf", pdf("矿井水处理台账.pdf"), "application/pdf")))
    # 缺少支撑材料或证明材料不得分: every other scored indicator gets its own evidence file too.
    uploads += [("evidence", int(no), (f"第{no}项佐证材料.pdf", PDF, "application/pdf"))
                for no, entry in assessment["indicators"].items()
                if not entry.get("not_applicable") and no != "19"]
    for kind, indicator, file in uploads:
        data = {"kind": kind} | ({"indicator": str(indicator)} if indicator else {})
        response = requests.post(f"{url}/api/v1/applications/{app_id}/attachments", headers=auth, data=data,
                                 files={"file": file}, timeout=30)
        _check(response.status_code == 201, response.text)
    submitted = requests.post(f"{url}/api/v1/applications/{app_id}/submit", headers=auth, timeout=60)
    _check(submitted.status_code == 200, submitted.text)


def wait_for_task(url: str, app_id: str, username: str, department: str, timeout: float = 90) -> dict:
    """The task of `department` for the application, once routing has made it (as its reviewer sees it)."""
    auth = token(url, username)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = requests.get(f"{url}/api/v1/review/queues/{department}", headers=auth, timeout=30).json()
        found = [i for i in queue.get("items", []) if i["application_id"] == app_id]
        if found:
            return found[0]
        time.sleep(0.5)
    raise DemoStepFailed(f"{app_id} never reached the {department} queue")


def demo_reviewer(department: str, area: str = "鄂尔多斯市") -> str:
    """The demo reviewer account of a department in a 盟市 (`greenmine demo-data` makes one per department)."""
    from shared.demo_accounts import DEMO_USERS

    return next(u[0] for u in DEMO_USERS if u[1] == "department_reviewer" and u[2].get("department") == department
                and u[2].get("area") == area)


def complete_agreement(view: dict) -> dict:
    """A "同意" judging every item of the task view: every indicator 认可自评 (an item declared 不涉及 confirmed
    with its basis), every prerequisite met, the lead's seven checks passed."""
    items = [{"indicator": i["no"], "verdict": "not_applicable", "reason": "经核实确不涉及"} if i.get("not_applicable")
             else {"indicator": i["no"], "verdict": "agree"} for i in view["indicators"]]
    body = {"decision": "agree", "comments": "同意。", "indicators": items,
            "prerequisites": [{"prerequisite": p["code"], "met": True} for p in view["prerequisites"]]}
    if view["lead"]:
        body["checks"] = [{"check": c["code"], "passed": True} for c in view["checks"]]
    return body


def agree_everywhere(url: str, app_id: str, league: str = "鄂尔多斯市", bureau_user: str = "bureau") -> None:
    """Every department of the case (the bureau for the lead task, the demo reviewers of the case's 盟市 for the
    rest) claims its task and gives a complete "同意"."""
    bureau = token(url, bureau_user)
    deadline = time.monotonic() + 120
    case = {}
    while time.monotonic() < deadline:
        answer = requests.get(f"{url}/api/v1/review/cases/{app_id}", headers=bureau, timeout=60)
        if answer.status_code == 200:
            case = answer.json()
            break
        time.sleep(0.5)
    _check(case, f"{app_id} was never routed")
    for row in case["versions"][0]["tasks"]:
        auth = bureau if row["lead"] else token(url, demo_reviewer(row["department"], league))
        task = f"{url}/api/v1/review/tasks/{row['task_id']}"
        claimed = requests.post(task + "/claim", headers=auth, timeout=30)
        _check(claimed.status_code == 200, (row["department"], claimed.text))
        view = requests.get(task, headers=auth, timeout=30).json()
        given = requests.post(task + "/opinion", headers=auth, json=complete_agreement(view), timeout=30)
        _check(given.status_code == 201, (row["department"], given.text))
