"""`greenmine score FILE`: score one assessment JSON (FILE or `-` for stdin) and print the report.

Exit status: 0 with the report JSON on stdout; 2 with the errors on stderr (a JSON object
`{"errors": [{"field": ..., "message": ...}, ...]}`, indented so a person can read it) when the file cannot be
read, is not JSON, or is not a scorable assessment.
"""
from __future__ import annotations

import json
import sys
from decimal import Decimal

import click

from scoring.bootstrap import bootstrap
from scoring.domain.commands import EvaluateAssessment
from scoring.service_layer.handlers import AssessmentRejected
from shared.config import Settings

EXIT_INVALID = 2


def _fail(errors: list[dict[str, str]]) -> None:
    click.echo(json.dumps({"errors": errors}, ensure_ascii=False, indent=2), err=True)
    sys.exit(EXIT_INVALID)


@click.command("score")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def score(file: str) -> None:
    """按评价指标为一份评估数据评分(FILE 为 JSON 文件,- 表示标准输入),输出评分报告 JSON。"""
    try:
        if file == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(file, "rb") as handle:
                raw = handle.read()
    except OSError as exc:
        _fail([{"field": "(file)", "message": f"无法读取 {file}:{exc.strerror or exc}"}])
    try:
        # Decimals straight from the text: 0.1 stays exactly 0.1.
        assessment = json.loads(raw.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        _fail([{"field": "(file)", "message": "文件须为 UTF-8 编码的 JSON"}])
    except json.JSONDecodeError as exc:
        _fail([{"field": "(file)", "message": f"不是合法的 JSON:第{exc.lineno}行第{exc.colno}列,{exc.msg}"}])
    # Scoring stores nothing: the bus needs no database and no environment here.
    bus = bootstrap(Settings())
    try:
        report = bus.handle(EvaluateAssessment(assessment))
    except AssessmentRejected as exc:
        _fail(exc.to_list())
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))
