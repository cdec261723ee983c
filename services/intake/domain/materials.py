"""The application materials of 附件2 一、申报 (一)–(七), as data, and the checklist over them.

附件2 一 lists what a mine enterprise hands in with its 自评估报告:

(一) 《营业执照》、《采矿许可证》、《安全生产许可证》;
(二) 矿业权出让收益(价款)缴纳相关材料(矿业权出让合同、缴费票据、年度矿产品销售报表), 环境影响评价和环保竣工验收材料;
(三) 截至申报之日前3年, 如受到有关主管部门行政处罚, 应提供已执行到位的佐证材料;
(四) 矿山上一年度储量年度报告;
(五) 矿山企业绿色矿山自评报告、申请表;
(六) 矿山企业对申报材料的真实性承诺书;
(七) 宣传片、遥感影像、现场照片等相关影像资料.

Each kind of file has a code, a Chinese label, the numbered item it belongs to, whether it is required, conditional
((三) only when the enterprise declares penalties in the last 3 years) or optional, the content types it may have
and its maximum size. The kinds are data: ``contracts/vocabularies/materials.yaml`` (read once, at import, like the
minerals), which also says which departments review each kind (review_routing reads that part). Decisions where
the notice is silent are in docs/intake-domain.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import yaml

from shared.config import contracts_path

__all__ = [
    "REQUIRED",
    "CONDITIONAL",
    "OPTIONAL",
    "PRESENT",
    "MISSING",
    "NOT_REQUIRED",
    "ITEMS",
    "MaterialKind",
    "KINDS",
    "EVIDENCE",
    "OTHER",
    "kind_by_code",
    "check_upload",
    "ChecklistEntry",
    "ChecklistResult",
    "MaterialsChecklist",
]

REQUIRED = "required"
CONDITIONAL = "conditional"  # required only when the enterprise declared penalties within 3 years
OPTIONAL = "optional"

PRESENT = "present"
MISSING = "missing"
NOT_REQUIRED = "not_required"

MB = 1024 * 1024

#: The vocabulary's data file (one owner of the material kinds, also read by review_routing).
DATA_FILE = contracts_path("vocabularies", "materials.yaml")
_DATA = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
_GROUPS: dict[str, tuple[str, ...]] = {name: tuple(types) for name, types in _DATA["content_types"].items()}

PDF = _GROUPS["pdf"]
IMAGES = _GROUPS["images"]
OFFICE = _GROUPS["office"]
VIDEO = _GROUPS["video"]
TIFF = _GROUPS["tiff"]

#: Extensions an upload's file name may carry for each content type (the adapter sniffs the bytes as well).
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/tiff": (".tif", ".tiff"),
    "application/msword": (".doc",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.ms-excel": (".xls",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "video/mp4": (".mp4",),
    "video/quicktime": (".mov",),
}

#: The seven numbered items of 附件2 一, as printed.
ITEMS = {int(no): str(text) for no, text in _DATA["items"].items()}


@dataclass(frozen=True)
class MaterialKind:
    code: str
    label: str
    item: int | None  # 1–7 for 附件2 一 (一)–(七); None for evidence files outside the list
    requirement: str  # REQUIRED / CONDITIONAL / OPTIONAL
    content_types: tuple[str, ...]
    max_bytes: int

    @property
    def item_label(self) -> str | None:
        return ITEMS.get(self.item) if self.item else None

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "item": self.item,
            "requirement": self.requirement,
            "content_types": list(self.content_types),
            "max_bytes": self.max_bytes,
        }


def load_kinds(data: dict) -> tuple[MaterialKind, ...]:
    """The kinds of the file's parsed content, checked: known content-type groups and requirements, items 1–7."""
    groups = {name: tuple(types) for name, types in data["content_types"].items()}
    kinds = []
    for row in data["kinds"]:
        unknown = [g for g in row["content_types"] if g not in groups]
        item = row.get("item")
        if unknown or row["requirement"] not in (REQUIRED, CONDITIONAL, OPTIONAL) or (
                item is not None and item not in range(1, 8)):
            raise ValueError(f"{DATA_FILE}: material kind {row.get('code')} is malformed")
        kinds.append(MaterialKind(str(row["code"]), str(row["label"]), item, row["requirement"],
                                  tuple(t for g in row["content_types"] for t in groups[g]),
                                  int(row["max_mb"]) * MB))
    if len({k.code for k in kinds}) != len(kinds):
        raise ValueError(f"{DATA_FILE}: duplicate material codes")
    return tuple(kinds)


KINDS: tuple[MaterialKind, ...] = load_kinds(_DATA)

EVIDENCE = "evidence"
OTHER = "other"

_KIND_BY_CODE = {k.code: k for k in KINDS}


def kind_by_code(code: str) -> MaterialKind | None:
    return _KIND_BY_CODE.get(code)


def _human_size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB else f"{n} 字节"


def check_upload(kind: str, content_type: str, size: int, filename: str | None = None) -> list[str]:
    """Reasons (Chinese) an upload of this kind is refused; empty when it may be stored.

    The adapter still sniffs the bytes (a declared type is only a claim) and never serves a file inline.
    """
    mk = kind_by_code(kind)
    if mk is None:
        return [f"未知的材料类型“{kind}”"]
    problems = []
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype not in mk.content_types:
        allowed = "、".join(sorted({e for t in mk.content_types for e in EXTENSIONS[t]}))
        problems.append(f"“{mk.label}”不接受该文件类型（允许：{allowed}）")
    elif filename is not None:
        lower = filename.lower()
        if not any(lower.endswith(ext) for ext in EXTENSIONS[ctype]):
            problems.append(f"文件名“{filename}”的扩展名与文件类型不符")
    if size <= 0:
        problems.append("文件为空")
    elif size > mk.max_bytes:
        problems.append(f"“{mk.label}”文件不能超过 {_human_size(mk.max_bytes)}")
    return problems


@dataclass(frozen=True)
class ChecklistEntry:
    kind: str
    label: str
    item: int
    requirement: str
    status: str  # PRESENT / MISSING / NOT_REQUIRED
    count: int  # number of files of this kind

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "item": self.item,
            "requirement": self.requirement,
            "status": self.status,
            "count": self.count,
        }


class ChecklistResult:
    """The evaluated checklist: a sequence of entries in the order of 附件2, plus ``missing()``."""

    def __init__(self, entries: Iterable[ChecklistEntry]):
        self._entries = tuple(entries)

    def __iter__(self) -> Iterator[ChecklistEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, i: int) -> ChecklistEntry:
        return self._entries[i]

    def entry(self, kind: str) -> ChecklistEntry:
        for e in self._entries:
            if e.kind == kind:
                return e
        raise KeyError(kind)

    def missing(self) -> list[ChecklistEntry]:
        return [e for e in self._entries if e.status == MISSING]

    @property
    def complete(self) -> bool:
        return not self.missing()

    def to_list(self) -> list[dict]:
        return [e.to_dict() for e in self._entries]


def _kind_of(attachment: object) -> str | None:
    if isinstance(attachment, Mapping):
        return attachment.get("kind")
    return getattr(attachment, "kind", None)


class MaterialsChecklist:
    """Which of the listed materials are present among an application's attachments."""

    def __init__(self, kinds: Iterable[MaterialKind] = KINDS):
        self.kinds = tuple(k for k in kinds if k.item is not None)

    def evaluate(self, declared_penalties: bool, attachments: Iterable[object]) -> ChecklistResult:
        """``attachments``: objects with a ``kind`` attribute or mappings with a ``"kind"`` key."""
        counts: dict[str, int] = {}
        for a in attachments:
            k = _kind_of(a)
            if k:
                counts[k] = counts.get(k, 0) + 1
        entries = []
        for k in self.kinds:
            n = counts.get(k.code, 0)
            needed = k.requirement == REQUIRED or (k.requirement == CONDITIONAL and declared_penalties)
            status = PRESENT if n else (MISSING if needed else NOT_REQUIRED)
            entries.append(ChecklistEntry(k.code, k.label, k.item, k.requirement, status, n))
        return ChecklistResult(entries)

    def missing(self, declared_penalties: bool, attachments: Iterable[object]) -> list[ChecklistEntry]:
        return self.evaluate(declared_penalties, attachments).missing()
