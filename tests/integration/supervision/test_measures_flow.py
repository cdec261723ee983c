"""The measures (监管事项) on real servers: the public notice imports listed mines (its relay puts `mine_listed` on
the real broker, supervision's real consumer enters them in the register); departments raise measures through
supervision's API; supervision's relay puts its events on the broker and the public notice's real consumer applies
them to the public list. A rectification accepted (its 标注 shown, then lifted), one rejected, one missed (the sweep
proposes removal); a removal reviewed, decided and announced — the mine leaves the public list, its page says why,
the enterprise is told to stop using the title; a bureau cannot raise measures outside its 盟市."""
from __future__ import annotations

import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from polling import Clock, wait_for

from shared import demo_scenario, identity
from shared.config import REPO_ROOT, Settings
from shared.contracts import ContractRegistry
from shared.demo_region import credit_code
from shared.messaging import EventConsumer, OutboxRelay, make_producer
from shared.runtime import service_store
from shared.storage import mongo_client
from supervision.bootstrap import bootstrap, ensure_indexes
from supervision.domain.commands import Sweep
from supervision.entrypoints.http import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "public_notice"))
from notice_harness import PASSWORD, start  # noqa: E402

from public_notice.service_layer.list_import import ImportListedMines  # noqa: E402

pytestmark = pytest.mark.integration
AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)          # Tuesday 1 December 2026, 10:00 Beijing
HEADERS = ["矿山名称", "企业名称", "统一社会信用代码", "盟市", "旗县", "矿种", "规模", "入库年份", "公告文号",
           "公告标题"]
ORDOS = ("鄂尔多斯市", "准格尔旗")
MINES = {  # key: (mine name, enterprise, credit code, 盟市, 旗县)
    "accepted": ("准格尔示范一号煤矿", "准格尔示范一号煤业有限公司", credit_code("150600", 961), *ORDOS),
    "rejected": ("准格尔示范二号煤矿", "准格尔示范二号煤业有限公司", credit_code("150600", 962), *ORDOS),
    "missed": ("准格尔示范三号煤矿", "准格尔示范三号煤业有限公司", credit_code("150600", 963), *ORDOS),
    "removed": ("准格尔示范四号煤矿", "准格尔示范四号煤业有限公司", credit_code("150600", 964), *ORDOS),
    "baotou": ("白云示范铁矿", "白云示范铁业有限公司", credit_code("150200", 965), "包头市", "白云鄂博矿区"),
    **{f"demo{n}": (f"伊金霍洛示范{n}号煤矿", f"伊金霍洛示范{n}号煤业有限公司", credit_code("150600", 970 + n),
                    "鄂尔多斯市", "伊金霍洛旗") for n in (1, 2, 3)},
}
ANNOUNCEMENT = ("2024", "内自然资字〔2024〕210号", "关于公布2024年度自治区级绿色矿山名录的公告")
EVIDENCE = [{"text": "2026年11月28日现场检查记录：排土场未按方案复绿"}, {"ref": "doc-inspection-1128"}]


class Supervision:
    """Supervision's consumer and relay in threads, its bus on a settable clock, its web app."""

    def __init__(self, settings, notice):
        self.settings, self.notice = settings, notice
        self.store = service_store(settings, "supervision")
        self.store.ensure_indexes()
        ensure_indexes(self.store.db)
        self.clock = Clock()
        self.clock.fixed = AT
        self.bus = bootstrap(settings, self.store, clock=self.clock)
        self.app = create_app(settings, self.bus)
        self.consumer = EventConsumer("supervision", settings, self.store, self.bus.consumer_handlers())
        self.relay = OutboxRelay(self.store, make_producer(settings))
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.consumer.run, args=(self.stop,), daemon=True),
                        threading.Thread(target=self.relay.run, args=(self.stop,), kwargs={"idle_sleep_s": 0.05},
                                         daemon=True)]
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)
        self.relay.producer.close(timeout=5)

    def call(self, method, path, username, body=None):
        return self.app.test_client().open(path, method=method, json=body, headers=self.notice.headers(username))


@pytest.fixture(scope="module")
def world(infra):
    """One system for the module (starting consumers is what takes time): its own databases and topics, five
    listed mines, each test working on its own."""
    run = uuid.uuid4().hex[:8]
    settings = Settings.from_env({
        "MONGODB_URI": infra["mongodb"], "KAFKA_BOOTSTRAP_SERVERS": infra["kafka"],
        "GREENMINE_SECRET_KEY": "test-secret-" + run, "GREENMINE_DB_PREFIX": f"t{run}",
        "GREENMINE_TOPIC_PREFIX": f"t{run}.", "GREENMINE_CONTRACTS_DIR": str(REPO_ROOT / "contracts"),
        "GREENMINE_KAFKA_SESSION_TIMEOUT_MS": "2000" if infra["kind"] == "embedded" else "6000",
        "GREENMINE_KAFKA_HEARTBEAT_MS": "300" if infra["kind"] == "embedded" else "1000"})
    notice, finish_notice = start(settings, ContractRegistry([REPO_ROOT / "contracts"]))
    notice.clock.fixed = AT
    directory = identity.UserDirectory(notice.identity_db)
    for key, (_, _, code, _, _) in MINES.items():
        directory.add(f"ent_{key}", PASSWORD, "enterprise", enterprise=code, replace=True)
    supervision = Supervision(settings, notice)
    try:
        rows = tuple((name, ent, code, league, county, "煤", "大型", *ANNOUNCEMENT)
                     for name, ent, code, league, county in MINES.values())
        region = directory.get("region")
        imported = notice.bus.handle(ImportListedMines(region, tuple(HEADERS), rows, "名录2024.csv"))
        by_name = {notice.db["listings"].find_one({"_id": i})["mine_name"]: i for i in imported["mines"]}
        ids = {key: by_name[MINES[key][0]] for key in MINES}
        wait_for(lambda: supervision.store.db["mines"].count_documents({}) == len(MINES), what="the register")
        yield notice, supervision, ids
    finally:
        supervision.finish()
        finish_notice()
        client = mongo_client(settings.mongodb_uri)
        for name in client.list_database_names():
            if name.startswith(settings.db_prefix + "_"):
                client.drop_database(name)


def listing(notice, mine_id):
    return notice.db["listings"].find_one({"_id": mine_id})


def raise_rectify(supervision, mine_id, deadline="2026-12-31", user="bureau"):
    answer = supervision.call("POST", "/api/v1/supervision/measures", user, {
        "kind": "rectify", "mine_id": mine_id, "situation": "rectify.2", "reason": "排土场未按方案复绿",
        "evidence": EVIDENCE, "deadline": deadline})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def test_rectifications_accepted_rejected_and_missed(world):
    notice, supervision, ids = world
    accepted = raise_rectify(supervision, ids["accepted"])
    assert (accepted["state"], accepted["deadline"]) == ("rectifying", "2026-12-31")
    # its 标注 3 reaches the public list through the broker
    wait_for(lambda: listing(notice, ids["accepted"])["status"] == "marked", what="the mark on the public list")
    assert "需要限期整改的事项：矿区环境较差" in listing(notice, ids["accepted"])["mark_reason"]
    page = notice.call("GET", f"/public/list/{ids['accepted']}", headers={"Accept": "text/html"})
    assert "已被标注" in page.get_data(as_text=True)

    mid = accepted["measure_id"]
    listed_for_her = supervision.call("GET", "/supervision/measures", "ent_accepted").get_data(as_text=True)
    assert MINES["accepted"][0] in listed_for_her and MINES["rejected"][0] not in listed_for_her
    her_page = supervision.call("GET", f"/supervision/measures/{mid}", "ent_accepted").get_data(as_text=True)
    assert 'data-url="/api/v1/supervision/measures/' + mid + '/rectification"' in her_page
    assert "整改验收通过" not in her_page
    raising = supervision.call("GET", f"/supervision/measures?mine_id={ids['rejected']}", "reviewer_eco")
    assert raising.status_code == 200 and 'value="rectify.2"' in raising.get_data(as_text=True)
    assert 'value="rectify.1"' not in raising.get_data(as_text=True)       # 档案资料: 自然资源 only
    workspace = supervision.call("GET", "/supervision/", "bureau").get_data(as_text=True)
    assert "在办监管事项" in workspace and MINES["accepted"][0] in workspace
    wrong = supervision.call("POST", f"/api/v1/supervision/measures/{mid}/rectification", "ent_rejected",
                             {"report": "r", "evidence": [{"text": "t"}]})
    assert wrong.status_code == 404                                  # another enterprise does not see it
    mine = supervision.call("GET", "/api/v1/supervision/measures", "ent_accepted").get_json()
    assert [m["measure_id"] for m in mine if m["kind"] == "rectify"] == [mid]
    empty = supervision.call("POST", f"/api/v1/supervision/measures/{mid}/rectification", "ent_accepted",
                             {"report": "", "evidence": []})
    assert empty.status_code == 422 and {"report", "evidence"} <= set(empty.get_json()["errors"])
    done = supervision.call("POST", f"/api/v1/supervision/measures/{mid}/rectification", "ent_accepted",
                            {"report": "已完成排土场复绿", "evidence": [{"ref": "photo-1201"}]}).get_json()
    assert done["state"] == "submitted" and done["due_on"] == "2026-12-22"      # 15 working days
    assert supervision.call("POST", f"/api/v1/supervision/measures/{mid}/acceptance", "bureau_baotou",
                            {"opinion": "ok"}).status_code in (403, 404)
    ok = supervision.call("POST", f"/api/v1/supervision/measures/{mid}/acceptance", "bureau",
                          {"opinion": "现场核查整改到位"}).get_json()
    assert ok["state"] == "accepted"
    wait_for(lambda: listing(notice, ids["accepted"])["status"] == "listed", what="the mark lifted")
    page = supervision.call("GET", f"/supervision/measures/{mid}", "bureau").get_data(as_text=True)
    assert "整改完成" in page and "提交整改报告" in page and "整改验收通过" in page
    told = notice.db["inbox"].find_one({"username": "ent_accepted", "title": {"$regex": "监管事项"}})
    assert told is not None and told["link"].startswith("/supervision/measures/")

    rejected = raise_rectify(supervision, ids["rejected"])
    rid = rejected["measure_id"]
    supervision.call("POST", f"/api/v1/supervision/measures/{rid}/rectification", "ent_rejected",
                     {"report": "已部分复绿", "evidence": [{"text": "复绿面积30%"}]})
    back = supervision.call("POST", f"/api/v1/supervision/measures/{rid}/rejection", "bureau",
                            {"opinion": "复绿面积不足", "deadline": "2027-01-29"}).get_json()
    assert (back["state"], back["deadline"], back["rounds"]) == ("rectifying", "2027-01-29", 1)

    missed = raise_rectify(supervision, ids["missed"], deadline="2026-12-15")
    supervision.clock.fixed = datetime(2026, 12, 16, 2, 0, tzinfo=UTC)
    assert supervision.bus.handle(Sweep()) >= 1
    gone = supervision.call("GET", f"/api/v1/supervision/measures/{missed['measure_id']}", "bureau").get_json()
    assert gone["state"] == "missed" and gone["proposed_removal"]
    proposal = supervision.call("GET", f"/api/v1/supervision/measures/{gone['proposed_removal']}", "region")
    assert proposal.status_code == 200
    proposal = proposal.get_json()
    assert (proposal["kind"], proposal["state"], proposal["situation"], proposal["mine_id"]) == (
        "remove", "reported", "remove.14", ids["missed"])
    assert "未按规定期限完成整改" in proposal["reason"]
    assert supervision.bus.handle(Sweep()) == 0                      # once
    assert supervision.call("GET", f"/api/v1/supervision/measures/{rid}", "bureau").get_json()["state"] \
        == "rectifying"                                              # its new deadline is later
    wait_for(lambda: listing(notice, ids["missed"])["status"] == "marked", what="the mark, which stays")


def test_a_removal_decided_is_announced_and_the_mine_leaves_the_public_list(world):
    notice, supervision, ids = world
    mine_id = ids["removed"]
    reported = supervision.call("POST", "/api/v1/supervision/measures", "bureau", {
        "kind": "remove", "mine_id": mine_id, "situation": "remove.4", "reason": "越界开采",
        "evidence": [{"text": "2026年11月20日测量报告：越界开采面积1.2公顷"}]})
    assert reported.status_code == 201, reported.get_data(as_text=True)
    rid = reported.get_json()["measure_id"]
    assert supervision.call("POST", f"/api/v1/supervision/measures/{rid}/review", "bureau",
                            {"action": "prepare", "opinion": "x"}).status_code == 403
    prepared = supervision.call("POST", f"/api/v1/supervision/measures/{rid}/review", "region",
                                {"action": "prepare", "opinion": "情形属实，提请审定"}).get_json()
    assert prepared["state"] == "prepared"
    page = supervision.call("GET", f"/supervision/measures/{rid}", "region").get_data(as_text=True)
    assert "记录协调机制审定结果" in page
    decided = supervision.call("POST", f"/api/v1/supervision/measures/{rid}/decision", "region", {
        "meeting_on": "2026-11-30", "document_no": "内绿矿协〔2026〕5号", "outcome": "removed",
        "reason": "越界开采，经协调机制审定移出绿色矿山名录", "follow_up_note": "督促完成越界区域恢复治理"})
    assert decided.status_code == 200, decided.get_data(as_text=True)
    assert decided.get_json()["state"] == "removed"

    wait_for(lambda: listing(notice, mine_id)["status"] == "removed", what="the removal on the public list")
    removal = listing(notice, mine_id)["removal"]
    assert (removal["document_no"], removal["reason"]) == (
        "内绿矿协〔2026〕5号", "越界开采，经协调机制审定移出绿色矿山名录")
    public = notice.call("GET", "/api/v1/list?per_page=100").get_json()
    assert mine_id not in {m["mine_id"] for m in public}
    page = notice.call("GET", f"/public/list/{mine_id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "移出内蒙古自治区绿色矿山名录" in page and "内绿矿协〔2026〕5号" in page and "越界开采" in page
    announcement = notice.db["announcements"].find_one({"_id": removal["announcement_id"]})
    assert announcement["kind"] == "removal"
    wait_for(lambda: notice.db["inbox"].find_one({"username": "ent_removed", "title": {"$regex": "移出绿色矿山名录"}}),
             what="the enterprise told")
    told = notice.db["inbox"].find_one({"username": "ent_removed", "title": {"$regex": "移出绿色矿山名录"}})
    assert "停止使用“绿色矿山”称号" in told["text"]
    assert supervision.store.db["mines"].find_one({"_id": mine_id})["status"] == "removed"


def test_a_bureau_cannot_raise_measures_outside_its_league(world):
    notice, supervision, ids = world
    refused = supervision.call("POST", "/api/v1/supervision/measures", "bureau", {
        "kind": "mark", "mine_id": ids["baotou"], "situation": "mark.1", "reason": "停产", "evidence": EVIDENCE})
    assert refused.status_code == 403
    assert "鄂尔多斯市" in refused.get_json()["message"] and "包头市" in refused.get_json()["message"]
    assert supervision.store.db["measures"].count_documents({"mine_id": ids["baotou"]}) == 0
    own = supervision.call("POST", "/api/v1/supervision/measures", "bureau_baotou", {
        "kind": "mark", "mine_id": ids["baotou"], "situation": "mark.1", "reason": "矿山停产1年以上",
        "evidence": EVIDENCE})
    assert own.status_code == 201
    seen = supervision.call("GET", "/api/v1/supervision/measures?league=包头市", "bureau")
    assert seen.status_code == 403


def test_the_demo_scenario_marks_one_mine_rectifies_one_and_removes_one(world):
    """`shared.demo_scenario.measures` through the same API calls (on the mines no other test uses); once."""
    notice, supervision, ids = world

    class Session:
        def call(self, method, path, username, body=None, expect=(200, 201)):
            answer = supervision.call(method, path, username, body)
            assert answer.status_code in expect, (path, answer.get_data(as_text=True))
            return answer.get_json()

    built = demo_scenario.measures(Session())
    states = {k: supervision.call("GET", f"/api/v1/supervision/measures/{v}", "region").get_json()
              for k, v in built.items()}
    assert {k: v["state"] for k, v in states.items()} == {
        "marked": "placed", "rectifying": "rectifying", "removed": "removed"}
    assert {v["mine_id"] for v in states.values()} == {ids["demo1"], ids["demo2"], ids["demo3"]}
    wait_for(lambda: listing(notice, states["removed"]["mine_id"])["status"] == "removed", what="the demo removal")
    wait_for(lambda: listing(notice, states["marked"]["mine_id"])["mark_reason"] == demo_scenario.DEMO_MARK,
             what="the demo mark")
    assert demo_scenario.measures(Session()) == {}                  # a second run adds nothing
