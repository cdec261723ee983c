"""Read models: mines and applications as the API and the pages show them (codes plus Chinese labels)."""
from __future__ import annotations

from intake.domain import materials as mat
from intake.domain.mine import (
    INDUSTRY_GROUPS,
    LICENCES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    SCALES,
    Mine,
)
from intake.domain.plain import thaw
from intake.domain.progress import progress
from intake.domain.status import ACTIONS, STATUSES
from shared import regions

#: Labels of every history action (the domain's transitions plus the editing steps).
HISTORY_LABELS = {
    **ACTIONS,
    "created": "创建申报",
    "draft_updated": "保存草稿",
    "record_updated": "更新检查记录",
    "attachment_added": "上传附件",
    "attachment_removed": "删除附件",
    "score_recorded": "自评得分已由评分服务计算",
    "submit": "提交申报",
    "resubmit": "补正后重新提交",
    "route": "已分派各部门审核",
    "return": "退回补正",
    "forward": "初审通过，已报自治区",
    "reject": "初审不予通过",
    "objection_filed": "公示期收到异议，正在核实",
    "objection_not_upheld": "公示期异议经核实不成立",
}
#: Steps shown on the case timeline (editing steps are in the audit log, not the timeline).
TIMELINE_ACTIONS = ("created", "submit", "resubmit", "score_recorded", "route", "return", "forward", "reject",
                    "commission", "propose", "rectify", "region_reject", "list", "not_list", "remove",
                    "publicise", "objection_filed", "objection_not_upheld", "objection_return")
STATUS_TONES = {"draft": "", "submitted": "warn", "routed": "warn", "returned": "bad", "resubmitted": "warn",
                "forwarded": "ok", "under_evaluation": "warn", "proposed": "ok", "rectification": "bad",
                "rejected": "bad", "listed": "ok", "not_listed": "bad", "removed": "bad", "publicised": "ok"}


def mine_view(mine: Mine, doc: dict | None = None, today=None) -> dict:
    data = mine.to_dict()
    league = regions.league_by_code(mine.league)
    county = regions.county_by_code(mine.county)
    out = {
        **data,
        "league_name": league.name if league else mine.league,
        "county_name": county.name if county else mine.county,
        "minerals": [{**m.to_dict(), "name": m.name} for m in mine.minerals],
        "mineral_names": mine.mineral_names,
        "scale_label": SCALES[mine.scale],
        "industry_group_label": INDUSTRY_GROUPS[mine.industry_group],
        "mining_method_label": MINING_METHODS[mine.mining_method],
        "production_status_label": PRODUCTION_STATUSES[mine.production_status],
        "suggested_industry_group": mine.suggested_industry_group,
    }
    if doc is not None:
        out.update({"version": doc.get("version"), "created_at": doc.get("created_at"),
                    "updated_at": doc.get("updated_at")})
    if today is not None:
        out["expired_licences"] = [LICENCES[k] for k in mine.expired_licences(today)]
        out["expiring_licences"] = [LICENCES[k] for k in mine.licences_expiring_within(today, 90)]
        out["prerequisite_hints"] = mine.prerequisite_hints(today).to_dict()
    return out


def reason_label(key: str, catalog) -> str:
    if key == "general":
        return "总体意见"
    if key.startswith("materials."):
        kind = mat.kind_by_code(key[10:])
        return f"申报材料：{kind.label if kind else key[10:]}"
    if key.startswith("P"):
        try:
            p = catalog.prerequisite(key)
            return f"先决条件{key}「{p.name}」"
        except KeyError:
            return f"先决条件{key}"
    try:
        i = catalog.indicator(int(key))
        return f"第{i.no}项「{i.name}」"
    except (KeyError, ValueError):
        return f"第{key}项指标"


def return_view(r, catalog) -> dict:
    reasons = thaw(r.reasons)
    return {
        "version": r.version, "at": r.at, "actor": r.actor, "comment": r.comment,
        "reasons": [{"key": k, "label": reason_label(k, catalog), "text": v} for k, v in reasons.items()],
    }


def _summary(entry: dict, catalog) -> str:
    d = entry.get("detail") or {}
    a = entry["action"]
    if a in ("submit", "resubmit"):
        return f"第{d.get('version')}版"
    if a == "score_recorded":
        total, verdict = d.get("total"), d.get("verdict")
        return f"第{d.get('version')}版 自评总分 {total}（{_VERDICTS.get(verdict, verdict or '')}）"
    if a in ("return", "rectify"):
        return "；".join(f"{reason_label(k, catalog)}：{v}" for k, v in (d.get("reasons") or {}).items())
    if a in ("reject", "region_reject"):
        parts = [f"{reason_label(k, catalog)}：{v}" for k, v in (d.get("reasons") or {}).items()]
        if d.get("comment"):
            parts.append(d["comment"])
        return "；".join(parts)
    if a == "route":
        departments = d.get("departments") or []
        return f"第{d.get('version')}版，{len(departments)}个部门审核" if departments else ""
    if a in ("attachment_added", "attachment_removed"):
        kind = mat.kind_by_code(d.get("kind") or "")
        return f"{kind.label if kind else d.get('kind')}：{d.get('filename') or ''}"
    if a == "forward":
        return d.get("comment") or ""
    if a == "commission":
        return "现场评估由第三方评估机构开展，评估结果经自治区核查后决定"
    if a == "publicise":
        return f"{d.get('title') or '公示'}：{_cn_day(d.get('window_start'))}至{_cn_day(d.get('window_end'))}"
    if a == "objection_filed":
        return "有关部门正在核实，核实结果将在本页告知"
    if a in ("objection_not_upheld", "objection_return") or (a == "not_list" and d.get("objection_id")):
        return d.get("reasons") or ""
    if a == "list" and d.get("announcement_no"):
        return f"{d['announcement_no']}"

    return ""


def _cn_day(value) -> str:
    """2026-12-01 → 2026年12月1日."""
    try:
        y, m, d = (int(x) for x in str(value)[:10].split("-"))
    except ValueError:
        return str(value or "")
    return f"{y}年{m}月{d}日"


def publicity_view(app) -> dict | None:
    """The public notice as the case page shows it: the window (while 公示中), objections being verified (how
    many, never who), the listing's announcement number."""
    window = objections = listed = None
    open_objections: set[str] = set()
    for h in app.history:
        d = h.to_dict()["detail"] or {}
        if h.action == "publicise":
            window = {"title": d.get("title"), "start": _cn_day(d.get("window_start")),
                      "end": _cn_day(d.get("window_end")), "working_days": d.get("working_days")}
        elif h.action == "objection_filed":
            open_objections.add(d.get("objection_id"))
        elif h.action in ("objection_not_upheld", "objection_return", "not_list") and d.get("objection_id"):
            open_objections.discard(d.get("objection_id"))
        elif h.action == "list":
            listed = {"announcement_no": d.get("announcement_no"), "listed_on": _cn_day(d.get("listed_on"))}
    objections = len(open_objections)
    if window is None and listed is None:
        return None
    return {"window": window, "objections_open": objections, "listed": listed}


_VERDICTS = {"qualified": "达标", "not_qualified": "不达标", "ineligible": "不具备遴选资格"}


def history_view(app, catalog, timeline_only: bool = False) -> list[dict]:
    out = []
    for h in app.history:
        entry = h.to_dict()
        if timeline_only and entry["action"] not in TIMELINE_ACTIONS:
            continue
        out.append({"at": h.at, "actor": h.actor, "action": h.action,
                    "action_label": HISTORY_LABELS.get(h.action, h.action), "detail": entry["detail"],
                    "summary": _summary(entry, catalog)})
    return out


def attachment_view(ref, app_id: str) -> dict:
    kind = mat.kind_by_code(ref.kind)
    return {**ref.to_dict(), "kind_label": kind.label if kind else ref.kind,
            "download_url": f"/api/v1/applications/{app_id}/attachments/{ref.id}"}


def report_summary(report: dict | None) -> dict | None:
    if not report:
        return None
    return {"total": report.get("total"), "verdict": report.get("verdict"),
            "verdict_label": report.get("verdict_label"), "failed_binding": report.get("failed_binding") or [],
            "failed_prerequisites": report.get("failed_prerequisites") or []}


def version_summary(v, app_id: str) -> dict:
    report = thaw(v.score_report) if v.score_report is not None else None
    return {"number": v.number, "submitted_at": v.submitted_at, "submitted_by": v.submitted_by,
            "resubmission": v.number > 1, "attachments": len(v.attachments),
            "declared_penalties": v.declared_penalties, "score": report_summary(report),
            "url": f"/api/v1/applications/{app_id}/versions/{v.number}"}


def version_view(v, app_id: str) -> dict:
    return {**version_summary(v, app_id), "assessment": thaw(v.assessment), "records": thaw(v.records),
            "mine": thaw(v.mine), "score_report": thaw(v.score_report),
            "attachment_list": [attachment_view(a, app_id) for a in v.attachments]}


def application_view(app, doc: dict, catalog, mine: Mine | None = None, mine_problems=(),
                     include_draft: bool = True) -> dict:
    latest = app.latest_version
    scored = [v for v in app.versions if v.score_report is not None]
    checklist = app.evaluate_materials()
    out = {
        "id": app.id,
        "case_no": app.case_no,
        "mine_id": app.mine_id,
        "mine_name": doc.get("mine_name"),
        "league": doc.get("league"),
        "league_name": regions.league_by_code(doc.get("league")).name if doc.get("league") else None,
        "credit_code": app.credit_code,
        "enterprise_name": doc.get("enterprise_name"),
        "catalog": app.catalog,
        "status": app.status,
        "status_label": STATUSES[app.status],
        "status_tone": STATUS_TONES.get(app.status, ""),
        "editable": app.is_editable,
        "revision": app.revision,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
        "versions_count": len(app.versions),
        "versions": [version_summary(v, app.id) for v in app.versions],
        "score_report": thaw(scored[-1].score_report) if scored else None,
        "score_report_version": scored[-1].number if scored else None,
        "score_pending": latest is not None and latest.score_report is None,
        "returns": [return_view(r, catalog) for r in app.returns],
        "current_return": return_view(app.current_return, catalog) if app.current_return else None,
        "publicity": publicity_view(app),
        "history": history_view(app, catalog),
        "timeline": history_view(app, catalog, timeline_only=True),
        "materials": [{**e.to_dict(), "item_label": mat.ITEMS[e.item]} for e in checklist],
        "missing": [e.to_dict() for e in app.check_can_submit(mine_problems=list(mine_problems))
                    if e.field != "status"] if app.is_editable else [],
    }
    if mine is not None:
        out["mine"] = mine_view(mine)
    if include_draft:
        out["draft"] = {
            "assessment": app.assessment,
            "records": dict(app.records),
            "declared_penalties": app.declared_penalties,
            "attachments": [attachment_view(a, app.id) for a in app.attachments],
        }
    return out


def application_list_item(doc: dict) -> dict:
    league = regions.league_by_code(doc.get("league")) if doc.get("league") else None
    versions = doc.get("versions_count") or 0
    return {"id": doc["_id"], "case_no": doc.get("case_no"), "mine_id": doc["mine_id"],
            "mine_name": doc.get("mine_name"),
            "enterprise_name": doc.get("enterprise_name"), "credit_code": doc["credit_code"],
            "league": doc.get("league"), "league_name": league.name if league else None,
            "status": doc["status"], "status_label": STATUSES[doc["status"]],
            "status_tone": STATUS_TONES.get(doc["status"], ""), "versions_count": versions,
            "created_at": _dt(doc.get("created_at")), "updated_at": _dt(doc.get("updated_at"))}


def _dt(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def mine_record_view(record) -> dict:
    """A handler's ``MineRecord`` as the API and the pages show it."""
    return mine_view(record.mine, record.doc, record.today)


def loaded_view(loaded, include_draft: bool = True) -> dict:
    """A handler's ``Loaded`` application as the API and the pages show it."""
    out = application_view(loaded.app, loaded.doc, loaded.catalog, loaded.mine, loaded.mine_problems,
                           include_draft=include_draft)
    out["initial_review_due"] = loaded.review_due
    out["initial_review_due_estimated"] = loaded.review_due_estimated
    out["progress"] = [{"key": s.key, "label": s.label, "state": s.state, "state_label": s.state_label,
                        "note": s.note, "due": s.due} for s in progress(loaded.app.status, loaded.review_due)]
    return out
