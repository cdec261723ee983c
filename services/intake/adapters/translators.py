"""Domain → contract translation: the application's submission events become ``intake.application_submitted``."""
from __future__ import annotations

from intake.domain.application import Application, ApplicationVersion, thaw
from intake.domain.mine import mineral_by_code
from shared import regions
from shared.contracts import new_event

EVENT_SUBMITTED = "intake.application_submitted"


def _iso_z(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def attachment_payload(ref) -> dict:
    indicator = ref.indicator
    return {
        "attachment_id": ref.id,
        "kind": ref.kind,
        "indicator": int(indicator) if indicator and indicator.isdigit() else None,
        "prerequisite": indicator if indicator and indicator.startswith("P") else None,
        "filename": ref.filename,
        "content_type": ref.content_type,
        "size": ref.size,
        "sha256": ref.sha256,
    }


def mine_payload(snapshot: dict) -> dict:
    """The event's ``mine``: Chinese names for 盟市/旗县 (what the review side scopes by) plus the codes."""
    league = regions.league_by_code(snapshot["league"])
    county = regions.county_by_code(snapshot["county"])
    minerals = []
    for m in snapshot.get("minerals") or ():
        if m.get("code") == "other":
            minerals.append(m.get("other") or "其他")
        else:
            t = mineral_by_code(m["code"])
            minerals.append(t.name if t else m["code"])
    return {
        "mine_id": snapshot["id"],
        "name": snapshot["name"],
        "league": league.name if league else snapshot["league"],
        "county": county.name if county else snapshot["county"],
        "league_code": snapshot["league"],
        "county_code": snapshot["county"],
        "scale": snapshot["scale"],
        "industry_group": snapshot["industry_group"],
        "mining_method": snapshot["mining_method"],
        "minerals": minerals,
    }


def submitted_payload(app: Application, version: ApplicationVersion) -> dict:
    snapshot = thaw(version.mine)
    payload = {
        "application_id": app.id,
        "version_no": version.number,
        "resubmission": version.number > 1,
        "submitted_at": _iso_z(version.submitted_at),
        "submitted_by": version.submitted_by,
        "enterprise": {"name": snapshot["enterprise"]["name"], "credit_code": snapshot["enterprise"]["credit_code"]},
        "mine": mine_payload(snapshot),
        "catalog": app.catalog,
        "assessment": version.assessment_with_records(),
        "attachments": [attachment_payload(a) for a in version.attachments],
    }
    if app.case_no:
        payload = {"application_id": app.id, "case_no": app.case_no, **payload}
    return payload


def submitted_event(app: Application, version: ApplicationVersion) -> dict:
    return new_event(EVENT_SUBMITTED, producer="intake", aggregate_type="application", aggregate_id=app.id,
                     aggregate_version=app.revision, payload=submitted_payload(app, version),
                     occurred_at=version.submitted_at)


def contract_events(app: Application, events) -> list[dict]:
    """The contract envelopes of the aggregate's domain events (ApplicationSubmitted / ApplicationResubmitted)."""
    return [submitted_event(app, app.version(event.version)) for event in events]
