"""The mine register over HTTP on real servers: every validation error names its field, nothing is stored
half-way, an enterprise sees and edits only its own mines, officials read within their area."""
from __future__ import annotations

import re

import pytest
from intake_api_support import COAL_MINE, SAND_MINE, mine

pytestmark = pytest.mark.integration
CJK = re.compile(r"[\u4e00-\u9fff]")


def count(service, collection):
    return service.db[collection].count_documents({})


def test_register_read_list_and_edit_a_mine(ent1, service):
    created = ent1.post("/api/v1/mines", COAL_MINE)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.json
    assert body["enterprise"] == {"name": "鄂尔多斯示范煤业有限公司", "credit_code": "91150600MA0N00001W"}
    assert body["league"] == "ordos" and body["league_name"] == "鄂尔多斯市"
    assert body["county"] == "150622" and body["county_name"] == "准格尔旗"
    assert body["business_licence"]["valid_to"] is None and body["version"] == 1
    assert body["minerals"] == [{"code": "coal", "name": "煤"}]
    one = ent1.get(f"/api/v1/mines/{body['id']}")
    assert one.status_code == 200 and one.json["name"] == COAL_MINE["name"]
    assert [m["id"] for m in ent1.get("/api/v1/mines").json] == [body["id"]]

    edited = ent1.put(f"/api/v1/mines/{body['id']}", mine(COAL_MINE, name="鄂尔多斯示范露天煤矿（一号井田）",
                                                           expected_version=1))
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.json["name"] == "鄂尔多斯示范露天煤矿（一号井田）" and edited.json["version"] == 2
    stale = ent1.put(f"/api/v1/mines/{body['id']}", mine(COAL_MINE, name="又一个名字", expected_version=1))
    assert stale.status_code == 409 and "已在其他地方修改" in stale.json["message"]
    audit = [e["action"] for e in service.db["audit_log"].find().sort("at", 1)]
    assert audit == ["mine_registered", "mine_updated"]


def test_forgiving_input_is_normalised(ent1):
    data = mine(COAL_MINE, league="鄂尔多斯", county="150622", scale="大型", mining_method="露天",
                production_status="在产", industry_group="（一）", minerals=["煤"],
                **{"mining_licence.valid_from": "2020年1月1日", "mining_licence.number": "c15000020100611-2006 7890"})
    created = ent1.post("/api/v1/mines", data)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["mining_method"] == "open_pit" and created.json["scale"] == "large"
    assert created.json["mining_licence"]["number"] == "C1500002010061120067890"
    assert created.json["mining_licence"]["valid_from"] == "2020-01-01"


INVALID = [
    ("name", {"name": ""}),
    ("enterprise.name", {"enterprise": {"name": "企" * 101}}),
    ("mining_licence.number", {"mining_licence.number": "C123"}),
    ("mining_licence.number", {"mining_licence.number": "1500002010061120067890"}),
    ("mining_licence.valid_to", {"mining_licence.valid_to": "2021-12-31"}),
    ("mining_licence.valid_from", {"mining_licence.valid_from": "2020-02-30"}),
    ("safety_licence.valid_to", {"safety_licence.valid_to": "2020-01-01"}),
    ("safety_licence.number", {"safety_licence.number": ""}),
    ("business_licence.valid_from", {"business_licence": {"valid_from": "", "valid_to": None}}),
    ("league", {"league": "北京市"}),
    ("county", {"county": "昆都仑区"}),
    ("county", {"county": ""}),
    ("minerals", {"minerals": []}),
    ("minerals[0].other", {"minerals": [{"code": "other"}]}),
    ("minerals[1]", {"minerals": ["coal", "coal"]}),
    ("minerals[0]", {"minerals": ["unobtainium"]}),
    ("scale", {"scale": "huge"}),
    ("industry_group", {"industry_group": None}),
    ("industry_group", {"industry_group": 3}),
    ("mining_method", {"mining_method": "combined"}),
    ("mining_method", {"mining_method": "oil_gas"}),
    ("production_status", {"production_status": "sleeping"}),
    ("production_start_date", {"production_start_date": "2099-01-01"}),
    ("production_start_date", {"production_start_date": None}),
    ("remaining_reserve_years", {"remaining_reserve_years": "-1"}),
    ("remaining_reserve_years", {"remaining_reserve_years": "很多"}),
    ("remaining_reserve_years", {"remaining_reserve_years": "1.234"}),
    ("colour", {"colour": "green"}),
    ("mining_licence", {"mining_licence": "C1500002010061120067890"}),
    ("mining_licence.issuer", {"mining_licence": {**COAL_MINE["mining_licence"], "issuer": "部"}}),
    ("name", {"name": 42}),
]


@pytest.mark.parametrize("field,change", INVALID, ids=[f"{f}-{i}" for i, (f, _c) in enumerate(INVALID)])
def test_every_mine_error_names_its_field_and_stores_nothing(ent1, service, field, change):
    data = mine(COAL_MINE, **{k: v for k, v in change.items() if k != "enterprise"})
    if "enterprise" in change:
        data["enterprise"] = change["enterprise"]
    response = ent1.post("/api/v1/mines", data)
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.json["errors"]
    assert field in errors, errors
    assert all(CJK.search(m) for messages in errors.values() for m in messages), errors
    assert CJK.search(response.json["message"])
    assert count(service, "mines") == 0 and count(service, "audit_log") == 0


def test_all_errors_come_at_once(ent1, service):
    data = mine(COAL_MINE, name="", league="", scale="", remaining_reserve_years="")
    response = ent1.post("/api/v1/mines", data)
    assert response.status_code == 422
    assert {"name", "league", "scale", "remaining_reserve_years"} <= set(response.json["errors"])
    assert response.json["errors"]["league"] == ["所在盟市：未选择"]


def test_another_enterprise_may_not_register_or_see_or_edit(ent1, ent2, service):
    foreign = ent2.post("/api/v1/mines", mine(COAL_MINE, enterprise={"name": "鄂尔多斯示范煤业有限公司",
                                                                     "credit_code": "91150600MA0N00001W"}))
    assert foreign.status_code == 403 and "本企业" in foreign.json["message"]
    assert count(service, "mines") == 0
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    assert ent2.get(f"/api/v1/mines/{mine_id}").status_code == 403
    assert ent2.put(f"/api/v1/mines/{mine_id}", COAL_MINE).status_code == 403
    assert ent2.get("/api/v1/mines").json == []
    assert ent1.get("/api/v1/mines/mine-does-not-exist").status_code == 404


def test_duplicate_licence_number_is_refused(ent1, ent2):
    assert ent1.post("/api/v1/mines", COAL_MINE).status_code == 201
    again = ent2.post("/api/v1/mines",
                      mine(SAND_MINE, **{"mining_licence.number": COAL_MINE["mining_licence"]["number"]}))
    assert again.status_code == 422 and "mining_licence.number" in again.json["errors"]


def test_officials_read_within_their_area_only(ent1, ent2, bureau, bureau_baotou, region):
    coal = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    sand = ent2.post("/api/v1/mines", SAND_MINE).json["id"]
    assert [m["id"] for m in bureau.get("/api/v1/mines").json] == [coal]
    assert [m["id"] for m in bureau_baotou.get("/api/v1/mines").json] == [sand]
    assert sorted(m["id"] for m in region.get("/api/v1/mines").json) == sorted([coal, sand])
    assert bureau.get(f"/api/v1/mines/{coal}").status_code == 200
    assert bureau.get(f"/api/v1/mines/{sand}").status_code == 403
    assert bureau.put(f"/api/v1/mines/{coal}", COAL_MINE).status_code == 403  # officials never edit


def test_vocabulary_lists_all_twelve_leagues_and_their_counties(ent1):
    vocabulary = ent1.get("/api/v1/mines/vocabulary").json
    assert len(vocabulary["leagues"]) == 12
    assert sum(len(league["counties"]) for league in vocabulary["leagues"]) == 103
    ordos = next(league for league in vocabulary["leagues"] if league["code"] == "ordos")
    assert {"code": "150622", "name": "准格尔旗"} in ordos["counties"]


HIDDEN = ["\u202e", "\u200b", "\x00", "\ufeff", "\u2066", "\x1b"]


@pytest.mark.parametrize("char", HIDDEN, ids=[f"U+{ord(c):04X}" for c in HIDDEN])
def test_names_with_invisible_or_reordering_characters_are_refused(ent1, service, char):
    """A right-to-left override, a zero-width space, NUL or a BOM in a name: 422 naming the field (not stored,
    not silently dropped); the same in an 'other' mineral and the safety licence number."""
    data = mine(COAL_MINE, name=f"鄂尔多斯{char}示范煤矿", minerals=[{"code": "other", "other": f"稀{char}土"}],
                **{"safety_licence.number": f"（蒙）FM安许证字{char}〔2023〕1号"})
    response = ent1.post("/api/v1/mines", data)
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.json["errors"]
    assert {"name", "minerals[0].other", "safety_licence.number"} <= set(errors), errors
    assert f"U+{ord(char):04X}" in errors["name"][0] and CJK.search(errors["name"][0])
    assert count(service, "mines") == 0


def test_names_are_stored_in_nfc(ent1):
    decomposed = "Cafe\u0301 示范煤矿"          # e + combining acute: NFC makes it one character
    created = ent1.post("/api/v1/mines", mine(COAL_MINE, name=decomposed + "\n"))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["name"] == "Caf\u00e9 示范煤矿"
