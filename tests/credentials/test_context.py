"""The project's JSON-LD context: one fixed URL, shipped in the package, defining every term a
certificate uses that the VCDM 2.0 and Open Badges 3.0 contexts do not."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pyld import jsonld

from sdgcities.credentials.context import (
    SDGCITIES_CONTEXT,
    SDGCITIES_CONTEXT_PATH,
    sdgcities_context_document,
)
from tests.standards.conformance import load_pinned_document
from tests.vectors.builders import certificate, payload_of

SHIPPED = Path(__file__).parents[2] / "credentials" / "contexts" / "sdgcities-v1.jsonld"
# A published context never changes: a change of meaning is a new URL (`.../v2`). Update this
# digest only before the first release that ships the file.
SHIPPED_SHA256 = "765ee3e56e40f3471701f20869c034d887875b911caf24009af409ddfcde4655"
SDG = "https://w3id.org/sdgcities#"
XSD_DATE_TIME = "http://www.w3.org/2001/XMLSchema#dateTime"


def test_the_url_and_the_path_nodes_serve_it_at():
    assert SDGCITIES_CONTEXT == "https://w3id.org/sdgcities/v1"
    assert SDGCITIES_CONTEXT_PATH == "/sdgcities/v1"


def test_the_package_reads_the_shipped_file_unchanged():
    assert sdgcities_context_document() == SHIPPED.read_bytes()
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == SHIPPED_SHA256


def test_every_term_is_protected():
    context = json.loads(sdgcities_context_document())["@context"]

    assert context["@protected"] is True
    for scoped in ("city", "framework", "decision"):
        assert context[scoped]["@context"]["@protected"] is True


def expand(payload):
    [expanded] = jsonld.expand(payload, {"documentLoader": load_pinned_document, "base": None})
    return expanded


def test_a_certificate_expands_to_the_sdgcities_vocabulary():
    expanded = expand(payload_of(certificate()))
    [subject] = expanded["https://www.w3.org/2018/credentials#credentialSubject"]
    [city] = subject[f"{SDG}city"]
    [framework] = subject[f"{SDG}framework"]
    [decision] = subject[f"{SDG}decision"]

    assert f"{SDG}SDGCitiesCertificate" in expanded["@type"]
    assert expanded["https://www.iana.org/assignments/jwt#jti"] == [{"@value": expanded["@id"]}]
    assert subject[f"{SDG}stage"] == [{"@value": "evidence-based-processes"}]
    assert subject[f"{SDG}level"] == [{"@value": "gold"}]
    assert city[f"{SDG}locode"] == [{"@value": "KE-NBO"}]
    assert city[f"{SDG}country"] == [{"@value": "KE"}]
    assert city["https://schema.org/name"] == [{"@value": "Nairobi"}]
    # The framework's `id` is a name ("ke-national"), not the framework node's IRI.
    assert "@id" not in framework
    assert framework[f"{SDG}frameworkId"] == [{"@value": "ke-national"}]
    assert framework[f"{SDG}frameworkVersion"] == [{"@value": "1"}]
    assert framework[f"{SDG}frameworkDigest"][0]["@value"].startswith("sha256:")
    assert decision[f"{SDG}committee"] == [{"@value": "KE national committee"}]
    assert decision[f"{SDG}meeting"] == [{"@value": "2026-1"}]
    assert decision[f"{SDG}decidedAt"] == [
        {"@type": XSD_DATE_TIME, "@value": "2026-01-31T12:00:00Z"}
    ]


@pytest.mark.parametrize("term", ["city", "stage", "level", "framework", "decision", "jti"])
def test_a_later_context_cannot_redefine_our_terms(term):
    payload = payload_of(certificate())
    payload["@context"] = [*payload["@context"], {term: "https://attacker.example#x"}]

    with pytest.raises(jsonld.JsonLdError, match="protected term"):
        expand(payload)
