"""The application materials (申报材料, 附件2 一) as review_routing reads them: which departments review each kind,
which prerequisites (先决条件) and initial-review checks (附件2 二) it supports, and its Chinese label.

The data is `contracts/vocabularies/materials.yaml` (the vocabulary's one owner; intake reads the same file for
its upload rules). Read once, at import, as reference data (like the 盟市 list of `shared.regions`); the rest is
pure.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from shared.config import contracts_path

DATA_FILE = contracts_path("vocabularies", "materials.yaml")
ALL_DEPARTMENTS = "all"
EVIDENCE = "evidence"


@dataclass(frozen=True)
class MaterialKind:
    code: str
    label: str
    item: int | None                    # 1–7 of 附件2 一; None outside the numbered list
    departments: tuple[str, ...]        # 附件3 codes responsible for it; ("all",) = every department with a task
    prerequisites: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    inferred: str = ""                  # why, where the notice does not say it in so many words

    @property
    def for_every_department(self) -> bool:
        return ALL_DEPARTMENTS in self.departments

    def reviewed_by(self, department: str, prerequisites: Iterable[str] = ()) -> bool:
        """Whether a department's task gets files of this kind: it is responsible for the kind, or the kind
        supports one of the task's prerequisites."""
        return (self.for_every_department or department in self.departments
                or bool(set(self.prerequisites) & set(prerequisites)))


def load_kinds(data: dict) -> tuple[dict[int, str], tuple[MaterialKind, ...]]:
    items = {int(no): str(text) for no, text in data["items"].items()}
    kinds = []
    for row in data["kinds"]:
        departments = row.get("departments") or ()
        departments = (ALL_DEPARTMENTS,) if departments == ALL_DEPARTMENTS else tuple(departments)
        kinds.append(MaterialKind(str(row["code"]), str(row["label"]), row.get("item"), departments,
                                  tuple(row.get("prerequisites") or ()), tuple(row.get("checks") or ()),
                                  str(row.get("inferred") or "")))
    return items, tuple(kinds)


ITEMS, KINDS = load_kinds(yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")))
_BY_CODE = {k.code: k for k in KINDS}


def kind(code: str | None) -> MaterialKind | None:
    return _BY_CODE.get(code or "")


def kind_label(code: str | None) -> str:
    """The Chinese label of a material kind (never the code): unknown kinds read as 其他材料."""
    found = kind(code)
    return found.label if found else "其他材料"


def item_label(code: str | None) -> str:
    found = kind(code)
    return ITEMS.get(found.item, "") if found and found.item else ""


def kinds_supporting(prerequisite: str) -> tuple[str, ...]:
    return tuple(k.code for k in KINDS if prerequisite in k.prerequisites)


def kinds_of_check(check: str) -> tuple[str, ...]:
    return tuple(k.code for k in KINDS if check in k.checks)
