"""The intake pages render from real data: the form is generated from the index for each branch and method,
the checklist shows what is missing, the case page its history, the score sheet comes from the scoring service."""
from __future__ import annotations

import re

import pytest
from intake_api_support import COAL_MINE, SAND_MINE, full_assessment, headers, mine, upload_required

from shared.catalog import load_catalog

pytestmark = pytest.mark.integration


def page(client, settings, principal, path):
    response = client.get(path, headers={**headers(settings, principal), "Accept": "text/html"})
    return response, response.get_data(as_text=True)


def indicator_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<fieldset class="indicator" id="ind-(\d+)"', html)]


def test_workspace_mine_form_and_dependent_selects(ent1, client, intake_settings):
    response, html = page(client, intake_settings, ent1.principal, "/intake/")
    assert response.status_code == 200 and "还没有登记矿山" in html and "登记矿山" in html
    response, html = page(client, intake_settings, ent1.principal, "/intake/mines/new")
    assert response.status_code == 200
    for label in ("企业名称", "统一社会信用代码", "所在盟市", "所在旗县（市、区）", "主要开采矿种", "采矿许可证证号",
                  "安全生产许可证编号", "剩余储量可采年限（年）"):
        assert f">{label}</label>" in html, label
    assert html.count('<option value="') >= 12 + 55
    assert "准格尔旗" in html and "额济纳旗" in html and "91150600MA0N00001W" in html
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    response, html = page(client, intake_settings, ent1.principal, f"/intake/mines/{mine_id}")
    assert response.status_code == 200 and "编辑矿山信息" in html and mine_id in html
    response, html = page(client, intake_settings, ent1.principal, "/intake/")
    assert COAL_MINE["name"] in html and "发起申报" in html


@pytest.mark.parametrize("base,group,method", [
    (COAL_MINE, 1, "open_pit"), (mine(COAL_MINE, mining_method="underground"), 1, "underground"),
    (SAND_MINE, 2, "open_pit"),
    (mine(COAL_MINE, minerals=["natural_gas"], mining_method="oil_gas", production_status="in_production"), 1,
     "oil_gas"),
])
def test_the_form_is_generated_from_the_index(ent1, ent2, client, intake_settings, base, group, method):
    api = ent2 if group == 2 else ent1
    created = api.post("/api/v1/mines", base)
    assert created.status_code == 201, created.get_data(as_text=True)
    app_id = api.post("/api/v1/applications", {"mine_id": created.json["id"]}).json["id"]
    response, html = page(client, intake_settings, api.principal, f"/intake/applications/{app_id}/form")
    assert response.status_code == 200
    catalog = load_catalog("nm-2025")
    assert indicator_numbers(html) == [i.no for i in catalog.indicators_in_group(group)]
    for p in catalog.prerequisites:
        assert f'id="pre-{p.code}"' in html and p.name in html
    assert html.count(">约束性</span>") == len([i for i in catalog.indicators_in_group(group) if i.binding])
    assert catalog.indicator(10).text in html
    assert 'aria-live="polite"' in html and 'id="score-live"' in html
    if group == 2:
        assert 'id="f-variant"' in html and "砂石、建筑石材等行业" in html and "水泥灰岩行业" in html
    if method == "oil_gas":
        assert html.count("本项按不涉及项处理") == 2  # 8 and 9 have no rule for oil and gas
    if method == "underground":
        assert "地下开采：" in html and "露天开采：" not in html


def test_materials_and_case_pages(ent1, client, intake_settings, service):
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id}).json["id"]
    response, html = page(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}/materials")
    assert response.status_code == 200 and "提交前还需要" in html
    assert "申报材料（六）：缺少“申报材料真实性承诺书”" in html and 'id="kind-truthfulness_pledge"' in html
    ent1.put(f"/api/v1/applications/{app_id}", {"assessment": full_assessment(), "declared_penalties": False})
    upload_required(ent1, app_id)
    response, html = page(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}/materials")
    assert "材料与声明已齐全" in html
    assert ent1.post(f"/api/v1/applications/{app_id}/submit").status_code == 200
    response, html = page(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}")
    assert response.status_code == 200 and "已提交" in html and "第1版" in html and "提交申报" in html
    response, html = page(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}/form")
    assert "不能修改" in html


def test_score_sheet_comes_from_the_scoring_service(ent1, client, intake_settings):
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id, "assessment": full_assessment(),
                                                "records": {"3": "王工查看警示牌"}}).json["id"]
    html = client.get(f"/intake/applications/{app_id}/sheet?format=html",
                      headers={**headers(intake_settings, ent1.principal), "Accept": "text/html"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    text = html.get_data(as_text=True)
    assert "王工查看警示牌" in text and "评分表" in text
    xlsx = client.get(f"/intake/applications/{app_id}/sheet?format=xlsx", headers=headers(intake_settings,
                                                                                            ent1.principal))
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert "attachment" in xlsx.headers["Content-Disposition"]
    empty = ent1.post("/api/v1/mines", mine(COAL_MINE, **{"mining_licence.number": "C1500002010061120067891"}))
    other = ent1.post("/api/v1/applications", {"mine_id": empty.json["id"]}).json["id"]
    refused = client.get(f"/intake/applications/{other}/sheet?format=html",
                         headers={**headers(intake_settings, ent1.principal), "Accept": "text/html"})
    assert refused.status_code == 422 and "自评估尚未填写" in refused.get_data(as_text=True)


def test_pages_respect_access(ent1, ent2, bureau, client, intake_settings):
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id}).json["id"]
    for path in (f"/intake/mines/{mine_id}", f"/intake/applications/{app_id}",
                 f"/intake/applications/{app_id}/form", f"/intake/applications/{app_id}/materials"):
        response, _ = page(client, intake_settings, ent2.principal, path)
        assert response.status_code == 403, path
        response, html = page(client, intake_settings, bureau.principal, path)
        assert response.status_code == 200, path
    response, html = page(client, intake_settings, bureau.principal, "/intake/")
    assert COAL_MINE["name"] in html and "发起申报" not in html


def test_demo_data_is_idempotent(settings, service):
    from intake.entrypoints.cli import DEMO_MINES, load_demo_data
    from shared.demo_region import demo_mines

    first = load_demo_data(settings)
    # and the 30 mines of the earlier green-mine list (contracts/demo/historical-green-mines.csv)
    assert len(DEMO_MINES) == 6 and len(first["mines"]) == 6 + len(demo_mines()) + 30 == 96
    assert first["mines"][-30:] == [f"mine-hist-{n:02d}" for n in range(1, 31)]
    assert first["applications"] == ["app-demo-ordos-coal"]
    leagues = {d["league"] for d in service.db["mines"].find()}
    assert {"ordos", "baotou"} < leagues and len(leagues) == 12      # the demo region covers every 盟市
    before = {name: list(service.db[name].find()) for name in ("mines", "applications", "audit_log")}
    assert load_demo_data(settings) == {"mines": [], "applications": []}
    assert {name: list(service.db[name].find()) for name in before} == before
    coal = service.db["mines"].find_one({"_id": "mine-demo-ordos-coal"})
    assert coal["credit_code"] == "91150600MA0N00001W" and coal["county"] == "150622"
    sand = service.db["mines"].find_one({"_id": "mine-demo-baotou-sand"})
    assert sand["credit_code"] == "91150200MA0N00002B" and sand["industry_group"] == 2
    first_listed = service.db["mines"].find_one({"_id": "mine-hist-01"})      # the CSV's first row
    assert (first_listed["name"], first_listed["credit_code"], first_listed["league"], first_listed["county"]) == (
        "清水河县窑沟露天煤矿", "91150100MA0R030187", "hohhot", "150124")


def test_markup_in_user_input_is_never_executed(ent1, client, intake_settings):
    evil = "</script><script>alert(1)</script>矿"
    mine_id = ent1.post("/api/v1/mines", mine(COAL_MINE, name=evil)).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id,
                                                "records": {"3": "<img src=x onerror=alert(2)>"}}).json["id"]
    for path in (f"/intake/mines/{mine_id}", "/intake/", f"/intake/applications/{app_id}/form",
                 f"/intake/applications/{app_id}"):
        response, html = page(client, intake_settings, ent1.principal, path)
        assert response.status_code == 200, path
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html, path
    _response, html = page(client, intake_settings, ent1.principal, f"/intake/mines/{mine_id}")
    assert "\\u003c/script\\u003e" in html  # inside the JSON data block, escaped


def test_intake_copy_is_chinese_with_full_width_punctuation(ent1, client, intake_settings):
    """Item 7 of issue 10: optional materials are 选交, the conditional one says why it is not needed, the basis
    has no OCR remark but a 据原件重建 mark, no internal code and no half-width punctuation in Chinese text."""
    mine_id = ent1.post("/api/v1/mines", COAL_MINE).json["id"]
    app_id = ent1.post("/api/v1/applications", {"mine_id": mine_id, "declared_penalties": False}).json["id"]
    response, html = page(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}/materials")
    assert response.status_code == 200
    assert "不需要" not in html and ">选交</span>" in html          # 其他材料
    # (七) lists 宣传片、遥感影像、现场照片: each is required
    for kind in ("promo_video", "remote_sensing_image", "site_photos"):
        assert re.search(rf'id="kind-{kind}".*?<small class="req">必须</small>', html, flags=re.S), kind
    assert ">无需提交（未申报行政处罚）</span>" in html
    assert re.search(r'id="missing-head">提交前还需要（\d+项）：', html)
    response, html = page(client, intake_settings, ent1.principal, f"/intake/applications/{app_id}/form")
    catalog = load_catalog("nm-2025")
    assert "OCR" not in html and "nm-2025" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)
    # 据原件重建 marks: beside each reconstructed 依据, under each indicator with other reconstructed readings, and
    # beside each reconstructed sub-item of the open-pit rule (the reasons on hover, in words, without “OCR”)
    marks = 0
    for i in catalog.indicators_in_group(1):
        marks += bool(i.basis_reconstructed and i.display_basis) + bool(set(i.inferred) - {"basis"})
        rule = i.scoring_rule("open_pit")
        marks += sum(1 for item in getattr(rule, "items", ()) if item.inferred)
    assert marks > 40 and html.count('class="reconstructed"') == marks
    assert 'title="原件识别文字“遗式等破”' in html
    # the pages' own copy (the form quotes the index's text as the catalog holds it, which is checked above)
    for path in (f"/intake/applications/{app_id}/materials", f"/intake/applications/{app_id}", "/intake/"):
        text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", page(
            client, intake_settings, ent1.principal, path)[1], flags=re.S)
        bad = re.findall(r".{0,12}(?:[\u4e00-\u9fff][;:,!?]|[;:,!?][\u4e00-\u9fff]).{0,12}", text)
        assert not bad, (path, bad)
        assert not re.search(r"\b(ecology_environment|eia_approval|business_licence|review_routing|scoring|nm-2025)\b",
                             text), path
