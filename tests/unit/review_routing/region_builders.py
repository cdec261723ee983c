"""Builders for the region stage's tests on the fakes: a bus, a case forwarded by the bureau (its RegionReview
opened in the same transaction), and the RegionReview moved to a later step directly through its domain
methods (so each area's tests start where they need)."""
from __future__ import annotations

from datetime import timedelta

from review_builders import AT, BUREAU, full_opinion, opinion_body, reviewer, submission, submitted_event

from review_routing.bootstrap import bootstrap
from review_routing.domain import commands as c
from review_routing.domain.access import Actor
from review_routing.domain.region.review import review_id
from shared.config import Settings
from shared.workdays import DeadlinePolicy, WorkingCalendar

REGION_OFFICE = Actor("region", "region_office", "自治区自然资源厅", area="自治区")
QUALIFIED = {"verdict": "qualified", "verdict_label": "达标", "total": "95", "indicator_scores": {}}
CALENDAR = WorkingCalendar()
POLICY = DeadlinePolicy()


class Clock:
    def __init__(self, now=AT):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now = self.now + timedelta(**delta)


class Scoring:
    """Scoring's evaluate (a fixed report) and record (a stored assessment's answer); remembers the calls."""

    def __init__(self, report=QUALIFIED):
        self.report, self.asked_by, self.recorded = report, [], []

    def evaluate(self, assessment, principal):
        self.asked_by.append(principal)
        return dict(self.report)

    def record(self, *args, **kwargs):
        self.recorded.append((args, kwargs))
        return {"id": f"rec-{len(self.recorded)}", "report": dict(self.report), **dict(self.report)}


class Directory:
    def __init__(self, people=()):
        self.people = list(people)

    def get(self, username):
        return next((p for p in self.people if p.username == username), None)

    def all(self):
        return list(self.people)


def make_bus(uow, clock, scoring=None, directory=None, photo_files=None):
    from review_fakes import FakePhotoFiles

    return bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "unit"}), uow_factory=lambda: uow,
                     uow_for=lambda tx: uow, clock=clock, scoring=scoring or Scoring(),
                     directory=directory or Directory(), photo_files=photo_files or FakePhotoFiles(), env={})


def forwarded(bus, uow, catalog, app_id: str = "app-1", **submission_args) -> str:
    """Route a submission, have every department agree, forward it; the id of the RegionReview it opened."""
    bus.handle_event(submitted_event(submission(catalog, app_id, **submission_args)), uow)
    for task in uow.tasks.of_case(app_id, 1):
        actor = BUREAU if task.lead else reviewer(task.department)
        bus.handle(c.ClaimTask(actor, task.task_id))
        bus.handle(c.GiveOpinion(actor, task.task_id, opinion_body(full_opinion(task, comments="同意"))))
    bus.handle(c.DecideCase(BUREAU, app_id, "forward"))
    return review_id(app_id, 1)


def advance(uow, rid: str, to: str, at=AT, *, total="88.50", verdict="qualified", not_applicable=(),
            institution=None, passed=True, spot_checked=False, contradiction=None):
    """Move a RegionReview through its steps up to status `to` (domain calls only, saved)."""
    order = ["awaiting_commission", "commissioned", "under_evaluation", "evaluated", "in_check", "checked"]
    review = uow.region_reviews.get(rid)
    institution = institution or {"id": "inst-1", "name": "内蒙古示范评估咨询有限公司"}
    steps = {
        "commissioned": lambda r: r.commissioned("com-1", institution, "region", at, CALENDAR, POLICY),
        "under_evaluation": lambda r: r.evaluation_started("com-1", "evaluator", at, CALENDAR, POLICY),
        "evaluated": lambda r: r.evaluation_submitted(
            {"evaluation_id": "com-1.eval", "assessment_id": f"{r.application_id}:1:third_party_evaluation",
             "total": total, "verdict": verdict, "not_applicable": list(not_applicable)}, "evaluator", at,
            CALENDAR, POLICY),
        "in_check": lambda r: r.check_started("round-1", "region", at),
        "checked": lambda r: r.check_finished({"round_id": "round-1", "passed": passed,
                                               "spot_checked": spot_checked, "contradiction": contradiction},
                                              "region", at, CALENDAR, POLICY),
    }
    for status in order[order.index(review.status) + 1: order.index(to) + 1]:
        steps[status](review)
    uow.run(lambda: uow.region_reviews.save(review))
    return review
