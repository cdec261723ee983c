"""The user accounts, read from the identity database that `shared.identity` keeps (who may receive a 转办)."""
from __future__ import annotations

from review_routing.domain.access import Actor
from shared.identity import UserDirectory


def _actor(doc) -> Actor:
    return Actor(username=doc["_id"], role=doc["role"], display_name=doc.get("display_name") or "",
                 department=doc.get("department"), area=doc.get("area"), county=doc.get("county"))


class IdentityDirectory:
    def __init__(self, identity_db):
        self.users = UserDirectory(identity_db).users

    def get(self, username: str) -> Actor | None:
        doc = self.users.find_one({"_id": username, "active": True})
        return _actor(doc) if doc else None

    def all(self) -> list[Actor]:
        return [_actor(d) for d in self.users.find({"active": True, "role": {"$in": ["bureau", "department_reviewer"]}})
                .sort("_id", 1)]
