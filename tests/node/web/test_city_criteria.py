"""A criterion in the reader's language: the framework's own translation first, then the
baseline's unofficial translation for a criterion still worded as the baseline, else as written."""

from __future__ import annotations

from sdgcities.node.frameworks import add_translation, contextualise, load_baseline
from sdgcities.node.frameworks.translations import baseline_translation
from sdgcities.node.web.city.criteria import CriterionText, criterion_in


def test_a_frameworks_own_translation_comes_first() -> None:
    count = len(load_baseline().criterion("A.a").evidence_expected)
    items = tuple(f"Pièce {n}" for n in range(count))
    document = add_translation(
        load_baseline(),
        code="A.a",
        language="fr",
        text="La ville s'engage…",
        evidence_expected=items,
    )
    words = criterion_in(document.criterion("A.a"), "fr")
    assert words == CriterionText("La ville s'engage…", items)
    assert not words.unofficial


def test_the_baselines_translation_serves_a_criterion_worded_as_the_baseline() -> None:
    baseline = load_baseline()
    packaged = baseline_translation("fr")
    assert packaged is not None
    words = criterion_in(baseline.criterion("A.a"), "fr")
    assert words.text == packaged.criteria["A.a"].text
    assert words.evidence_expected == packaged.criteria["A.a"].evidence_expected
    assert words.unofficial
    # A criterion a national framework reworded keeps its own words, marked as English.
    national = contextualise(baseline, code="A.a", text="Nairobi County commits…")
    reworded = criterion_in(national.criterion("A.a"), "fr")
    assert reworded.text == "Nairobi County commits…"
    assert not reworded.unofficial
    assert reworded.written_in == "en"


def test_a_framework_in_another_language_is_shown_as_written() -> None:
    criterion = load_baseline().criterion("B.a")
    words = criterion_in(criterion, "zh", framework_language="es")
    assert (words.text, words.evidence_expected) == (criterion.text, criterion.evidence_expected)
    assert words.written_in == "es"
    assert criterion_in(criterion, "en").written_in is None
