"""The criteria page: the framework in use, in the reader's language; the baseline's packaged
(unofficial) translations; a national framework's own translations, with a fallback notice."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlmodel import Session

from sdgcities.node.frameworks.baseline import load_baseline
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.frameworks.service import ensure_baseline
from sdgcities.node.frameworks.translations import (
    TRANSLATED_LANGUAGES,
    baseline_translation,
    in_language,
)
from sdgcities.node.web.i18n import LANGUAGES, SOURCE_LANGUAGE

from ..conftest import Account, MakeFramework

UNOFFICIAL = "Unofficial translation of the report's text"


# The packaged translations -------------------------------------------------------------------


def test_every_ui_language_but_english_has_a_baseline_translation() -> None:
    assert sorted(TRANSLATED_LANGUAGES) == sorted(
        language.code for language in LANGUAGES if language is not SOURCE_LANGUAGE
    )


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_baseline_text_is_translated(language: str) -> None:
    baseline = load_baseline()
    translation = baseline_translation(language)
    assert translation is not None
    # A translation of another baseline text must not be shown beside this one.
    assert (translation.framework, translation.version) == (baseline.id, baseline.version)
    assert translation.source_digest == baseline.digest
    assert translation.title.strip()
    assert set(translation.stages) == {stage.key for stage in baseline.stages}
    assert set(translation.criteria) == {criterion.code for criterion in baseline.criteria}
    for stage in baseline.stages:
        assert translation.stages[stage.key].name.strip(), stage.key
        assert translation.stages[stage.key].lead.strip(), stage.key
        for criterion in stage.criteria:
            translated = translation.criteria[criterion.code]
            assert translated.text.strip(), criterion.code
            assert len(translated.evidence_expected) == len(criterion.evidence_expected)
            assert all(item.strip() for item in translated.evidence_expected), criterion.code
            for indicator in criterion.indicators:
                assert translation.indicators[indicator.code].strip(), indicator.code
    assert set(translation.glossary) == {entry.term for entry in baseline.glossary}
    assert all(entry.term and entry.definition for entry in translation.glossary.values())


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_baseline_is_shown_wholly_in_each_language(language: str) -> None:
    shown = in_language(load_baseline(), language=language)
    assert not shown.has_untranslated
    assert shown.has_unofficial


def test_the_baseline_in_english_is_the_report_itself() -> None:
    shown = in_language(load_baseline(), language="en")
    assert not shown.has_unofficial
    assert not shown.has_untranslated


# The page ------------------------------------------------------------------------------------


def test_the_baseline_in_english(client: TestClient) -> None:
    response = client.get("/en/criteria")
    assert response.status_code == 200
    html = response.text
    assert "Certification criteria" in html
    assert "Global baseline framework" in html
    baseline = load_baseline()
    assert baseline.title in html
    for criterion in baseline.criteria:
        assert f'id="criterion-{criterion.code}"' in html
    assert "The city has taken stock of relevant national" in html
    assert UNOFFICIAL not in html
    assert 'id="untranslated"' not in html


def test_the_baseline_in_arabic(client: TestClient) -> None:
    html = client.get("/ar/criteria").text
    assert 'dir="rtl"' in html
    assert 'id="unofficial-translation"' in html
    assert 'id="untranslated"' not in html
    assert "التأهيل (مدينة مرشحة)" in html
    assert "The city has taken stock" not in html
    arabic = baseline_translation("ar")
    assert arabic is not None
    assert str(escape(arabic.criteria["A.a"].text)) in html


def test_the_baseline_in_chinese(client: TestClient) -> None:
    html = client.get("/zh/criteria").text
    assert 'lang="zh"' in html
    assert 'id="unofficial-translation"' in html
    assert "资格审查" in html
    assert "银级" in html
    assert "The city has taken stock" not in html


def test_a_national_framework_is_shown_first_with_its_own_translations(
    client: TestClient, admin: Account, make_framework: MakeFramework, session: Session
) -> None:
    national_id = make_framework(publish=False, endorse=False)
    edited = client.patch(
        f"/frameworks/{national_id}/criteria/A.a",
        headers=admin.headers,
        json={"text": "Nairobi county has taken stock of Kenyan policies."},
    )
    assert edited.status_code == 200, edited.text
    translated = client.put(
        f"/frameworks/{national_id}/criteria/A.a/translations/fr",
        headers=admin.headers,
        json={
            "text": "Le comté a fait le point sur les politiques kényanes.",
            "evidence_expected": ["un", "deux", "trois", "quatre"],
        },
    )
    assert translated.status_code == 200, translated.text
    published = client.post(f"/frameworks/{national_id}/publish", headers=admin.headers)
    assert published.status_code == 200, published.text

    html = client.get("/fr/criteria").text
    assert "Cadre national (KE)" in html
    # The publisher's own translation, as official text.
    assert "Le comté a fait le point sur les politiques kényanes." in html
    # The baseline's other texts, kept word for word, in the unofficial translation.
    french = baseline_translation("fr")
    assert french is not None
    assert str(escape(french.criteria["A.b"].text)) in html
    assert 'id="unofficial-translation"' in html
    # The baseline, still in use too, is linked.
    baseline = ensure_baseline(session=session)
    assert f'href="/fr/criteria/{baseline.id}"' in html

    # Spanish: the national text has no Spanish translation; it is shown in English, marked.
    spanish = client.get("/es/criteria").text
    assert 'id="untranslated"' in spanish
    assert '<span lang="en" dir="auto">Nairobi county has taken stock' in spanish
    assert "(English)" in spanish

    # The baseline's own page.
    page = client.get(f"/es/criteria/{baseline.id}")
    assert page.status_code == 200
    assert "Marco de referencia mundial" in page.text
    assert 'id="untranslated"' not in page.text


def test_an_endorsed_national_framework_comes_before_an_unendorsed_baseline(
    client: TestClient, make_framework: MakeFramework
) -> None:
    national_id = make_framework()
    html = client.get("/en/criteria").text
    assert "National framework (KE), adapted from the global baseline" in html
    # Only the endorsed version is in use; the baseline is not listed beside it.
    assert "Other frameworks in use on this node" not in html
    assert f"/en/criteria/{national_id}" not in html


def test_a_version_not_in_use_says_so(
    client: TestClient, make_framework: MakeFramework, session: Session
) -> None:
    make_framework()
    baseline = session.get(FrameworkVersion, ensure_baseline(session=session).id)
    assert baseline is not None
    html = client.get(f"/en/criteria/{baseline.id}").text
    assert 'id="not-in-use"' in html


def test_a_draft_or_unknown_version_is_not_found(
    client: TestClient, make_framework: MakeFramework
) -> None:
    draft_id = make_framework(publish=False, endorse=False)
    response = client.get(f"/fr/criteria/{draft_id}")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert client.get("/en/criteria/999999").status_code == 404
    assert client.get("/en/criteria/not-a-number").status_code in (400, 404)
