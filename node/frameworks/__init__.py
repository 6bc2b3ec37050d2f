"""The certification criteria framework as data (DESIGN §2).

The global baseline (§20 to §23 of the source report) ships as `data/baseline-v1.json`; national
nodes adapt it (§26a) with the pure functions of `adapt`. Documents are immutable, and named by
id, version and content digest (`FrameworkDocument.ref`), which every certificate carries.
`document`, `adapt` and `baseline` use no database and no web framework; `models`, `service` and
`routes` store the node's framework versions and serve them (`/frameworks`).
"""

from .adapt import (
    add_criterion,
    add_indicator,
    add_translation,
    contextualise,
    derive_national,
    with_version,
)
from .baseline import load_baseline
from .document import (
    LEVEL_BY_STAGE,
    STAGE_ORDER,
    Criterion,
    FrameworkDocument,
    FrameworkRef,
    GlossaryEntry,
    Indicator,
    Level,
    Stage,
    StageKey,
    Translation,
)
from .errors import (
    DuplicateCriterion,
    FrameworkError,
    InvalidFramework,
    UnknownCriterion,
    UnknownStage,
)

__all__ = [
    "LEVEL_BY_STAGE",
    "STAGE_ORDER",
    "Criterion",
    "DuplicateCriterion",
    "FrameworkDocument",
    "FrameworkError",
    "FrameworkRef",
    "GlossaryEntry",
    "Indicator",
    "InvalidFramework",
    "Level",
    "Stage",
    "StageKey",
    "Translation",
    "UnknownCriterion",
    "UnknownStage",
    "add_criterion",
    "add_indicator",
    "add_translation",
    "contextualise",
    "derive_national",
    "load_baseline",
    "with_version",
]
