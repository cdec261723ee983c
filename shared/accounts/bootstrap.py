"""The composition root of account administration: the bus with the real unit of work, clock and hashing."""
from __future__ import annotations

from shared.accounts.handlers import COMMAND_HANDLERS
from shared.accounts.rules import one_time_password
from shared.accounts.unit_of_work import MongoAccountsUnitOfWork, ensure_collections, identity_store
from shared.bus import MessageBus
from shared.clock import utcnow


def hash_password(password: str) -> str:
    from shared.identity import hash_password as argon2_hash

    return argon2_hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from shared.identity import verify_password as argon2_verify

    return argon2_verify(password_hash, password)


def accounts_bus(settings, *, client=None, registry=None, uow_factory=None, dependencies=None) -> MessageBus:
    """The bus of account commands on the identity database of `settings` (tests pass a fake `uow_factory`)."""
    if uow_factory is None:
        from shared.contracts import ContractRegistry
        from shared.storage import mongo_client

        client = client or mongo_client(settings.mongodb_uri)
        store = identity_store(client, settings.database_name("identity"),
                               registry or ContractRegistry.of(settings.contracts_dir))
        prepared = []

        def uow_factory():
            if not prepared:             # lazily: gunicorn forks before the first request
                ensure_collections(store.db)
                prepared.append(True)
            return MongoAccountsUnitOfWork(store)

    return MessageBus(uow_factory=uow_factory, command_handlers=COMMAND_HANDLERS,
                      dependencies={"clock": utcnow, "hash_password": hash_password,
                                    "verify_password": verify_password, "new_password": one_time_password,
                                    **(dependencies or {})})
