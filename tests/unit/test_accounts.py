"""Account administration (issue 10 item 8) through the bus with an in-memory unit of work: who may create,
disable, enable, reset and assign which accounts, the password policy, and the audit of every change."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from shared.accounts import rules, views
from shared.accounts.bootstrap import accounts_bus
from shared.accounts.commands import (
    AssignAccount,
    ChangeOwnPassword,
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    EndSignIns,
    ResetPassword,
)
from shared.accounts.rules import Actor
from shared.accounts.unit_of_work import AccountsUnitOfWork, AuditLog, UserRepository, duplicate
from shared.errors import InvalidInput, NotFound, NotPermitted
from shared.testing import FakeUnitOfWork

NOW = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
ADMIN = Actor("admin", "admin", "自治区", "系统管理员")
ORDOS = Actor("bureau", "bureau", "鄂尔多斯市", "鄂尔多斯市自然资源局")


class FakeUsers(UserRepository):
    def __init__(self):
        self.documents: dict[str, dict] = {}
        self.grants: dict[str, int] = {}

    def get(self, username):
        document = self.documents.get(username)
        return dict(document) if document else None

    def add(self, document):
        if document["_id"] in self.documents:
            raise duplicate(document["_id"])
        self.documents[document["_id"]] = dict(document)

    def update(self, username, fields):
        self.documents[username].update(fields)
        self.documents[username]["epoch"] = self.documents[username].get("epoch", 0) + 1

    def end_sign_ins(self, username):
        return self.grants.pop(username, 0)

    def delete(self, username):
        del self.documents[username]

    def find(self, *, role=None, area=None):
        return [d for _, d in sorted(self.documents.items())
                if (role is None or d["role"] == role) and (area is None or d.get("area") == area)]


class FakeAudit(AuditLog):
    def __init__(self):
        self.entries: list[dict] = []

    def add(self, entry):
        self.entries.append(dict(entry))

    def recent(self, *, target=None, targets_area=None, limit=200):
        found = [e for e in reversed(self.entries) if (target is None or e["target"] == target)
                 and (targets_area is None or e.get("target_area") == targets_area)]
        return found[:limit]


class FakeAccounts(FakeUnitOfWork, AccountsUnitOfWork):
    repositories = ("users", "audit")

    def __init__(self):
        super().__init__()
        self.users = FakeUsers()
        self.audit = FakeAudit()


@pytest.fixture
def uow():
    return FakeAccounts()


@pytest.fixture
def bus(uow):
    return accounts_bus(None, uow_factory=lambda: uow, dependencies={
        "clock": lambda: NOW, "hash_password": lambda p: "hash:" + p,
        "verify_password": lambda h, p: h == "hash:" + p, "new_password": lambda: "k7Pq-3mXa-9tRw"})


def reviewer(**overrides) -> CreateAccount:
    options = {"actor": ADMIN, "username": "reviewer_forestry", "role": "department_reviewer",
               "display_name": "鄂尔多斯市林草局", "department": "forestry_grassland", "area": "鄂尔多斯市"}
    return CreateAccount(**{**options, **overrides})


class TestPasswordPolicy:
    @pytest.mark.parametrize("password,message", [
        ("short-1", "密码至少10位"),
        ("onlyletterslong", "密码须包含字母、数字、符号中的至少两类"),
        ("1234567890123", "密码须包含字母、数字、符号中的至少两类"),
        ("x" * 120 + "1" * 9, "密码不能超过128位"),
        ("Zhang.san-2026", "密码不能包含用户名"),
        ("", "请填写密码"),
        ("Abc-12345\ud800x", "密码不能含有控制字符或无法识别的字符"),
    ])
    def test_each_refusal_is_said_in_chinese(self, password, message):
        assert message in rules.password_problems(password, "zhang.san")

    @pytest.mark.parametrize("password", ["Greenmine-2025", "correct horse 1", "s3cret-password", "长城长城长城长城-1"])
    def test_good_passwords_pass(self, password):
        assert rules.password_problems(password, "reviewer_eco") == []

    def test_one_time_passwords_are_readable_and_pass_the_policy(self):
        for _ in range(200):
            password = rules.one_time_password()
            assert re.fullmatch(r"[a-zA-Z2-9]{4}-[a-zA-Z2-9]{4}-[a-zA-Z2-9]{4}", password)
            assert not set("01lIoO") & set(password)
            assert rules.password_problems(password, "someone") == []


class TestCreate:
    def test_an_admin_creates_a_reviewer_with_a_one_time_password_changed_at_first_sign_in(self, bus, uow):
        outcome = bus.handle(reviewer())
        assert outcome.one_time_password == "k7Pq-3mXa-9tRw"
        stored = uow.users.documents["reviewer_forestry"]
        assert stored["password_hash"] == "hash:k7Pq-3mXa-9tRw" and stored["must_change"] is True
        assert stored["active"] is True and stored["created_by"] == "admin"
        assert "password_hash" not in outcome.account
        [entry] = uow.audit.entries
        assert entry["actor"] == "admin" and entry["action"] == "create" and entry["at"] == NOW
        assert entry["target"] == "reviewer_forestry" and entry["target_area"] == "鄂尔多斯市"
        assert "k7Pq" not in str(entry)
        assert views.describe(entry) == "角色：部门审核人员；名称：鄂尔多斯市林草局；部门：林草部门；地区：鄂尔多斯市"

    def test_a_typed_password_is_checked_and_not_returned(self, bus, uow):
        with pytest.raises(InvalidInput) as refused:
            bus.handle(reviewer(password="short"))
        assert refused.value.error_map()["password"] == ["密码至少10位", "密码须包含字母、数字、符号中的至少两类"]
        outcome = bus.handle(reviewer(password="Forest-2026!"))
        assert outcome.one_time_password is None
        assert uow.users.documents["reviewer_forestry"]["password_hash"] == "hash:Forest-2026!"

    def test_every_bad_field_is_named_and_nothing_is_stored(self, bus, uow):
        with pytest.raises(InvalidInput) as refused:
            bus.handle(reviewer(username="x", department="forestry", area="火星"))
        assert set(refused.value.error_map()) == {"username", "department", "area"}
        with pytest.raises(InvalidInput) as refused:
            bus.handle(CreateAccount(actor=ADMIN, username="mine9", role="enterprise", enterprise="123"))
        assert refused.value.error_map() == {"enterprise": ["矿山企业账号须填写18位统一社会信用代码"]}
        assert uow.users.documents == {} and uow.audit.entries == [] and uow.commits == 0

    def test_a_taken_username_is_a_field_error(self, bus, uow):
        bus.handle(reviewer())
        with pytest.raises(InvalidInput) as refused:
            bus.handle(reviewer(display_name="另一个"))
        assert refused.value.error_map() == {"username": ["用户名 reviewer_forestry 已被使用"]}
        assert len(uow.audit.entries) == 1

    def test_a_bureau_creates_reviewers_of_its_own_league_only(self, bus, uow):
        own = bus.handle(reviewer(actor=ORDOS, area=None))
        assert own.account["area"] == "鄂尔多斯市"
        with pytest.raises(NotPermitted, match="鄂尔多斯市"):
            bus.handle(reviewer(actor=ORDOS, username="reviewer_x_baotou", area="包头市"))
        with pytest.raises(NotPermitted):
            bus.handle(CreateAccount(actor=ORDOS, username="bureau2", role="bureau", area="鄂尔多斯市"))
        assert list(uow.users.documents) == ["reviewer_forestry"]

    def test_other_roles_manage_nothing(self, bus):
        with pytest.raises(NotPermitted):
            bus.handle(reviewer(actor=Actor("eco", "department_reviewer", "鄂尔多斯市")))


class TestChanges:
    @pytest.fixture
    def forestry(self, bus, uow):
        bus.handle(reviewer(password="Forest-2026!", must_change=False))
        bus.handle(reviewer(username="reviewer_forestry_baotou", area="包头市", display_name="包头市林草局"))
        uow.users.grants["reviewer_forestry"] = 2
        return "reviewer_forestry"

    def test_disable_ends_every_sign_in_and_enable_restores(self, bus, uow, forestry):
        outcome = bus.handle(DisableAccount(actor=ORDOS, username=forestry))
        assert outcome.ended_sign_ins == 2 and uow.users.documents[forestry]["active"] is False
        assert outcome.account["active"] is False
        bus.handle(EnableAccount(actor=ORDOS, username=forestry))
        assert uow.users.documents[forestry]["active"] is True
        assert [e["action"] for e in uow.audit.recent(target=forestry)] == ["enable", "disable", "create"]
        assert [e["actor"] for e in uow.audit.recent(target=forestry)][:2] == ["bureau", "bureau"]
        assert views.describe(uow.audit.entries[-2]) == "状态：停用，已结束其全部登录"

    def test_a_bureau_is_refused_another_leagues_account_with_a_clear_message(self, bus, uow, forestry):
        for command in (DisableAccount(actor=ORDOS, username="reviewer_forestry_baotou"),
                        ResetPassword(actor=ORDOS, username="reviewer_forestry_baotou"),
                        AssignAccount(actor=ORDOS, username="reviewer_forestry_baotou", display_name="改名")):
            with pytest.raises(NotPermitted) as refused:
                bus.handle(command)
            assert refused.value.message == "盟市自然资源局只能管理本盟市（鄂尔多斯市）部门审核人员的账号"
        assert uow.users.documents["reviewer_forestry_baotou"]["active"] is True
        assert len(uow.audit.entries) == 2

    def test_nobody_disables_or_resets_their_own_account(self, bus, uow):
        uow.users.add({"_id": "admin", "role": "admin", "area": "自治区", "active": True})
        with pytest.raises(NotPermitted, match="自己"):
            bus.handle(DisableAccount(actor=ADMIN, username="admin"))
        with pytest.raises(NotPermitted, match="自己"):
            bus.handle(ResetPassword(actor=ADMIN, username="admin"))

    def test_deleting_and_signing_out_everywhere_are_audited(self, bus, uow, forestry):
        assert bus.handle(EndSignIns(actor=ADMIN, username=forestry)).ended_sign_ins == 2
        assert views.describe(uow.audit.entries[-1]) == "结束登录 2 个"
        with pytest.raises(NotPermitted):
            bus.handle(DeleteAccount(actor=ORDOS, username="reviewer_forestry_baotou"))
        bus.handle(DeleteAccount(actor=ADMIN, username=forestry))
        assert forestry not in uow.users.documents
        assert [e["action"] for e in uow.audit.recent(target=forestry)][:2] == ["delete", "sign_out"]

    def test_unknown_accounts_are_not_found(self, bus):
        with pytest.raises(NotFound):
            bus.handle(EnableAccount(actor=ADMIN, username="nobody"))

    def test_reset_makes_a_one_time_password_to_change_at_next_sign_in(self, bus, uow, forestry):
        outcome = bus.handle(ResetPassword(actor=ADMIN, username=forestry))
        assert outcome.one_time_password == "k7Pq-3mXa-9tRw" and outcome.ended_sign_ins == 2
        stored = uow.users.documents[forestry]
        assert stored["password_hash"] == "hash:k7Pq-3mXa-9tRw" and stored["must_change"] is True
        assert views.describe(uow.audit.entries[-1]) == "生成一次性密码，须在下次登录时修改"
        with pytest.raises(InvalidInput) as refused:
            bus.handle(ResetPassword(actor=ADMIN, username=forestry, password="reviewer_forestry-1"))
        assert refused.value.error_map() == {"password": ["密码不能包含用户名"]}

    def test_assign_moves_department_and_area_and_the_old_sign_ins_end(self, bus, uow, forestry):
        outcome = bus.handle(AssignAccount(actor=ADMIN, username=forestry, department="water_resources",
                                           area="包头市", display_name="包头市水利局"))
        assert outcome.ended_sign_ins == 2
        stored = uow.users.documents[forestry]
        assert (stored["department"], stored["area"], stored["display_name"]) == ("water_resources", "包头市",
                                                                                   "包头市水利局")
        assert views.describe(uow.audit.entries[-1]) == (
            "名称：鄂尔多斯市林草局 → 包头市水利局；部门：林草部门 → 水利部门；地区：鄂尔多斯市 → 包头市")

    def test_a_bureau_cannot_move_its_reviewer_to_another_league(self, bus, uow, forestry):
        with pytest.raises(NotPermitted):
            bus.handle(AssignAccount(actor=ORDOS, username=forestry, area="包头市"))
        bus.handle(AssignAccount(actor=ORDOS, username=forestry, department="energy"))
        assert uow.users.documents[forestry]["area"] == "鄂尔多斯市"
        assert uow.users.documents[forestry]["department"] == "energy"

    def test_assign_refuses_bad_values_by_field(self, bus, forestry):
        with pytest.raises(InvalidInput) as refused:
            bus.handle(AssignAccount(actor=ADMIN, username=forestry, department="nope", county="不存在旗"))
        assert set(refused.value.error_map()) == {"department", "county"}

    def test_own_password_change_checks_the_current_one_and_clears_must_change(self, bus, uow, forestry):
        me = Actor("reviewer_forestry_baotou", "department_reviewer", "包头市")
        with pytest.raises(InvalidInput) as refused:
            bus.handle(ChangeOwnPassword(actor=me, current_password="wrong", new_password="short"))
        assert set(refused.value.error_map()) == {"current_password", "new_password"}
        with pytest.raises(InvalidInput) as refused:
            bus.handle(ChangeOwnPassword(actor=me, current_password="k7Pq-3mXa-9tRw",
                                         new_password="k7Pq-3mXa-9tRw"))
        assert refused.value.error_map() == {"new_password": ["新密码不能与当前密码相同"]}
        bus.handle(ChangeOwnPassword(actor=me, current_password="k7Pq-3mXa-9tRw", new_password="Grass-land-2026"))
        stored = uow.users.documents["reviewer_forestry_baotou"]
        assert stored["must_change"] is False and stored["password_hash"] == "hash:Grass-land-2026"
        assert uow.audit.entries[-1]["action"] == "change_password"


def test_a_bureau_lists_and_reads_the_audit_of_its_own_reviewers_only(bus, uow):
    bus.handle(reviewer())
    bus.handle(reviewer(username="reviewer_forestry_baotou", area="包头市"))
    bus.handle(CreateAccount(actor=ADMIN, username="bureau9", role="bureau", area="鄂尔多斯市"))
    assert [d["_id"] for d in views.accounts_for(ORDOS, uow)] == ["reviewer_forestry"]
    assert [e["target"] for e in views.audit_for(ORDOS, uow)] == ["reviewer_forestry"]
    assert len(views.audit_for(ADMIN, uow)) == 3
    with pytest.raises(NotPermitted):
        views.account_for(ORDOS, uow, "reviewer_forestry_baotou")


def test_rows_show_labels_never_codes():
    row = views.account_row({"_id": "r1", "role": "department_reviewer", "department": "emergency_management",
                             "area": "包头市", "active": False})
    assert (row["role_label"], row["department_label"], row["status_label"]) == (
        "部门审核人员", "应急管理部门(矿山安全监管部门)", "停用")


def test_demo_data_gives_every_routed_department_a_reviewer_in_both_demo_leagues():
    from shared.catalog import load_catalog
    from shared.cli import DEMO_PASSWORD, DEMO_USERS, demo_logins, routed_departments

    catalog = load_catalog("nm-2025")
    named = {d.code for i in catalog.indicators for d in catalog.departments_for_indicator(i.no)}
    named |= {d.code for p in catalog.prerequisite_codes for d in catalog.departments_for_prerequisite(p)}
    assert set(routed_departments()) == named and len(named) == 10
    reviewers = {(u[2]["department"], u[2]["area"]): u for u in DEMO_USERS
                 if u[1] == "department_reviewer" and u[2]["area"] != "自治区"}
    leagues = ("鄂尔多斯市", "包头市", "赤峰市", "呼伦贝尔市", "锡林郭勒盟")   # the demo region's review 盟市
    assert set(reviewers) == {(code, league) for code in named for league in leagues}
    inspectors = [u for u in DEMO_USERS if u[1] == "department_reviewer" and u[2]["area"] == "自治区"]
    assert [u[0] for u in inspectors] == ["inspector_nr_1", "inspector_nr_2", "inspector_nr_3"]   # the spot-check pool
    assert reviewers[("forestry_grassland", "鄂尔多斯市")][0::3] == ("reviewer_forestry", "鄂尔多斯市林草局")
    assert reviewers[("forestry_grassland", "包头市")][0] == "reviewer_forestry_baotou"
    for kept in ("reviewer_eco", "reviewer_eco_baotou", "reviewer_safety"):     # the usernames people know
        assert kept in {u[0] for u in DEMO_USERS}
    assert len({u[0] for u in DEMO_USERS}) == len(DEMO_USERS)
    for username, role, options, name in DEMO_USERS:
        assert rules.account_problems(username=username, role=role, display_name=name,
                                      department=options.get("department"), area=rules.default_area(
                                          role, options.get("area")), enterprise=options.get("enterprise"),
                                      institution=options.get("institution")) == []
        assert rules.password_problems(DEMO_PASSWORD, username) == []
        assert re.search(rf"\s{username}\s", demo_logins()), username
    for role_user in ("enterprise", "bureau", "reviewer_eco", "region", "evaluator", "admin"):
        assert re.search(rf"^\s+{role_user}\s", demo_logins(), re.M), role_user     # as test_system reads it


class TestEvaluatorInstitution:
    """An evaluator account belongs to one evaluation institution of the register (issue 11 item 1)."""

    def evaluator(self, **overrides) -> CreateAccount:
        options = {"actor": ADMIN, "username": "eval_lvyuan", "role": "evaluator", "display_name": "绿原评估",
                   "institution": "inst-91150100ma0p00011n", "password": "Greenmine-2025"}
        return CreateAccount(**{**options, **overrides})

    def test_the_institution_is_required_for_an_evaluator_and_stored(self, bus, uow):
        outcome = bus.handle(self.evaluator())
        assert uow.users.documents["eval_lvyuan"]["institution"] == "inst-91150100ma0p00011n"
        assert views.account_row(outcome.account)["institution"] == "inst-91150100ma0p00011n"
        assert uow.audit.entries[-1]["changes"]["institution"] == "inst-91150100ma0p00011n"
        assert "所属评估机构：inst-91150100ma0p00011n" in views.describe(uow.audit.entries[-1])
        for missing in (None, "", "not an id"):
            with pytest.raises(InvalidInput) as e:
                bus.handle(self.evaluator(username="eval_other", institution=missing))
            assert [err.field for err in e.value.errors] == ["institution"]

    def test_only_an_evaluator_carries_an_institution(self, bus):
        with pytest.raises(InvalidInput) as e:
            bus.handle(reviewer(institution="inst-91150100ma0p00011n"))
        assert e.value.errors[0].message == "只有第三方评估机构账号可以绑定评估机构"

    def test_moving_an_evaluator_to_another_institution_ends_its_sign_ins(self, bus, uow):
        bus.handle(self.evaluator())
        outcome = bus.handle(AssignAccount(actor=ADMIN, username="eval_lvyuan", institution="inst-91150200ma0p000220"))
        assert outcome.changes == {"institution": {"from": "inst-91150100ma0p00011n",
                                                   "to": "inst-91150200ma0p000220"}}
        assert uow.users.documents["eval_lvyuan"]["institution"] == "inst-91150200ma0p000220"
        with pytest.raises(InvalidInput):
            bus.handle(AssignAccount(actor=ADMIN, username="eval_lvyuan", institution=""))

    def test_the_principal_carries_the_institution_into_its_token(self):
        from shared import identity

        principal = identity.Principal("eval_lvyuan", "evaluator", area="自治区", institution="inst-x1")
        token = identity.issue_token("unit-secret", principal)
        assert identity.read_token("unit-secret", token, 60).institution == "inst-x1"
        assert identity.UserDirectory._principal({"_id": "e", "role": "evaluator",
                                                  "institution": "inst-x1"}).institution == "inst-x1"

    def test_the_region_office_manages_evaluator_accounts_only(self, bus, uow):
        office = Actor("region", "region_office", "自治区", "自治区自然资源厅")
        outcome = bus.handle(self.evaluator(actor=office))
        assert outcome.account["area"] == "自治区" and outcome.account["institution"] == "inst-91150100ma0p00011n"
        bus.handle(reviewer())
        with pytest.raises(NotPermitted) as e:
            bus.handle(reviewer(actor=office, username="reviewer_water", department="water_resources"))
        assert e.value.message == "自治区自然资源厅只能管理第三方评估机构的账号"
        with pytest.raises(NotPermitted):
            bus.handle(DisableAccount(actor=office, username="reviewer_forestry"))
        assert [a["_id"] for a in views.accounts_for(office, uow)] == ["eval_lvyuan"]
        assert {e["target"] for e in views.audit_for(office, uow)} == {"eval_lvyuan"}
        bus.handle(AssignAccount(actor=office, username="eval_lvyuan", institution="inst-91150200ma0p000220"))
        assert uow.users.documents["eval_lvyuan"]["institution"] == "inst-91150200ma0p000220"
