"""The baseline framework against its source document, and the document model's rules."""

from __future__ import annotations

import json
import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sdgcities.node.frameworks import (
    LEVEL_BY_STAGE,
    STAGE_ORDER,
    FrameworkDocument,
    FrameworkError,
    InvalidFramework,
    UnknownCriterion,
    UnknownStage,
    load_baseline,
)

from .factories import baseline_data, make_national

# The source report (UN-Habitat HSP/EB.2023/13), kept as test data so a fresh clone checks it.
SOURCE = Path(__file__).parents[2] / "data" / "sdg-cities-certification-report.txt"

BASELINE_CODES = (
    "A.a", "A.b", "A.c",
    "B.a", "B.b", "B.c", "B.d", "B.e",
    "C.a", "C.b", "C.c", "C.d",
    "D.a", "D.b", "D.c", "D.d",
)  # fmt: skip

# Pinned: certificates name this digest, so the packaged baseline must never change silently.
# A new baseline is a new file with a new version, and a new line here.
BASELINE_V1_DIGEST = "sha256:7591c7d5ba6d3f635a73cc98989694327f31fad6caab86a9537cb7b34addb66c"


def _normalise(text: str) -> str:
    # Footnote numbers are PDF artefacts the quotes leave out; line breaks are layout.
    return " ".join(re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", "", text).split())


@pytest.fixture(scope="module")
def source_text() -> str:
    return _normalise(SOURCE.read_text(encoding="utf-8"))


def _reorder(value: Any, rng: Any) -> Any:
    """`value` with the keys of every object in a random order (lists keep theirs)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _reorder(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_reorder(item, rng) for item in value]
    return value


# The baseline as built from §20 to §24.


def test_baseline_metadata(baseline: FrameworkDocument) -> None:
    assert baseline.id == "sdgcities-baseline"
    assert baseline.version == "1"
    assert baseline.publisher == "global"
    assert baseline.country is None
    assert baseline.based_on is None
    assert baseline.language == "en"
    assert baseline.valid_from == date(2024, 1, 1)
    assert baseline.valid_until == date(2030, 12, 31)
    assert not baseline.is_national
    assert any("§35" in note for note in baseline.notes)


def test_baseline_has_the_sixteen_criteria_of_paragraphs_20_to_23(
    baseline: FrameworkDocument,
) -> None:
    assert tuple(criterion.code for criterion in baseline.criteria) == BASELINE_CODES
    assert not any(criterion.national for criterion in baseline.criteria)


@pytest.mark.parametrize(
    ("key", "letter", "level", "paragraph", "name", "codes"),
    [
        ("qualification", "A", "silver", 20, "Qualification (candidate city)", 3),
        ("evidence-based-processes", "B", "gold", 21, "Inclusive, evidence-based processes", 5),
        ("enabling-environment", "C", "platinum", 22, "Effective enabling environment", 4),
        ("impact", "D", "diamond", 23, "Impact", 4),
    ],
)
def test_stages_follow_design_section_2(
    baseline: FrameworkDocument,
    key: str,
    letter: str,
    level: str,
    paragraph: int,
    name: str,
    codes: int,
) -> None:
    stage = baseline.stage(key)
    assert (stage.letter, stage.level, stage.paragraph, stage.name) == (
        letter,
        level,
        paragraph,
        name,
    )
    assert stage.validity_years == 3
    assert baseline.criteria_codes(key) == tuple(f"{letter}.{c}" for c in "abcde"[:codes])
    for criterion in stage.criteria:
        assert criterion.source == f"§{paragraph}({criterion.code[-1]})"


def test_stage_order_and_levels_constants() -> None:
    assert STAGE_ORDER == (
        "qualification",
        "evidence-based-processes",
        "enabling-environment",
        "impact",
    )
    assert dict(LEVEL_BY_STAGE) == {
        "qualification": "silver",
        "evidence-based-processes": "gold",
        "enabling-environment": "platinum",
        "impact": "diamond",
    }


@pytest.mark.parametrize("code", BASELINE_CODES)
def test_criterion_text_is_quoted_from_the_source(source_text: str, code: str) -> None:
    text = load_baseline().criterion(code).text
    assert _normalise(text) in source_text


@pytest.mark.parametrize("key", STAGE_ORDER)
def test_stage_lead_is_quoted_from_the_source(source_text: str, key: str) -> None:
    stage = load_baseline().stage(key)
    assert f"{stage.paragraph}. {_normalise(stage.lead)}" in source_text
    assert _normalise(stage.name) in source_text


def test_glossary_quotes_footnote_21_and_paragraph_39(
    source_text: str, baseline: FrameworkDocument
) -> None:
    terms = {entry.term: entry for entry in baseline.glossary}
    assert terms["2030 strategic framework"].source == "footnote 21"
    for entry in baseline.glossary:
        assert _normalise(entry.definition) in source_text


def test_some_texts_word_for_word(baseline: FrameworkDocument) -> None:
    assert baseline.criterion("A.a").text.startswith("The city has taken stock of relevant")
    assert baseline.criterion("B.a").text == (
        "The city's baseline data is reliable and incorporates the environmental, social, "
        "economic, cultural and governance domains, as guided by the global urban monitoring "
        "framework or the Sustainable Development Goal indicators;"
    )
    assert baseline.criterion("D.d").text.endswith("those most at risk of being excluded.")


def test_indicators_only_where_the_document_names_them(baseline: FrameworkDocument) -> None:
    with_indicators = {c.code: [i.code for i in c.indicators] for c in baseline.criteria}
    assert {code: codes for code, codes in with_indicators.items() if codes} == {
        "B.a": ["UMF", "SDG"],
        "D.c": ["INEQ"],
        "D.d": ["SAT"],
    }
    assert baseline.criterion("B.a").indicators[0].source == "global-urban-monitoring-framework"


def test_every_criterion_lists_evidence_expected(baseline: FrameworkDocument) -> None:
    for criterion in baseline.criteria:
        assert len(criterion.evidence_expected) >= 2, criterion.code


def test_packaged_file_is_the_documents_own_json_form(baseline: FrameworkDocument) -> None:
    # No field is filled in by a default: the file says everything the digest covers.
    packaged = resources.files("sdgcities.node.frameworks") / "data" / "baseline-v1.json"
    assert packaged.read_text(encoding="utf-8") == baseline.to_json()


def test_load_baseline_shares_one_immutable_instance() -> None:
    assert load_baseline() is load_baseline()


# Digest.


def test_baseline_digest_is_pinned(baseline: FrameworkDocument) -> None:
    assert baseline.digest == BASELINE_V1_DIGEST
    assert baseline.ref.model_dump() == {
        "id": "sdgcities-baseline",
        "version": "1",
        "digest": BASELINE_V1_DIGEST,
    }


def test_digest_is_stable_across_parses_and_layouts(baseline: FrameworkDocument) -> None:
    compact = json.dumps(baseline.to_json_dict(), separators=(",", ":"))
    assert FrameworkDocument.from_json(compact).digest == baseline.digest
    assert FrameworkDocument.from_json(baseline.to_json().encode()).digest == baseline.digest


@given(rng=st.randoms(use_true_random=False))
def test_digest_ignores_key_order(rng: Any) -> None:
    data = _reorder(baseline_data(), rng)
    assert FrameworkDocument.from_json_dict(data).digest == BASELINE_V1_DIGEST


@given(
    index=st.integers(min_value=0, max_value=len(BASELINE_CODES) - 1), char=st.sampled_from("x.é,")
)
def test_digest_changes_with_one_character(index: int, char: str) -> None:
    data = baseline_data()
    criteria = [c for stage in data["stages"] for c in stage["criteria"]]
    criteria[index]["text"] += char
    assert FrameworkDocument.from_json_dict(data).digest != BASELINE_V1_DIGEST


def test_equal_documents_are_equal_and_hash_alike(baseline: FrameworkDocument) -> None:
    again = FrameworkDocument.from_json(baseline.to_json())
    assert again == baseline
    assert hash(again) == hash(baseline)


# Immutability.


def test_documents_are_immutable(baseline: FrameworkDocument) -> None:
    with pytest.raises(ValidationError):
        baseline.title = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        baseline.stages[0].criteria[0].text = "changed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        baseline.stages.append(baseline.stages[0])  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        baseline.criterion("B.a").evidence_expected.append("more")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        baseline.criterion("B.a").translations["sw"] = None  # type: ignore[index]
    assert baseline.digest == BASELINE_V1_DIGEST


# Lookups.


def test_lookups(baseline: FrameworkDocument) -> None:
    assert baseline.criterion("C.b").code == "C.b"
    assert baseline.stage_of("C.b").key == "enabling-environment"
    with pytest.raises(UnknownCriterion, match=r"has no criterion 'C\.z'"):
        baseline.criterion("C.z")
    with pytest.raises(UnknownCriterion):
        baseline.criterion("c.b")
    with pytest.raises(UnknownCriterion):
        baseline.stage_of("Z.a")
    with pytest.raises(UnknownStage, match="has no stage 'gold'"):
        baseline.stage("gold")
    with pytest.raises(UnknownStage):
        baseline.criteria_codes("diamond")


def test_in_language_falls_back_to_the_original(baseline: FrameworkDocument) -> None:
    criterion = baseline.criterion("A.b")
    assert criterion.in_language("sw").text == criterion.text
    assert criterion.in_language("sw").evidence_expected == criterion.evidence_expected


# Documents the parser refuses. Each case breaks one rule of the baseline's JSON data.


def _extra_top(d: dict[str, Any]) -> None:
    d["endorsed"] = True


def _extra_stage(d: dict[str, Any]) -> None:
    d["stages"][0]["weight"] = 1


def _extra_criterion(d: dict[str, Any]) -> None:
    d["stages"][1]["criteria"][0]["score"] = 3


def _extra_indicator(d: dict[str, Any]) -> None:
    d["stages"][1]["criteria"][0]["indicators"][0]["unit"] = "%"


def _snake_case_twin(d: dict[str, Any]) -> None:
    # Beside its camelCase key, the field's Python name would otherwise be silently ignored.
    d["stages"][0]["criteria"][0]["evidence_expected"] = ["something else"]


def _three_stages(d: dict[str, Any]) -> None:
    del d["stages"][3]


def _stages_out_of_order(d: dict[str, Any]) -> None:
    d["stages"][0], d["stages"][1] = d["stages"][1], d["stages"][0]


def _wrong_level(d: dict[str, Any]) -> None:
    d["stages"][1]["level"] = "silver"


def _wrong_letter(d: dict[str, Any]) -> None:
    d["stages"][1]["letter"] = "C"


def _code_of_another_stage(d: dict[str, Any]) -> None:
    d["stages"][1]["criteria"][0]["code"] = "C.z"


def _duplicate_code(d: dict[str, Any]) -> None:
    d["stages"][1]["criteria"][1]["code"] = "B.a"


def _duplicate_code_but_case(d: dict[str, Any]) -> None:
    d["stages"][1]["criteria"][1]["code"] = "B.A"


def _malformed_code(d: dict[str, Any]) -> None:
    d["stages"][1]["criteria"][0]["code"] = "B-a"


def _bad_language(d: dict[str, Any]) -> None:
    d["language"] = "english"


def _bad_translation_language(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][1]["translations"] = {
        "sw_KE": {"text": "x", "evidenceExpected": ["a", "b", "c"]}
    }


def _translation_into_own_language(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][1]["translations"] = {
        "en": {"text": "x", "evidenceExpected": ["a", "b", "c"]}
    }


def _translation_missing_evidence(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][1]["translations"] = {"fr": {"text": "x", "evidenceExpected": ["a"]}}


def _national_criterion_in_global(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][0]["national"] = True


def _baseline_criterion_without_source(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][0]["source"] = None


def _no_evidence(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][0]["evidenceExpected"] = []


def _blank_text(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][0]["text"] = "   "


def _stage_without_criteria(d: dict[str, Any]) -> None:
    d["stages"][2]["criteria"] = []


def _country_without_based_on(d: dict[str, Any]) -> None:
    d.update(country="KE", publisher="KE")


def _publisher_not_country(d: dict[str, Any]) -> None:
    d["publisher"] = "KE"


def _unknown_country(d: dict[str, Any]) -> None:
    d.update(country="XX", publisher="XX")


def _dates_reversed(d: dict[str, Any]) -> None:
    d["validUntil"] = "2023-12-31"


def _date_as_number(d: dict[str, Any]) -> None:
    d["validFrom"] = 1704067200


def _bool_as_string(d: dict[str, Any]) -> None:
    d["stages"][0]["criteria"][0]["national"] = "no"


def _int_as_string(d: dict[str, Any]) -> None:
    d["stages"][0]["validityYears"] = "3"


def _bad_version(d: dict[str, Any]) -> None:
    d["version"] = "1 beta"


def _bad_digest_in_based_on(d: dict[str, Any]) -> None:
    d["basedOn"] = {"id": "sdgcities-baseline", "version": "1", "digest": "md5:abc"}


def _duplicate_glossary_term(d: dict[str, Any]) -> None:
    d["glossary"].append(dict(d["glossary"][0], term="2030 Strategic Framework"))


@pytest.mark.parametrize(
    "breakage",
    [
        _extra_top,
        _extra_stage,
        _extra_criterion,
        _extra_indicator,
        _snake_case_twin,
        _three_stages,
        _stages_out_of_order,
        _wrong_level,
        _wrong_letter,
        _code_of_another_stage,
        _duplicate_code,
        _duplicate_code_but_case,
        _malformed_code,
        _bad_language,
        _bad_translation_language,
        _translation_into_own_language,
        _translation_missing_evidence,
        _national_criterion_in_global,
        _baseline_criterion_without_source,
        _no_evidence,
        _blank_text,
        _stage_without_criteria,
        _country_without_based_on,
        _publisher_not_country,
        _unknown_country,
        _dates_reversed,
        _date_as_number,
        _bool_as_string,
        _int_as_string,
        _bad_version,
        _bad_digest_in_based_on,
        _duplicate_glossary_term,
    ],
    ids=lambda breakage: breakage.__name__.strip("_"),
)
def test_invalid_documents_are_refused(breakage: Any) -> None:
    data = baseline_data()
    breakage(data)
    with pytest.raises(InvalidFramework) as caught:
        FrameworkDocument.from_json_dict(data)
    assert caught.value.problems
    assert str(caught.value).startswith("invalid framework document: ")


def test_extra_field_message_names_the_field() -> None:
    data = baseline_data()
    _extra_criterion(data)
    with pytest.raises(InvalidFramework, match=r"stages\.1\.criteria\.0\.score: Extra inputs"):
        FrameworkDocument.from_json_dict(data)


@pytest.mark.parametrize("text", [b"", b"not json", b"[]", b'{"id": "x"}', "\ud800"])
def test_garbage_is_an_invalid_framework_not_a_pydantic_error(text: bytes | str) -> None:
    with pytest.raises(InvalidFramework):
        FrameworkDocument.from_json(text)


def test_data_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidFramework, match="not JSON data"):
        FrameworkDocument.from_json_dict({"id": {1, 2}})


def test_errors_are_value_errors() -> None:
    assert issubclass(FrameworkError, ValueError)
    for error in (InvalidFramework, UnknownCriterion, UnknownStage):
        assert issubclass(error, FrameworkError)


def test_a_national_document_parses_back_to_itself() -> None:
    kenya = make_national("KE")
    assert FrameworkDocument.from_json(kenya.to_json()) == kenya
