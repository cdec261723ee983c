from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path; the builders module has a unique name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared.catalog import load_catalog  # noqa: E402

# fakes.py under a name of its own: other services' test folders have a `fakes` module too.
_spec = importlib.util.spec_from_file_location("review_fakes", Path(__file__).resolve().parent / "fakes.py")
sys.modules["review_fakes"] = _fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fakes)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog("nm-2025")


@pytest.fixture
def uow():
    """The review's unit of work in memory, checking every published event against the contracts."""
    from review_builders import CONTRACTS

    from shared.contracts import ContractRegistry

    return _fakes.FakeReviewUnitOfWork(ContractRegistry([CONTRACTS]))


@pytest.fixture
def clock():
    from region_builders import Clock

    return Clock()
