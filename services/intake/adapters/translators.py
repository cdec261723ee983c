"""Domain ⇄ contract translation: the ``intake.application_submitted`` event, and the reasons of a review
decision read back into the domain's ``{key: text}`` form."""
from __future__ import annotations

from intake.domain import materials as mat
from shared import regions
from intake.domain.application import Application, ApplicationVersion, thaw
from intake.domain.mine import mineral_by_code
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
    return {
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


def submitted_event(app: Application, version: ApplicationVersion) -> dict:
    return new_event(EVENT_SUBMITTED, producer="intake", aggregate_type="application", aggregate_id=app.id,
                     aggregate_version=app.revision, payload=submitted_payload(app, version),
                     occurred_at=version.submitted_at)


def reasons_from_decision(reasons: list[dict]) -> tuple[dict[str, str], str]:
    """``initial_review_decided.reasons`` → ({"9": text, "P4": text, "materials.site_photos": text, "general": text},
    comment).  Several reasons for one key are joined; a ``check`` that names a material kind goes to that
    material, any other check is kept as a prefix of its text."""
    out: dict[str, list[str]] = {}
    for reason in reasons or ():
        text = (reason.get("text") or "").strip()
        if not text:
            continue
        check = reason.get("check")
        indicator, prerequisite = reason.get("indicator"), reason.get("prerequisite")
        if indicator is not None:
            key = str(indicator)
        elif prerequisite:
            key = str(prerequisite)
        elif check and check.startswith("materials.") and mat.kind_by_code(check[10:]):
            key = check
        elif check and mat.kind_by_code(check):
            key = f"materials.{check}"
        else:
            key = "general"
        if check and not key.startswith("materials.") and not text.startswith(str(check)):
            text = f"[{check}] {text}"
        out.setdefault(key, []).append(text)
    joined = {k: "；".join(v) for k, v in out.items()}
    return joined, ""
