"""The region stage's handlers, one module per area (commands and their handlers side by side):
`reviews` (the case through the stage: opening, queue, decision, reminders, overdue sweep), `institutions`
(the register, misconduct and bans), `commissions` (委托 and the pledges), `evaluations` (the institution's
evaluation and report), `check_rounds` (资料核查, the spot-check draw, spot-check assessments), `draws`
(what every drawing handler shares, and the public draws), `objections` (an upheld objection during 公示),
`re_evaluations` (a listed mine's 重大变化 checked on site).

Each module offers `COMMAND_HANDLERS` and `EVENT_HANDLERS`; `handlers()` merges them for the bus."""
from __future__ import annotations

from importlib import import_module

AREAS = ("reviews", "institutions", "commissions", "evaluations", "check_rounds", "draws", "objections",
         "re_evaluations")


def handlers() -> tuple[dict, dict]:
    """(command handlers, event handlers) of every area."""
    commands, events = {}, {}
    for module in (import_module(f"{__name__}.{area}") for area in AREAS):
        commands.update(module.COMMAND_HANDLERS)
        events.update(module.EVENT_HANDLERS)
    return commands, events
