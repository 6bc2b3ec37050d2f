"""A certificate checked by the standards' own tools, offline, against the pinned copies here.

- `schema_errors(payload)`: what 1EdTech's Open Badges 3.0 AchievementCredential JSON Schema
  (draft 2019-09, formats checked) finds wrong with the JWT payload.
- `undefined_terms(payload)`: what a JSON-LD processor would drop or leave relative. The
  credential is expanded with pyld, the VCDM 2.0 undefined-terms context appended last: its
  `@vocab` catches every property or type that no listed context defines. The document loader
  serves only the pinned contexts here and the project's own context from the package, so
  nothing is fetched.
- `check_certificate(payload)` runs both and raises `NonConformant` listing every problem.

Loaded once per process: the validator, the context documents and pyld's processed contexts
are cached, and so is the JSON-LD verdict for each shape of payload that passed (see
`_expansion_shape`), so that checking every certificate the suite issues stays cheap.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft201909Validator
from pyld import jsonld

from sdgcities.credentials import SDGCITIES_CONTEXT, sdgcities_context_document
from sdgcities.credentials.vc import OB_CONTEXT, VC_CONTEXT

STANDARDS_DIR: Final = Path(__file__).parent
OB_SCHEMA_FILE: Final = "ob_v3p0_achievementcredential_schema.json"
UNDEFINED_TERMS_CONTEXT: Final = "https://www.w3.org/ns/credentials/undefined-terms/v2"
UNDEFINED_TERM_NAMESPACE: Final = "https://www.w3.org/ns/credentials/undefined-term#"
PINNED_CONTEXTS: Final[Mapping[str, str]] = {
    VC_CONTEXT: "credentials-v2.jsonld",
    OB_CONTEXT: "ob-context-3.0.3.json",
    UNDEFINED_TERMS_CONTEXT: "undefined-terms-v2.jsonld",
}
# RFC 3986 §3.1: an absolute IRI starts with a scheme.
_ABSOLUTE_IRI: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class NonConformant(AssertionError):
    """A certificate that the OB 3.0 schema refuses or that uses an undefined term."""


def check_certificate(payload: Mapping[str, Any]) -> None:
    problems = [f"OB 3.0 schema: {error}" for error in schema_errors(payload)]
    shape = _expansion_shape(payload)
    if shape not in _SHAPES_WITH_EVERY_TERM_DEFINED:
        undefined = undefined_terms(payload)
        problems += [f"JSON-LD: {term}" for term in undefined]
        if not undefined:
            _SHAPES_WITH_EVERY_TERM_DEFINED.add(shape)
    if problems:
        raise NonConformant("the certificate does not conform:\n  " + "\n  ".join(problems))


_SHAPES_WITH_EVERY_TERM_DEFINED: set[Any] = set()


def _expansion_shape(value: Any, key: str = "") -> Any:
    """`value` reduced to what decides whether its expansion leaves a term undefined.

    Member names, contexts and types are kept as they are; any other string only by whether
    it is an absolute IRI (the one way a value changes the outcome: as an `@id` it is relative
    or not), except where a term expands its value against the vocabulary (`@type: @vocab`).
    Two certificates that differ only in ids, dates, names or indices share a shape.
    """
    if key == "@context":
        return json.dumps(value, sort_keys=True)
    if isinstance(value, dict):
        return tuple(sorted((name, _expansion_shape(item, name)) for name, item in value.items()))
    if isinstance(value, list):
        return ("[]", *(_expansion_shape(item, key) for item in value))
    if isinstance(value, str):
        if key in ("type", "@type") or key in _vocab_valued_terms():
            return value
        return "iri" if _ABSOLUTE_IRI.match(value) else "text"
    return type(value).__name__


# The Open Badges 3.0 JSON Schema.


def schema_errors(payload: Mapping[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in _ob_schema_validator().iter_errors(payload)
    ]


@cache
def _ob_schema_validator() -> Draft201909Validator:
    schema = json.loads((STANDARDS_DIR / OB_SCHEMA_FILE).read_bytes())
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


# JSON-LD expansion.


def undefined_terms(payload: Mapping[str, Any]) -> list[str]:
    """Every property or type that expands into the undefined-term namespace or stays a
    relative IRI, and every `@id` that stays relative, as `path: what`; or why the payload
    cannot be expanded at all."""
    context = payload.get("@context")
    document = {
        **payload,
        "@context": [
            *(context if isinstance(context, list) else [context]),
            UNDEFINED_TERMS_CONTEXT,
        ],
    }
    try:
        # `base: None` keeps a relative `@id` relative, where pyld would resolve it against a
        # made-up base and hide it.
        expanded = jsonld.expand(document, {"documentLoader": load_pinned_document, "base": None})
    except jsonld.JsonLdError as error:  # a protected term redefined, an unknown context ...
        return [f"cannot be expanded: {error.code or error.type}: {error.args[0]}"]
    return list(_undefined(expanded, ""))


def _undefined(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _undefined(item, path)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@type":
            for iri in value if isinstance(value, list) else [value]:
                if _is_undefined(iri):
                    yield f"{path or '(root)'}: type {iri}"
        elif key == "@id":
            if not _ABSOLUTE_IRI.match(value):
                yield f"{path or '(root)'}: relative @id {value!r}"
        elif key == "@value":
            continue
        elif key.startswith("@"):
            yield from _undefined(value, path)
        else:
            if _is_undefined(key):
                yield f"{path or '(root)'}: property {key}"
            yield from _undefined(value, f"{path}/{key.rsplit('#', 1)[-1].rsplit('/', 1)[-1]}")


def _is_undefined(iri: str) -> bool:
    return iri.startswith(UNDEFINED_TERM_NAMESPACE) or not _ABSOLUTE_IRI.match(iri)


def load_pinned_document(url: str, _options: Any = None) -> dict[str, Any]:
    """A pyld document loader that serves the pinned contexts and ours, and nothing else."""
    documents = _context_documents()
    if url not in documents:
        raise LookupError(f"no pinned copy of {url}: a certificate's contexts are all local")
    # "static": pyld then keeps the processed context between expansions (its shared cache).
    document = copy.deepcopy(documents[url])
    return {"contextUrl": None, "documentUrl": url, "document": document, "tag": "static"}


@cache
def _vocab_valued_terms() -> frozenset[str]:
    terms: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for name, definition in node.items():
                if isinstance(definition, dict) and definition.get("@type") == "@vocab":
                    terms.add(name)
                collect(definition)

    for document in _context_documents().values():
        collect(document)
    return frozenset(terms)


@cache
def _context_documents() -> dict[str, Any]:
    documents = {
        url: json.loads((STANDARDS_DIR / name).read_bytes())
        for url, name in PINNED_CONTEXTS.items()
    }
    documents[SDGCITIES_CONTEXT] = json.loads(sdgcities_context_document())
    return documents
