"""办件编号 on real servers: two first submissions in one 盟市 at the same moment get distinct, consecutive numbers
(the counter is incremented inside each submission's transaction), another 盟市 counts on its own, a refused
submission uses up no number, and a 补正 resubmission keeps its number."""
from __future__ import annotations

import threading

import pytest
from intake_api_support import COAL_MINE, ENT1, SAND_MINE, Api, full_assessment, mine, upload_required
from test_intake_consumer import deliver, routed

from shared.clock import beijing_date, utcnow
from shared.contracts import new_event
from shared.storage import outbox_messages

pytestmark = pytest.mark.integration
# The outbox also holds intake.mine_recorded (the mine register, for supervision): these tests read the submission.
SUBMITTED = "intake.application_submitted"


def _ready_application(api: Api, mine_body: dict, assessment: dict | None = None) -> str:
    response = api.post("/api/v1/mines", mine_body)
    assert response.status_code == 201, response.get_data(as_text=True)
    app_id = api.post("/api/v1/applications", {"mine_id": response.json["id"],
                                                "assessment": assessment or full_assessment(),
                                                "declared_penalties": False}).json["id"]
    upload_required(api, app_id)
    return app_id


def test_concurrent_first_submissions_in_one_league_get_consecutive_numbers(intake_app, intake_settings, ent1,
                                                                             ent2, service):
    year = beijing_date(utcnow()).year
    first = _ready_application(ent1, COAL_MINE)
    second = _ready_application(ent1, mine(COAL_MINE, name="鄂尔多斯示范二号煤矿", county="伊金霍洛旗",
                                           **{"mining_licence.number": "C1500002010061120067891"}))
    # a refused submission in the same 盟市 (nothing uploaded) takes no number
    refused = ent1.post("/api/v1/mines", mine(COAL_MINE, name="鄂尔多斯示范三号煤矿",
                                             **{"mining_licence.number": "C1500002010061120067892"}))
    refused_app = ent1.post("/api/v1/applications", {"mine_id": refused.json["id"]}).json["id"]
    assert ent1.post(f"/api/v1/applications/{refused_app}/submit").status_code == 422

    barrier = threading.Barrier(2)
    answers: dict[str, object] = {}

    def submit(app_id: str) -> None:
        api = Api(intake_app.test_client(), intake_settings, ENT1)  # one client per thread
        barrier.wait()
        answers[app_id] = api.post(f"/api/v1/applications/{app_id}/submit")

    threads = [threading.Thread(target=submit, args=(a,)) for a in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for app_id in (first, second):
        assert answers[app_id].status_code == 200, answers[app_id].get_data(as_text=True)
    numbers = sorted(answers[a].json["case_no"] for a in (first, second))
    assert numbers == [f"150600-{year}-00001", f"150600-{year}-00002"]
    assert service.db["case_counters"].find_one({"_id": f"150600-{year}"})["seq"] == 2
    events = {d["envelope"]["payload"]["application_id"]: d["envelope"]["payload"]
              for d in outbox_messages(service.db, SUBMITTED)}
    assert {events[a]["case_no"] for a in (first, second)} == set(numbers)
    assert ent1.get(f"/api/v1/applications/{refused_app}").json["case_no"] is None

    # another 盟市 has its own sequence
    baotou = _ready_application(ent2, SAND_MINE, full_assessment(2, "open_pit", "sand_gravel_stone"))
    response = ent2.post(f"/api/v1/applications/{baotou}/submit")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["case_no"] == f"150200-{year}-00001"
    listed = {a["id"]: a["case_no"] for a in ent1.get("/api/v1/applications").json}
    assert sorted(listed[a] for a in (first, second)) == numbers


def test_a_resubmission_keeps_its_case_number(ent1, intake_settings, service):
    from intake.bootstrap import event_handlers
    from shared.messaging import EventConsumer

    consumer = EventConsumer("intake", intake_settings, service.store,
                             event_handlers(intake_settings, service.store))
    app_id = _ready_application(ent1, COAL_MINE)
    number = ent1.post(f"/api/v1/applications/{app_id}/submit").json["case_no"]
    assert number.startswith("150600-") and number.endswith("-00001")
    assert deliver(consumer, routed(app_id, 1), "review_routing.case.events") == "processed"
    returned = new_event("review_routing.initial_review_decided", producer="review_routing", aggregate_type="case",
                         aggregate_id=app_id, aggregate_version=2, payload={
                             "application_id": app_id, "version_no": 1, "decision": "returned",
                             "reasons": [{"indicator": 3, "prerequisite": None, "check": None, "text": "请补充"}],
                             "decided_by": "bureau", "decided_at": "2026-03-20T09:00:00Z",
                             "league": "鄂尔多斯市", "report": None})
    assert deliver(consumer, returned, "review_routing.case.events") == "processed"
    ent1.put(f"/api/v1/applications/{app_id}", {"record": {"indicator": "3", "text": "已补设标牌"}})
    again = ent1.post(f"/api/v1/applications/{app_id}/submit")
    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.json["case_no"] == number and [v["number"] for v in again.json["versions"]] == [1, 2]
    payloads = [d["envelope"]["payload"] for d in outbox_messages(service.db, SUBMITTED)]
    assert [(p["version_no"], p["case_no"]) for p in payloads] == [(1, number), (2, number)]
    assert service.db["case_counters"].count_documents({}) == 1
