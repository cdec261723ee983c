"""The situations of dynamic management (附件2 四) as data: 标注 3, 限期整改 9, 移出名录 14, in the notice's words and
order (`contracts/supervision/situations.yaml`). Pure: `parse_situations` takes the loaded YAML and the catalog's
department names and refuses a file that is not what the notice says in shape (counts, numbering, known departments,
how each is detected)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The notice's three measures, in its order, with the number of situations it lists for each.
MEASURES = {"mark": 3, "rectify": 9, "remove": 14}
MEASURE_LABELS = {"mark": "标注", "rectify": "限期整改", "remove": "移出绿色矿山名录"}
DETECTIONS = {"sweep": "平台每日巡检自动发现", "follows": "随限期整改事项自动标注", "report": "有关主管部门发现并提出"}
# The daily sweep's rules (issue 13 item 4) a situation may name as its `trigger`.
TRIGGERS = {"production_stopped_one_year", "major_change", "licence_expired", "production_stopped_three_years",
            "abnormal_list_six_months", "backward_two_years"}


class SituationsInvalid(ValueError):
    """The situations file is not what the notice lists; `problems` says where."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("动态管理情形文件有误:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Situation:
    measure: str                  # mark | rectify | remove
    no: int
    text: str
    raised_by: tuple[str, ...]    # department codes of 附件3
    detection: str                # sweep | follows | report
    evidence: tuple[str, ...]
    trigger: str | None = None    # the sweep rule, when detection is "sweep"
    follows: str | None = None    # the measure it follows from, when detection is "follows"

    @property
    def code(self) -> str:
        """How a measure cites it: "rectify.5"."""
        return f"{self.measure}.{self.no}"


@dataclass(frozen=True)
class Measure:
    code: str
    title: str
    clause: str
    lead: str
    situations: tuple[Situation, ...]


@dataclass(frozen=True)
class Situations:
    version: str
    source: str
    measures: tuple[Measure, ...]

    def measure(self, code: str) -> Measure:
        return next(m for m in self.measures if m.code == code)

    def get(self, code: str) -> Situation | None:
        """The situation cited as "rectify.5", or None."""
        measure, _, no = code.partition(".")
        if measure not in MEASURES or not no.isdigit():
            return None
        return next((s for s in self.measure(measure).situations if s.no == int(no)), None)


def parse_situations(data: Mapping, departments: Mapping[str, str]) -> Situations:
    """`data`: the loaded YAML; `departments`: catalog department code -> name."""
    problems: list[str] = []
    measures_data = data.get("measures") if isinstance(data, Mapping) else None
    if not isinstance(measures_data, Mapping) or list(measures_data) != list(MEASURES):
        raise SituationsInvalid([f"measures: 须依次为 {'、'.join(MEASURES)}"])
    measures = []
    for code, count in MEASURES.items():
        block = measures_data[code] or {}
        items = block.get("situations") or []
        if len(items) != count:
            problems.append(f"{code}: 通知列有 {count} 种情形，文件有 {len(items)} 种")
        situations = []
        for index, item in enumerate(items, 1):
            where = f"{code}.{index}"
            if item.get("no") != index:
                problems.append(f"{where}: 编号须为 {index}（按通知顺序）")
            text = (item.get("text") or "").strip()
            if not text:
                problems.append(f"{where}: 缺少通知原文")
            raised_by = tuple(item.get("raised_by") or ())
            if not raised_by or not set(raised_by) <= set(departments):
                problems.append(f"{where}: raised_by 须为附件3的部门 {sorted(set(raised_by) - set(departments))}")
            detection = item.get("detection")
            if detection not in DETECTIONS:
                problems.append(f"{where}: detection 须为 {'、'.join(DETECTIONS)} 之一")
            trigger, follows = item.get("trigger"), item.get("follows")
            if not (trigger in TRIGGERS if detection == "sweep" else trigger is None):
                problems.append(f"{where}: 自动巡检的情形须写明 trigger（{'、'.join(sorted(TRIGGERS))}），其他情形不写")
            if not (follows in MEASURES if detection == "follows" else follows is None):
                problems.append(f"{where}: 随其他事项产生的情形须写明 follows，其他情形不写")
            evidence = tuple(item.get("evidence") or ())
            if not evidence:
                problems.append(f"{where}: 缺少所需证据")
            situations.append(Situation(code, index, text, raised_by, detection, evidence, trigger, follows))
        measures.append(Measure(code, block.get("title") or MEASURE_LABELS[code], block.get("clause") or "",
                                block.get("lead") or "", tuple(situations)))
    if not data.get("version"):
        problems.append("version: 缺少版本")
    if problems:
        raise SituationsInvalid(problems)
    return Situations(str(data["version"]), data.get("source") or "", tuple(measures))
