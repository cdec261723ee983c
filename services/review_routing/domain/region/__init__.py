"""The region stage (附件2 三, 正文 二(三)(四)): after the 盟市 bureau forwards a case, the 自治区自然资源厅
commissions a third-party evaluation institution, checks the documents with the departments, spot-checks a
proportion of the evaluated mines on site, and decides per case whether it goes to the public notice (公示).

| module | the aggregate or rules |
|---|---|
| `review.py` | `RegionReview`: one forwarded case version through the stage (status, step deadlines, flags, decision) |
| `draws.py` | `DrawRecord`: a published, recomputable random draw (`sha256-rank-v1`, `shared.draws`) |
| `institutions.py` | `EvaluationInstitution`: the register (staff, conflicts of interest, bans) and misconduct |
| `commissions.py` | `Commission`: 委托, acceptance with the two pledges, decline, expiry |
| `evaluations.py` | `Evaluation`: the institution's per-indicator scores, 核查记录 and images, the report |
| `check_rounds.py` | `CheckRound`: 资料核查 by the departments, the spot-check draw, spot-check assessments |
| `re_evaluations.py` | `ReEvaluation`: a listed mine's 重大变化 checked on site (附件2 三), due date, the outcome |

Pure: no I/O. Every aggregate has `id`, `version` (None until first saved), `to_dict()` and `from_dict()`, which is
all the generic repository (`service_layer.unit_of_work.Aggregates`) needs.
"""

from importlib import import_module

# The aggregate class of each collection (`uow.<name>`), by module and class name.
KINDS = {"region_reviews": ("review", "RegionReview"), "draws": ("draws", "DrawRecord"),
         "institutions": ("institutions", "EvaluationInstitution"), "commissions": ("commissions", "Commission"),
         "evaluations": ("evaluations", "Evaluation"), "check_rounds": ("check_rounds", "CheckRound"),
         "re_evaluations": ("re_evaluations", "ReEvaluation")}


def kinds() -> dict[str, type]:
    """{collection: aggregate class} of every region-stage aggregate."""
    return {name: getattr(import_module(f"{__name__}.{module}"), cls) for name, (module, cls) in KINDS.items()}
