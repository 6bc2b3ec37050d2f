"""The certification's own words, as pages show them: the four stages and their levels.

The keys are those of the framework documents and certificates (`frameworks.STAGE_ORDER`,
`LEVEL_BY_STAGE`); the names are the report's (§20 to §24), translated by the catalogues.
"""

from __future__ import annotations

from typing import Final

from .i18n import N_

STAGE_NAMES: Final[dict[str, str]] = {
    "qualification": N_("Qualification (candidate city)"),
    "evidence-based-processes": N_("Inclusive, evidence-based processes"),
    "enabling-environment": N_("Effective enabling environment"),
    "impact": N_("Impact"),
}
LEVEL_NAMES: Final[dict[str, str]] = {
    "silver": N_("Silver"),
    "gold": N_("Gold"),
    "platinum": N_("Platinum"),
    "diamond": N_("Diamond"),
}
