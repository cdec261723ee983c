"""Fixtures: the public notice on real servers (see notice_harness)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib: put the uniquely named helper modules on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "public_notice"))

from notice_harness import start  # noqa: E402


@pytest.fixture
def notice(settings, registry):
    """The public notice with its real consumer, relay and web app (`notice.call(method, path, user, body)`)."""
    harness, finish = start(settings, registry)
    try:
        yield harness
    finally:
        finish()
