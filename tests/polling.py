"""What the integration harnesses share (importable: pytest puts tests/ on sys.path): waiting for a condition the
consumers reach on their own, and a clock a test can stop."""
from __future__ import annotations

import time

from shared.clock import utcnow


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Clock:
    """The service's clock: real time unless a test sets `fixed` (an aware datetime)."""

    def __init__(self):
        self.fixed = None

    def __call__(self):
        return self.fixed or utcnow()
