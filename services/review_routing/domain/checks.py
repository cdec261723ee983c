"""The seven initial-review checks of 附件2 二 (一)–(七), as data.

They belong to the lead task of the 盟市自然资源局 (初审责任主体): it records each as passed or not, with a note,
and can refer to them in a return or a rejection. `prerequisites` are the 先决条件 of 附件1 that test the same
fact; `materials` the 附件2 一 material kinds the check is made on, read from the materials vocabulary
(`contracts/vocabularies/materials.yaml`, each kind's `checks`).
"""
from __future__ import annotations

from dataclasses import dataclass

from review_routing.domain.materials import kinds_of_check


@dataclass(frozen=True)
class InitialReviewCheck:
    code: str
    item: str          # (一) … (七)
    text: str
    prerequisites: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.item}{self.text}"

    def to_dict(self) -> dict:
        return {"code": self.code, "item": self.item, "text": self.text,
                "prerequisites": list(self.prerequisites), "materials": list(self.materials)}


INITIAL_REVIEW_CHECKS: tuple[InitialReviewCheck, ...] = (
    InitialReviewCheck("C1", "（一）", "《营业执照》、《采矿许可证》、《安全生产许可证》证照合法有效",
                       ("P1",), kinds_of_check("C1")),
    InitialReviewCheck("C2", "（二）", "按规定完成矿业权出让收益（价款）处置、环境影响评价和环保竣工验收",
                       ("P1",), kinds_of_check("C2")),
    InitialReviewCheck("C3", "（三）", "按规定提取使用矿区生态修复费用，"
                       "并按照《矿区生态修复方案》和《年度治理计划》完成矿区生态修复工作", (), kinds_of_check("C3")),
    InitialReviewCheck("C4", "（四）", "截至申报绿色矿山之日前3年，"
                       "未受到自然资源、能源、生态环境、应急管理、矿山安全监察监管等有关主管部门"
                       "行政处罚或处罚已执行到位，未发生过较大及以上安全生产、环保事故",
                       ("P2",), kinds_of_check("C4")),
    InitialReviewCheck("C5", "（五）", "按要求进行矿业权人勘查开采信息公示，未被列入异常名录，"
                       "如被列入且处罚整改到位的须提供佐证材料",
                       ("P3",), kinds_of_check("C5")),
    InitialReviewCheck("C6", "（六）", "矿山近3年正常生产运营，且剩余储量可采年限（按储量年度报告）不少于3年",
                       ("P4",), kinds_of_check("C6")),
    InitialReviewCheck("C7", "（七）", "矿山开采符合生态、环保、规划等各类差别化管控政策", ("P5",),
                       kinds_of_check("C7")),
)
CHECK_CODES = tuple(c.code for c in INITIAL_REVIEW_CHECKS)
_BY_CODE = {c.code: c for c in INITIAL_REVIEW_CHECKS}


def check(code: str) -> InitialReviewCheck:
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"没有初审内容 {code}（应为 {'、'.join(CHECK_CODES)}）") from None


def materials_of_checks() -> frozenset[str]:
    return frozenset(m for c in INITIAL_REVIEW_CHECKS for m in c.materials)
