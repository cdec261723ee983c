"""The in-app inbox: the audience table (every event type it handles, with the directory faked), entries per user
concerned, replays adding nothing, the case remembered for events that do not name the enterprise, reading."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from public_notice.bootstrap import bootstrap
from public_notice.domain.notifications import audiences
from public_notice.domain.notifications.inbox import InboxEntry, entry_id
from public_notice.service_layer.notifications.inbox import MarkAllRead, MarkRead
from shared.config import Settings
from shared.errors import NotFound
from shared.identity import Principal

AT = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[3] / "contracts" / "examples"
CODE = "91150600MA0N00001W"
USERS = [
    {"username": "region", "role": "region_office", "area": "自治区"},
    {"username": "bureau", "role": "bureau", "area": "鄂尔多斯市", "email": "bureau@demo.greenmine.local"},
    {"username": "bureau_baotou", "role": "bureau", "area": "包头市"},
    {"username": "reviewer_eco", "role": "department_reviewer", "department": "ecology_environment",
     "area": "鄂尔多斯市"},
    {"username": "reviewer_eco_region", "role": "department_reviewer", "department": "ecology_environment",
     "area": "自治区"},
    {"username": "reviewer_eco_baotou", "role": "department_reviewer", "department": "ecology_environment",
     "area": "包头市"},
    {"username": "reviewer_nr", "role": "department_reviewer", "department": "natural_resources",
     "area": "鄂尔多斯市"},
    {"username": "enterprise", "role": "enterprise", "enterprise": CODE},
    {"username": "enterprise2", "role": "enterprise", "enterprise": "91150200MA0N00002B"},
    {"username": "evaluator", "role": "evaluator", "institution": "inst-91150100ma0p00011n"},
    {"username": "evaluator1", "role": "evaluator", "institution": "inst-1"},
]


class FakeDirectory:
    def __init__(self, users=USERS):
        self.users = [{"display_name": u["username"], "email": None, **u} for u in users]
        self.calls = []

    def find(self, **equals):
        self.calls.append(equals)

        def ok(user):
            return all(user.get(k) in v if isinstance(v, list | tuple | set) else user.get(k) == v
                       for k, v in equals.items())

        return sorted((dict(u) for u in self.users if ok(u)), key=lambda u: u["username"])


def example(event_type: str, **payload) -> dict:
    envelope = json.loads((EXAMPLES / f"{event_type}.v1.json").read_text())
    envelope["payload"].update(payload)
    return envelope


@pytest.fixture
def bus(uow):
    return bootstrap(Settings.from_env({"GREENMINE_SECRET_KEY": "k" * 32}), uow_factory=lambda: uow,
                     clock=lambda: AT, directory=FakeDirectory())


def deliver(bus, uow, envelope):
    bus.handle_event(envelope, uow)


def told(uow, envelope) -> list[str]:
    return sorted(e.username for e in uow.inbox.find(event_id=envelope["event_id"]))


# -- the table, pure ----------------------------------------------------------------------------------------------
EXPECTED = {
    "intake.application_submitted": ["bureau"],
    "review_routing.review_task_assigned": ["reviewer_eco", "reviewer_eco_region"],
    "review_routing.review_task_reminded": None,       # depends on claimed_by, tested below
    "review_routing.review_task_overdue": None,
    "review_routing.review_task_transferred": None,
    "review_routing.evaluation_commissioned": ["evaluator"],
    "review_routing.commission_accepted": ["region"],
    "review_routing.commission_declined": ["region"],
    "review_routing.region_review_decided": ["bureau", "enterprise"],
    "review_routing.region_step_reminded": ["evaluator1"],
    "public_notice.mine_listed": ["bureau", "enterprise"],
}


def resolve(event_type, payload, case=None):
    directory = FakeDirectory()
    names = set()
    for query in audiences.audience(audiences.TABLE[event_type], payload, case):
        names |= {u["username"] for u in directory.find(**query)}
    return sorted(names)


@pytest.mark.parametrize("event_type", [t for t, v in EXPECTED.items() if v is not None])
def test_each_example_event_reaches_exactly_its_audience(event_type):
    payload = example(event_type)["payload"]
    if isinstance(payload.get("enterprise"), dict):
        payload["enterprise"]["credit_code"] = CODE
    assert resolve(event_type, payload) == EXPECTED[event_type]


@pytest.mark.parametrize("event_type", ["review_routing.review_task_reminded", "review_routing.review_task_overdue"])
def test_a_reminder_goes_to_the_claimer_or_else_the_department(event_type):
    payload = example(event_type)["payload"]
    dept = payload["department"]
    unclaimed = resolve(event_type, {**payload, "claimed_by": None})
    assert unclaimed and all(u["department"] == dept for u in USERS if u["username"] in unclaimed)
    assert resolve(event_type, {**payload, "claimed_by": "reviewer_nr"}) == ["reviewer_nr"]


def test_a_transfer_tells_the_new_holder():
    payload = example("review_routing.review_task_transferred")["payload"]
    assert resolve("review_routing.review_task_transferred", {**payload, "to_user": "reviewer_eco"}) == ["reviewer_eco"]


def test_the_initial_decision_reaches_the_enterprise_remembered_from_the_submission():
    payload = example("review_routing.initial_review_decided")["payload"]
    assert resolve("review_routing.initial_review_decided", payload) == []
    assert resolve("review_routing.initial_review_decided", payload, {"credit_code": CODE}) == ["enterprise"]


def test_an_overdue_step_goes_to_whoever_must_act():
    payload = example("review_routing.region_step_overdue")["payload"]
    rule = "review_routing.region_step_overdue"
    assert resolve(rule, {**payload, "step": "evaluation"}, {"institution_id": "inst-1"}) == ["evaluator1"]
    assert resolve(rule, {**payload, "step": "accept"}, {}) == ["region"]   # institution unknown: the office
    for step in ("commission", "check", "decision"):
        assert resolve(rule, {**payload, "step": step}, {"institution_id": "inst-1"}) == ["region"]
    reminded = example("review_routing.region_step_reminded")["payload"]
    assert resolve("review_routing.region_step_reminded", {**reminded, "recipient": {"role": "region_office"}}) \
        == ["region"]


@pytest.mark.parametrize("event_type,who", [
    ("public_notice.objection_filed", ["region"]),
    ("public_notice.objection_finding_recorded", ["region"]),
    ("public_notice.objection_triaged", None),
])
def test_objection_examples(event_type, who):
    payload = example(event_type)["payload"]
    if who is None:     # the region office and the triaged departments' reviewers of the 盟市
        depts = set(payload["departments"])
        who = sorted({"region"} | {u["username"] for u in USERS if u.get("department") in depts
                                   and u["area"] in (payload["league"], "自治区")})
    assert resolve(event_type, payload) == who
    text = audiences.render(audiences.TABLE[event_type], payload)
    assert text["link"] == f"/notice/objections/{payload['objection_id']}" and "{" not in text["text"]


def test_a_published_batch_reaches_its_enterprises_and_bureaus():
    payload = example("public_notice.publicity_published")["payload"]
    for entry in payload["entries"]:
        entry["credit_code"], entry["league"] = CODE, "鄂尔多斯市"
    assert resolve("public_notice.publicity_published", payload) == ["bureau", "enterprise"]
    rendered = audiences.render(audiences.TABLE["public_notice.publicity_published"], payload)
    assert audiences.cn_date(payload["window_start"]) in rendered["text"]
    assert rendered["link"] == f"/public/publicity/{payload['batch_id']}"


def test_an_objections_conclusion_is_told_with_its_outcome():
    payload = {"objection_id": "o1", "batch_id": "b1", "application_id": "a1", "mine_name": "示范矿山1号",
               "league": "鄂尔多斯市", "outcome": "upheld", "action": "return_to_region", "reasons": "现场核查属实"}
    rendered = audiences.render(audiences.TABLE["public_notice.objection_concluded"], payload)
    assert rendered["text"].startswith("对示范矿山1号的异议已办结：异议成立。退回自治区重新审核")
    assert "现场核查属实" in rendered["text"]
    assert resolve("public_notice.objection_concluded", payload, {"credit_code": CODE}) == ["bureau", "enterprise"]


def test_publicity_and_objections_from_draft_payloads():
    batch = {"batch_id": "b1", "title": "2026年第一批公示", "window_start": "2026-06-11", "window_end": "2026-06-17",
             "entries": [{"application_id": "a1", "league": "鄂尔多斯市", "enterprise": {"credit_code": CODE}},
                         {"application_id": "a2", "mine": {"league": "包头市"}, "credit_code": "91150200MA0N00002B"}]}
    assert resolve("public_notice.publicity_published", batch) == ["bureau", "bureau_baotou", "enterprise",
                                                                   "enterprise2"]
    rendered = audiences.render(audiences.TABLE["public_notice.publicity_published"], batch)
    assert "2026年6月11日至2026年6月17日" in rendered["text"] and rendered["link"] == "/public/publicity/b1"
    assert resolve("public_notice.publicity_published", {"batch_id": "b2"}) == []   # absent fields: nobody, no error
    assert resolve("public_notice.objection_filed", {"objection_id": "o1"}) == ["region"]
    triaged = {"objection_id": "o1", "league": "鄂尔多斯市",
               "departments": ["ecology_environment", "natural_resources"]}
    assert resolve("public_notice.objection_triaged", triaged) == ["region", "reviewer_eco", "reviewer_eco_region",
                                                                   "reviewer_nr"]
    assert resolve("public_notice.objection_concluded", {"application_id": "a1"},
                   {"credit_code": CODE, "league": "鄂尔多斯市"}) == ["bureau", "enterprise"]


@pytest.mark.parametrize("event_type", sorted(audiences.TABLE))
def test_every_rule_renders_without_fields(event_type):
    rendered = audiences.render(audiences.TABLE[event_type], {})
    assert rendered["title"] and rendered["link"] == ""      # no id: no link rather than a broken one
    assert "{" not in rendered["title"] + rendered["text"]


@given(st.dictionaries(st.sampled_from(["mine", "enterprise", "reasons", "department", "due_date", "decision",
                                        "entries", "recipient", "institution", "step", "league"]),
                       st.one_of(st.none(), st.text(max_size=5), st.integers(), st.lists(st.text(max_size=3)),
                                 st.dictionaries(st.text(max_size=4), st.text(max_size=4)))))
def test_odd_payloads_never_break_the_table(payload):
    for rule in audiences.TABLE.values():
        audiences.render(rule, payload)
        audiences.audience(rule, payload)


def test_texts_quote_the_decision_reasons_and_dates():
    payload = example("review_routing.initial_review_decided")["payload"]
    rendered = audiences.render(audiences.TABLE["review_routing.initial_review_decided"], payload)
    assert rendered["title"] == "初审结果：退回补正"
    assert all(r["text"] in rendered["text"] for r in payload["reasons"] if r.get("text"))
    assigned = example("review_routing.review_task_assigned")["payload"]
    rendered = audiences.render(audiences.TABLE["review_routing.review_task_assigned"], assigned)
    assert audiences.cn_date(assigned["due_date"]) in rendered["text"] and "生态环境局" in rendered["text"]
    assert rendered["link"] == f"/review/tasks/{assigned['task_id']}"
    assert audiences.cn_date("2026-12-01") == "2026年12月1日"


# -- the area over the bus ----------------------------------------------------------------------------------------
def test_an_event_writes_one_entry_per_user_and_a_replay_adds_nothing(bus, uow):
    assigned = example("review_routing.review_task_assigned")
    deliver(bus, uow, assigned)
    assert told(uow, assigned) == ["reviewer_eco", "reviewer_eco_region"]
    entry = uow.inbox.get(entry_id(assigned["event_id"], "reviewer_eco"))
    assert entry.title.startswith("新的审核任务") and not entry.read and entry.created_at == AT.isoformat()
    deliver(bus, uow, assigned)
    assert len(uow.inbox.find()) == 2


def test_the_case_is_remembered_for_the_enterprise(bus, uow):
    deliver(bus, uow, example("intake.application_submitted"))
    decided = example("review_routing.initial_review_decided")
    deliver(bus, uow, decided)
    assert told(uow, decided) == ["enterprise"]
    deliver(bus, uow, example("review_routing.evaluation_commissioned"))
    overdue = example("review_routing.region_step_overdue", step="evaluation")
    deliver(bus, uow, overdue)
    assert told(uow, overdue) == ["evaluator"]


def test_reading_one_and_all(bus, uow):
    deliver(bus, uow, example("review_routing.review_task_assigned"))
    deliver(bus, uow, example("review_routing.review_task_overdue", claimed_by=None))
    me = Principal("reviewer_eco", "department_reviewer")
    mine = uow.inbox.find(username="reviewer_eco")
    assert len(mine) == 2
    with pytest.raises(NotFound):
        bus.handle(MarkRead(Principal("reviewer_nr", "department_reviewer"), mine[0].id))
    assert bus.handle(MarkRead(me, mine[0].id))["read"] is True
    assert bus.handle(MarkRead(me, mine[0].id))["read"] is True   # twice: no change, no error
    assert bus.handle(MarkAllRead(me)) == 1
    assert bus.handle(MarkAllRead(me)) == 0
    assert uow.inbox.find(username="reviewer_eco", read=False) == []


def test_an_entry_round_trips():
    entry = InboxEntry.new(event_id="e1", event_type="t", username="u", title="标题", text="正文", link="/x", now=AT)
    assert InboxEntry.from_dict(entry.to_dict()) == entry
    assert entry.mark_read(AT) and not entry.mark_read(AT)


def test_an_imported_mine_is_nobodys_news(bus, uow):
    """A mine listed years ago and imported with the existing list tells no bureau or enterprise anything."""
    listed = example("public_notice.mine_listed")
    deliver(bus, uow, listed)
    assert told(uow, listed)                       # the platform's own listing is news
    imported = example("public_notice.mine_listed", source="import", application_id=None)
    imported["event_id"] = "00000000-0000-4000-8000-00000000beef"
    deliver(bus, uow, imported)
    assert told(uow, imported) == []


def test_a_supervision_warning_tells_the_enterprise_and_its_bureau_once(bus, uow):
    warning = example("supervision.warning_issued")
    assert resolve("supervision.warning_issued", warning["payload"]) == ["bureau", "enterprise"]
    rendered = audiences.render(audiences.TABLE["supervision.warning_issued"], warning["payload"])
    assert rendered["title"] == "监管预警：鄂尔多斯示范煤矿" and "2027年2月28日到期，请及时办理延续" in rendered["text"]
    deliver(bus, uow, warning)
    deliver(bus, uow, warning)
    assert told(uow, warning) == ["bureau", "enterprise"]
