"""The vectors as files: what each case feeds the verifier, stored beside it, and a runner that
reads nothing else.

`write_corpus` builds every case (`builders.py`) and stores its inputs; `run_stored` answers a
case from the stored files alone, through the library's public API, the way another
implementation would (README.md). The layout, relative to the vectors' directory:

    federation/federation.json   the verification time, the verifier's settings, the pinned root
                                 key, and the names of the files below
    federation/trust_list.jws    the trust list every case holds unless its inputs say otherwise
    federation/status-<node>.jwt the (empty) status list served at each node's status URL
    federation/certificate.jwt   the known-good certificate a trust-list case verifies last
    cases/<name>.json            the case; its `inputs` member names its files:
    cases/<name>.jwt             the token offered (a trust list for a trust-list case)
    cases/<name>.<role>...       what else the case needs (a served status list, a held trust
                                 list, certificates verified first, trust lists accepted first)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sdgcities.credentials import (
    StatusListUnavailable,
    TrustAnchor,
    TrustList,
    VerificationError,
    VerificationResult,
    Verifier,
    isoformat,
)
from sdgcities.credentials.trust_list import DEFAULT_GRACE
from sdgcities.credentials.verify import DEFAULT_LEEWAY, DEFAULT_STATUS_MAX_AGE

from .builders import NOW, Scenario, build, certificate, federation

VECTORS_DIR = Path(__file__).parent
CASES = "cases"
FEDERATION = "federation"

# The errors a fetcher raises in the `status_fetcher_raises` cases, by the name stored for them.
FETCH_ERRORS: dict[str, type[BaseException]] = {
    "StatusListUnavailable": StatusListUnavailable,
    "ConnectionResetError": ConnectionResetError,
    "TimeoutError": TimeoutError,
    "ValueError": ValueError,
}


def case_files(directory: Path) -> list[Path]:
    return sorted((directory / CASES).glob("*.json"))


# Writing.


def write_corpus(source: Path = VECTORS_DIR, target: Path = VECTORS_DIR) -> None:
    """Build every case under `source` and store its inputs under `target` (the two may be
    one directory: each case file keeps its own members and gets `inputs`, rewritten)."""
    _write_federation(target / FEDERATION)
    (target / CASES).mkdir(parents=True, exist_ok=True)
    for path in case_files(source):
        case = json.loads(path.read_text())
        for stale in (target / CASES).glob(f"{case['name']}.*"):
            if stale.suffix != ".json":
                stale.unlink()
        case["inputs"] = _write_inputs(build(case["builder"], case["args"]), case["name"], target)
        text = json.dumps(case, indent=2, ensure_ascii=False) + "\n"
        (target / CASES / path.name).write_text(text)


def _write_federation(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    fed = federation()
    status_lists = {}
    for node in fed.nodes.values():
        name = f"status-{node.id}.jwt"
        _write(directory / name, Scenario("").served()[node.list_url()])
        status_lists[node.list_url()] = name
    _write(directory / "trust_list.jws", fed.trust_list().sign(fed.root))
    _write(directory / "certificate.jwt", certificate())
    index = {
        "now": isoformat(NOW),
        "leeway_seconds": DEFAULT_LEEWAY.total_seconds(),
        "trust_list_grace_seconds": DEFAULT_GRACE.total_seconds(),
        "status_max_age_seconds": DEFAULT_STATUS_MAX_AGE.total_seconds(),
        "pinned_root_thumbprints": sorted(fed.pinned),
        "root_public_key": fed.root.public_key.to_jwk(),
        "trust_list": "trust_list.jws",
        "status_lists": status_lists,
        "known_good_certificate": "certificate.jwt",
    }
    (directory / "federation.json").write_text(json.dumps(index, indent=2) + "\n")


def _write_inputs(scenario: Scenario, name: str, target: Path) -> dict[str, Any]:
    cases = target / CASES
    inputs: dict[str, Any] = {"kind": scenario.kind, "token": f"{name}.jwt"}
    if isinstance(scenario.token, bytes):
        inputs["token_type"] = "bytes"
    _write(cases / inputs["token"], scenario.token)
    if scenario.trust_list_token is not None:
        inputs["trust_list"] = f"{name}.trust_list.jws"
        inputs["trust_list_accepted_at"] = isoformat(scenario.trust_list_accepted_at)
        _write(cases / inputs["trust_list"], scenario.trust_list_token)
    if scenario.documents:
        served: dict[str, Any] = {}
        for number, (url, document) in enumerate(sorted(scenario.documents.items()), start=1):
            if isinstance(document, BaseException):
                served[url] = {"error": type(document).__name__, "message": str(document)}
            else:
                served[url] = f"{name}.status-{number}.jwt"
                _write(cases / served[url], document)
        inputs["status_lists"] = served
    for role, tokens in (("warm", scenario.warm), ("seen", scenario.seen)):
        if tokens:
            inputs[role] = [f"{name}.{role}-{n}.jwt" for n in range(1, len(tokens) + 1)]
            for file_name, token in zip(inputs[role], tokens, strict=True):
                _write(cases / file_name, token)
    return inputs


def _write(path: Path, content: str | bytes) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


# Running from the files alone.


@dataclass(frozen=True)
class StoredRun:
    """The verifier's answer, and the status-list URLs it asked the fetcher for."""

    result: VerificationResult
    fetched: list[str]


def run_stored(case: Mapping[str, Any], directory: Path = VECTORS_DIR) -> StoredRun:
    """The verifier's answer to `case`, from the files under `directory` only."""
    index = json.loads((directory / FEDERATION / "federation.json").read_text())
    inputs = case["inputs"]
    now = datetime.fromisoformat(index["now"])
    pinned = index["pinned_root_thumbprints"]
    grace = timedelta(seconds=index["trust_list_grace_seconds"])

    def read(base: str, name: str) -> str:
        return (directory / base / name).read_bytes().decode()

    served: dict[str, str | dict[str, str]] = {
        url: read(FEDERATION, name) for url, name in index["status_lists"].items()
    }
    for url, document in inputs.get("status_lists", {}).items():
        served[url] = document if isinstance(document, dict) else read(CASES, document)
    fetched: list[str] = []

    def fetch(url: str) -> str:
        fetched.append(url)
        document = served.get(url)
        if document is None:
            raise StatusListUnavailable(f"404 at {url}")
        if isinstance(document, dict):
            raise FETCH_ERRORS[document["error"]](document["message"])
        return document

    def verifier(trust_list: TrustList) -> Verifier:
        return Verifier(
            trust_list,
            fetcher=fetch,
            leeway=timedelta(seconds=index["leeway_seconds"]),
            status_max_age=timedelta(seconds=index["status_max_age_seconds"]),
            clock=lambda: now,
        )

    token_bytes = (directory / CASES / inputs["token"]).read_bytes()
    token: Any = token_bytes if inputs.get("token_type") == "bytes" else token_bytes.decode()
    if inputs["kind"] == "trust-list":
        anchor = TrustAnchor(pinned, grace=grace)
        for seen in inputs.get("seen", []):
            anchor.accept(read(CASES, seen), now=now)
        try:
            accepted = anchor.accept(token, now=now)
        except VerificationError as error:
            return StoredRun(VerificationResult.from_error(error), fetched)
        known_good = read(FEDERATION, index["known_good_certificate"])
        return StoredRun(verifier(accepted).verify(known_good), fetched)
    if "trust_list" in inputs:
        held = TrustList.from_jws(
            read(CASES, inputs["trust_list"]),
            pinned_thumbprints=pinned,
            now=datetime.fromisoformat(inputs["trust_list_accepted_at"]),
            grace=grace,
        )
    else:
        held = TrustList.from_jws(
            read(FEDERATION, index["trust_list"]), pinned_thumbprints=pinned, now=now, grace=grace
        )
    stored_verifier = verifier(held)
    for warm in inputs.get("warm", []):
        warm_result = stored_verifier.verify(read(CASES, warm))
        if not warm_result.valid:
            raise AssertionError(f"warm-up certificate {warm} is not valid: {warm_result}")
    return StoredRun(stored_verifier.verify(token), fetched)
