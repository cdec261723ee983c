"""The areas of the supervision service, each a module of commands and their handlers side by side (the shape of
`shared/areas.py`: `COMMAND_HANDLERS`, `EVENT_HANDLERS`, an optional `sweep(uow, **dependencies)`):

- `register`: the mines under supervision, from the green-mine list and intake's mine register;
- `triggers`: the daily sweep's findings, and the records it reads (异常名录, 开发利用水平);
- `measures`: 标注, 限期整改 and 移出名录 on listed mines (监管事项), with their deadlines; it turns the sweep's
  findings into measures;
- `inspections`: 双随机、一公开, the yearly plan, the verifiable draw of mines and inspectors, the results;
- `targets`: 目标进度 — the 盟市's yearly targets and the green-mine construction contracts."""
from __future__ import annotations

from shared import areas

AREAS = ("register", "triggers", "measures", "inspections", "targets")


def modules():
    """The area modules, in the order of AREAS."""
    return areas.modules("supervision.service_layer", AREAS)


def handlers():
    """(command handlers, event handlers) of every area, and `Sweep` running each area's sweep."""
    from supervision.domain.commands import Sweep

    found = modules()
    commands, events = areas.handlers(found)
    return {Sweep: areas.sweeper(found), **commands}, events
