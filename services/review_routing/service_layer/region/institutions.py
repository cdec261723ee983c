"""The register of third-party evaluation institutions (kept by the region office): registering and editing an
institution (contact, staff with their 职称, declared conflicts of interest), recording a misconduct finding (which
bans the institution for three years and is published as a 通报 through the public notice), and reading the
register. Evaluators read their own institution only.

Other areas ask the register through `eligible_institutions` (who may be commissioned for an enterprise on a day,
and why the others may not) and `report_refusal` (why an institution's report is refused today)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from review_routing.domain.access import Actor
from review_routing.domain.errors import Conflict, NotFound, NotPermitted
from review_routing.domain.region.institutions import (
    CONFLICT_KINDS,
    MISCONDUCT,
    EvaluationInstitution,
)
from review_routing.service_layer.common import audit
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.accounts.rules import normalise_credit_code
from shared.contracts import new_event
from shared.workdays import beijing_date

TOPIC = "review_routing.region.events"
PRODUCER = "review_routing"
MISCONDUCT_FOUND = "review_routing.misconduct_found"
Clock = Callable[[], datetime]
WRITERS = ("region_office",)
READERS_ALL = ("region_office", "admin")


# -- commands ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterInstitution:
    actor: Actor
    name: str
    credit_code: str
    contact: Mapping = field(default_factory=dict)
    staff: tuple[Mapping, ...] = ()
    conflicts: tuple[Mapping, ...] = ()


@dataclass(frozen=True)
class EditInstitution:
    """Replace the given parts (None leaves one as it is). `expected_version`: refuse if changed meanwhile."""
    actor: Actor
    institution_id: str
    name: str | None = None
    contact: Mapping | None = None
    staff: tuple[Mapping, ...] | None = None
    conflicts: tuple[Mapping, ...] | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordMisconduct:
    actor: Actor
    institution_id: str
    kind: str
    facts: str
    found_on: str | date | None
    document_no: str | None = None
    staff_id: str | None = None
    person: str | None = None


@dataclass(frozen=True)
class ListInstitutions:
    actor: Actor


@dataclass(frozen=True)
class ShowInstitution:
    actor: Actor
    institution_id: str


# -- access -------------------------------------------------------------------------------------------------------
def _require_writer(actor: Actor) -> None:
    if actor.role not in WRITERS:
        raise NotPermitted("只有自治区自然资源厅可以维护评估机构名录")


def _may_read(actor: Actor, institution_id: str) -> bool:
    return actor.role in READERS_ALL or (actor.role == "evaluator" and actor.institution == institution_id)


def _get(uow: ReviewUnitOfWork, institution_id: str) -> EvaluationInstitution:
    inst = uow.institutions.get(institution_id)
    if inst is None:
        raise NotFound(f"评估机构名录中没有 {institution_id}")
    return inst


# -- handlers -----------------------------------------------------------------------------------------------------
def register_institution(cmd: RegisterInstitution, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    _require_writer(cmd.actor)
    now = clock()
    code = normalise_credit_code(cmd.credit_code or "")
    inst = EvaluationInstitution.register(
        name=cmd.name, credit_code=code, contact=cmd.contact, staff=cmd.staff, conflicts=cmd.conflicts,
        by=cmd.actor.username, at=now, institution_id=institution_id_for(code))

    def work():
        if uow.institutions.get(inst.id) is not None:
            raise Conflict(f"统一社会信用代码 {inst.credit_code} 的评估机构已经登记")
        uow.institutions.save(inst)
        audit(uow, cmd.actor, "institution_registered", now, target=inst.id,
              detail={"name": inst.name, "credit_code": inst.credit_code, "staff": len(inst.staff),
                      "conflicts": len(inst.conflicts)})
        return institution_view(inst, beijing_date(now))

    return uow.run(work)


def edit_institution(cmd: EditInstitution, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    _require_writer(cmd.actor)
    now = clock()

    def work():
        inst = _get(uow, cmd.institution_id)
        if cmd.expected_version is not None and inst.version != cmd.expected_version:
            raise Conflict("该评估机构的信息已被他人修改，请刷新后再改")
        changed = inst.edit(by=cmd.actor.username, at=now, name=cmd.name, contact=cmd.contact,
                            staff=None if cmd.staff is None else list(cmd.staff),
                            conflicts=None if cmd.conflicts is None else list(cmd.conflicts))
        if changed:
            uow.institutions.save(inst)
            audit(uow, cmd.actor, "institution_edited", now, target=inst.id, detail={"changed": changed})
        return institution_view(inst, beijing_date(now))

    return uow.run(work)


def record_misconduct(cmd: RecordMisconduct, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    """The finding, the three-year ban, its audit entry and the `misconduct_found` event, in one transaction."""
    _require_writer(cmd.actor)
    now = clock()

    def work():
        inst = _get(uow, cmd.institution_id)
        finding = inst.record_finding(kind=cmd.kind, facts=cmd.facts, found_on=cmd.found_on,
                                      by=cmd.actor.username, by_name=cmd.actor.name, at=now,
                                      document_no=cmd.document_no, staff_id=cmd.staff_id, person=cmd.person)
        version = uow.institutions.save(inst)
        audit(uow, cmd.actor, "misconduct_found", now, target=inst.id,
              detail={"finding_id": finding["finding_id"], "kind": finding["kind"], "person": finding["person"],
                      "found_on": finding["found_on"], "banned_until": finding["banned_until"]})
        uow.publish(misconduct_event(inst, finding, version, now), topic=TOPIC)
        return {"finding": finding_view(finding), "institution": institution_view(inst, beijing_date(now))}

    return uow.run(work)


def list_institutions(cmd: ListInstitutions, uow: ReviewUnitOfWork, *, clock: Clock) -> list[dict]:
    today = beijing_date(clock())
    if cmd.actor.role in READERS_ALL:
        found = uow.read(lambda: uow.institutions.find(sort="name"))
    elif cmd.actor.role == "evaluator":
        own = uow.read(lambda: uow.institutions.get(cmd.actor.institution or "-"))
        found = [own] if own else []
    else:
        raise NotPermitted("您无权查看评估机构名录")
    return [institution_view(i, today, brief=True) for i in found]


def show_institution(cmd: ShowInstitution, uow: ReviewUnitOfWork, *, clock: Clock) -> dict:
    if not _may_read(cmd.actor, cmd.institution_id):
        if cmd.actor.role == "evaluator":
            raise NotPermitted("评估机构只能查看本机构的信息")
        raise NotPermitted("您无权查看评估机构名录")
    inst = uow.read(lambda: _get(uow, cmd.institution_id))
    return institution_view(inst, beijing_date(clock()))


# -- for the other areas (commissions, evaluations) ----------------------------------------------------------------
def eligible_institutions(uow: ReviewUnitOfWork, enterprise: Mapping, on: date
                          ) -> tuple[list[EvaluationInstitution], list[dict]]:
    """(the institutions that may be commissioned for `enterprise` on `on`, by id; the others as {id, name,
    reason}). Call inside `uow.run` / `uow.read`."""
    eligible, excluded = [], []
    for inst in uow.institutions.find():
        reason = inst.eligible_for(enterprise, on)
        if reason is None:
            eligible.append(inst)
        else:
            excluded.append({"id": inst.id, "name": inst.name, "reason": reason})
    return eligible, excluded


def report_refusal(uow: ReviewUnitOfWork, institution_id: str, on: date) -> str | None:
    """Why a report of the institution is refused on `on` (banned), or None. Call inside `uow.run`."""
    inst = uow.institutions.get(institution_id)
    if inst is None:
        return f"评估机构名录中没有 {institution_id}，其评估报告不予采信"
    return inst.refusal_on(on)


# -- views, events ------------------------------------------------------------------------------------------------
def institution_id_for(credit_code: str) -> str:
    """One entry per 统一社会信用代码: the id is made from it (a second registration collides)."""
    return "inst-" + credit_code.lower()


def finding_view(f: Mapping) -> dict:
    return {**dict(f), "person": f.get("person"), "document_no": f.get("document_no")}


def institution_view(inst: EvaluationInstitution, today: date, *, brief: bool = False) -> dict:
    ban = inst.ban_on(today)
    view = {"institution_id": inst.id, "name": inst.name, "credit_code": inst.credit_code,
            "status": inst.status_on(today), "status_label": inst.status_label_on(today),
            "banned_until": ban["banned_until"] if ban else None,
            "refusal": inst.refusal_on(today), "contact": inst.contact.to_dict(),
            "staff_count": len(inst.staff), "conflict_count": len(inst.conflicts),
            "finding_count": len(inst.findings), "version": inst.version}
    if brief:
        return view
    return {**view, "staff": [s.to_dict() for s in inst.staff], "conflicts": [c.to_dict() for c in inst.conflicts],
            "findings": [finding_view(f) for f in sorted(inst.findings, key=lambda f: f["found_on"], reverse=True)],
            "registered_at": inst.registered_at, "registered_by": inst.registered_by,
            "history": list(reversed(inst.history))}


def misconduct_event(inst: EvaluationInstitution, finding: Mapping, version: int, at: datetime) -> dict:
    return new_event(MISCONDUCT_FOUND, producer=PRODUCER, aggregate_type="institution", aggregate_id=inst.id,
                     aggregate_version=version, occurred_at=at, payload={
                         "finding_id": finding["finding_id"], "institution_id": inst.id,
                         "institution_name": inst.name, "credit_code": inst.credit_code,
                         "person": finding.get("person"), "kind": finding["kind"], "kind_label": finding["kind_label"],
                         "facts": finding["facts"], "found_on": finding["found_on"],
                         "banned_until": finding["banned_until"], "document_no": finding.get("document_no"),
                         "recorded_at": at.isoformat().replace("+00:00", "Z")})


LABELS = {"misconduct": MISCONDUCT, "conflict_kinds": CONFLICT_KINDS}

COMMAND_HANDLERS = {
    RegisterInstitution: register_institution,
    EditInstitution: edit_institution,
    RecordMisconduct: record_misconduct,
    ListInstitutions: list_institutions,
    ShowInstitution: show_institution,
}
EVENT_HANDLERS: dict = {}
