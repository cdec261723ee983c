"""Objections on real servers (MongoDB-wire server with GridFS, Kafka-protocol broker, the service's relay): filing
over multipart with evidence into GridFS and the printable receipt; refused filings leave no file; the rate limits
answer 429 with Retry-After; triage, findings, upheld and not upheld; who sees the objector; the public lookup
shows only the outcome; the published events and every public answer carry no personal data."""
from __future__ import annotations

import io
import json
import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from batch_builders import closed_batch, open_batch

from public_notice.adapters.repository import MongoPublicNoticeUnitOfWork
from public_notice.domain.identity_numbers import check_character

pytestmark = pytest.mark.integration

AT = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)     # Tuesday, 10:00 in Beijing
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
PDF = b"%PDF-1.4\n" + b"1 0 obj<<>>endobj\n" * 100 + b"%%EOF\n"
NAME, PHONE, ORG, EMAIL = "王秀英", "13912345678", "伊金霍洛旗某某嘎查", "wang.xiuying@example.cn"


def id_number() -> str:
    first17 = f"150627{random.randint(1950, 2000)}0{random.randint(1, 9)}1{random.randint(0, 9)}" \
              f"{random.randint(0, 999):03d}"
    return first17 + check_character(first17)


def client_ip() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def entry(n, league="鄂尔多斯市"):
    return {"application_id": f"app-{n:04d}", "review_id": f"app-{n:04d}.v1", "version_no": 1,
            "mine_id": f"mine-{n:04d}", "mine_name": f"示范矿山{n:02d}号",
            "enterprise_name": "鄂尔多斯示范煤业有限公司", "league": league}


@pytest.fixture
def batches(notice):
    """Real PublicityBatches: one open 2026-06-01 to 06-05 (mines 1 and 2), one whose window closed in May (3)."""
    batch_id, closed_id = f"b-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:8]}"
    opened = open_batch(batch_id, [entry(1), entry(2)], start=date(2026, 6, 1))
    assert (opened.window_start, opened.window_end) == ("2026-06-01", "2026-06-05")
    closed = closed_batch(closed_id, [entry(3)], published_on=date(2026, 5, 6))
    assert closed.window_end < "2026-06-02"
    uow = MongoPublicNoticeUnitOfWork(notice.store)
    uow.run(lambda: (uow.batches.save(opened), uow.batches.save(closed)))
    notice.clock.fixed = AT
    return notice, batch_id, closed_id


def csrf_client(notice, query=""):
    client = notice.app.test_client()
    page = client.get(f"/public/objections/new{query}", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    return client, re.search(r'name="csrf-token" content="([^"]+)"', html).group(1), html


def form(batch_id, application_id="app-0001", **changes):
    return {"batch_id": batch_id, "application_id": application_id, "name": NAME, "id_number": id_number(),
            "phone": PHONE, "organisation": ORG, "email": EMAIL,
            "grounds": "该矿山排土场边坡未按矿山地质环境保护与土地复垦方案进行复绿，草原退化明显。",
            "indicators": ["1", "30"], "consent": "true", **changes}


def post(client, csrf, data, files=(), ip=None, json_body=False):
    headers = {"X-CSRFToken": csrf, "Accept": "application/json", "X-Forwarded-For": ip or client_ip()}
    if json_body:
        return client.post("/api/v1/notice/objections", data=json.dumps(data, ensure_ascii=False),
                           content_type="application/json", headers=headers)
    body = {k: v for k, v in data.items()}
    body["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/api/v1/notice/objections", data=body, content_type="multipart/form-data", headers=headers)


def evidence_count(notice) -> int:
    return notice.db["objection_evidence.files"].count_documents({})


def test_filing_with_evidence_refusals_leave_no_file_and_the_limits(batches):
    notice, batch_id, closed_id = batches
    client, csrf, html = csrf_client(notice, f"?batch={batch_id}&application=app-0002")
    assert "示范矿山01号" in html and "示范矿山03号" not in html      # only mines of open windows
    assert re.search(rf'value="{batch_id}\|app-0002" selected', html)
    before = evidence_count(notice)

    filed = post(client, csrf, form(batch_id), files=[("现场照片.png", PNG), ("举报材料.pdf", PDF)])
    assert filed.status_code == 201, filed.get_json()
    receipt = filed.get_json()
    assert re.fullmatch(r"YY2026-\d{6}", receipt["receipt_no"]) and len(receipt["lookup_code"]) == 12
    assert evidence_count(notice) == before + 2
    stored = notice.db["objections"].find_one({"_id": receipt["objection_id"]})
    assert [e["content_type"] for e in stored["evidence"]] == ["image/png", "application/pdf"]
    assert receipt["lookup_code"] not in json.dumps(stored, default=str)
    batch = notice.db["batches"].find_one({"_id": batch_id})
    assert batch["entries"][0]["objections"] == [receipt["objection_id"]]

    # refused: bad fields (each named), a file that is not what it says, too many files, a closed window
    bad = post(client, csrf, form(batch_id, id_number="150627198001011234", phone="123", grounds="短", consent=""),
               files=[("a.png", PNG)])
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"id_number", "phone", "grounds", "consent"}
    fake = post(client, csrf, form(batch_id), files=[("photo.png", b"MZ\x90\x00" + b"\x00" * 100)])
    assert fake.status_code == 422 and "files[0]" in fake.get_json()["errors"]
    many = post(client, csrf, form(batch_id), files=[(f"p{i}.png", PNG) for i in range(6)])
    assert many.status_code == 422 and "files" in many.get_json()["errors"]
    closed = post(client, csrf, form(closed_id, "app-0003"), files=[("a.png", PNG)])
    assert closed.status_code == 409 and "不在公示期内" in closed.get_json()["message"]
    unknown = post(client, csrf, form(batch_id, "app-9999"), files=[("a.png", PNG)])
    assert unknown.status_code == 422 and "application_id" in unknown.get_json()["errors"]
    assert evidence_count(notice) == before + 2                       # nothing left behind by the refusals
    chunks = notice.db["objection_evidence.chunks"].distinct("files_id")
    assert len(chunks) == before + 2

    # JSON without files; unknown keys refused
    as_json = post(client, csrf, {**form(batch_id), "indicators": [1]}, json_body=True)
    assert as_json.status_code == 201, as_json.get_json()
    assert post(client, csrf, {**form(batch_id), "extra": 1}, json_body=True).status_code == 422

    # the same identity number: 3 per day, then 429 with Retry-After (whatever the address)
    person = id_number()
    for _ in range(3):
        assert post(client, csrf, form(batch_id, id_number=person), json_body=True).status_code == 201
    limited = post(client, csrf, form(batch_id, id_number=person), json_body=True)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "提交过于频繁" in limited.get_json()["message"]
    # one address: 5 per hour
    ip = client_ip()
    answers = [post(client, csrf, form(batch_id), ip=ip, json_body=True).status_code for _ in range(6)]
    assert answers == [201] * 5 + [429]

    # the printable receipt through the HTML form
    page = client.post("/public/objections/new", data={**form(batch_id), "application_id": f"{batch_id}|app-0002",
                                                        "batch_id": "", "csrf_token": csrf,
                                                        "files": [(io.BytesIO(PNG), "a.png")]},
                       content_type="multipart/form-data", headers={"X-Forwarded-For": client_ip()})
    text = page.get_data(as_text=True)
    assert page.status_code == 201 and "异议受理回执" in text and "示范矿山02号" in text
    assert re.search(r'id="lookup-code">[A-Z0-9]{12}<', text)
    refused = client.post("/public/objections/new", data={**form(batch_id), "csrf_token": csrf, "name": ""},
                          headers={"X-Forwarded-For": client_ip()})
    assert refused.status_code == 422 and "请填写姓名" in refused.get_data(as_text=True)


def test_triage_findings_conclusions_lookup_and_no_personal_data_in_public(batches, caplog):
    caplog.set_level("INFO")   # the services' level (pymongo's DEBUG command log would show any document)
    notice, batch_id, _ = batches
    client, csrf, _ = csrf_client(notice)
    person = id_number()
    first = post(client, csrf, form(batch_id, id_number=person), files=[("现场照片.png", PNG)]).get_json()
    second = post(client, csrf, form(batch_id, "app-0002", indicators=[]), json_body=True).get_json()
    oid, oid2 = first["objection_id"], second["objection_id"]

    queue = notice.call("GET", "/api/v1/notice/objections", "region").get_json()
    assert {r["id"] for r in queue} >= {oid, oid2} and all("objector" not in r for r in queue)
    assert notice.call("GET", "/api/v1/notice/objections", "bureau").status_code == 403
    assert notice.call("GET", f"/api/v1/notice/objections/{oid}", "reviewer_nr").status_code == 404  # not triaged

    view = notice.call("GET", f"/api/v1/notice/objections/{oid}", "region").get_json()
    assert view["objector"]["id_number"] == person
    assert (view["mine_name"], view["league"], view["batch_id"], view["review_id"], view["overdue"]) == (
        "示范矿山01号", "鄂尔多斯市", batch_id, "app-0001.v1", False)
    assert view["filed_at"].startswith("2026-06-02T02:00") and view["evidence"][0]["content_type"] == "image/png"
    assert "lookup_hash" not in view and "id_hash" not in view
    # 第1项 功能分区 (自然资源、能源、应急管理) and 第30项
    assert "natural_resources" in view["proposed_departments"]
    triaged = notice.call("POST", f"/api/v1/notice/objections/{oid}/triage", "region",
                          {"departments": ["natural_resources", "ecology_environment"], "working_days": 10})
    assert triaged.status_code == 200, triaged.get_json()
    assert triaged.get_json()["due_date"] == "2026-06-16"
    assert notice.call("POST", f"/api/v1/notice/objections/{oid}/triage", "reviewer_nr", {}).status_code == 403

    seen = notice.call("GET", f"/api/v1/notice/objections/{oid}", "reviewer_nr").get_json()
    assert seen["objector"]["name"] == NAME
    assert notice.call("GET", f"/api/v1/notice/objections/{oid}", "reviewer_nr_baotou").status_code == 404
    file_id = seen["evidence"][0]["file_id"]
    download = notice.call("GET", f"/api/v1/notice/objections/{oid}/evidence/{file_id}", "reviewer_nr")
    assert download.status_code == 200 and download.data == PNG and download.mimetype == "image/png"
    assert notice.call("GET", f"/api/v1/notice/objections/{oid}/evidence/{file_id}",
                       "reviewer_nr_baotou").status_code == 404

    bad = notice.call("POST", f"/api/v1/notice/objections/{oid}/findings", "reviewer_nr",
                      {"finding": "supported", "text": "属实", "site_check": {"date": "2026-06-09", "place": "",
                                                                             "observed": "x"}})
    assert bad.status_code == 422 and {"site_check.date", "site_check.place"} <= set(bad.get_json()["errors"])
    assert notice.call("POST", f"/api/v1/notice/objections/{oid}/findings", "reviewer_nr", {
        "finding": "supported", "text": "排土场约3公顷未复绿。",
        "site_check": {"date": "2026-06-02", "place": "排土场北侧", "observed": "裸露边坡"}}).status_code == 200
    assert notice.call("POST", f"/api/v1/notice/objections/{oid}/findings", "reviewer_eco", {
        "finding": "not_supported", "text": "未发现环境违法。"}).get_json()["status"] == "verified"
    missing = notice.call("POST", f"/api/v1/notice/objections/{oid}/conclusion", "region",
                          {"outcome": "upheld", "reasons": "属实", "reply": "属实"})
    assert missing.status_code == 422 and "action" in missing.get_json()["errors"]
    done = notice.call("POST", f"/api/v1/notice/objections/{oid}/conclusion", "region", {
        "outcome": "upheld", "action": "return_to_region", "reasons": "排土场未复绿，异议成立。",
        "reply": "经核查，您反映的排土场未复绿问题属实，已退回重新审核。"})
    assert done.status_code == 200 and done.get_json()["status"] == "concluded"
    again = notice.call("POST", f"/api/v1/notice/objections/{oid}/conclusion", "region", {
        "outcome": "not_upheld", "reasons": "x", "reply": "y"})
    assert again.status_code == 409
    batch = notice.db["batches"].find_one({"_id": batch_id})
    assert [(h["objection_id"], h["upheld"], h["outcome_action"]) for h in batch["history"]
            if h["action"] == "objection_concluded"] == [(oid, True, "return_to_region")]
    assert batch["entries"][0]["upheld"] == [oid] and batch["entries"][0]["state"] == "returned"

    # the second: not upheld
    assert notice.call("POST", f"/api/v1/notice/objections/{oid2}/triage", "region", {}).get_json()[
        "departments"] == ["natural_resources"]
    notice.call("POST", f"/api/v1/notice/objections/{oid2}/findings", "reviewer_nr",
                {"finding": "not_supported", "text": "不属实。"})
    notice.call("POST", f"/api/v1/notice/objections/{oid2}/conclusion", "region", {
        "outcome": "not_upheld", "reasons": "内部核查记录", "reply": "经核查，您反映的问题不属实。"})

    # the public lookup: the outcome and the reply only; a wrong code as an unknown receipt
    anon = notice.app.test_client()
    look = anon.get(f"/api/v1/notice/objections/lookup?receipt_no={first['receipt_no']}&code={first['lookup_code']}",
                    headers={"Accept": "application/json", "X-Forwarded-For": client_ip()})
    assert look.status_code == 200
    result = look.get_json()
    assert result["outcome"] == "upheld" and result["reply"].startswith("经核查") and "reasons" not in result
    wrong = anon.get(f"/api/v1/notice/objections/lookup?receipt_no={first['receipt_no']}&code=AAAAAAAAAAAA",
                     headers={"Accept": "application/json", "X-Forwarded-For": client_ip()})
    unknown = anon.get(f"/api/v1/notice/objections/lookup?receipt_no=YY2026-999999&code={first['lookup_code']}",
                       headers={"Accept": "application/json", "X-Forwarded-For": client_ip()})
    assert wrong.status_code == unknown.status_code == 404 and wrong.get_json() == unknown.get_json()
    lookup_page = client.post("/public/objections/lookup", data={
        "csrf_token": csrf, "receipt_no": second["receipt_no"], "code": second["lookup_code"]},
        headers={"X-Forwarded-For": client_ip()})
    page_text = lookup_page.get_data(as_text=True)
    assert lookup_page.status_code == 200 and "异议不成立" in page_text and "内部核查记录" not in page_text

    # staff pages
    queue_page = notice.call("GET", "/notice/objections", "region", headers={"Accept": "text/html"})
    assert queue_page.status_code == 200 and first["receipt_no"] in queue_page.get_data(as_text=True)
    detail = notice.call("GET", f"/notice/objections/{oid}", "reviewer_nr", headers={"Accept": "text/html"})
    assert detail.status_code == 200 and NAME in detail.get_data(as_text=True)

    # the events (from the outbox) and every public answer: no personal data
    from notice_harness import wait_for
    wait_for(lambda: len(notice.published("public_notice.objection_concluded")) >= 2, what="outbox")
    published = [p for t in ("objection_filed", "objection_triaged", "objection_finding_recorded",
                             "objection_concluded") for p in notice.published(f"public_notice.{t}")]
    concluded = [p for p in notice.published("public_notice.objection_concluded") if p["objection_id"] == oid]
    assert concluded[0]["review_id"] == "app-0001.v1" and concluded[0]["action"] == "return_to_region"
    public = [look.get_data(as_text=True), page_text,
              anon.get("/public/objections/new", headers={"Accept": "text/html"}).get_data(as_text=True)]
    text = json.dumps(published, ensure_ascii=False) + "".join(public)
    for secret in (NAME, person, PHONE, ORG, EMAIL):
        assert secret not in text, secret
        assert secret not in caplog.text, secret                    # nor on any log line
    assert f"{NAME[0]}* {person[:6]}**********{person[-2:]}" in caplog.text   # the filing's line, masked
    history = notice.db["objections"].find_one({"_id": oid})["history"]
    assert [h["by"] for h in history if h["action"] == "personal_data_viewed"][:2] == ["region", "reviewer_nr"]


def test_overdue_findings_are_flagged_by_the_sweep_once(batches):
    from public_notice.domain.commands import Sweep

    notice, batch_id, _ = batches
    client, csrf, _ = csrf_client(notice)
    oid = post(client, csrf, form(batch_id), json_body=True).get_json()["objection_id"]
    notice.call("POST", f"/api/v1/notice/objections/{oid}/triage", "region",
                {"departments": ["natural_resources"], "working_days": 1})
    notice.clock.fixed = AT + timedelta(days=3)
    notice.bus.handle(Sweep())
    notice.bus.handle(Sweep())
    doc = notice.db["objections"].find_one({"_id": oid})
    assert doc["overdue"] is True and [h["action"] for h in doc["history"]].count("overdue") == 1
    queue = notice.call("GET", "/api/v1/notice/objections?overdue=true", "reviewer_nr").get_json()
    assert oid in [r["id"] for r in queue] and all(r["overdue"] for r in queue)


def test_filing_against_a_published_publicity_batch(notice):
    """The real PublicityBatch (publicity area) on the real servers: its open mines on the form, a filing, the
    entry holding the open objection."""
    from public_notice.domain.publicity import ProposedCase, PublicityBatch
    from shared.workdays import WorkingCalendar

    calendar, today = WorkingCalendar(), AT.date()
    cases = [ProposedCase.from_decision({
        "review_id": f"app-{n:04d}.v1", "application_id": f"app-{n:04d}", "version_no": 1, "league": "鄂尔多斯市",
        "case_no": f"150600-2026-{n:05d}", "decided_by": "region", "decided_at": "2026-05-20T09:00:00Z",
        "enterprise": {"name": "鄂尔多斯示范煤业有限公司"}, "mine": {"name": f"真实批次矿山{n}号"},
        "evaluation": {}}) for n in (7, 8)]
    batch_id = f"gs-{uuid.uuid4().hex[:8]}"
    batch = PublicityBatch.compose(batch_id, cases, title=None, working_days=5, start=None, calendar=calendar,
                                   today=today, n=1, at=AT, by="region")
    batch.publish(calendar=calendar, today=today, n=1, at=AT, by="region")
    uow = MongoPublicNoticeUnitOfWork(notice.store)
    uow.run(lambda: uow.batches.save(batch))
    notice.clock.fixed = datetime.combine(date.fromisoformat(batch.window_start), datetime.min.time(), UTC) + \
        timedelta(hours=2)
    client, csrf, html = csrf_client(notice)
    assert "真实批次矿山7号" in html and "真实批次矿山8号" in html
    answer = post(client, csrf, form(batch_id, "app-0008"), files=[("a.pdf", PDF)])
    assert answer.status_code == 201, answer.get_json()
    entry = uow.read(lambda: uow.batches.get(batch_id)).entry("app-0008")
    assert entry["open_objections"] == [answer.get_json()["objection_id"]]
