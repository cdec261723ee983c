"""The optional email address of an account: set at creation and by the administrator's change, checked,
cleared with "", recorded in the audit trail, shown in the account's row; the directory gives it to the
notification areas."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.accounts import views
from shared.accounts.bootstrap import accounts_bus
from shared.accounts.commands import AssignAccount, CreateAccount
from shared.accounts.rules import Actor
from shared.accounts.unit_of_work import AccountsUnitOfWork, AuditLog, UserRepository, duplicate
from shared.errors import InvalidInput
from shared.testing import FakeUnitOfWork

NOW = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
ADMIN = Actor("admin", "admin", "自治区", "系统管理员")


class FakeUsers(UserRepository):
    def __init__(self):
        self.documents = {}

    def get(self, username):
        return dict(self.documents[username]) if username in self.documents else None

    def add(self, document):
        if document["_id"] in self.documents:
            raise duplicate(document["_id"])
        self.documents[document["_id"]] = dict(document)

    def update(self, username, fields):
        self.documents[username].update(fields)

    def end_sign_ins(self, username):
        return 0

    def delete(self, username):
        del self.documents[username]

    def find(self, *, role=None, area=None):
        return list(self.documents.values())


class FakeAudit(AuditLog):
    def __init__(self):
        self.entries = []

    def add(self, entry):
        self.entries.append(dict(entry))

    def recent(self, *, target=None, targets_area=None, limit=200):
        return self.entries[-limit:]


class FakeAccounts(FakeUnitOfWork, AccountsUnitOfWork):
    repositories = ("users", "audit")

    def __init__(self):
        super().__init__()
        self.users, self.audit = FakeUsers(), FakeAudit()


@pytest.fixture
def uow():
    return FakeAccounts()


@pytest.fixture
def bus(uow):
    return accounts_bus(None, uow_factory=lambda: uow, dependencies={
        "clock": lambda: NOW, "hash_password": lambda p: "hash:" + p,
        "verify_password": lambda h, p: h == "hash:" + p, "new_password": lambda: "k7Pq-3mXa-9tRw"})


def bureau(**more):
    return CreateAccount(actor=ADMIN, username="bureau_ordos", role="bureau", area="鄂尔多斯市", **more)


def test_an_account_may_have_an_email(bus, uow):
    bus.handle(bureau(email=" Bureau@Ordos.gov.cn "))
    document = uow.users.get("bureau_ordos")
    assert document["email"] == "bureau@ordos.gov.cn"
    assert views.account_row(document)["email"] == "bureau@ordos.gov.cn"
    assert uow.audit.entries[-1]["changes"]["email"] == "bureau@ordos.gov.cn"


def test_without_an_email_nothing_changes(bus, uow):
    bus.handle(bureau())
    assert uow.users.get("bureau_ordos")["email"] is None
    assert views.account_row(uow.users.get("bureau_ordos"))["email"] == ""


def test_the_administrator_sets_and_clears_it(bus, uow):
    bus.handle(bureau())
    bus.handle(AssignAccount(actor=ADMIN, username="bureau_ordos", email="b@ordos.gov.cn"))
    assert uow.users.get("bureau_ordos")["email"] == "b@ordos.gov.cn"
    bus.handle(AssignAccount(actor=ADMIN, username="bureau_ordos", display_name="鄂尔多斯市自然资源局"))
    assert uow.users.get("bureau_ordos")["email"] == "b@ordos.gov.cn"     # None leaves it
    bus.handle(AssignAccount(actor=ADMIN, username="bureau_ordos", email=""))
    assert uow.users.get("bureau_ordos")["email"] is None


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "x y@z.cn", "a" * 250 + "@b.cn"])
def test_a_bad_address_is_refused(bus, bad):
    with pytest.raises(InvalidInput) as refused:
        bus.handle(bureau(email=bad))
    assert [e.field for e in refused.value.errors] == ["email"]
