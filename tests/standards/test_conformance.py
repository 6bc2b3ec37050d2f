"""The standards check itself: it passes the certificates we issue and fails broken ones, and the
session hook in tests/conftest.py really runs it on every certificate signed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sdgcities.credentials import CertificateIssue
from tests.vectors.builders import BUILDERS, certificate, payload_of
from tests.vectors.test_vectors import CASES

from .conformance import (
    UNDEFINED_TERM_NAMESPACE,
    NonConformant,
    check_certificate,
    load_pinned_document,
    schema_errors,
    undefined_terms,
)

VC_AND_OB_ONLY = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


@pytest.fixture
def payload() -> dict[str, Any]:
    return copy.deepcopy(payload_of(certificate()))


def test_an_issued_certificate_passes_both_checks(payload):
    assert schema_errors(payload) == []
    assert undefined_terms(payload) == []
    check_certificate(payload)


def test_without_the_sdgcities_context_our_terms_are_dropped(payload):
    # The finding of issue 12: with the VCDM 2.0 and OB 3.0 contexts alone, a JSON-LD processor
    # silently drops these (here caught by the undefined-terms context appended last).
    payload["@context"] = VC_AND_OB_ONLY

    found = undefined_terms(payload)

    dropped = {entry.rsplit("#", 1)[1] for entry in found if UNDEFINED_TERM_NAMESPACE in entry}
    assert dropped == {
        "SDGCitiesCertificate",
        "city",
        "locode",
        "country",
        "stage",
        "level",
        "framework",
        "digest",
        "version",
        "decision",
        "committee",
        "meeting",
        "decidedAt",
        "jti",
    }
    # And the framework's `id` ("ke-national") became a relative IRI under VCDM's `id: @id`.
    assert "/credentialSubject/framework: relative @id 'ke-national'" in found
    with pytest.raises(NonConformant, match="undefined-term#city"):
        check_certificate(payload)


@pytest.mark.parametrize(
    ("where", "member"),
    [
        ((), "population"),
        (("credentialSubject",), "population"),
        (("credentialSubject", "city"), "population"),
        (("credentialSubject", "decision"), "population"),
        (("issuer",), "population"),
    ],
)
def test_a_member_no_context_defines_fails(payload, where, member):
    target = payload
    for name in where:
        target = target[name]
    target[member] = "4.4 million"

    assert undefined_terms(payload) == [
        f"{'/' + '/'.join(where) if where else '(root)'}: property "
        f"{UNDEFINED_TERM_NAMESPACE}{member}"
    ]
    with pytest.raises(NonConformant, match="population"):
        check_certificate(payload)


def test_an_undefined_type_fails(payload):
    payload["credentialSubject"]["type"] = ["AchievementSubject", "CertifiedCity"]

    assert undefined_terms(payload) == [
        f"/credentialSubject: type {UNDEFINED_TERM_NAMESPACE}CertifiedCity"
    ]


def test_a_relative_iri_fails(payload):
    payload["credentialSubject"]["id"] = "KE-NBO"

    assert undefined_terms(payload) == ["/credentialSubject: relative @id 'KE-NBO'"]


def test_a_context_that_is_not_pinned_is_never_fetched(payload):
    payload["@context"] = [*payload["@context"], "https://attacker.example/context.jsonld"]

    [problem] = undefined_terms(payload)
    assert problem.startswith("cannot be expanded: loading remote context failed:")
    with pytest.raises(LookupError, match="no pinned copy"):
        load_pinned_document("https://attacker.example/context.jsonld")


def test_a_context_redefining_a_protected_term_cannot_be_expanded(payload):
    payload["@context"] = [*payload["@context"], {"name": "https://attacker.example#name"}]

    [problem] = undefined_terms(payload)
    assert problem.startswith("cannot be expanded: protected term redefinition:")


def test_a_member_the_schema_requires_is_missing(payload):
    del payload["credentialSubject"]["achievement"]["criteria"]

    assert schema_errors(payload) == [
        "credentialSubject/achievement: 'criteria' is a required property"
    ]
    with pytest.raises(NonConformant, match=r"OB 3\.0 schema"):
        check_certificate(payload)


def test_the_schema_wants_the_ob_context_second(payload):
    payload["@context"] = [VC_AND_OB_ONLY[0], "https://w3id.org/sdgcities/v1", VC_AND_OB_ONLY[1]]

    assert any(error.startswith("@context/1:") for error in schema_errors(payload))


def test_the_schema_refuses_two_status_entries_or_one_without_an_id(payload):
    # Why a certificate carries one `message` entry with an id, not a list of two purposes.
    payload["credentialStatus"] = [
        {"type": "BitstringStatusListEntry", "statusPurpose": purpose}
        for purpose in ("revocation", "suspension")
    ]
    assert any(error.startswith("credentialStatus") for error in schema_errors(payload))

    payload["credentialStatus"] = {"type": "BitstringStatusListEntry", "statusPurpose": "message"}
    assert schema_errors(payload) == ["credentialStatus: 'id' is a required property"]


def test_a_pass_is_remembered_only_for_the_same_shape(payload):
    check_certificate(payload)  # remembered as passing
    payload["credentialSubject"]["id"] = "KE-NBO"  # the same members, but a relative IRI

    with pytest.raises(NonConformant, match="relative @id 'KE-NBO'"):
        check_certificate(payload)


def test_the_session_hook_checks_what_sign_signs(monkeypatch):
    # A certificate whose credential gains a member no context defines: signing it fails,
    # because tests/conftest.py wraps `CertificateIssue.sign` for the whole session.
    credential = CertificateIssue.credential

    def with_undefined_member(issue: CertificateIssue) -> dict[str, Any]:
        return {**credential(issue), "population": 4_400_000}

    monkeypatch.setattr(CertificateIssue, "credential", with_undefined_member)

    with pytest.raises(NonConformant, match="undefined-term#population"):
        certificate()


def test_the_hook_fails_again_on_the_same_broken_payload(monkeypatch):
    # The hook caches passing payloads only: a failure is never remembered as a pass.
    monkeypatch.setattr(
        CertificateIssue, "credential", lambda _issue: {"@context": VC_AND_OB_ONLY, "id": 1}
    )
    for _ in range(2):
        with pytest.raises(NonConformant, match="must be a string"):
            certificate()


VALID_CASES = {c["name"]: c for c in CASES if c["expected_outcome"] == "valid"}


@pytest.mark.parametrize("name", sorted(VALID_CASES))
def test_every_certificate_a_valid_vector_verifies_conforms(name):
    # What a verifier accepts, the standards accept too (a trust-list case ends by verifying
    # the default certificate, which `test_an_issued_certificate_passes_both_checks` covers).
    case = VALID_CASES[name]
    scenario = BUILDERS[case["builder"]](**case["args"])
    certificates = (scenario.token, *scenario.warm) if scenario.kind == "certificate" else ()

    for token in certificates:
        check_certificate(payload_of(token))
