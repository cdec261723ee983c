from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path; the builders module has a unique name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_builders import ready_application  # noqa: E402


@pytest.fixture
def app():
    """A submittable draft application."""
    return ready_application()
