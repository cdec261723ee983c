"""Domain → contract translation: the application's submission events become ``intake.application_submitted``; a
mine registered, updated or imported becomes ``intake.mine_recorded`` (a snapshot of the register entry)."""
from __future__ import annotations

from datetime import date, datetime

from intake.domain.application import Application, ApplicationVersion, thaw
from intake.domain.mine import Mine, mineral_by_code
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


# -- the mine register: intake.mine_recorded ------------------------------------------------------------------------

EVENT_MINE_RECORDED = "intake.mine_recorded"
MINE_CHANGES = ("registered", "updated", "imported")


def _licence(lic, number: str) -> dict:
    validity = lic.validity
    return {"number": number, "valid_from": validity.valid_from.isoformat(),
            "valid_to": None if validity.valid_to is None else validity.valid_to.isoformat()}


def _iso(day) -> str | None:
    return None if day is None else day.isoformat()


def mine_entry(mine: Mine) -> dict:
    """The register entry as the contract states it (``enterprise``, ``mine``, ``licences``): names for 盟市, 旗县
    and minerals, the 营业执照's number being the credit code."""
    league = regions.league_by_code(mine.league)
    county = regions.county_by_code(mine.county)
    return {
        "enterprise": mine.enterprise.to_dict(),
        "mine": {
            "name": mine.name,
            "league": league.name if league else mine.league,
            "county": county.name if county else mine.county,
            "minerals": mine.mineral_names,
            "scale": mine.scale,
            "mining_method": mine.mining_method,
            "mining_area": mine.mining_area,
            "production_status": mine.production_status,
            "production_start_date": _iso(mine.production_start_date),
            "production_stopped_on": _iso(mine.production_stopped_on),
            "remaining_reserve_years": str(mine.remaining_reserve_years),
        },
        "licences": {
            "mining": _licence(mine.mining_licence, mine.mining_licence.number),
            "safety": _licence(mine.safety_licence, mine.safety_licence.number),
            "business": _licence(mine.business_licence, mine.credit_code),
        },
    }


def _flat(value: dict, prefix: str = "") -> dict:
    out = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict):
            out.update(_flat(item, path + "."))
        else:
            out[path] = item
    return out


def changed_fields(before: Mine | None, after: Mine) -> list[str]:
    """The entry's fields ``after`` changed from ``before``, as dotted paths of the payload (``mine.scale``,
    ``licences.mining.valid_to``), in the payload's order; none for a new entry."""
    if before is None:
        return []
    old, new = _flat(mine_entry(before)), _flat(mine_entry(after))
    return [path for path, value in new.items() if old.get(path) != value]


def mine_recorded_event(mine: Mine, *, register_version: int, change: str, recorded_on: date, at: datetime,
                        before: Mine | None = None) -> dict:
    if change not in MINE_CHANGES:
        raise ValueError(f"unknown change {change!r}")
    payload = {"mine_id": mine.id, "register_version": register_version, "change": change,
               "recorded_on": recorded_on.isoformat(), **mine_entry(mine),
               "changed": changed_fields(before, mine) if change == "updated" else []}
    return new_event(EVENT_MINE_RECORDED, producer="intake", aggregate_type="mine", aggregate_id=mine.id,
                     aggregate_version=register_version, payload=payload, occurred_at=at)
