"""The public_notice service's unit-of-work port: the repositories its handlers may use inside `uow.run(...)`.

None yet; a handler's repositories are declared here as abstract attributes (see scoring's for an example)."""
from __future__ import annotations

import abc

from shared.unit_of_work import UnitOfWork


class PublicNoticeUnitOfWork(UnitOfWork, abc.ABC):
    """One atomic change of the public_notice service's state and the events it causes."""
