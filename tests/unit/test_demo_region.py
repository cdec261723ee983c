"""The living demo region's data: 60 mines intake accepts (its own validation), across the 12 盟市, both branches and
every scale, owned by 12 demo enterprises with valid 统一社会信用代码 (GB 32100, and the embedded 组织机构代码's GB
11714 check); a bureau per 盟市; stages planned in every 盟市; creating the new accounts stays quick."""
from __future__ import annotations

import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

from shared import demo_region, regions
from shared.accounts import rules
from shared.demo_accounts import DEMO_LEAGUES, DEMO_USERS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services"))


def test_sixty_mines_across_every_league_branch_and_scale():
    mines = demo_region.demo_mines()
    assert len(mines) >= 60 and len({m.id for m in mines}) == len(mines)
    assert {regions.league_by_code(m.league_code).name for m in mines} == set(regions.LEAGUE_NAMES)
    assert {m.industry_group for m in mines} == {1, 2}
    assert {m.scale for m in mines} == {"large", "medium", "small"}
    assert {(m.industry_group, m.scale) for m in mines} >= {(1, "large"), (1, "medium"), (1, "small"),
                                                             (2, "medium"), (2, "small")}
    assert len({m.name for m in mines}) == len(mines)


def test_intake_accepts_every_demo_mine():
    from intake.domain.mine import Mine

    numbers = set()
    for m in demo_region.demo_mines():
        mine = Mine.create(demo_region.mine_data(m), date(2026, 12, 1), id=m.id)
        assert mine.industry_group == m.industry_group and mine.suggested_industry_group == m.industry_group
        numbers.add(demo_region.mine_data(m)["mining_licence"]["number"])
    assert len(numbers) == len(demo_region.demo_mines())


def test_intake_registers_the_earlier_lists_mines_as_the_csv_names_them():
    import csv

    from intake.domain.mine import Mine
    from intake.entrypoints.cli import DEMO_MINES, historical_mines

    with (Path(__file__).resolve().parents[2] / "contracts/demo/historical-green-mines.csv").open(
            encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    mines = historical_mines()
    assert list(mines) == [f"mine-hist-{n:02d}" for n in range(1, len(rows) + 1)] and len(rows) == 30
    numbers = {demo_region.mine_data(m)["mining_licence"]["number"] for m in demo_region.demo_mines()}
    numbers |= {d["mining_licence"]["number"] for d in DEMO_MINES.values()}
    for (mine_id, data), row in zip(mines.items(), rows, strict=True):
        mine = Mine.create(data, date(2026, 12, 1), id=mine_id)
        assert (mine.name, data["enterprise"]["credit_code"]) == (row["矿山名称"], row["统一社会信用代码"])
        assert regions.league_by_code(data["league"]).name == row["盟市"] and data["county"] == row["旗县"]
        assert data["scale"] == {"大型": "large", "中型": "medium", "小型": "small"}[row["规模"]]
        assert "、".join(m.name for m in mine.minerals) == row["矿种"]
        assert data["production_status"] == "in_production" and float(data["remaining_reserve_years"]) >= 3
        numbers.add(data["mining_licence"]["number"])
    assert len(numbers) == len(demo_region.demo_mines()) + len(DEMO_MINES) + len(rows)


def test_the_enterprises_codes_are_valid_and_distinct():
    codes = [e.credit_code for e in demo_region.DEMO_ENTERPRISES]
    assert len(set(codes)) == 12 and {e.league for e in demo_region.DEMO_ENTERPRISES} == set(regions.LEAGUE_NAMES)
    for e in demo_region.DEMO_ENTERPRISES:
        assert rules.credit_code_problems(e.credit_code) == [], e
        assert e.credit_code[2:8] == regions.league_by_code(e.league_code).division_code
        assert demo_region.org_code_check_char(e.credit_code[8:16]) == e.credit_code[16]
    # the standard's own example: 组织机构代码 D2143569-X (weights 3 7 9 10 5 8 4 2)
    assert demo_region.org_code_check_char("D2143569") == "X"


def test_every_league_has_a_bureau_and_an_enterprise_and_the_review_leagues_every_reviewer():
    users = {u[0]: u for u in DEMO_USERS}
    for league in regions.LEAGUE_NAMES:
        bureau = users[demo_region.bureau_of(league)]
        assert bureau[1] == "bureau" and bureau[2]["area"] == league
    for e in demo_region.DEMO_ENTERPRISES:
        assert users[e.username][2] == {"enterprise": e.credit_code}
    assert {league for league, _ in DEMO_LEAGUES} == {regions.league_by_code(c).name
                                                      for c in demo_region.REVIEW_LEAGUES}
    for keep in ("enterprise", "enterprise2", "bureau", "bureau_baotou"):
        assert keep in users


def test_every_league_gets_a_draft_a_return_and_a_case_in_review():
    stages = Counter()
    for m in demo_region.demo_mines():
        stages[(m.league_code, m.stage)] += 1
    for league in regions.LEAGUES:
        for stage in ("draft", "returned", "submitted"):
            assert stages[(league.code, stage)] >= 1, (league.name, stage)
        assert stages[(league.code, "forwarded")] == (1 if league.code in demo_region.REVIEW_LEAGUES else 0)


def test_the_later_stages_are_hooks():
    assert [h.__name__ for h in demo_region.LATER_STAGES] == ["evaluation_stage", "publicity_stage",
                                                              "listing_stage", "supervision_stage",
                                                              "targets_stage"]


def test_hashing_the_demo_passwords_stays_quick():
    """argon2 per account (the platform's own hashing): the demo's ~80 accounts hash in a few seconds."""
    from shared.identity import hash_password

    started = time.perf_counter()
    for _ in range(10):
        hash_password("Greenmine-2025")
    per = (time.perf_counter() - started) / 10
    total = per * len(DEMO_USERS)
    print(f"\nargon2: {per * 1000:.0f} ms per account, {len(DEMO_USERS)} accounts ≈ {total:.1f} s")
    assert total < 30
