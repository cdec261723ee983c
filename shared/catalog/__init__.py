"""The evaluation index (评价指标, 附件1 of 内政办发〔2025〕24号) as a typed, validated, immutable model.

Every service reads the index through `load_catalog()`: intake builds its forms from it, review_routing routes
indicators to departments with it, scoring scores against it. The index lives in `contracts/catalog/<id>.yaml`
(format: `catalog.schema.json` beside it). `model` holds the classes, `loading` reads, checks and parses.
"""
from shared.catalog.loading import (
    _DecimalLoader,
    catalog_directory,
    consistency_problems,
    list_catalogs,
    load_catalog,
    parse_catalog,
)
from shared.catalog.model import *  # noqa: F403
from shared.catalog.model import SCHEMA_FILE
from shared.catalog.model import __all__ as _model_names

__all__ = [*_model_names, "SCHEMA_FILE", "catalog_directory", "consistency_problems", "list_catalogs",
           "load_catalog", "parse_catalog", "_DecimalLoader"]
