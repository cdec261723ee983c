"""`greenmine notice …`: the public notice's operator commands, and its demo data (entry point
`greenmine.demo_data`).

`greenmine notice import-list FILE.xlsx|FILE.csv [--dry-run] [--by USERNAME]` imports the green-mine list kept
before the platform (columns in `public_notice.domain.list_import`). Exit status: 0 with a summary; 2 when the file
has any problem — each printed on stderr with its row number and column, nothing imported; 1 when the system
cannot be reached."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from public_notice.domain import list_import as li
from public_notice.service_layer.list_import import ImportListedMines, problems_as_error
from shared.config import Settings, contracts_path
from shared.errors import DomainError

EXIT_INVALID = 2
#: The demo region's earlier list: 30 fictional mines of the 12 盟市, listed 2020–2025 (contracts/demo).
DEMO_FILE = ("demo", "historical-green-mines.csv")
DEMO_IMPORTER = ("demo-data", "演示数据")


class Importer:
    """Who imports: the office's account (`--by`), with the region office's role."""

    def __init__(self, username: str, display_name: str):
        self.username, self.display_name = username, display_name
        self.role, self.department, self.area, self.enterprise = "region_office", None, "自治区", None


def _bus(settings: Settings):
    from public_notice.bootstrap import bootstrap

    return bootstrap(settings)


def _print_problems(error: DomainError) -> None:
    click.echo(f"错误：{error.message}", err=True)
    for item in error.to_list():
        click.echo(f"  - {item['field']}：{item['message']}", err=True)


def run_import(bus, path: str | Path, actor, *, dry_run: bool = False) -> dict:
    """Read `path` and send `ImportListedMines`; raises InvalidInput (every problem by row and column)."""
    path = Path(path)
    try:
        headers, rows = li.read_table(path)
    except li.ImportRefused as refused:
        raise problems_as_error(refused.problems) from None
    return bus.handle(ImportListedMines(actor, tuple(headers), tuple(tuple(r) for r in rows), path.name, dry_run))


@click.group("notice")
def notice():
    """公示与名录（public_notice）的管理命令。"""


@notice.command("import-list")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查并统计，不导入")
@click.option("--by", "username", default="region", show_default=True, help="导入人（自治区自然资源厅的账号）")
def import_list(file: str, dry_run: bool, username: str) -> None:
    """导入平台启用前的绿色矿山名录（xlsx 或 csv；列：矿山名称、企业名称、统一社会信用代码、盟市、旗县、矿种、规模、
    入库日期或入库年份、公告文号、公告标题）。任何一行有问题即逐行逐列列出、不导入任何数据，退出码 2。"""
    from shared.cli import _settings

    settings = _settings()
    try:
        outcome = run_import(_bus(settings), file, Importer(username, username), dry_run=dry_run)
    except DomainError as exc:
        _print_problems(exc)
        sys.exit(EXIT_INVALID)
    verb = "将导入" if dry_run else "已导入"
    click.echo(f"{Path(file).name}：{outcome['rows']} 行有效；{verb} {len(outcome['mines'])} 座矿山、"
               f"{len(outcome['announcements'])} 个原公告；{len(outcome['existing'])} 座已在名录中（未重复导入）")


def load_demo_data(settings: Settings | None = None, bus=None) -> dict:
    """The demo region's earlier list (30 mines of the 12 盟市 with their original announcements) through
    `ImportListedMines`; a second load adds nothing. Entry point `greenmine.demo_data`."""
    bus = bus or _bus(settings or Settings.from_env())
    outcome = run_import(bus, contracts_path(*DEMO_FILE), Importer(*DEMO_IMPORTER))
    click.echo(f"  historical list: {len(outcome['mines'])} imported, {len(outcome['existing'])} already there")
    return outcome
