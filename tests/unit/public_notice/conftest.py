from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path: fakes.py under a name of its own (other
# services' test folders have a `fakes` module too), builders modules with unique names.
sys.path.insert(0, str(Path(__file__).resolve().parent))
_spec = importlib.util.spec_from_file_location("notice_fakes", Path(__file__).resolve().parent / "fakes.py")
sys.modules["notice_fakes"] = _fakes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fakes)

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"


@pytest.fixture
def uow():
    """The public notice's unit of work in memory, checking every published event against the contracts."""
    from shared.contracts import ContractRegistry

    return _fakes.FakeNoticeUnitOfWork(ContractRegistry([CONTRACTS]))
