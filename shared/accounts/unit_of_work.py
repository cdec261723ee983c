"""The accounts' unit of work: the users and the audit log of the identity database, changed in one transaction
(an account change and its audit entry are stored together or not at all), and their MongoDB repositories.

The user documents are those `shared.identity.UserDirectory` signs people in with (`_id` is the username);
every change bumps the account's `epoch` (a sign-in in flight notices it) and may end its grants (sign-ins)."""
from __future__ import annotations

import abc

from pymongo import DESCENDING
from pymongo.errors import CollectionInvalid, DuplicateKeyError

from shared.contracts import ContractRegistry
from shared.errors import FieldError, InvalidInput
from shared.storage import ServiceStore, Transaction
from shared.unit_of_work import MongoUnitOfWork, UnitOfWork

USERS = "users"
AUDIT = "account_audit"
GRANTS = "grants"


class UserRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, username: str) -> dict | None: ...

    @abc.abstractmethod
    def add(self, document: dict) -> None:
        """Store a new account (InvalidInput naming `username` when it exists)."""

    @abc.abstractmethod
    def update(self, username: str, fields: dict) -> None:
        """Set fields of an account and bump its epoch."""

    @abc.abstractmethod
    def end_sign_ins(self, username: str) -> int:
        """End every session and token of the account; how many."""

    @abc.abstractmethod
    def delete(self, username: str) -> None: ...

    @abc.abstractmethod
    def find(self, *, role: str | None = None, area: str | None = None) -> list[dict]: ...


class AuditLog(abc.ABC):
    @abc.abstractmethod
    def add(self, entry: dict) -> None: ...

    @abc.abstractmethod
    def recent(self, *, target: str | None = None, targets_area: str | None = None, limit: int = 200) -> list[dict]:
        """Newest first; only about one account, or only about accounts of one 盟市 (a bureau's view)."""


class AccountsUnitOfWork(UnitOfWork, abc.ABC):
    users: UserRepository
    audit: AuditLog


def duplicate(username: str) -> InvalidInput:
    return InvalidInput("账号信息有误，请按提示修改", [FieldError("username", f"用户名 {username} 已被使用")])


class MongoUsers(UserRepository):
    def __init__(self, tx: Transaction):
        self.users, self.grants, self.session = tx.db[USERS], tx.db[GRANTS], tx.session

    def get(self, username: str) -> dict | None:
        return self.users.find_one({"_id": username}, session=self.session)

    def add(self, document: dict) -> None:
        try:
            self.users.insert_one(document, session=self.session)
        except DuplicateKeyError:
            raise duplicate(document["_id"]) from None

    def update(self, username: str, fields: dict) -> None:
        self.users.update_one({"_id": username}, {"$set": fields, "$inc": {"epoch": 1}}, session=self.session)

    def end_sign_ins(self, username: str) -> int:
        return self.grants.delete_many({"user": username}, session=self.session).deleted_count

    def delete(self, username: str) -> None:
        self.users.delete_one({"_id": username}, session=self.session)

    def find(self, *, role: str | None = None, area: str | None = None) -> list[dict]:
        query = {k: v for k, v in (("role", role), ("area", area)) if v is not None}
        return list(self.users.find(query, projection={"password_hash": 0}, session=self.session).sort("_id", 1))


class MongoAudit(AuditLog):
    def __init__(self, tx: Transaction):
        self.entries, self.session = tx.db[AUDIT], tx.session

    def add(self, entry: dict) -> None:
        self.entries.insert_one(dict(entry), session=self.session)

    def recent(self, *, target: str | None = None, targets_area: str | None = None, limit: int = 200) -> list[dict]:
        query = {}
        if target is not None:
            query["target"] = target
        if targets_area is not None:
            query["target_area"] = targets_area
        cursor = self.entries.find(query, session=self.session).sort([("at", DESCENDING), ("_id", DESCENDING)])
        return list(cursor.limit(limit))


class MongoAccountsUnitOfWork(MongoUnitOfWork, AccountsUnitOfWork):
    def bind(self, tx: Transaction) -> None:
        self.users = MongoUsers(tx)
        self.audit = MongoAudit(tx)


def identity_store(client, database: str, registry: ContractRegistry) -> ServiceStore:
    """The identity database as a store (it has no outbox traffic: accounts publish no events)."""
    return ServiceStore(client, database, registry, "portal")


def ensure_collections(db) -> None:
    """Collections exist before the first transaction writes to them (and the audit is indexed)."""
    names = set(db.list_collection_names())
    for name in (USERS, AUDIT, GRANTS):
        if name not in names:
            try:
                db.create_collection(name)
            except CollectionInvalid:  # created meanwhile by another process
                pass
    db[AUDIT].create_index([("at", DESCENDING)])
    db[AUDIT].create_index("target")
    db[USERS].create_index("role")
