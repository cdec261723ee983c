"""Who sees and does what: department and area scoping (a 包头市 生态环境 reviewer cannot see or act on a
鄂尔多斯市 task, nor on another department's), the bureau's 盟市, the region office reading everything."""
from __future__ import annotations

import pytest
from review_builders import BUREAU, BUREAU_BAOTOU, ENTERPRISE, REGION, reviewer

from review_routing.domain.access import (
    Actor,
    can_decide,
    can_remind,
    can_view_case,
    can_view_queue,
    can_view_task,
    can_work_task,
)

ORDOS = "鄂尔多斯市"
ECO_ORDOS = reviewer("ecology_environment")
ECO_BAOTOU = reviewer("ecology_environment", "包头市", "reviewer_eco_baotou")
ECO_REGION = reviewer("ecology_environment", "自治区", "eco_region")
SAFETY_ORDOS = reviewer("emergency_management", username="reviewer_safety")
NR_ORDOS = reviewer("natural_resources")
ECO_ZHUNGEER = reviewer("ecology_environment", county="准格尔旗", username="eco_county")


@pytest.mark.parametrize("actor,view,work", [
    (ECO_ORDOS, True, True), (ECO_BAOTOU, False, False), (ECO_REGION, True, True), (SAFETY_ORDOS, False, False),
    (BUREAU, True, False), (BUREAU_BAOTOU, False, False), (REGION, True, False), (ENTERPRISE, False, False),
    (ECO_ZHUNGEER, True, True), (Actor("eco_other_county", "department_reviewer", "", "ecology_environment", ORDOS,
                                       "伊金霍洛旗"), False, False),
])
def test_an_ecology_task_in_ordos(actor, view, work):
    assert can_view_task(actor, "ecology_environment", ORDOS, "准格尔旗") is view
    assert can_work_task(actor, "ecology_environment", False, ORDOS, "准格尔旗") is work


@pytest.mark.parametrize("actor,work", [(BUREAU, True), (NR_ORDOS, True), (BUREAU_BAOTOU, False), (REGION, False),
                                        (ECO_ORDOS, False)])
def test_the_lead_task_is_worked_by_the_bureau_of_its_league_or_its_natural_resources_reviewers(actor, work):
    assert can_work_task(actor, "natural_resources", True, ORDOS) is work


def test_cases_reminders_decisions_and_queues():
    assert can_view_case(BUREAU, ORDOS) and not can_view_case(BUREAU_BAOTOU, ORDOS) and can_view_case(REGION, ORDOS)
    assert not can_view_case(ECO_ORDOS, ORDOS)
    assert can_remind(BUREAU, ORDOS) and not can_remind(REGION, ORDOS) and not can_remind(ECO_ORDOS, ORDOS)
    assert can_decide(BUREAU, ORDOS) and not can_decide(BUREAU_BAOTOU, ORDOS) and not can_decide(REGION, ORDOS)
    assert can_view_queue(ECO_BAOTOU, "ecology_environment") and not can_view_queue(ECO_BAOTOU, "energy")
    assert can_view_queue(BUREAU, "natural_resources") and not can_view_queue(BUREAU, "energy")
    assert can_view_queue(REGION, "taxation") and not can_view_queue(ENTERPRISE, "taxation")
