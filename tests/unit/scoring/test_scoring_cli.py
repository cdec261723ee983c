"""`greenmine score FILE`: exit 0 with the report, exit 2 with the errors."""
from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from scoring.entrypoints.cli import score


def run(args, stdin=None):
    return CliRunner().invoke(score, args, input=stdin)


def test_scores_a_file(tmp_path, assessment_for, report_validator):
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps(assessment_for(entries={"3": {"findings": 2}}), ensure_ascii=False), encoding="utf-8")
    result = run([str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    report_validator.validate(report)
    assert report["total"] == "99.60" and report["verdict"] == "qualified"


def test_reads_stdin(assessment_for):
    result = run(["-"], json.dumps(assessment_for(2, variant="cement_limestone")))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["mine"]["industry_variant"] == "cement_limestone"


def test_decimal_inputs_are_exact(assessment_for):
    assessment = assessment_for(entries={"3": {"score": 0.4}})
    result = run(["-"], json.dumps(assessment))
    assert json.loads(result.stdout)["indicator_scores"]["3"]["score"] == "0.4"


def test_invalid_assessment_exits_2_with_every_error(assessment_for):
    result = run(["-"], json.dumps(assessment_for(entries={"5": None, "2": {"score": 7}})))
    assert result.exit_code == 2
    errors = json.loads(result.stderr)["errors"]
    assert [e["field"] for e in errors] == ["indicators.2.score", "indicators.5"]
    assert result.stdout == ""


def test_not_json_exits_2():
    result = run(["-"], "{not json")
    assert result.exit_code == 2
    assert json.loads(result.stderr)["errors"][0]["field"] == "(file)"
    assert "JSON" in json.loads(result.stderr)["errors"][0]["message"]


def test_not_utf8_exits_2():
    result = CliRunner().invoke(score, ["-"], input=b"\xff\xfe{")
    assert result.exit_code == 2


def test_missing_file_exits_2(tmp_path):
    result = run([str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "无法读取" in json.loads(result.stderr)["errors"][0]["message"]


def test_unknown_catalog_exits_2(assessment_for):
    assessment = assessment_for()
    assessment["catalog"] = "nm-1999"
    result = run(["-"], json.dumps(assessment))
    assert result.exit_code == 2
    assert json.loads(result.stderr)["errors"][0]["field"] == "catalog"


def test_as_a_process(tmp_path, assessment_for):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(assessment_for()), encoding="utf-8")
    command = [sys.executable, "-c", "from scoring.entrypoints.cli import score; score()"]
    ok = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and json.loads(ok.stdout)["total"] == "100.00"
    bad = subprocess.run([*command, "-"], input="[]", capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and json.loads(bad.stderr)["errors"][0]["field"] == "(root)"


def test_registered_as_a_greenmine_command():
    from importlib.metadata import entry_points
    names = {e.name: e.value for e in entry_points(group="greenmine.commands")}
    assert names.get("score") == "scoring.entrypoints.cli:score"
