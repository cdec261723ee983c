"""Who is who, read from the identity database that `shared.identity` keeps: the notification areas resolve an
audience ("the forestry reviewers of 鄂尔多斯市", "the enterprise 9115…", "the region office") to user accounts."""
from __future__ import annotations

from shared.identity import UserDirectory


class IdentityDirectory:
    """Port used by the handlers as `directory` (tests pass a fake with the same method)."""

    def __init__(self, identity_db):
        self.users = UserDirectory(identity_db).users

    def find(self, **equals) -> list[dict]:
        """Active accounts whose fields equal `equals` (username, role, department, area, enterprise,
        institution; a list value: one of them), each `{"username", "role", "display_name", "department",
        "area", "enterprise", "institution", "email"}`, by username."""
        query = {("_id" if k == "username" else k): ({"$in": list(v)} if isinstance(v, list | tuple | set) else v)
                 for k, v in equals.items()}
        return [{"username": d["_id"], "role": d["role"], "display_name": d.get("display_name") or "",
                 "department": d.get("department"), "area": d.get("area"), "enterprise": d.get("enterprise"),
                 "institution": d.get("institution"), "email": d.get("email")}
                for d in self.users.find({**query, "active": True}).sort("_id", 1)]
