"""The region stage on the web: the API under `/api/v1/evaluation` (one flask-smorest blueprint) and the pages
under `/evaluation/` (the region office's and the evaluators' workspace). Each area module
(`reviews`, `institutions`, `commissions`, `evaluations`, `check_rounds`, `re_evaluations`) adds its views through
`routes(api, pages, bus)`."""
from __future__ import annotations

from importlib import import_module

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

from review_routing.entrypoints.schemas import ReviewParser

AREAS = ("reviews", "institutions", "commissions", "evaluations", "check_rounds", "re_evaluations")


class EvaluationApi(ApiBlueprint):
    ARGUMENTS_PARSER = ReviewParser()


def blueprints(bus) -> tuple[ApiBlueprint, Blueprint]:
    api = EvaluationApi("evaluation", __name__, url_prefix="/api/v1/evaluation",
                        description="自治区评估环节：第三方评估、资料核查与抽查、公开抽取、自治区决定 (附件2 三)")
    pages = Blueprint("evaluation_pages", __name__, url_prefix="/evaluation")
    for area in AREAS:
        import_module(f"{__name__}.{area}").routes(api, pages, bus)
    return api, pages
