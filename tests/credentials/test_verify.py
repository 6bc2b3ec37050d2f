"""The verifier beyond the named vectors: its answer, its status-list cache, its fetcher."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdgcities.credentials import (
    KeyStatus,
    Outcome,
    Reason,
    StatusListUnavailable,
    UrllibFetcher,
    Verifier,
)
from tests.vectors.builders import (
    CHANGED_AT,
    COMPROMISED_AT,
    DEFAULT_INDEX,
    NOW,
    RECEIVED_INDEX,
    Scenario,
    certificate,
    credential_id,
    federation,
    payload_of,
    resigned,
    status_list_token,
    trust_list,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def ke_list() -> str:
    return federation().node("KE").list_url()


def test_a_valid_answer_carries_the_credential_and_its_issuer(accepted_trust_list):
    token = certificate()
    scenario = Scenario(token)

    result = scenario.verifier().verify(token)

    assert result.valid
    assert (result.outcome, result.reason, result.message) == (Outcome.VALID, None, "valid")
    assert result.credential == payload_of(token)
    assert result.issuer == accepted_trust_list.node("KE")
    assert result.to_json() == {
        "valid": True,
        "status": "valid",
        "reason": None,
        "message": "valid",
        "issuer": "KE",
        "credential": payload_of(token),
    }


def test_an_invalid_answer_after_the_signature_still_shows_what_was_signed():
    scenario = Scenario(certificate(), documents={})
    token = certificate(issued_at=NOW - timedelta(days=300), valid_until=NOW - timedelta(days=1))

    result = scenario.verifier().verify(token)

    assert (result.outcome, result.reason) == (Outcome.INVALID, Reason.EXPIRED)
    assert result.credential == payload_of(token)
    assert result.issuer is not None
    assert result.to_json()["issuer"] == "KE"


def test_before_the_signature_nothing_from_the_token_is_returned():
    token = certificate(key=federation().stranger)

    result = Scenario(token).verifier().verify(token)

    assert result.reason is Reason.UNKNOWN_ISSUER
    assert (result.credential, result.issuer) == (None, None)


@pytest.mark.parametrize("token", [None, 42, b"a.b.c", "", ".", "..", "a.b.c", "\x00.\x00.\x00"])
def test_anything_that_is_not_a_token_is_malformed(token):
    result = Scenario(certificate()).verifier().verify(token)

    assert (result.outcome, result.reason) == (Outcome.INVALID, Reason.MALFORMED)


def test_for_trust_list_is_the_named_constructor(accepted_trust_list):
    scenario = Scenario(certificate())
    verifier = Verifier.for_trust_list(
        accepted_trust_list, fetcher=scenario.fetch, clock=lambda: NOW
    )

    assert verifier.verify(scenario.token).valid


# Time.


def test_the_verifier_asks_its_clock_unless_told_the_time(accepted_trust_list):
    token = certificate(valid_until=NOW + timedelta(hours=2))
    scenario = Scenario(token)
    later = NOW + timedelta(hours=3)
    verifier = Verifier(accepted_trust_list, fetcher=scenario.fetch, clock=lambda: later)

    assert verifier.verify(token).reason is Reason.EXPIRED
    assert verifier.verify(token, now=NOW).valid


def test_a_status_list_key_is_judged_at_the_verifiers_time_not_the_wall_clock(fed):
    # KE's key is retired one day after the verifier's clock. The wall clock is later than that,
    # but the verifier lives at NOW, when the key was still the one to sign status lists.
    nodes = tuple(
        replace(
            node,
            keys=(
                replace(
                    node.keys[0],
                    status=KeyStatus.RETIRED,
                    status_since=NOW + timedelta(days=1),
                ),
                *node.keys[1:],
            ),
        )
        if node.id == "KE"
        else node
        for node in fed.trusted_nodes()
    )
    scenario = Scenario(certificate(), trust_list_token=fed.trust_list(nodes=nodes).sign(fed.root))
    assert datetime.now(UTC) > NOW + timedelta(days=1)  # else this test proves nothing

    result = scenario.run()

    assert result.valid, result.message


# The status-list cache.


def test_each_status_list_is_fetched_once_while_fresh():
    scenario = Scenario(certificate())
    verifier = scenario.verifier()

    for _ in range(3):
        assert verifier.verify(scenario.token).valid
    assert verifier.verify(certificate(index=5), now=NOW + timedelta(minutes=4)).valid

    assert scenario.fetched == [ke_list()]


def test_a_revocation_is_seen_once_the_cached_list_is_older_than_its_max_age():
    scenario = Scenario(certificate())
    verifier = Verifier(trust_list(), fetcher=scenario.fetch, status_max_age=timedelta(minutes=5))
    assert verifier.verify(scenario.token, now=NOW).valid

    revoked = status_list_token("KE", revoked=[DEFAULT_INDEX])
    scenario.documents[ke_list()] = revoked

    assert verifier.verify(scenario.token, now=NOW + timedelta(minutes=4)).valid
    result = verifier.verify(scenario.token, now=NOW + timedelta(minutes=6))
    assert result.reason is Reason.REVOKED


def test_a_cached_list_is_not_used_past_its_own_valid_until():
    short_lived = status_list_token("KE", valid_until=NOW + timedelta(minutes=2))
    scenario = Scenario(certificate(), documents={ke_list(): short_lived})
    verifier = Verifier(trust_list(), fetcher=scenario.fetch, status_max_age=timedelta(hours=1))
    assert verifier.verify(scenario.token, now=NOW).valid

    scenario.documents[ke_list()] = status_list_token("KE")
    assert verifier.verify(scenario.token, now=NOW + timedelta(minutes=3)).valid

    assert scenario.fetched.count(ke_list()) == 2


def test_an_unreachable_list_is_indeterminate_and_retried():
    url = ke_list()
    scenario = Scenario(certificate(), documents={url: StatusListUnavailable("down")})
    verifier = scenario.verifier()

    first = verifier.verify(scenario.token)
    del scenario.documents[url]
    second = verifier.verify(scenario.token)

    assert (first.outcome, first.reason) == (Outcome.INDETERMINATE, Reason.STATUS_UNAVAILABLE)
    assert not first.valid
    assert second.valid


# Nothing but a library answer, whatever the input.


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_no_single_character_change_is_ever_valid(data):
    token = certificate()
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET + ".=+/ \n\u00e9"))
    mutated = token[:position] + replacement + token[position + 1 :]

    result = Scenario(token).verifier().verify(mutated)

    assert result.valid == (mutated == token)
    if not result.valid:
        assert result.reason in {Reason.MALFORMED, Reason.BAD_SIGNATURE, Reason.UNKNOWN_ISSUER}


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_=+/ -]{0,60}(\.[A-Za-z0-9_=+/ -]{0,60}){2}")
)
def test_random_text_is_never_valid_and_never_raises(text):
    result = Scenario(certificate()).verifier().verify(text)

    assert result.outcome is Outcome.INVALID
    assert result.reason in {Reason.MALFORMED, Reason.BAD_SIGNATURE}


# The standard-library fetcher, against a real local HTTP server.


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    token = status_list_token("KE")
    _Handler.routes = {
        "/status/ok": (200, {"Content-Type": "application/vc+jwt"}, token.encode() + b"\n"),
        "/status/redirect": (302, {"Location": f"{base}/status/ok"}, b""),
        "/status/big": (200, {}, b"a" * 1025),
        "/status/latin": (200, {}, b"\xe9t\xe9"),
        "/status/error": (503, {}, b"busy"),
    }
    yield base
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_urllib_fetcher_returns_the_token(server):
    fetched = UrllibFetcher()(f"{server}/status/ok")

    assert fetched == status_list_token("KE")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/status/redirect", "unreachable"),  # redirects are not followed
        ("/status/big", "larger than"),
        ("/status/latin", "not a compact JWS"),
        ("/status/error", "unreachable"),
        ("/status/missing", "unreachable"),
    ],
)
def test_urllib_fetcher_refusals_are_status_list_unavailable(server, path, message):
    with pytest.raises(StatusListUnavailable, match=message):
        UrllibFetcher(max_bytes=1024)(f"{server}{path}")


def test_urllib_fetcher_connection_refused_is_status_list_unavailable():
    closed = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there any more

    with pytest.raises(StatusListUnavailable):
        UrllibFetcher(timeout=2)(f"http://127.0.0.1:{port}/status/ok")


def test_to_json_is_plain_json():
    scenario = Scenario(certificate(key=federation().ke_compromised))

    answer = scenario.verifier().verify(scenario.token).to_json()

    assert json.loads(json.dumps(answer)) == answer
    assert (answer["valid"], answer["status"], answer["reason"]) == (
        False,
        "invalid",
        "not_received_before_cutoff",
    )


# Cut-offs (DESIGN §3): `iat` proves nothing once a node is suspended or a key compromised.


@pytest.mark.parametrize("jti", [["urn:uuid:1"], {"id": "urn:uuid:1"}, 7])
def test_a_cut_off_nodes_certificate_with_an_id_that_is_not_text_is_malformed(jti):
    ug = federation().node("UG")
    token = resigned(
        certificate("UG", issued_at=CHANGED_AT - timedelta(days=1)), ug.key, jti=jti, id=jti
    )

    result = Scenario(token).run()

    assert (result.outcome, result.reason) == (Outcome.INVALID, Reason.MALFORMED)
    assert "jti" in result.message


def test_the_received_ids_of_one_cut_off_prove_nothing_for_another(fed):
    # UG's list holds RECEIVED_INDEX; a certificate with that id signed by KE's compromised key
    # is proved by the key's own list only, and RW's by RW's.
    nodes = tuple(
        replace(n, received_before_cutoff=frozenset()) if n.id == "RW" else n
        for n in fed.trusted_nodes()
    )
    trust = fed.trust_list(nodes=nodes).sign(fed.root)
    token = certificate("RW", issued_at=CHANGED_AT - timedelta(days=1), index=RECEIVED_INDEX)

    result = Scenario(token, trust_list_token=trust).run()

    assert (result.outcome, result.reason) == (Outcome.INVALID, Reason.NOT_RECEIVED_BEFORE_CUTOFF)
    assert Scenario(token).run().valid  # with RW's own list it is


def test_a_compromised_key_signs_no_status_list_even_with_received_certificates(fed):
    # The key's cut-off lists certificates, not status lists: a list it signs is never trusted.
    url = federation().node("KE").list_url()
    served = status_list_token("KE", key=fed.ke_compromised)
    token = certificate(key=fed.ke_compromised, issued_at=COMPROMISED_AT - timedelta(days=1))
    token = resigned(token, fed.ke_compromised, jti=credential_id(RECEIVED_INDEX))
    token = resigned(token, fed.ke_compromised, id=credential_id(RECEIVED_INDEX))

    result = Scenario(token, documents={url: served}).run()

    assert (result.outcome, result.reason) == (Outcome.INDETERMINATE, Reason.STATUS_UNAVAILABLE)
    assert "compromised" in result.message
    assert Scenario(token).run().valid
