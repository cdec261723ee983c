"""`greenmine catalog check` refuses an inconsistent candidate index before it is published."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from shared.cli import main

INDEX = Path(__file__).resolve().parents[2] / "contracts" / "catalog" / "nm-2025.yaml"


def test_published_index_passes():
    result = CliRunner().invoke(main, ["catalog", "check", str(INDEX)])
    assert result.exit_code == 0 and "20 项约束性指标" in result.output
    listed = CliRunner().invoke(main, ["catalog", "list"])
    assert listed.exit_code == 0 and "nm-2025" in listed.output


def test_candidate_with_points_not_adding_up_is_refused(tmp_path):
    text = INDEX.read_text(encoding="utf-8").replace("id: nm-2025", "id: nm-2026", 1)
    # Indicator 1 from 2 to 3 points: its subcategory, category and the total no longer add up.
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "name: 功能分区")
    points = next(i for i in range(start, start + 15) if lines[i].strip().startswith("points:"))
    assert lines[points].strip() == "points: 2"
    lines[points] = lines[points].replace("2", "3")
    candidate = tmp_path / "nm-2026.yaml"
    candidate.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["catalog", "check", str(candidate)])
    assert result.exit_code == 2
    assert "不能发布" in result.output and "nm-2026" in result.output
    assert "矿容矿貌" in result.output  # the subcategory whose sum broke is named


def test_unreadable_candidate_exits_2(tmp_path):
    broken = tmp_path / "nm-2027.yaml"
    broken.write_text("id: [unclosed", encoding="utf-8")
    assert CliRunner().invoke(main, ["catalog", "check", str(broken)]).exit_code == 2
