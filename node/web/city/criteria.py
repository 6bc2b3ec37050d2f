"""A criterion in the reader's language.

A framework's own translations come first (a national framework stores them, `adapt.
add_translation`). Then, for a criterion still worded as in the global baseline, the baseline's
translation shipped beside it (`frameworks/data/baseline-v1.<lang>.json`, an unofficial
translation of the report's text) when that file exists. Otherwise the framework's own text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from sdgcities.node.frameworks import Criterion, load_baseline
from sdgcities.node.frameworks.baseline import BASELINE_FILE

_FRAMEWORKS_PACKAGE: Final = "sdgcities.node.frameworks"


@dataclass(frozen=True)
class CriterionText:
    text: str
    evidence_expected: tuple[str, ...]
    # True when the words are an unofficial translation of the baseline (the page says so).
    unofficial: bool = False
    # The language they are in, when it is not the one asked for (the page marks the passage).
    written_in: str | None = None


@cache
def _baseline_translations(language: str) -> dict[str, CriterionText]:
    """The baseline's criteria in `language`, by code; empty when no such file is shipped."""
    name = BASELINE_FILE.removesuffix(".json") + f".{language}.json"
    source = resources.files(_FRAMEWORKS_PACKAGE) / "data" / name
    if not source.is_file():
        return {}
    try:
        data = json.loads(source.read_bytes())
    except ValueError:
        return {}
    return read_baseline_translations(data)


def read_baseline_translations(data: Any) -> dict[str, CriterionText]:
    """Criteria texts by code from a translation file's JSON: a whole framework document in
    that language, or a mapping of codes to `{"text", "evidenceExpected"}`."""
    found: dict[str, CriterionText] = {}
    for code, item in _criterion_items(data):
        text = item.get("text")
        evidence = item.get("evidenceExpected", item.get("evidence_expected", ()))
        if isinstance(text, str) and isinstance(evidence, list):
            found[code] = CriterionText(
                text=text,
                evidence_expected=tuple(str(entry) for entry in evidence),
                unofficial=True,
            )
    return found


def _criterion_items(data: Any) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("stages"), list):
        return [
            (str(criterion.get("code")), criterion)
            for stage in data["stages"]
            if isinstance(stage, dict)
            for criterion in stage.get("criteria", [])
            if isinstance(criterion, dict)
        ]
    criteria = data.get("criteria", data)
    if not isinstance(criteria, dict):
        return []
    return [(str(code), item) for code, item in criteria.items() if isinstance(item, dict)]


@cache
def _baseline_texts() -> dict[str, str]:
    return {criterion.code: criterion.text for criterion in load_baseline().criteria}


def criterion_in(
    criterion: Criterion,
    language: str,
    *,
    baseline_translations: Mapping[str, CriterionText] | None = None,
    framework_language: str = "en",
) -> CriterionText:
    """`criterion`'s text and evidence expected in `language`, as well as the framework allows.

    `baseline_translations`: the baseline's criteria in `language` by code; by default those of
    the file shipped with the baseline. `framework_language`: what the criterion is written in.
    """
    own = criterion.translations.get(language)
    if own is not None:
        return CriterionText(text=own.text, evidence_expected=own.evidence_expected)
    # A criterion a national framework reworded is not the baseline's any more.
    if _baseline_texts().get(criterion.code) == criterion.text:
        if baseline_translations is None:
            baseline_translations = _baseline_translations(language)
        translated = baseline_translations.get(criterion.code)
        if translated is not None and len(translated.evidence_expected) == len(
            criterion.evidence_expected
        ):
            return translated
    return CriterionText(
        text=criterion.text,
        evidence_expected=criterion.evidence_expected,
        written_in=None if framework_language == language else framework_language,
    )
