"""National adaptation of the criteria framework (§26a), as pure functions.

A national node adapts the global baseline to its context: its own id, version and title,
contextualised criterion texts, added criteria and indicators, more languages. A document is
immutable and certificates name it by digest, so each function returns a new document and
leaves its argument untouched; every result is checked in full, as if read from a file.

    doc = derive_national(load_baseline(), country="KE", framework_id="sdgcities-ke",
                          version="1", title="SDG Cities certification: Kenya")
    doc = contextualise(doc, code="B.b", text="...")
    doc = add_criterion(doc, stage_key="evidence-based-processes", code="B.KE1",
                        text="...", evidence_expected=["..."])
    doc = add_translation(doc, code="B.KE1", language="sw", text="...",
                          evidence_expected=["..."])

Errors are `FrameworkError`s (`errors`): `UnknownStage`, `UnknownCriterion`,
`DuplicateCriterion`, and `InvalidFramework` for anything else the result would get wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .document import (
    FrameworkDocument,
    Indicator,
    check_country,
    check_criterion_code,
    check_language,
)
from .errors import DuplicateCriterion, InvalidFramework


def derive_national(
    baseline: FrameworkDocument,
    *,
    country: str,
    framework_id: str,
    version: str,
    title: str,
) -> FrameworkDocument:
    """A national framework for `country` that starts as a copy of the global `baseline`.

    It is published by `country` and names the baseline (id, version, digest) in `basedOn`,
    which is what the global node checks when it endorses the adaptation.
    """
    if baseline.is_national:
        raise InvalidFramework(
            f"a national framework is derived from a framework of the global node; "
            f"{baseline.label} is the national framework of {baseline.country}"
        )
    _check(check_country, country)
    if framework_id == baseline.id:
        raise InvalidFramework(
            f"a national framework needs an id of its own, not the baseline's {baseline.id!r}"
        )
    data = baseline.to_json_dict()
    data.update(
        id=framework_id,
        version=version,
        title=title,
        publisher=country,
        country=country,
        basedOn=baseline.ref.model_dump(mode="json", by_alias=True),
    )
    return FrameworkDocument.from_json_dict(data)


def contextualise(
    doc: FrameworkDocument,
    *,
    code: str,
    text: str,
    evidence_expected: Sequence[str] | None = None,
) -> FrameworkDocument:
    """`doc` with criterion `code` reworded for the national context (and its evidence, if given).

    Translations of a criterion whose text or evidence changes are dropped: they translate the
    old wording, and a reviewer must not read a stale criterion in another language.
    """
    old = doc.criterion(code)
    items = old.evidence_expected if evidence_expected is None else _items(evidence_expected)
    changed = text != old.text or items != old.evidence_expected

    def edit(criterion: dict[str, Any]) -> None:
        criterion["text"] = text
        criterion["evidenceExpected"] = list(items)
        if changed:
            criterion["translations"] = {}

    return _edit_criterion(doc, code, edit)


def add_criterion(
    doc: FrameworkDocument,
    *,
    stage_key: str,
    code: str,
    text: str,
    evidence_expected: Sequence[str],
    indicators: Iterable[Indicator] = (),
    source: str | None = None,
) -> FrameworkDocument:
    """`doc` with a national criterion added at the end of stage `stage_key`.

    `code` must be new (ignoring case) and start with the stage's letter: `B.f` or `B.KE1` in
    stage B. `source` may name the national policy or law the criterion comes from.
    """
    if not doc.is_national:
        raise InvalidFramework(
            f"criteria can be added only to a national framework, and {doc.label} is the "
            "global node's; derive a national framework first"
        )
    stage = doc.stage(stage_key)
    _check(check_criterion_code, code)
    if not code.startswith(f"{stage.letter}."):
        raise InvalidFramework(
            f"criterion {code} cannot go in stage {stage.key}, whose criterion codes start "
            f"with '{stage.letter}.'"
        )
    for existing in doc.criteria:
        if existing.code.casefold() == code.casefold():
            raise DuplicateCriterion(code, framework=doc.label, existing=existing.code)
    criterion: dict[str, Any] = {
        "code": code,
        "source": source,
        "text": text,
        "evidenceExpected": list(_items(evidence_expected)),
        "indicators": [_indicator_json(indicator) for indicator in indicators],
        "national": True,
        "translations": {},
    }
    data = doc.to_json_dict()
    for stage_data in data["stages"]:
        if stage_data["key"] == stage.key:
            stage_data["criteria"].append(criterion)
    return FrameworkDocument.from_json_dict(data)


def add_indicator(
    doc: FrameworkDocument, *, code_of_criterion: str, indicator: Indicator
) -> FrameworkDocument:
    """`doc` with `indicator` added to the indicators of criterion `code_of_criterion`."""
    if any(known.code == indicator.code for known in doc.criterion(code_of_criterion).indicators):
        raise InvalidFramework(
            f"criterion {code_of_criterion} already has an indicator {indicator.code!r}"
        )

    def edit(criterion: dict[str, Any]) -> None:
        criterion["indicators"].append(_indicator_json(indicator))

    return _edit_criterion(doc, code_of_criterion, edit)


def add_translation(
    doc: FrameworkDocument,
    *,
    code: str,
    language: str,
    text: str,
    evidence_expected: Sequence[str],
) -> FrameworkDocument:
    """`doc` with criterion `code` translated into `language` (replacing an earlier translation).

    `evidence_expected` translates the criterion's evidence items one for one, in order.
    """
    original = doc.criterion(code)
    _check(check_language, language)
    if language == doc.language:
        raise InvalidFramework(
            f"{language!r} is the language {doc.label} is written in; "
            "contextualise the criterion to change its text"
        )
    items = _items(evidence_expected)
    if len(items) != len(original.evidence_expected):
        raise InvalidFramework(
            f"criterion {code} lists {len(original.evidence_expected)} evidence items and the "
            f"{language!r} translation {len(items)}; translate each item, in order"
        )

    def edit(criterion: dict[str, Any]) -> None:
        criterion["translations"][language] = {"text": text, "evidenceExpected": list(items)}

    return _edit_criterion(doc, code, edit)


def with_version(doc: FrameworkDocument, version: str) -> FrameworkDocument:
    """`doc` as version `version`: the step before asking the global node to endorse changes."""
    if version == doc.version:
        raise InvalidFramework(f"{doc.label} is already version {version!r}")
    data = doc.to_json_dict()
    data["version"] = version
    return FrameworkDocument.from_json_dict(data)


def _edit_criterion(
    doc: FrameworkDocument, code: str, edit: Callable[[dict[str, Any]], None]
) -> FrameworkDocument:
    doc.criterion(code)
    data = doc.to_json_dict()
    for stage in data["stages"]:
        for criterion in stage["criteria"]:
            if criterion["code"] == code:
                edit(criterion)
    return FrameworkDocument.from_json_dict(data)


def _items(evidence_expected: Sequence[str]) -> tuple[str, ...]:
    # A bare string is a Sequence[str] too, and would become one item per character.
    if isinstance(evidence_expected, str):
        raise InvalidFramework("evidence expected is a list of items, not a single string")
    return tuple(evidence_expected)


def _indicator_json(indicator: Indicator) -> dict[str, Any]:
    return indicator.model_dump(mode="json", by_alias=True)


def _check(check: Callable[[str], str], value: str) -> None:
    try:
        check(value)
    except ValueError as exc:
        raise InvalidFramework(str(exc)) from exc
