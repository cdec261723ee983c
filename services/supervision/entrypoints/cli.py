"""`greenmine supervision …`: the supervision service's operator commands (entry point `greenmine.commands`).

`greenmine supervision sweep [--on YYYY-MM-DD]` runs the service's sweep (the daily triggers, deadlines passing) as
on that day (北京时间; default today), as the consumer's sweep thread does every few minutes: what fell due is
recorded once, a second run changes nothing, and on a day off the official calendar gives nothing is raised. Exit
status: 0 with a summary; 2 for a date that is not one; 1 when the system cannot be reached."""
from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time

import click

from shared.clock import BEIJING

EXIT_INVALID = 2


def parse_day(value: str) -> date:
    """The day of `--on` (YYYY-MM-DD); ValueError with a message naming the option otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--on 应为日期 YYYY-MM-DD（如 2026-10-08），实为“{value}”") from None


def clock_on(day: date):
    """A clock standing at noon in Beijing on `day`."""
    moment = datetime.combine(day, time(12), BEIJING).astimezone(UTC)
    return lambda: moment


def run_sweep(settings, day: date | None) -> int:
    """The service's `Sweep` through its bus, as on `day` (None: now); how many records it changed."""
    from shared.runtime import service_store
    from supervision.bootstrap import SERVICE, bootstrap, ensure_indexes
    from supervision.domain.commands import Sweep

    store = service_store(settings, SERVICE)
    store.ensure_indexes()
    ensure_indexes(store.db)
    return bootstrap(settings, store, **({"clock": clock_on(day)} if day else {})).handle(Sweep())


@click.group("supervision")
def supervision():
    """动态监管（supervision）的管理命令。"""


@supervision.command("sweep")
@click.option("--on", "on", default=None, metavar="YYYY-MM-DD", help="按哪一天运行（北京时间；默认今天）")
def sweep(on: str | None) -> None:
    """运行一次动态监管巡查（证照到期预警与移出建议、停产、异常名录、开发利用水平、重大变化、新建矿山评估期限）。
    同一天重复运行不会重复记录；法定节假日和休息日不产生新的发现，顺延到下一个工作日。"""
    from shared.cli import _mongo, _settings
    from shared.workdays import WorkingCalendar, beijing_date

    try:
        day = parse_day(on) if on is not None else None
    except ValueError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(EXIT_INVALID)
    settings = _settings()
    _mongo(settings)          # an unreachable database is one line and exit 1
    changed = run_sweep(settings, day)
    shown = day or beijing_date(datetime.now(UTC))
    rest = "" if WorkingCalendar().is_workday(shown) else "（非工作日：到期事项顺延至下一个工作日）"
    click.echo(f"{shown.isoformat()}：监管巡查完成，新记录 {changed} 项{rest}")
