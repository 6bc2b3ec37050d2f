"""A criterion in the reader's language: the framework's own translation first, then the
baseline's unofficial translation for a criterion still worded as the baseline, else as written."""

from __future__ import annotations

from sdgcities.node.frameworks import add_translation, contextualise, load_baseline
from sdgcities.node.web.city.criteria import (
    CriterionText,
    criterion_in,
    read_baseline_translations,
)

BASELINE_FR = {"A.a": CriterionText("La ville s'engage…", ("Une délibération",), unofficial=True)}


def _evidence_count(code: str) -> int:
    return len(load_baseline().criterion(code).evidence_expected)


def test_a_frameworks_own_translation_comes_first() -> None:
    items = tuple(f"Ushahidi {n}" for n in range(_evidence_count("A.a")))
    document = add_translation(
        load_baseline(),
        code="A.a",
        language="sw",
        text="Jiji linajitolea…",
        evidence_expected=items,
    )
    words = criterion_in(document.criterion("A.a"), "sw", baseline_translations={})
    assert words == CriterionText("Jiji linajitolea…", items)
    assert not words.unofficial


def test_the_baselines_translation_serves_a_criterion_worded_as_the_baseline() -> None:
    baseline = load_baseline()
    items = tuple(f"Pièce {n}" for n in range(_evidence_count("A.a")))
    translated = {"A.a": CriterionText("La ville s'engage…", items, unofficial=True)}
    assert (
        criterion_in(baseline.criterion("A.a"), "fr", baseline_translations=translated)
        == (translated["A.a"])
    )
    # A criterion a national framework reworded keeps its own words.
    national = contextualise(baseline, code="A.a", text="Nairobi County commits…")
    words = criterion_in(national.criterion("A.a"), "fr", baseline_translations=translated)
    assert words.text == "Nairobi County commits…"
    assert not words.unofficial


def test_a_translation_with_the_wrong_number_of_evidence_items_is_not_used() -> None:
    baseline = load_baseline()
    words = criterion_in(baseline.criterion("A.a"), "fr", baseline_translations=BASELINE_FR)
    assert words.text == baseline.criterion("A.a").text


def test_without_any_translation_the_frameworks_text_is_shown() -> None:
    criterion = load_baseline().criterion("B.a")
    words = criterion_in(criterion, "zh", baseline_translations={})
    assert (words.text, words.evidence_expected) == (criterion.text, criterion.evidence_expected)
    # The page marks the passage as English, the framework's language.
    assert words.written_in == "en"
    assert criterion_in(criterion, "en", baseline_translations={}).written_in is None


def test_a_translation_file_is_read_in_either_shape() -> None:
    by_code = {"A.a": {"text": "Texte", "evidenceExpected": ["Pièce"]}}
    assert read_baseline_translations({"criteria": by_code}) == {
        "A.a": CriterionText("Texte", ("Pièce",), unofficial=True)
    }
    document = {"stages": [{"criteria": [{"code": "A.a", **by_code["A.a"]}]}]}
    assert read_baseline_translations(document) == read_baseline_translations(by_code)
    assert read_baseline_translations(["not", "a", "mapping"]) == {}
