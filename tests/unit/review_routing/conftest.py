from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path; the builders module has a unique name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared.catalog import load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog():
    return load_catalog("nm-2025")
