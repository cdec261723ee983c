"""Issue 12 end to end on real servers (the MongoDB-wire server, the Kafka-protocol broker, the service's consumer
and relay): three proposed mines in one 公示 batch; one real-name objection upheld (the mine is refused), one not
upheld; after the window the region office lists the other two and the numbered 公告 is published. Then:

- every public answer of the app (each GET route a visitor may call, with every id the flow produced, the feeds,
  the exports and the PDFs) is searched for the objectors' personal data: none;
- every event the service consumed or published is delivered again: nothing changes in any collection."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from notice_harness import proposed_event, wait_for
from pypdf import PdfReader

from public_notice.domain.commands import Sweep
from shared import identity
from shared.storage import HEARTBEATS, INBOX, OUTBOX, outbox_messages

pytestmark = pytest.mark.integration

OPEN_DAY = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)       # a Wednesday, 10:00 in Beijing
AFTER = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)         # the 5-working-day window ended on 8 December
OBJECTORS = [
    {"name": "赵铁柱", "id_number": "11010519491231002X", "phone": "13912345678", "organisation": "草原守望志愿队",
     "email": "zhaotz@example.cn"},
    {"name": "钱晓燕", "id_number": "150102198806150022", "phone": "15047781234", "organisation": "",
     "email": ""},
]
# Runtime state that legitimately moves while an event is delivered again (the inbox of handled events, offsets,
# the consumer's heartbeat, rate-limit windows, the outbox): everything else must stay as it was.
VOLATILE = {INBOX, HEARTBEATS, "offsets", "windows", OUTBOX}


def file_objection(notice, batch_id, application_id, person, grounds):
    body = {**person, "batch_id": batch_id, "application_id": application_id, "grounds": grounds,
            "indicators": [3], "consent": True}
    answer = notice.call("POST", "/api/v1/notice/objections", None, body,
                         headers={"X-Forwarded-For": f"203.0.113.{len(grounds) % 200}"})
    assert answer.status_code == 201, answer.json
    return answer.json


def handle(notice, objection_id, reviewer, outcome, action=None):
    triaged = notice.call("POST", f"/api/v1/notice/objections/{objection_id}/triage", "region",
                          {"departments": ["natural_resources"]})
    assert triaged.status_code == 200, triaged.json
    found = notice.call("POST", f"/api/v1/notice/objections/{objection_id}/findings", reviewer,
                        {"finding": "supported" if outcome == "upheld" else "not_supported",
                         "text": "经现场核查。"})
    assert found.status_code == 200, found.json
    body = {"outcome": outcome, "reasons": "核查结论。", "reply": f"答复：{outcome}"}
    if action:
        body["action"] = action
    concluded = notice.call("POST", f"/api/v1/notice/objections/{objection_id}/conclusion", "region", body)
    assert concluded.status_code == 200, concluded.json


def snapshot(db) -> dict:
    return {name: sorted(repr(sorted(d.items())) for d in db[name].find())
            for name in db.list_collection_names() if name not in VOLATILE and not name.startswith("fs.")}


def public_paths(app, ids: dict) -> list[str]:
    """Every GET route a visitor may call (declared public), its parameters filled with each id the flow made."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or identity.roles_of(app, rule.endpoint, "GET") != identity.PUBLIC:
            continue
        if rule.rule.startswith(("/static", "/healthz", "/readyz", "/metrics", "/favicon")):
            continue
        names = list(rule.arguments)
        if not names:
            paths.append(rule.rule)
            continue
        choices = [ids.get(n, []) for n in names]
        if not all(choices):
            raise AssertionError(f"no id for {rule.rule} ({names}): add it to the flow's ids")
        for values in zip(*[c for c in choices], strict=False):
            paths.append(rule.build(dict(zip(names, values, strict=True)), append_unknown=False)[1])
    return paths


def test_from_publication_through_objections_to_the_list_without_leaking_anyone(notice):
    notice.clock.fixed = OPEN_DAY
    proposals = [proposed_event(n, league=league) for n, league in ((1, "鄂尔多斯市"), (2, "包头市"), (3, "赤峰市"))]
    for event in proposals:
        notice.deliver(event)
    draft = notice.call("POST", "/api/v1/notice/batches", "region",
                        {"application_ids": ["app-0001", "app-0002", "app-0003"], "start_date": "2026-12-02"})
    assert draft.status_code == 201, draft.json
    batch_id = draft.json["id"]
    assert notice.call("POST", f"/api/v1/notice/batches/{batch_id}/publish", "region").status_code == 200
    notice.bus.handle(Sweep())
    public = notice.call("GET", f"/api/v1/notice/publicity/{batch_id}").json
    assert public["accepts_objections"] and {m["mine_name"] for m in public["mines"]} == {
        "示范矿山1号", "示范矿山2号", "示范矿山3号"}

    upheld = file_objection(notice, batch_id, "app-0001", OBJECTORS[0], "排土场复绿面积与公示材料严重不符，请核实。")
    rejected = file_objection(notice, batch_id, "app-0002", OBJECTORS[1], "矿区道路扬尘治理不到位，附照片为证。")
    staff = {o["receipt_no"]: o["id"] for o in notice.call("GET", "/api/v1/notice/objections", "region").json}
    handle(notice, staff[upheld["receipt_no"]], "reviewer_nr", "upheld", action="refuse")
    handle(notice, staff[rejected["receipt_no"]], "reviewer_nr_baotou", "not_upheld")

    notice.clock.fixed = AFTER
    notice.bus.handle(Sweep())
    listing = notice.call("POST", f"/api/v1/notice/batches/{batch_id}/listing", "region", {})
    assert listing.status_code == 200, listing.json
    listed = {m["mine_name"]: m for m in notice.call("GET", "/api/v1/list?per_page=100").json}
    assert set(listed) == {"示范矿山2号", "示范矿山3号"}       # the refused mine is not listed
    announcements = notice.call("GET", "/api/v1/notice/announcements").json
    (listing_announcement,) = [a for a in announcements if a["kind"] == "listing"]
    assert listing_announcement["number"] == "内蒙古自治区绿色矿山名录公告〔2026〕第1号"
    pdf = notice.call("GET", f"/public/announcements/{listing_announcement['id']}.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert "示范矿山2号" in text and "示范矿山3号" in text and "示范矿山1号" not in text
    # The events the other services act on.
    concluded = {p["application_id"]: p for p in wait_for(lambda: notice.published(
        "public_notice.objection_concluded") if len(notice.published("public_notice.objection_concluded")) == 2
        else None, what="two conclusions")}
    assert concluded["app-0001"]["outcome"] == "upheld" and concluded["app-0001"]["action"] == "refuse"
    assert concluded["app-0002"]["outcome"] == "not_upheld"
    assert {p["application_id"] for p in notice.published("public_notice.mine_listed")} == {"app-0002", "app-0003"}

    # Personal data in no public answer, no event, no outbox document.
    secrets_of = [v for person in OBJECTORS for v in person.values() if v]
    secrets_of += [p["id_number"][:6] + p["id_number"][-4:] for p in OBJECTORS]   # no partial number either
    ids = {"batch_id": [batch_id], "mine_id": [m["mine_id"] for m in listed.values()],
           "announcement_id": [a["id"] for a in announcements], "application_id": ["app-0001", "app-0002"]}
    searched = 0
    for path in public_paths(notice.app, ids) + [
            f"/api/v1/notice/objections/lookup?receipt_no={upheld['receipt_no']}&code={upheld['lookup_code']}",
            "/api/v1/list?per_page=100", "/public/list.csv", "/public/list.xlsx"]:
        answer = notice.call("GET", path)
        assert answer.status_code < 500, (path, answer.status_code)
        body = answer.get_data()
        if answer.mimetype == "application/pdf":
            body = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages).encode()
        for value in secrets_of:
            assert value.encode() not in body, (path, value)
        searched += 1
    assert searched >= 20
    for message in outbox_messages(notice.db):
        flat = repr(message)
        assert not any(value in flat for value in secrets_of), message["type"]

    # Every event again — the region's proposals and this service's own (which its notification areas consume):
    before = snapshot(notice.db)
    own = [m["envelope"] for m in outbox_messages(notice.db)]
    consumed = [e for e in own if notice.store.registry.topic_for(e["type"]) in
                notice.store.registry.topics_consumed_by("public_notice")]
    for envelope in proposals + consumed:
        notice.deliver(envelope)
    assert snapshot(notice.db) == before
    assert re.fullmatch(r"YY2026-\d{6}", upheld["receipt_no"])
