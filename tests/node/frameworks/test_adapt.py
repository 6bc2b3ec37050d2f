"""National adaptation: each function returns a new, valid document, or a clear error."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdgcities.node.frameworks import (
    DuplicateCriterion,
    FrameworkDocument,
    Indicator,
    InvalidFramework,
    UnknownCriterion,
    UnknownStage,
    add_criterion,
    add_indicator,
    add_translation,
    contextualise,
    derive_national,
    load_baseline,
    with_version,
)

from .factories import make_national

KE_INDICATOR = Indicator(
    code="KE-CIDP", name="County integrated development plan in force", source="KE-MoLPP"
)


def _json_round_trip(doc: FrameworkDocument) -> FrameworkDocument:
    return FrameworkDocument.from_json(doc.to_json())


# derive_national


def test_derive_national(baseline: FrameworkDocument) -> None:
    kenya = derive_national(
        baseline, country="KE", framework_id="sdgcities-ke", version="1", title="Kenya"
    )
    assert (kenya.id, kenya.version, kenya.title) == ("sdgcities-ke", "1", "Kenya")
    assert (kenya.publisher, kenya.country) == ("KE", "KE")
    assert kenya.is_national
    assert kenya.based_on == baseline.ref
    assert kenya.stages == baseline.stages
    assert (kenya.valid_from, kenya.valid_until, kenya.language) == (
        baseline.valid_from,
        baseline.valid_until,
        baseline.language,
    )
    assert kenya.digest != baseline.digest
    assert _json_round_trip(kenya) == kenya


@pytest.mark.parametrize("country", ["UK", "ke", "KEN", "XX", "", "global", "Kenya"])
def test_derive_national_refuses_a_bad_country(baseline: FrameworkDocument, country: str) -> None:
    with pytest.raises(InvalidFramework, match="ISO 3166-1 alpha-2"):
        derive_national(
            baseline, country=country, framework_id="sdgcities-x", version="1", title="X"
        )


def test_derive_national_refuses_a_national_base(kenya: FrameworkDocument) -> None:
    with pytest.raises(InvalidFramework, match="national framework of KE"):
        derive_national(kenya, country="UG", framework_id="sdgcities-ug", version="1", title="U")


def test_derive_national_needs_its_own_id(baseline: FrameworkDocument) -> None:
    with pytest.raises(InvalidFramework, match="id of its own"):
        derive_national(
            baseline, country="KE", framework_id=baseline.id, version="1", title="Kenya"
        )


@pytest.mark.parametrize(
    ("framework_id", "version", "title"),
    [("SDG Kenya", "1", "Kenya"), ("sdgcities-ke", "1 beta", "Kenya"), ("sdgcities-ke", "1", " ")],
)
def test_derive_national_checks_the_new_metadata(
    baseline: FrameworkDocument, framework_id: str, version: str, title: str
) -> None:
    with pytest.raises(InvalidFramework):
        derive_national(
            baseline, country="KE", framework_id=framework_id, version=version, title=title
        )


# contextualise


def test_contextualise_rewords_one_criterion(kenya: FrameworkDocument) -> None:
    text = "The county integrated development plan is coherent with Kenya Vision 2030."
    adapted = contextualise(kenya, code="B.b", text=text)
    assert adapted.criterion("B.b").text == text
    assert adapted.criterion("B.b").evidence_expected == kenya.criterion("B.b").evidence_expected
    assert adapted.criterion("B.b").source == "§21(b)"
    assert adapted.criterion("B.a") == kenya.criterion("B.a")
    assert kenya.criterion("B.b").text != text  # the argument is untouched
    assert adapted.digest != kenya.digest
    assert _json_round_trip(adapted) == adapted


def test_contextualise_replaces_evidence(kenya: FrameworkDocument) -> None:
    adapted = contextualise(
        kenya, code="C.c", text=kenya.criterion("C.c").text, evidence_expected=["county laws"]
    )
    assert adapted.criterion("C.c").evidence_expected == ("county laws",)


def test_contextualise_drops_translations_of_the_old_wording(kenya: FrameworkDocument) -> None:
    original = kenya.criterion("A.b")
    translated = add_translation(
        kenya, code="A.b", language="sw", text="Jiji...", evidence_expected=["1", "2", "3"]
    )
    unchanged = contextualise(translated, code="A.b", text=original.text)
    assert "sw" in unchanged.criterion("A.b").translations
    reworded = contextualise(translated, code="A.b", text="The county has chosen its levels.")
    assert reworded.criterion("A.b").translations == {}


def test_contextualise_errors(kenya: FrameworkDocument) -> None:
    with pytest.raises(UnknownCriterion, match=r"has no criterion 'B\.z'"):
        contextualise(kenya, code="B.z", text="x")
    with pytest.raises(InvalidFramework, match="at least 1 character"):
        contextualise(kenya, code="B.b", text="  ")
    with pytest.raises(InvalidFramework, match="not a single string"):
        contextualise(kenya, code="B.b", text="x", evidence_expected="a plan")
    with pytest.raises(InvalidFramework):
        contextualise(kenya, code="B.b", text="x", evidence_expected=[])


# add_criterion


@pytest.mark.parametrize("code", ["B.f", "B.KE1", "B.ke-2"])
def test_add_criterion(kenya: FrameworkDocument, code: str) -> None:
    adapted = add_criterion(
        kenya,
        stage_key="evidence-based-processes",
        code=code,
        text="The county integrated development plan has been adopted by the county assembly.",
        evidence_expected=["adopted plan", "assembly resolution"],
        indicators=[KE_INDICATOR],
    )
    assert adapted.criteria_codes("evidence-based-processes")[-1] == code
    criterion = adapted.criterion(code)
    assert criterion.national
    assert criterion.source is None
    assert criterion.indicators == (KE_INDICATOR,)
    assert code not in kenya.criteria_codes("evidence-based-processes")
    assert _json_round_trip(adapted) == adapted


def test_add_criterion_with_a_source(kenya: FrameworkDocument) -> None:
    adapted = add_criterion(
        kenya,
        stage_key="impact",
        code="D.KE1",
        text="Evidence of reduced informality.",
        evidence_expected=["survey"],
        source="Kenya National Urban Development Policy",
    )
    assert adapted.criterion("D.KE1").source == "Kenya National Urban Development Policy"


@pytest.mark.parametrize(
    ("stage_key", "code", "error", "message"),
    [
        ("impact", "B.f", InvalidFramework, "whose criterion codes start with 'D.'"),
        ("impact", "D.a", DuplicateCriterion, "already has a criterion 'D.a'"),
        ("impact", "D.A", DuplicateCriterion, "without regard to case"),
        ("impact", "D.", InvalidFramework, "is not a criterion code"),
        ("impact", "Df", InvalidFramework, "is not a criterion code"),
        ("impact", "E.a", InvalidFramework, "is not a criterion code"),
        ("impact", "D.a b", InvalidFramework, "is not a criterion code"),
        ("diamond", "D.f", UnknownStage, "has no stage 'diamond'"),
    ],
)
def test_add_criterion_errors(
    kenya: FrameworkDocument, stage_key: str, code: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        add_criterion(kenya, stage_key=stage_key, code=code, text="t", evidence_expected=["e"])


def test_add_criterion_only_to_a_national_framework(baseline: FrameworkDocument) -> None:
    with pytest.raises(InvalidFramework, match="only to a national framework"):
        add_criterion(baseline, stage_key="impact", code="D.e", text="t", evidence_expected=["e"])


def test_added_codes_are_unique_across_the_framework(kenya: FrameworkDocument) -> None:
    once = add_criterion(kenya, stage_key="impact", code="D.e", text="t", evidence_expected=["e"])
    with pytest.raises(DuplicateCriterion):
        add_criterion(once, stage_key="impact", code="D.e", text="u", evidence_expected=["e"])


# add_indicator


def test_add_indicator(kenya: FrameworkDocument) -> None:
    adapted = add_indicator(kenya, code_of_criterion="B.a", indicator=KE_INDICATOR)
    assert [i.code for i in adapted.criterion("B.a").indicators] == ["UMF", "SDG", "KE-CIDP"]
    assert [i.code for i in kenya.criterion("B.a").indicators] == ["UMF", "SDG"]
    assert _json_round_trip(adapted) == adapted


def test_add_indicator_errors(kenya: FrameworkDocument) -> None:
    with pytest.raises(InvalidFramework, match="already has an indicator 'UMF'"):
        add_indicator(
            kenya,
            code_of_criterion="B.a",
            indicator=Indicator(code="UMF", name="again", source="x"),
        )
    with pytest.raises(UnknownCriterion):
        add_indicator(kenya, code_of_criterion="B.z", indicator=KE_INDICATOR)


# add_translation


def test_add_translation(kenya: FrameworkDocument) -> None:
    evidence = ["taarifa ya kwanza", "taarifa ya pili", "taarifa ya tatu"]
    adapted = add_translation(
        kenya,
        code="A.c",
        language="sw",
        text="Jiji limetoa ahadi ya umma.",
        evidence_expected=evidence,
    )
    swahili = adapted.criterion("A.c").in_language("sw")
    assert swahili.text == "Jiji limetoa ahadi ya umma."
    assert swahili.evidence_expected == tuple(evidence)
    assert adapted.criterion("A.c").text == kenya.criterion("A.c").text
    assert kenya.criterion("A.c").translations == {}
    assert _json_round_trip(adapted) == adapted

    corrected = add_translation(
        adapted, code="A.c", language="sw", text="Jiji limetoa ahadi.", evidence_expected=evidence
    )
    assert corrected.criterion("A.c").in_language("sw").text == "Jiji limetoa ahadi."


def test_translations_are_kept_in_language_order(kenya: FrameworkDocument) -> None:
    doc = kenya
    for language in ("sw", "fr", "pt-BR"):
        doc = add_translation(
            doc, code="C.c", language=language, text=language, evidence_expected=["a", "b"]
        )
    assert list(doc.criterion("C.c").translations) == ["fr", "pt-BR", "sw"]


@pytest.mark.parametrize("language", ["english", "EN", "en-us", "e", "sw_KE", "", "sw-KEN"])
def test_add_translation_refuses_a_bad_language(kenya: FrameworkDocument, language: str) -> None:
    with pytest.raises(InvalidFramework, match="is not a language tag"):
        add_translation(
            kenya, code="C.c", language=language, text="x", evidence_expected=["a", "b"]
        )


def test_add_translation_errors(kenya: FrameworkDocument) -> None:
    with pytest.raises(InvalidFramework, match=r"the language .* is written in"):
        add_translation(kenya, code="C.c", language="en", text="x", evidence_expected=["a", "b"])
    with pytest.raises(InvalidFramework, match="translate each item"):
        add_translation(kenya, code="C.c", language="sw", text="x", evidence_expected=["a"])
    with pytest.raises(UnknownCriterion):
        add_translation(kenya, code="C.z", language="sw", text="x", evidence_expected=["a"])


@given(
    text=st.text(
        alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Zs")), min_size=1
    ).filter(str.strip)
)
def test_any_translation_text_round_trips(text: str) -> None:
    doc = add_translation(
        make_national("KE"), code="C.c", language="sw", text=text, evidence_expected=[text, text]
    )
    again = _json_round_trip(doc)
    assert again.criterion("C.c").translations["sw"].text == text.strip()
    assert again.digest == doc.digest


# with_version and a whole adaptation


def test_with_version(kenya: FrameworkDocument) -> None:
    second = with_version(kenya, "2")
    assert second.version == "2"
    assert second.stages == kenya.stages
    assert second.ref != kenya.ref
    with pytest.raises(InvalidFramework, match="already version '2'"):
        with_version(second, "2")
    with pytest.raises(InvalidFramework):
        with_version(second, "two point one!")


def test_a_whole_adaptation_round_trips() -> None:
    baseline = load_baseline()
    doc = derive_national(
        baseline, country="KE", framework_id="sdgcities-ke", version="1", title="Kenya"
    )
    doc = contextualise(doc, code="B.b", text="Coherent with Kenya Vision 2030.")
    doc = add_criterion(
        doc, stage_key="qualification", code="A.KE1", text="t", evidence_expected=["e"]
    )
    doc = add_indicator(doc, code_of_criterion="A.KE1", indicator=KE_INDICATOR)
    doc = add_translation(doc, code="A.KE1", language="sw", text="s", evidence_expected=["e"])
    doc = with_version(doc, "1.1")

    again = FrameworkDocument.from_json(doc.to_json().encode())
    assert again == doc
    assert again.digest == doc.digest
    assert again.based_on == baseline.ref
    assert [c.code for c in again.criteria if c.national] == ["A.KE1"]
    assert load_baseline().digest == baseline.digest  # the baseline is never changed
