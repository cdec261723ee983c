"""Builders for the review_routing tests: submissions shaped by the contract example, assessments at full
marks for any branch and method, actors."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from review_routing.domain.access import Actor
from shared.catalog import Catalog
from shared.contracts import new_event

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"
EXAMPLE = json.loads((CONTRACTS / "examples" / "intake.application_submitted.v1.json").read_text(encoding="utf-8"))
AT = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)     # a Monday, 北京时间 16:15

COAL_MINE = {"mine_id": "mine-001", "name": "鄂尔多斯示范煤矿", "league": "鄂尔多斯市", "county": "准格尔旗",
             "scale": "large", "industry_group": 1, "mining_method": "open_pit", "minerals": ["煤"]}
SAND_MINE = {"mine_id": "mine-002", "name": "包头示范砂石矿", "league": "包头市", "county": "九原区",
             "scale": "small", "industry_group": 2, "mining_method": "open_pit", "minerals": ["建筑用砂"],
             "industry_variant": "sand_gravel_stone"}
COAL_ENTERPRISE = {"name": "鄂尔多斯示范煤业有限公司", "credit_code": "91150600MA0N00001W"}
SAND_ENTERPRISE = {"name": "包头示范砂石有限公司", "credit_code": "91150200MA0N00002B"}


def full_assessment(catalog: Catalog, group: int = 1, method: str = "open_pit", variant: str | None = None,
                    entries: dict | None = None) -> dict:
    mine = {"industry_group": group, "mining_method": method}
    if group == 2:
        mine["industry_variant"] = variant or "sand_gravel_stone"
    indicators = {str(i.no): {"score": str(i.points)} for i in catalog.indicators_for(group, method)}
    for key, entry in (entries or {}).items():
        if entry is None:
            indicators.pop(str(key), None)
        else:
            indicators[str(key)] = entry
    return {"catalog": catalog.id, "mine": mine, "prerequisites": {p: True for p in catalog.prerequisite_codes},
            "indicators": indicators}


def attachment(attachment_id: str, kind: str = "evidence", indicator: int | None = None,
               prerequisite: str | None = None, filename: str | None = None) -> dict:
    return {"attachment_id": attachment_id, "kind": kind, "indicator": indicator, "prerequisite": prerequisite,
            "filename": filename or f"{attachment_id}.pdf", "content_type": "application/pdf", "size": 1024,
            "sha256": "a" * 64}


def submission(catalog: Catalog, application_id: str = "app-1", version_no: int = 1, *, mine: dict | None = None,
               enterprise: dict | None = None, assessment: dict | None = None, attachments: list | None = None,
               resubmission: bool | None = None, submitted_at: str = "2026-03-02T08:15:00Z") -> dict:
    """An intake.application_submitted payload (the contract example, with these changes)."""
    payload = copy.deepcopy(EXAMPLE["payload"])
    mine = copy.deepcopy(mine or COAL_MINE)
    group, method = mine["industry_group"], mine["mining_method"]
    payload.update(
        application_id=application_id, version_no=version_no,
        resubmission=version_no > 1 if resubmission is None else resubmission, submitted_at=submitted_at,
        submitted_by="enterprise", mine=mine,
        enterprise=copy.deepcopy(enterprise or (COAL_ENTERPRISE if group == 1 else SAND_ENTERPRISE)),
        catalog=catalog.id,
        assessment=assessment or full_assessment(catalog, group, method, mine.get("industry_variant")),
        attachments=attachments if attachments is not None else [
            attachment("att-licence", "mining_licence", prerequisite="P1", filename="采矿许可证.pdf"),
            attachment("att-3", indicator=3, filename="标牌照片.jpg"),
            attachment("att-19", indicator=19, filename="废水处理台账.pdf"),
            attachment("att-report", "self_assessment_report", filename="自评报告.pdf"),
        ])
    return payload


def submitted_event(payload: dict) -> dict:
    return new_event("intake.application_submitted", producer="intake", aggregate_type="application",
                     aggregate_id=payload["application_id"], aggregate_version=payload["version_no"] + 1,
                     payload=payload)


def reviewer(department: str, area: str = "鄂尔多斯市", username: str | None = None, county: str | None = None
             ) -> Actor:
    return Actor(username or f"rv_{department}", "department_reviewer", f"{department}审核员", department, area,
                 county)


BUREAU = Actor("bureau", "bureau", "鄂尔多斯市自然资源局", None, "鄂尔多斯市")
BUREAU_BAOTOU = Actor("bureau_baotou", "bureau", "包头市自然资源局", None, "包头市")
REGION = Actor("region", "region_office", "自治区自然资源厅", None, "自治区")
ENTERPRISE = Actor("enterprise", "enterprise", "企业", None, None)


def routed(catalog: Catalog, payload: dict | None = None, at: datetime = AT, case=None):
    """(case, Routed) for a submission, with the real calendar and default deadlines."""
    from review_routing.domain.case import ReviewCase
    from review_routing.domain.workdays import DeadlinePolicy, WorkingCalendar

    payload = payload or submission(catalog)
    case = case or ReviewCase.open(payload)
    return case, case.receive(payload, catalog, WorkingCalendar(), DeadlinePolicy(), at)


def task_of(result, department: str):
    return next(t for t in result.tasks if t.department == department)


def points(catalog: Catalog, task) -> dict:
    return {no: catalog.indicator(no).points for no in task.indicators}


ALL_CHECKS = [{"check": f"C{n}", "passed": True} for n in range(1, 8)]


def opinion_body(data):
    """An opinion as the API hands it to the domain: loaded through the HTTP schema (shape and JSON types;
    raises InvalidInput naming the field, as the API answers)."""
    from review_routing.entrypoints.schemas import OpinionBody, load

    return load(OpinionBody(), data)


def reasons_body(reasons):
    """A decision's reasons as the API hands them to the domain (through the decision body's schema)."""
    from review_routing.entrypoints.schemas import DecisionBody, load

    return load(DecisionBody(), {"reasons": reasons})["reasons"]


def _task_items(task) -> tuple[list[int], list[str], set[int], bool]:
    """(indicators, prerequisites, declared N/A, lead) of a ReviewTask, a TaskPlan or the API's task view."""
    if isinstance(task, dict):
        indicators = [i["no"] if isinstance(i, dict) else i for i in task["indicators"]]
        prerequisites = [p["code"] if isinstance(p, dict) else p for p in task["prerequisites"]]
        declared = {i["no"] for i in task["indicators"] if isinstance(i, dict) and i.get("not_applicable")}
        declared |= set(task.get("not_applicable") or ())
        return indicators, prerequisites, declared, bool(task.get("lead"))
    return list(task.indicators), list(task.prerequisites), set(task.not_applicable), bool(task.lead)


def full_opinion(task, decision: str = "agree", *, indicators: dict | None = None,
                 prerequisites: dict | None = None, checks: list | None = None, **extra) -> dict:
    """A complete opinion body judging every item of `task` (a ReviewTask, a TaskPlan or the task view of
    GET /api/v1/review/tasks/<id>): every indicator "认可自评" (an item the enterprise declared 不涉及 is
    confirmed, with a basis), every prerequisite met, the lead's seven checks passed.

    `indicators` overrides items by number, e.g. {3: {"verdict": "score", "score": "0.6", "opinion": "缺2处"}};
    `prerequisites` by code, e.g. {"P1": {"met": False, "note": "证照过期"}}; `extra` adds keys (comments,
    site_checks). A return or disagree gets a general comment unless one is given."""
    numbers, codes, declared, lead = _task_items(task)
    indicators, prerequisites = indicators or {}, prerequisites or {}
    items = []
    for no in numbers:
        item = ({"indicator": no, "verdict": "not_applicable", "reason": "经核实确不涉及"} if no in declared
                else {"indicator": no, "verdict": "agree"})
        if no in indicators:
            item = {"indicator": no, **indicators[no]}
        items.append(item)
    body = {"decision": decision, "indicators": items,
            "prerequisites": [{"prerequisite": code, "met": True, **prerequisites.get(code, {})} for code in codes]}
    if lead:
        body["checks"] = list(ALL_CHECKS) if checks is None else checks
    elif checks is not None:
        body["checks"] = checks
    if decision in ("return", "disagree"):
        body["comments"] = "请补正相关材料"
    body.update(extra)
    return body


def judged(items) -> dict:
    """Indicator items of an older, thin form ({"indicator": 3, "score": "0.6"}) as `full_opinion` overrides:
    a verdict read from what they carry, and a note where a score may differ from the claim."""
    out = {}
    for item in items:
        item = dict(item)
        no = item.pop("indicator")
        if "verdict" not in item:
            item["verdict"] = ("not_applicable" if item.get("not_applicable") else
                               "score" if item.get("score") is not None else "agree")
        if item["verdict"] == "score":
            item.setdefault("opinion", "按现场核查核定")
        out[no] = item
    return out
