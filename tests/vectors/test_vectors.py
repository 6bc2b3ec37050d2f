"""Known-bad (and known-good) inputs, one named file each under `cases/`, run through the verifier.

Each case names a builder in `builders.py` and its arguments, and the answer expected: the
outcome (valid / invalid / indeterminate) and the exact `Reason`. A case may also pin part of
the message (`message_contains`), when several checks would give the same reason, and name a URL
the status-list fetcher must never be asked for (`fetcher_not_called`). Its `inputs` name the
files that hold what the builder built (`corpus.py`): each case is answered from the builder,
from the stored files, and from the files the regeneration script writes now.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from sdgcities.credentials import Outcome, Reason, TrustAnchor, TrustList, VerificationResult
from sdgcities.credentials.errors import Error

from .builders import BUILDERS, NOW, b64url_decode, build, federation
from .corpus import CASES as CASES_SUBDIR
from .corpus import FEDERATION, VECTORS_DIR, run_stored, write_corpus

CASES_DIR = VECTORS_DIR / CASES_SUBDIR
CASE_KEYS = {
    "name",
    "description",
    "expected_outcome",
    "expected_reason",
    "builder",
    "args",
    "inputs",
}
OPTIONAL_KEYS = {"message_contains", "fetcher_not_called"}


def load_cases() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(CASES_DIR.glob("*.json"))]


CASES = load_cases()
BY_NAME = {case["name"]: case for case in CASES}


def by_name(names: list[str] | None = None) -> Any:
    return pytest.mark.parametrize("case", names or sorted(BY_NAME), indirect=True)


@pytest.fixture
def case(request: pytest.FixtureRequest) -> dict[str, Any]:
    return BY_NAME[request.param]


@pytest.fixture
def scenario(case):
    return build(case["builder"], case["args"])


# The case files themselves.


def test_every_case_file_is_well_formed():
    assert len(CASES) >= 100
    for path in CASES_DIR.glob("*.json"):
        case = json.loads(path.read_text())
        assert case["name"] == path.stem
        assert CASE_KEYS <= set(case) <= CASE_KEYS | OPTIONAL_KEYS, path.name
        assert case["builder"] in BUILDERS, path.name
        assert case["description"].strip(), path.name
        outcome = Outcome(case["expected_outcome"])
        if outcome is Outcome.VALID:
            assert case["expected_reason"] is None, path.name
        else:
            reason = Reason(case["expected_reason"])
            assert reason.is_indeterminate == (outcome is Outcome.INDETERMINATE), path.name


def test_every_builder_is_used():
    assert {case["builder"] for case in CASES} == set(BUILDERS)


def input_files(case: dict[str, Any]) -> list[str]:
    inputs = case["inputs"]
    named = [inputs["token"], *inputs.get("warm", []), *inputs.get("seen", [])]
    if "trust_list" in inputs:
        named.append(inputs["trust_list"])
    named += [doc for doc in inputs.get("status_lists", {}).values() if isinstance(doc, str)]
    return named


def test_every_case_has_its_stored_inputs_and_no_file_is_left_over():
    named = set()
    for case in CASES:
        assert case["inputs"]["kind"] in ("certificate", "trust-list"), case["name"]
        files = input_files(case)
        assert all(name.startswith(case["name"] + ".") for name in files), case["name"]
        named |= set(files)
    on_disk = {path.name for path in CASES_DIR.iterdir() if path.suffix != ".json"}
    assert on_disk == named


# The verifier's answers.


def assert_answer(
    case: dict[str, Any], result: VerificationResult, fetched: Collection[str]
) -> None:
    assert (result.outcome.value, result.reason) == (
        case["expected_outcome"],
        case["expected_reason"],
    ), result.message
    assert result.valid == (case["expected_outcome"] == "valid")
    if "message_contains" in case:
        assert case["message_contains"] in result.message
    if "fetcher_not_called" in case:
        assert case["fetcher_not_called"] not in fetched
    if result.reason is None:
        assert result.credential is not None
        assert result.issuer is not None
    answer = json.loads(json.dumps(result.to_json()))  # as POST /verify answers
    assert (answer["valid"], answer["status"], answer["reason"]) == (
        case["expected_outcome"] == "valid",
        case["expected_outcome"],
        case["expected_reason"],
    )


@by_name()
def test_vector(case, scenario):
    assert_answer(case, scenario.run(), scenario.fetched)


@by_name()
def test_stored_vector(case):
    # What another implementation runs: the stored files, and nothing from the builders.
    stored = run_stored(case)

    assert_answer(case, stored.result, stored.fetched)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("vectors")
    write_corpus(target=target)
    return target


@by_name()
def test_regenerated_vector(case, regenerated):
    # ES256 signatures differ from run to run: the freshly written files must answer the same.
    fresh = json.loads((regenerated / CASES_SUBDIR / f"{case['name']}.json").read_text())
    stored = run_stored(fresh, regenerated)

    assert fresh == case
    assert_answer(case, stored.result, stored.fetched)


def test_the_stored_files_are_what_the_builders_write_but_for_es256_signatures(regenerated):
    # A builder changed without regenerating leaves a stale file: everything but an ES256
    # signature (random nonces) comes out byte for byte the same.
    for subdirectory in (CASES_SUBDIR, FEDERATION):
        stored = {p.name: p.read_bytes() for p in (VECTORS_DIR / subdirectory).iterdir()}
        fresh = {p.name: p.read_bytes() for p in (regenerated / subdirectory).iterdir()}
        assert stored.keys() == fresh.keys()
        for name in (name for name in stored if stored[name] != fresh[name]):
            header = json.loads(b64url_decode(stored[name].decode().split(".")[0]))
            assert header["alg"] == "ES256", name


# No foreign exception escapes: every vector's token is also offered where a trust list is
# expected, and every trust list where a certificate is.


@by_name()
def test_no_foreign_exception_from_the_trust_list_parsers(scenario):
    fed = federation()
    for accept in (
        lambda t: TrustList.from_jws(t, pinned_thumbprints=fed.pinned, now=NOW),
        lambda t: TrustAnchor(fed.pinned).accept(t, now=NOW),
        lambda t: TrustAnchor(fed.pinned, highest_seen=8).accept(t, now=NOW),
    ):
        try:
            accept(scenario.token)
        except Error:
            pass


@by_name()
def test_verify_never_raises_on_any_vector_token(scenario):
    # `test_vector` already ran each token through `Verifier.verify`; trust-list tokens (and any
    # other) also go through a plain verifier that holds the current trust list.
    result = scenario.verifier().verify(scenario.token)

    assert isinstance(result.outcome, Outcome)
    if scenario.kind == "trust-list":
        assert result.reason is Reason.MALFORMED


@pytest.mark.parametrize(
    "builder",
    ["status_list_served", "status_list_encoded"],
)
def test_a_status_list_problem_is_never_cached_as_an_answer(builder):
    # After an indeterminate answer, the same verifier asks again rather than reuse the failure.
    scenario = build(builder, {"kind": "stale" if builder == "status_list_served" else "short"})
    verifier = scenario.verifier()

    verifier.verify(scenario.token)
    verifier.verify(scenario.token)

    list_fetches = [url for url in scenario.fetched if url.endswith("/status/1")]
    assert len(list_fetches) == 2
