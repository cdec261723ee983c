from __future__ import annotations

import pytest

from review_harness import wait_for
from review_builders import submission, submitted_event

pytestmark = pytest.mark.integration


def test_submission_reaches_every_department_queue(review, catalog):
    review.publish(submitted_event(submission(catalog, "app-smoke")))
    tasks = wait_for(lambda: review.routed_tasks("app-smoke", 1), what="tasks")
    queued = wait_for(lambda: len(review.queued("app-smoke", 1)) == len(tasks) and review.queued("app-smoke", 1),
                      what="queue")
    assert {q["department"] for q in queued} == {t["department"] for t in tasks}
