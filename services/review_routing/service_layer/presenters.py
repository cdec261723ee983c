"""The review's read models as plain JSON-ready dicts (what the pages and the API show); pure functions."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from review_routing.domain import materials
from review_routing.domain.case import chosen_entry, reviewer_entries
from review_routing.domain.checks import INITIAL_REVIEW_CHECKS
from review_routing.domain.checks import check as check_by_code
from review_routing.domain.opinion import VERDICTS
from review_routing.domain.task import ACTIONS, OUTCOMES, STATUSES, ReviewTask
from review_routing.domain.workdays import WorkingCalendar
from shared.catalog import Catalog
from shared.decimals import plain


def queue_item(doc: Mapping, today: date, calendar: WorkingCalendar) -> dict:
    due = date.fromisoformat(doc["due_date"]) if doc.get("due_date") else None
    pending = doc.get("status") in ("open", "claimed")
    overdue = bool(due and pending and today > due)
    return {"task_id": doc["_id"], "application_id": doc["application_id"], "version_no": doc["version_no"],
            "department": doc["department"], "league": doc["league"], "county": doc.get("county", ""),
            "lead": doc.get("lead", False), "mine_id": doc.get("mine_id", ""), "mine_name": doc.get("mine_name", ""),
            "indicators": doc.get("indicators", 0), "prerequisites": doc.get("prerequisites", 0),
            "evidence": doc.get("evidence", 0), "status": doc["status"],
            "status_label": STATUSES.get(doc["status"], doc["status"]), "claimed_by": doc.get("claimed_by"),
            "due_date": doc.get("due_date"), "overdue": overdue,
            "days_overdue": calendar.working_days_between(due, today) if overdue else 0,
            "reminders": doc.get("reminders", 0), "decision": doc.get("decision"),
            "opinions": doc.get("opinions", 0), "closed_reason": doc.get("closed_reason"),
            "assigned_at": doc.get("assigned_at")}


def photo_view(doc: Mapping) -> dict:
    uploaded = doc["uploaded_at"]
    return {"photo_id": doc["_id"], "task_id": doc["task_id"], "filename": doc["filename"],
            "content_type": doc["content_type"], "size": doc["size"], "sha256": doc["sha256"],
            "uploaded_by": doc["uploaded_by"], "uploaded_by_name": doc.get("uploaded_by_name", doc["uploaded_by"]),
            "uploaded_at": uploaded.isoformat() if isinstance(uploaded, datetime) else uploaded,
            "url": f"/api/v1/review/photos/{doc['_id']}"}


def opinion_view(opinion, catalog: Catalog) -> dict:
    body = opinion.to_dict()
    body["decision_label"] = opinion.decision_label
    for item in body["indicators"]:
        try:
            item["name"] = catalog.indicator(item["indicator"]).name
        except KeyError:
            item["name"] = ""
        item["verdict_label"] = VERDICTS.get(item.get("verdict"), "")
    for item in body["checks"]:
        item["label"] = check_by_code(item["check"]).label
    return body


def _entry_label(entry: Mapping | None, rule=None) -> str:
    """The enterprise's self-assessment of one indicator in words: sub-items and deduction conditions by their
    text in the index (`rule`: the indicator's scoring rule for the mine), never by their keys."""
    if not entry:
        return "未填写"
    if entry.get("not_applicable"):
        return "不涉及"
    for key in ("score", "findings", "deductions", "items"):
        if key in entry:
            value = entry[key]
            if key == "score":
                return f"{value} 分"
            if key == "findings":
                return f"不符合 {value} 处"
            if key == "deductions":
                if not value:
                    return "无扣分"
                texts = [_condition_text(rule, c) for c in value]
                return "扣分情形：" + "；".join(texts) if all(texts) else f"扣分情形 {len(value)} 项"
            chosen = [(k, v) for k, v in value.items() if v]
            if not chosen:
                return "未选加分子项"
            texts = [_item_text(rule, k, v) for k, v in chosen]
            return "加分子项：" + "；".join(texts) if all(texts) else f"加分子项 {len(chosen)} 项"
    return "未填写"


def _item_text(rule, item_id: str, value) -> str:
    item = rule.item(item_id) if hasattr(rule, "item") else None
    if item is None:
        return ""
    count = value if isinstance(value, int) and not isinstance(value, bool) and item.per_unit else None
    return f"{item.text}（{count} 项）" if count is not None else item.text


def _condition_text(rule, condition_id: str) -> str:
    condition = rule.condition(condition_id) if hasattr(rule, "condition") else None
    return condition.text if condition else ""


def _material(a: Mapping, task_id: str) -> dict:
    """An attachment as the page shows it: its Chinese kind label, where it opens (viewed in the browser for
    PDF and JPEG/PNG, downloaded otherwise)."""
    url = f"/api/v1/review/tasks/{task_id}/evidence/{a['attachment_id']}"
    viewable = (a.get("content_type") or "").split(";")[0].strip().lower() in VIEWABLE_TYPES
    return dict(a, url=url, view_url=url + "?inline=true" if viewable else None, viewable=viewable,
                kind_label=materials.kind_label(a.get("kind")), item_label=materials.item_label(a.get("kind")),
                item=(materials.kind(a.get("kind")).item if materials.kind(a.get("kind")) else None))


def task_view(task: ReviewTask, catalog: Catalog, today: date, calendar: WorkingCalendar, *, photos: list[dict],
              previous: dict | None, returned_reasons: list, department_name: str, permissions: dict) -> dict:
    current = task.current_opinion
    attachments = [_material(a, task.task_id) for a in task.attachments]
    indicators = []
    for no in task.indicators:
        indicator = catalog.indicator(no)
        entry = task.entries.get(str(no))
        rule = indicator.scoring_rule(task.mine.get("mining_method"), task.mine.get("industry_variant"))
        item = current.indicator(no) if current else None
        indicators.append({
            "no": no, "name": indicator.name, "points": plain(indicator.points), "binding": indicator.binding,
            "attribute": indicator.attribute, "category": catalog.category_of(no).label,
            "subcategory": catalog.subcategory_of(no).name, "text": indicator.text,
            "rule_text": getattr(rule, "text", "") or indicator.text, "methods": list(indicator.methods),
            "basis": indicator.display_basis, "basis_reconstructed": indicator.basis_reconstructed,
            "reconstructed_fields": list(indicator.reconstructed_fields),
            "departments": [d.name for d in catalog.departments_for_indicator(no)],
            "scope": indicator.department_scopes.get(task.department),
            "self_entry": dict(entry) if entry else None, "self_label": _entry_label(entry, rule),
            "not_applicable": no in task.not_applicable,
            "evidence": [a for a in attachments if a.get("indicator") == no],
            "opinion": ({**item.to_dict(), "verdict_label": item.verdict_label} if item else None),
        })
    prerequisites = []
    for code in task.prerequisites:
        prerequisite = catalog.prerequisite(code)
        finding = current.prerequisite(code) if current else None
        supporting = set(materials.kinds_supporting(code))
        prerequisites.append({"code": code, "name": prerequisite.name, "requirement": prerequisite.requirement,
                              "evidence": [a for a in attachments if a.get("prerequisite") == code
                                           or a.get("kind") in supporting],
                              "finding": finding.to_dict() if finding else None})
    checks = []
    for code in task.checks:
        item = check_by_code(code)
        finding = next((c for c in current.checks if c.check == code), None) if current else None
        checks.append({**item.to_dict(), "label": item.label,
                       "material_labels": [materials.kind_label(k) for k in item.materials],
                       "evidence": [a for a in attachments if a.get("kind") in item.materials],
                       "finding": finding.to_dict() if finding else None})
    order = {k.code: n for n, k in enumerate(materials.KINDS)}
    listed = sorted((a for a in attachments if a["item"]),
                    key=lambda a: (a["item"], order.get(a.get("kind"), 99), a["filename"]))
    placed = {id(a) for i in indicators for a in i["evidence"]} | {id(a) for a in listed}
    other = [a for a in attachments if id(a) not in placed]
    names = _people(task)
    return {
        "task_id": task.task_id, "application_id": task.application_id, "version_no": task.version_no,
        "case_no": task.case_no,
        "department": task.department, "department_name": department_name, "lead": task.lead,
        "league": task.league, "county": task.county, "catalog": task.catalog, "mine": dict(task.mine),
        "enterprise": dict(task.enterprise), "resubmission": task.resubmission,
        "routed_at": task.routed_at.isoformat(), "due_date": task.due_date.isoformat(),
        "due_estimated": task.due_estimated, "status": task.status, "status_label": task.status_label,
        "claimed_by": task.claimed_by, "claimed_by_name": task.claimed_by_name,
        "overdue": task.is_overdue(today), "days_overdue": task.days_overdue(calendar, today),
        "outcome": task.outcome, "outcome_label": OUTCOMES.get(task.outcome) if task.outcome else None,
        "closed_reason": task.closed_reason, "indicators": indicators, "prerequisites": prerequisites,
        "checks": checks, "attachments": attachments, "materials": listed, "other_attachments": other,
        "opinions": [opinion_view(o, catalog) | {"current": o is current} for o in reversed(task.opinions)],
        "reminders": [r.to_dict() for r in task.reminders],
        "transfers": [t.to_dict() | {"from_name": names.get(t.from_user or "", t.from_user)}
                      for t in task.transfers],
        "history": [h.to_dict() | {"actor_name": names.get(h.actor), "action_label": HISTORY_ACTIONS.get(
            h.action, h.action)} for h in task.history],
        "photos": photos, "previous": previous, "returned_reasons": returned_reasons, "permissions": permissions,
    }


HISTORY_ACTIONS = {**ACTIONS, "overdue": "逾期"}
VIEWABLE_TYPES = ("application/pdf", "image/jpeg", "image/png")


def _people(task: ReviewTask) -> dict[str, str]:
    """Usernames seen on the task → the names recorded with them (for the history's actors)."""
    names = {o.given_by: o.given_by_name for o in task.opinions}
    names.update({r.by: r.by_name for r in task.reminders})
    names.update({t.to_user: t.to_name for t in task.transfers})
    if task.claimed_by and task.claimed_by_name:
        names[task.claimed_by] = task.claimed_by_name
    return names


def short_department(name: str) -> str:
    """A department's name for a narrow column: without the parenthesised partner and the trailing 部门."""
    return name.split("(")[0].split("（")[0].removesuffix("部门")


def _cell(item, pending: bool) -> dict:
    """One department's judgement of one indicator, compact (`label`) with its words (`note`)."""
    if item is None:
        return {"opinion": "", "pending": pending, "label": "待出具" if pending else "未判定", "note": ""}
    body = item.to_dict()
    verdict = body.get("verdict") or ("not_applicable" if item.not_applicable else
                                      "score" if item.score is not None else "agree")
    score = f"{plain(item.score)}分" if item.score is not None else ""
    label = {"agree": "认可", "score": score or "给分", "not_applicable": "不涉及",
             "problem": "有问题" + (f" {score}" if score else "")}.get(verdict, score or "认可")
    note = "；".join(x for x in (item.opinion, item.reason, f"检查记录：{item.record}" if item.record else "") if x)
    return {**body, "label": label, "note": note}


def side_by_side(version, tasks: list[ReviewTask], catalog: Catalog, department_name) -> dict:
    """Every applicable indicator with the self-assessment, each department's current opinion on it, and the
    entry the re-score uses; the same for prerequisites and (lead) the seven checks. Cells carry a compact
    `label` (a narrow column per department) and the words of the opinion (`note`)."""
    columns = [{"department": t.department, "name": department_name(t.department),
                "short": short_department(department_name(t.department)), "lead": t.lead,
                "task_id": t.task_id, "decision": t.current_opinion.decision if t.current_opinion else None,
                "decision_label": t.current_opinion.decision_label if t.current_opinion else None}
               for t in sorted(tasks, key=lambda t: (not t.lead, t.department))]
    by_department = {t.department: t for t in tasks}
    sources = reviewer_entries(tasks)
    entries = (version.assessment or {}).get("indicators") or {}
    mine = tasks[0].mine if tasks else {}      # every task of a version carries the same mine
    rows = []
    for no in version.applicable_indicators:
        indicator = catalog.indicator(no)
        rule = indicator.scoring_rule(mine.get("mining_method"), mine.get("industry_variant"))
        cells = {}
        for column in columns:
            task = by_department[column["department"]]
            if no not in task.indicators:
                continue
            item = task.current_opinion.indicator(no) if task.current_opinion else None
            cells[column["department"]] = {"indicator": no, **_cell(item, task.current_opinion is None)}
        chosen = chosen_entry(sources[no]) if no in sources else None
        rows.append({"no": no, "name": indicator.name, "points": plain(indicator.points),
                     "binding": indicator.binding, "self": _entry_label(entries.get(str(no)), rule),
                     "cells": cells,
                     "rescore": ("不涉及" if chosen and chosen.score is None else
                                 f"{plain(chosen.score)}分（{short_department(department_name(chosen.department))}）"
                                 if chosen else "沿用自评"),
                     "differs": bool(chosen)})
    prerequisites = []
    for prerequisite in catalog.prerequisites:
        cells = {}
        for column in columns:
            task = by_department[column["department"]]
            if prerequisite.code not in task.prerequisites:
                continue
            finding = task.current_opinion.prerequisite(prerequisite.code) if task.current_opinion else None
            cells[column["department"]] = finding.to_dict() if finding else None
        prerequisites.append({"code": prerequisite.code, "name": prerequisite.name,
                              "self": (version.assessment or {}).get("prerequisites", {}).get(prerequisite.code),
                              "cells": cells})
    lead = next((t for t in tasks if t.lead), None)
    checks = []
    for item in INITIAL_REVIEW_CHECKS:
        finding = next((c for c in lead.current_opinion.checks if c.check == item.code), None) if (
            lead and lead.current_opinion) else None
        checks.append({**item.to_dict(), "label": item.label, "finding": finding.to_dict() if finding else None})
    return {"columns": columns, "indicators": rows, "prerequisites": prerequisites, "checks": checks}
