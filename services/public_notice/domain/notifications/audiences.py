"""Who is told what: the table event type → audiences, title, text and link of the in-app notification.
Pure: no I/O. The service layer resolves each audience query with `directory.find(**query)`.

An audience is a name of `WHO` (a function of the event's payload and what we remember of the case, giving
directory queries like `{"role": "bureau", "area": "鄂尔多斯市"}` or `{"username": "x"}`). Titles and texts are
`str.format` templates over `facts(payload, case)` (a missing fact is an empty string: an event whose draft
schema lacks a field still gives a readable notification). The objector's personal data is never on an event,
so never in a notification either."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

DEPARTMENTS = {
    "natural_resources": "自然资源局", "development_reform": "发展改革委", "industry_it": "工业和信息化局",
    "finance": "财政局", "ecology_environment": "生态环境局", "water_resources": "水利局",
    "emergency_management": "应急管理局", "market_regulation": "市场监督管理局", "energy": "能源局",
    "forestry_grassland": "林草局", "financial_regulation": "金融监管分局", "taxation": "税务局",
}
REGION = "自治区"
INITIAL_DECISIONS = {"forwarded": "初审通过，已报送自治区", "returned": "退回补正", "rejected": "初审不予通过"}
REGION_DECISIONS = {"proposed": "拟纳入名录（待公示）", "returned": "退回补正", "rejected": "不予纳入名录"}
STEPS = {"commission": "委托第三方评估", "accept": "评估机构接受委托", "evaluation": "第三方评估",
         "check": "抽查核查", "decision": "审核决定"}
OBJECTION_RESULTS = {"upheld": "异议成立", "not_upheld": "异议不成立"}
OBJECTION_ACTIONS = {"return_to_region": "退回自治区重新审核", "refuse": "不予纳入名录"}
FINDINGS = {"supported": "异议属实", "not_supported": "异议不属实"}


@dataclass(frozen=True)
class Rule:
    who: tuple[str, ...]          # names in WHO
    title: str                    # template over facts()
    text: str
    link: str                     # a page path template ("" when there is no page)


def cn_date(value) -> str:
    """'2026-12-01' or a datetime → '2026年12月1日' ('' when absent or unreadable)."""
    if not value:
        return ""
    try:
        if isinstance(value, datetime | date):
            d = value
        else:
            d = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return f"{d.year}年{d.month}月{d.day}日"
    except ValueError:
        return str(value)


def _reasons(payload: Mapping) -> str:
    reasons = payload.get("reasons")
    if isinstance(reasons, str):
        return reasons.strip()
    out = []
    for r in reasons if isinstance(reasons, list) else []:
        text = _s(r.get("text")) if isinstance(r, Mapping) else _s(r)
        if text:
            out.append(text)
    return "；".join(out)


def _s(value) -> str:
    """A scalar as text ('' for anything else: a draft schema's odd value never breaks a notification)."""
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def _label(table: Mapping, value) -> str:
    return table.get(value, _s(value)) if isinstance(value, str) else _s(value)


def _obj(payload: Mapping, key: str) -> Mapping:
    value = payload.get(key)
    return value if isinstance(value, Mapping) else {}


def facts(payload: Mapping, case: Mapping | None = None) -> dict:
    """The fields templates may name (strings; '' when absent)."""
    case = case or {}
    p = {k: _s(v) for k, v in payload.items()}
    c = {k: _s(v) for k, v in case.items()}
    mine = {k: _s(v) for k, v in _obj(payload, "mine").items()}
    enterprise = {k: _s(v) for k, v in _obj(payload, "enterprise").items()}
    institution = {k: _s(v) for k, v in _obj(payload, "institution").items()}
    out = {
        "application_id": p.get("application_id") or c.get("application_id") or "",
        "review_id": p.get("review_id") or "",
        "task_id": p.get("task_id") or "",
        "commission_id": p.get("commission_id") or "",
        "batch_id": p.get("batch_id") or "",
        "objection_id": p.get("objection_id") or "",
        "announcement_id": p.get("announcement_id") or "",
        "mine_id": p.get("mine_id") or mine.get("mine_id") or c.get("mine_id") or "",
        "case_no": p.get("case_no") or c.get("case_no") or "",
        "league": p.get("league") or mine.get("league") or c.get("league") or "",
        "mine_name": mine.get("name") or p.get("mine_name") or c.get("mine_name") or "",
        "enterprise_name": enterprise.get("name") or p.get("enterprise_name") or c.get("enterprise_name") or "",
        "institution_name": institution.get("name") or p.get("institution_name") or "",
        "department": _label(DEPARTMENTS, payload.get("department")),
        "due_date": cn_date(p.get("due_date")),
        "reasons": _reasons(payload),
        "reason": p.get("reason") or "",
        "message": p.get("message") or "",
        "initial_decision": _label(INITIAL_DECISIONS, payload.get("decision")),
        "region_decision": _label(REGION_DECISIONS, payload.get("decision")),
        "step": _label(STEPS, payload.get("step")),
        "days_overdue": p.get("days_overdue") or "",
        "title": p.get("title") or "",
        "number": p.get("number") or p.get("announcement_no") or "",
        "window": _window(p),
        "result": _label(OBJECTION_RESULTS, payload.get("outcome")),
        "action": _label(OBJECTION_ACTIONS, payload.get("action")),
        "finding": _label(FINDINGS, payload.get("finding")),
        "receipt_no": p.get("receipt_no") or "",
        "listed_on": cn_date(p.get("listed_on")),
        "mine_count": str(len(batch_entries(payload)) or p.get("item_count") or ""),
        "year": p.get("year") or "",
        "outcome_label": p.get("outcome_label") or "",
        "problems": p.get("problems") or "",
        "measure_id": p.get("measure_id") or "",
        "document_no": p.get("document_no") or "",
    }
    out["subject"] = "，".join(x for x in (out["mine_name"], out["case_no"]) if x) or out["application_id"]
    return out


def _window(payload: Mapping) -> str:
    start = payload.get("window_start") or payload.get("starts_on")
    end = payload.get("window_end") or payload.get("ends_on")
    if start and end:
        return f"{cn_date(start)}至{cn_date(end)}"
    return ""


def batch_entries(payload: Mapping) -> list[Mapping]:
    """The mines of a 公示 batch event, whatever the list is called in its schema (entries / mines / cases)."""
    for key in ("entries", "mines", "cases", "items"):
        value = payload.get(key)
        if isinstance(value, list):
            return [e for e in value if isinstance(e, Mapping)]
    return []


def _credit_code(item: Mapping) -> str | None:
    return _s(_obj(item, "enterprise").get("credit_code")) or _s(item.get("credit_code")) or None


def _league(item: Mapping) -> str | None:
    return _s(item.get("league")) or _s(_obj(item, "mine").get("league")) or None


# -- audiences: payload, case → directory queries ---------------------------------------------------------------
Query = dict


def _reviewers(p: Mapping, case: Mapping) -> list[Query]:
    """The department's reviewers of that 盟市 (and the department's regional reviewers)."""
    if not _s(p.get("department")):
        return []
    return [{"role": "department_reviewer", "department": _s(p["department"]),
             "area": [x for x in (_s(p.get("league")), REGION) if x]}]


def _claimer_or_reviewers(p: Mapping, case: Mapping) -> list[Query]:
    """The reviewer holding the task, or the department's reviewers when nobody has claimed it."""
    return [{"username": _s(p["claimed_by"])}] if _s(p.get("claimed_by")) else _reviewers(p, case)


def _transferee(p: Mapping, case: Mapping) -> list[Query]:
    return [{"username": _s(p["to_user"])}] if _s(p.get("to_user")) else []


def _bureau(p: Mapping, case: Mapping) -> list[Query]:
    league = _league(p) or _s(case.get("league"))
    return [{"role": "bureau", "area": league}] if league else []


def _enterprise(p: Mapping, case: Mapping) -> list[Query]:
    code = _credit_code(p) or case.get("credit_code")
    return [{"role": "enterprise", "enterprise": code}] if code else []


def _region_office(p: Mapping, case: Mapping) -> list[Query]:
    return [{"role": "region_office"}]


def _institution(p: Mapping, case: Mapping) -> list[Query]:
    iid = _s(_obj(p, "institution").get("id")) or _s(p.get("institution_id"))
    return [{"role": "evaluator", "institution": iid}] if iid else []


def _step_actor(p: Mapping, case: Mapping) -> list[Query]:
    """Who must act on an overdue or reminded region step: the evaluators of the commissioned institution for
    accepting and evaluating (the reminder names them; for an overdue step what we remember of the commission),
    the region office otherwise (and when the institution is not known)."""
    recipient = _obj(p, "recipient")
    if recipient.get("role") == "evaluator" or (not recipient and _s(p.get("step")) in ("accept", "evaluation")):
        iid = _s(recipient.get("institution_id")) or _s(case.get("institution_id"))
        if iid:
            return [{"role": "evaluator", "institution": iid}]
    return [{"role": "region_office"}]


def _batch_enterprises(p: Mapping, case: Mapping) -> list[Query]:
    codes = sorted({c for c in (_credit_code(e) for e in batch_entries(p)) if c})
    return [{"role": "enterprise", "enterprise": codes}] if codes else []


def _batch_bureaus(p: Mapping, case: Mapping) -> list[Query]:
    leagues = sorted({x for x in (_league(e) for e in batch_entries(p)) if x})
    return [{"role": "bureau", "area": leagues}] if leagues else []


def _triaged_reviewers(p: Mapping, case: Mapping) -> list[Query]:
    listed = p.get("departments") if isinstance(p.get("departments"), list) else []
    departments = [_s(d) or _s(_obj({"d": d}, "d").get("department")) for d in listed]
    departments = [d for d in departments if d]
    league = _s(p.get("league")) or _s(case.get("league"))
    if not departments:
        return []
    return [{"role": "department_reviewer", "department": departments,
             "area": [x for x in (league, REGION) if x]}]


def _inspection_departments(p: Mapping, case: Mapping) -> list[Query]:
    """双随机: the reviewers of each drawn mine's departments, of its 盟市 (and regional ones)."""
    listed = p.get("inspections") if isinstance(p.get("inspections"), list) else []
    pairs = sorted({(_s(d), _s(i.get("league"))) for i in listed if isinstance(i, Mapping)
                    for d in (i.get("departments") if isinstance(i.get("departments"), list) else [])
                    if _s(d) and _s(i.get("league"))})
    return [{"role": "department_reviewer", "department": d, "area": [league, REGION]} for d, league in pairs]


WHO: dict[str, Callable[[Mapping, Mapping], list[Query]]] = {
    "reviewers": _reviewers, "claimer_or_reviewers": _claimer_or_reviewers, "transferee": _transferee,
    "bureau": _bureau, "enterprise": _enterprise, "region_office": _region_office, "institution": _institution,
    "step_actor": _step_actor, "batch_enterprises": _batch_enterprises, "batch_bureaus": _batch_bureaus,
    "triaged_reviewers": _triaged_reviewers, "inspection_departments": _inspection_departments,
}


# -- supervision's measures: who must act is on the event (`notify`, directory queries) -------------------------
def _measure_parties(p: Mapping, case: Mapping) -> list[Query]:
    keys = ("role", "area", "department", "enterprise", "username")
    out = []
    for item in p.get("notify") if isinstance(p.get("notify"), list) else []:
        query = {k: _s(item.get(k)) for k in keys if isinstance(item, Mapping) and _s(item.get(k))}
        if query.get("role") or query.get("username"):
            out.append(query)
    return out


def _removed_enterprise(p: Mapping, case: Mapping) -> list[Query]:
    return _enterprise(p, case) if p.get("outcome") == "removed" else []


WHO.update({"measure_parties": _measure_parties, "removed_enterprise": _removed_enterprise})

RR = "review_routing."
PN = "public_notice."
TABLE: dict[str, Rule] = {
    RR + "review_task_assigned": Rule(
        ("reviewers",), "新的审核任务：{mine_name}",
        "{league}{department}收到{subject}的审核任务，请于{due_date}前办结。",
        "/review/tasks/{task_id}"),
    RR + "review_task_reminded": Rule(
        ("claimer_or_reviewers",), "催办：{mine_name}的审核任务", "{message}（办结期限{due_date}）",
        "/review/tasks/{task_id}"),
    RR + "review_task_overdue": Rule(
        ("claimer_or_reviewers",), "审核任务已超期：{mine_name}",
        "{department}对{subject}的审核任务已超过办结期限{due_date}，超期{days_overdue}个工作日。",
        "/review/tasks/{task_id}"),
    RR + "review_task_transferred": Rule(
        ("transferee",), "转交给您的审核任务：{mine_name}", "转交原因：{reason}", "/review/tasks/{task_id}"),
    "intake.application_submitted": Rule(
        ("bureau",), "新的申报：{mine_name}", "{enterprise_name}提交了{subject}的绿色矿山申报材料，请组织初审。",
        "/review/cases/{application_id}"),
    RR + "initial_review_decided": Rule(
        ("enterprise",), "初审结果：{initial_decision}", "{subject}的申报初审结果：{initial_decision}。{reasons}",
        "/intake/applications/{application_id}"),
    RR + "evaluation_commissioned": Rule(
        ("institution",), "评估委托：{mine_name}", "自治区委托贵机构对{subject}开展第三方评估，请于{due_date}前完成。",
        "/evaluation/commissions/{commission_id}"),
    RR + "commission_accepted": Rule(
        ("region_office",), "评估机构已接受委托：{mine_name}",
        "{institution_name}已接受{subject}的评估委托并签署承诺。",
        "/evaluation/commissions/{commission_id}"),
    RR + "commission_declined": Rule(
        ("region_office",), "评估委托未被接受：{mine_name}", "{institution_name}未接受{subject}的评估委托：{reason}",
        "/evaluation/commissions/{commission_id}"),
    RR + "region_review_decided": Rule(
        ("enterprise", "bureau"), "自治区审核结果：{region_decision}",
        "{subject}的自治区审核结果：{region_decision}。{reasons}",
        "/evaluation/reviews/{review_id}"),
    RR + "region_step_overdue": Rule(
        ("step_actor",), "环节已超期：{step}", "{subject}的“{step}”环节已超过期限{due_date}，请尽快办理。",
        "/evaluation/reviews/{review_id}"),
    RR + "region_step_reminded": Rule(
        ("step_actor",), "催办：{step}", "{message}（{subject}，期限{due_date}）", "/evaluation/reviews/{review_id}"),
    PN + "publicity_published": Rule(
        ("batch_enterprises", "batch_bureaus"), "公示已发布：{title}",
        "拟纳入绿色矿山名录的矿山已公示{window}，公示期间可实名提出异议。", "/public/publicity/{batch_id}"),
    PN + "objection_filed": Rule(
        ("region_office",), "收到异议：{mine_name}",
        "公示期间收到对{subject}的实名异议（回执号{receipt_no}），请分办。", "/notice/objections/{objection_id}"),
    PN + "objection_triaged": Rule(
        ("region_office", "triaged_reviewers"), "异议分办：{mine_name}",
        "对{subject}的异议（回执号{receipt_no}）已分办，请相关部门于{due_date}前核查。",
        "/notice/objections/{objection_id}"),
    PN + "objection_finding_recorded": Rule(
        ("region_office",), "异议核查意见：{mine_name}", "{department}对{subject}异议的核查意见：{finding}。",
        "/notice/objections/{objection_id}"),
    PN + "objection_concluded": Rule(
        ("enterprise", "bureau"), "异议处理结论：{mine_name}", "对{subject}的异议已办结：{result}。{action} {reasons}",
        "/public/publicity/{batch_id}"),
    PN + "mine_listed": Rule(
        ("enterprise", "bureau"), "已纳入绿色矿山名录：{mine_name}",
        "{subject}已纳入绿色矿山名录（{number}，{listed_on}）。",
        "/public/list/{mine_id}"),
    "supervision.inspections_drawn": Rule(
        ("inspection_departments",), "{year}年度双随机抽查任务",
        "{year}年度“双随机、一公开”抽查已抽取，请查看本部门的检查任务并按时记录检查结果。",
        "/supervision/inspections/{year}"),
    "supervision.inspection_result_recorded": Rule(
        ("enterprise", "bureau"), "双随机抽查结果：{mine_name}",
        "{department}对{mine_name}的{year}年度双随机抽查结果：{outcome_label}。{problems}",
        "/supervision/inspections/public/{year}"),
    "supervision.warning_issued": Rule(
        ("enterprise", "bureau"), "监管预警：{mine_name}", "{reason}。", ""),
    "supervision.measure_progressed": Rule(
        ("measure_parties",), "监管事项：{mine_name}", "{message}", "/supervision/measures/{measure_id}"),
    "supervision.removal_decided": Rule(
        ("removed_enterprise",), "移出绿色矿山名录：{mine_name}",
        "经自治区绿色矿山建设协调机制审定（{document_no}），{mine_name}已移出绿色矿山名录，移出原因：{reason}。"
        "请自即日起停止使用“绿色矿山”称号，不再享受相应支持政策；后续整改由有关主管部门监督。",
        "/public/list/{mine_id}"),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(rule: Rule, payload: Mapping, case: Mapping | None = None) -> dict:
    """{title, text, link} of `rule` for this event (a link with a missing id is dropped)."""
    f = _Blank(facts(payload, case))
    link = rule.link
    if link:
        names = [part[1:-1] for part in link.split("/") if part.startswith("{") and part.endswith("}")]
        link = link.format_map(f) if all(f.get(n) for n in names) else ""
    title = " ".join(rule.title.format_map(f).split()).rstrip("：:")
    return {"title": title[:200], "text": rule.text.format_map(f).strip()[:2000], "link": link}


def audience(rule: Rule, payload: Mapping, case: Mapping | None = None) -> list[Query]:
    """The directory queries of everybody `rule` tells about this event."""
    out: list[Query] = []
    for name in rule.who:
        for query in WHO[name](payload, case or {}):
            if query not in out:
                out.append(query)
    return out
