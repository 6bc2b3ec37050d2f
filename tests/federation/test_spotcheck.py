"""Spot-check selection anyone can recompute, and the global node's two signed messages."""

from __future__ import annotations

import copy
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdgcities.credentials import JwsToken, KeyStatus, NodeStatus, SigningKey, sign_jws
from sdgcities.federation import ChainHead
from sdgcities.federation.errors import MessageRefused, RoundInvalid
from sdgcities.federation.spotcheck import (
    DOSSIER_REQUEST_TYP,
    Candidate,
    CriterionReason,
    DossierRequest,
    Outcome,
    SpotCheckOutcome,
    is_selected,
    recompute,
    select_round,
    selection_score,
)

from .factories import T0, trust_list, trusted_node

HEAD = ChainHead(42, "sha256:" + "ab" * 32)
GLOBAL_KEY = SigningKey.generate()
KE_KEY = SigningKey.generate()
GLOBAL = trusted_node("global", GLOBAL_KEY)
KE = trusted_node("KE", KE_KEY)
TRUST = trust_list(GLOBAL, KE)
NOW = T0 + timedelta(days=1)


def candidate(node_id: str = "KE", application_id: int = 1) -> Candidate:
    return Candidate(
        node_id=node_id,
        application_id=application_id,
        locode=f"{node_id}-NBO",
        credential_id=f"urn:uuid:{application_id}",
        event=ChainHead(application_id, "sha256:" + f"{application_id:064x}"),
    )


def draw(candidates: list[Candidate], rate: float = 0.5, round_id: int = 3) -> dict[str, Any]:
    return select_round(
        round_id=round_id,
        log_head=HEAD,
        rate=rate,
        window_from=T0 - timedelta(days=365),
        window_until=T0,
        candidates=candidates,
    )


# Selection --------------------------------------------------------------------------------------


def test_the_score_is_sha256_of_the_canonical_inputs() -> None:
    # Pinned spelling: RFC 8785 sorts members, so another implementation hashes these bytes.
    encoded = b'{"application":12,"logHead":"sha256:' + b"ab" * 32 + b'","nodeId":"KE","round":3}'
    assert selection_score(
        round_id=3, log_head_hash=HEAD.hash, node_id="KE", application_id=12
    ) == (hashlib.sha256(encoded).hexdigest())


def test_the_rate_is_compared_exactly() -> None:
    half = "8" + "0" * 63  # exactly 1/2
    assert not is_selected(half, 0.5)
    assert is_selected("7" + "f" * 63, 0.5)
    assert is_selected("f" * 64, 1.0)
    assert not is_selected("0" * 63 + "1", 2**-260)


def test_a_round_document_publishes_inputs_scores_and_selection() -> None:
    document = draw([candidate("KE", 2), candidate("GH", 5), candidate("KE", 1)], rate=1.0)
    assert [(c["nodeId"], c["application"]) for c in document["candidates"]] == [
        ("GH", 5),
        ("KE", 1),
        ("KE", 2),
    ]
    assert document["selected"] == [
        {"nodeId": "GH", "application": 5},
        {"nodeId": "KE", "application": 1},
        {"nodeId": "KE", "application": 2},
    ]
    assert document["logHead"] == {"sequence": 42, "hash": HEAD.hash}
    assert document["window"] == {"from": "2025-03-01T09:00:00Z", "until": "2026-03-01T09:00:00Z"}
    result = recompute(document)
    assert result.selected == (("GH", 5), ("KE", 1), ("KE", 2))
    assert result.round_id == 3


@given(
    keys=st.sets(
        st.tuples(st.sampled_from(["KE", "GH", "BR", "IN"]), st.integers(1, 10_000)), max_size=40
    ),
    rate=st.floats(min_value=1e-6, max_value=1.0),
    round_id=st.integers(1, 10**6),
)
def test_any_round_recomputes_to_its_own_selection(
    keys: set[tuple[str, int]], rate: float, round_id: int
) -> None:
    document = draw([candidate(n, a) for n, a in keys], rate=rate, round_id=round_id)
    result = recompute(document)
    assert [{"nodeId": n, "application": a} for n, a in result.selected] == document["selected"]
    # A higher rate never drops an application a lower one selected.
    higher = recompute(draw([candidate(n, a) for n, a in keys], rate=1.0, round_id=round_id))
    assert set(result.selected) <= set(higher.selected) == keys


def test_the_selection_changes_with_the_log_head() -> None:
    candidates = [candidate("KE", n) for n in range(1, 201)]
    first = draw(candidates, rate=0.1)
    other = select_round(
        round_id=3,
        log_head=ChainHead(43, "sha256:" + "cd" * 32),
        rate=0.1,
        window_from=T0 - timedelta(days=1),
        window_until=T0,
        candidates=candidates,
    )
    assert first["selected"] != other["selected"]
    assert 5 <= len(first["selected"]) <= 40  # about 10 % of 200


def _tampered(document: dict[str, Any], change: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    if change == "selected_extra":
        chosen = {(s["nodeId"], s["application"]) for s in changed["selected"]}
        extra = next(
            c for c in changed["candidates"] if (c["nodeId"], c["application"]) not in chosen
        )
        changed["selected"].append({"nodeId": extra["nodeId"], "application": extra["application"]})
        changed["selected"].sort(key=lambda s: (s["nodeId"], s["application"]))
    elif change == "selected_missing":
        changed["selected"].pop()
    elif change == "score":
        changed["proof"][0]["score"] = "0" * 64
    elif change == "candidate":
        changed["candidates"][0]["locode"] = "KE-MBA"
    elif change == "candidate_dropped":
        changed["candidates"].pop()
    elif change == "rate":
        changed["rate"] = 1.5
    elif change == "unknown_member":
        changed["note"] = "x"
    elif change == "window":
        changed["window"]["until"] = changed["window"]["from"]
    return changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("selected_extra", "is selected but scores at or above the rate"),
        ("selected_missing", "scores below the rate but is not selected"),
        ("score", "not as published"),
        ("candidate", "candidatesDigest is not the digest of the candidates"),
        ("candidate_dropped", "candidatesDigest is not the digest of the candidates"),
        ("rate", "rate must be above 0 and at most 1"),
        ("unknown_member", "member(s) not allowed: note"),
        ("window", "the window must end after it begins"),
    ],
)
def test_a_tampered_round_does_not_recompute(change: str, message: str) -> None:
    document = draw([candidate("KE", n) for n in range(1, 30)], rate=0.5)
    assert 0 < len(document["selected"]) < 29
    with pytest.raises(RoundInvalid) as caught:
        recompute(_tampered(document, change))
    assert message in str(caught.value)


def test_a_candidate_listed_twice_is_refused() -> None:
    with pytest.raises(RoundInvalid, match="candidate twice"):
        draw([candidate("KE", 1), candidate("KE", 1)])


# Signed messages --------------------------------------------------------------------------------


def _request(key: SigningKey = GLOBAL_KEY, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "key": key,
        "issuer": GLOBAL.did,
        "audience": KE.did,
        "node_id": "KE",
        "round_id": 3,
        "application_id": 12,
        "now": NOW,
    }
    return DossierRequest.sign(**{**fields, **overrides})


def test_a_dossier_request_verifies_for_its_audience() -> None:
    request = DossierRequest.from_jws(_request(), trust_list=TRUST, audience=KE.did, now=NOW)
    assert (request.node_id, request.round_id, request.application_id) == ("KE", 3, 12)
    assert request.evidence is None
    assert request.expires_at - request.issued_at == timedelta(minutes=2)
    digest = "sha256:" + "0" * 64
    named = DossierRequest.from_jws(
        _request(evidence=digest), trust_list=TRUST, audience=KE.did, now=NOW
    )
    assert named.evidence == digest
    assert named.jti != request.jti


def _with_iss(issuer: str) -> str:
    """A request by the global node's key, its kid naming the global node, but another `iss`."""
    payload = JwsToken.parse(_request(), typ=DOSSIER_REQUEST_TYP).verify(GLOBAL_KEY.public_key)
    return sign_jws(
        {**payload, "iss": issuer}, key=GLOBAL_KEY, did=GLOBAL.did, typ=DOSSIER_REQUEST_TYP
    )


def _retired_global() -> Any:
    return trust_list(
        trusted_node("global", GLOBAL_KEY, key_status=KeyStatus.COMPROMISED, key_status_since=T0),
        KE,
    )


@pytest.mark.parametrize(
    ("token", "trust", "now", "message"),
    [
        (
            lambda: _request(key=KE_KEY, issuer=KE.did),
            TRUST,
            NOW,
            "signed by node KE, not by the global node",
        ),
        # KE's real key, the kid naming the global node's DID: refused on the kid alone.
        (lambda: _request(key=KE_KEY), TRUST, NOW, "kid names another DID than the key's node"),
        (lambda: _request(key=SigningKey.generate()), TRUST, NOW, "not signed by a key on the"),
        (lambda: _request(audience="did:web:gh.example.org"), TRUST, NOW, "not for did:web:ke"),
        (lambda: _request(), TRUST, NOW + timedelta(minutes=3), "the token expired at"),
        (lambda: _request(), TRUST, NOW - timedelta(minutes=5), "issued in the future"),
        (lambda: _request(lifetime=timedelta(hours=1)), TRUST, NOW, "lives longer than 15"),
        (lambda: _with_iss("did:web:evil.example.org"), TRUST, NOW, "iss must be"),
        (
            lambda: _request(issuer="did:web:evil.example.org"),
            TRUST,
            NOW,
            "kid names another DID",
        ),
        (lambda: _request(), _retired_global(), NOW, "not active on the trust list"),
        (
            lambda: _request()[:-4] + ("AAAA" if not _request().endswith("AAAA") else "BBBB"),
            TRUST,
            NOW,
            "the signature does not verify",
        ),
        (lambda: "not.a.token", TRUST, NOW, "not a dossier-request+jwt token"),
        (
            lambda: SpotCheckOutcome.sign(
                key=GLOBAL_KEY,
                issuer=GLOBAL.did,
                audience=KE.did,
                node_id="KE",
                round_id=1,
                application_id=1,
                credential_id="urn:uuid:1",
                outcome=Outcome.CONFIRMED,
                summary="",
                now=NOW,
            ),
            TRUST,
            NOW,
            "typ must be 'dossier-request+jwt'",
        ),
    ],
)
def test_dossier_request_refusals(token: Any, trust: Any, now: Any, message: str) -> None:
    with pytest.raises(MessageRefused) as caught:
        DossierRequest.from_jws(token(), trust_list=trust, audience=KE.did, now=now)
    assert message in str(caught.value)


def test_a_suspended_global_node_signs_nothing_accepted() -> None:
    suspended = trust_list(trusted_node("global", GLOBAL_KEY, status=NodeStatus.SUSPENDED), KE)
    with pytest.raises(MessageRefused, match="not active"):
        DossierRequest.from_jws(_request(), trust_list=suspended, audience=KE.did, now=NOW)


def test_an_outcome_carries_its_reasons() -> None:
    token = SpotCheckOutcome.sign(
        key=GLOBAL_KEY,
        issuer=GLOBAL.did,
        audience=KE.did,
        node_id="KE",
        round_id=3,
        application_id=12,
        credential_id="urn:uuid:12",
        outcome=Outcome.NOT_CONFIRMED,
        summary="The evidence does not show the plan was adopted.",
        reasons=(CriterionReason("A.a", "No council resolution."),),
        now=NOW,
    )
    outcome = SpotCheckOutcome.from_jws(token, trust_list=TRUST, audience=KE.did, now=NOW)
    assert outcome.outcome is Outcome.NOT_CONFIRMED
    assert outcome.reasons == (CriterionReason("A.a", "No council resolution."),)
    assert outcome.credential_id == "urn:uuid:12"
    with pytest.raises(MessageRefused, match="typ must be 'spotcheck-outcome\\+jwt'"):
        SpotCheckOutcome.from_jws(_request(), trust_list=TRUST, audience=KE.did, now=NOW)
