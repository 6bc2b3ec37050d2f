"""Signing keys, public JWKs, RFC 7638 thumbprints and the encrypted key store."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from sdgcities.credentials import (
    Algorithm,
    KeyStoreError,
    MalformedError,
    PublicKey,
    SigningKey,
)
from tests.vectors.builders import p256_key

# RFC 8037 Appendix A.1 (private key) and A.3 (its public key and JWK thumbprint).
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
PASSPHRASE = "correct horse battery staple"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(params=[Algorithm.EDDSA, Algorithm.ES256])
def signing_key(request) -> SigningKey:
    return SigningKey.generate(request.param)


# Thumbprints.


def test_thumbprint_is_the_rfc8037_example():
    key = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})

    assert key.kid == RFC8037_THUMBPRINT
    assert key.algorithm is Algorithm.EDDSA


def test_signing_key_from_the_rfc8037_private_key_has_its_thumbprint():
    private = ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))

    key = SigningKey(private)

    assert key.kid == RFC8037_THUMBPRINT
    assert key.public_key.to_jwk()["x"] == RFC8037_X


def test_ec_thumbprint_follows_rfc7638_member_order():
    key = p256_key("thumbprint").public_key
    jwk = key.to_jwk()

    # RFC 7638 §3.2: the required members crv, kty, x, y in lexicographic order, no whitespace.
    required = f'{{"crv":"P-256","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'
    assert key.kid == b64url(hashlib.sha256(required.encode()).digest())


def test_thumbprint_ignores_optional_members():
    bare = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    dressed = PublicKey.from_jwk(
        {"x": RFC8037_X, "use": "sig", "crv": "Ed25519", "alg": "EdDSA", "kty": "OKP"}
    )

    assert dressed.kid == bare.kid == RFC8037_THUMBPRINT


# JWK round trips.


def test_jwk_round_trip(signing_key):
    jwk = signing_key.public_key.to_jwk()
    parsed = PublicKey.from_jwk(json.loads(json.dumps(jwk)))

    assert parsed == signing_key.public_key
    assert parsed.kid == jwk["kid"] == signing_key.kid
    assert (jwk["alg"], jwk["use"]) == (signing_key.algorithm.value, "sig")
    assert parsed.key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == signing_key.key_object.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_jwk_members_per_key_type():
    ed = SigningKey.generate(Algorithm.EDDSA).public_key.to_jwk()
    es = SigningKey.generate(Algorithm.ES256).public_key.to_jwk()

    assert set(ed) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (ed["kty"], ed["crv"], len(b64url_decode(ed["x"]))) == ("OKP", "Ed25519", 32)
    assert set(es) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (es["kty"], es["crv"]) == ("EC", "P-256")


def test_p256_coordinates_keep_their_leading_zero_bytes():
    # About one key in 256 has an x coordinate below 2**248; RFC 7518 §6.2.1.2 still wants 32
    # bytes. Search the deterministic keys for one.
    key = next(
        k
        for k in (p256_key(f"short x {n}") for n in range(5000))
        if k.key_object.public_key().public_numbers().x < 2**248
    )

    jwk = key.public_key.to_jwk()

    assert len(b64url_decode(jwk["x"])) == 32
    assert b64url_decode(jwk["x"])[0] == 0
    assert PublicKey.from_jwk(jwk).kid == key.kid


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}, "private member"),
        ({"alg": "ES256"}, "does not match its key type"),
        ({"kid": RFC8037_THUMBPRINT[:-1] + "A"}, "thumbprint"),
        ({"kty": "RSA"}, "unsupported"),
        ({"crv": "X25519"}, "unsupported"),
        ({"crv": "Ed448"}, "unsupported"),
        ({"x": b64url(bytes(31))}, "invalid public key"),
        ({"x": RFC8037_X + "="}, "base64url"),
        ({"x": 12345}, "must be a string"),
    ],
)
def test_okp_jwk_refusals(change, message):
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, **change}

    with pytest.raises(MalformedError, match=message):
        PublicKey.from_jwk(jwk)


def test_private_member_is_refused_in_an_ec_jwk():
    key = p256_key("private member")
    jwk = key.public_key.to_jwk()
    d = key.key_object.private_numbers().private_value.to_bytes(32, "big")

    with pytest.raises(MalformedError, match="private member"):
        PublicKey.from_jwk({**jwk, "d": b64url(d)})


@pytest.mark.parametrize(
    "change",
    [
        {"x": b64url(bytes(31))},  # a short coordinate
        {"y": b64url((1).to_bytes(32, "big"))},  # not on the curve
        {"crv": "P-384"},
    ],
)
def test_ec_jwk_refusals(change):
    jwk = {**p256_key("refusals").public_key.to_jwk(), **change}
    jwk.pop("kid")

    with pytest.raises(MalformedError):
        PublicKey.from_jwk(jwk)


@pytest.mark.parametrize("jwk", [None, "a string", ["kty", "OKP"], 42])
def test_a_jwk_must_be_an_object(jwk):
    with pytest.raises(MalformedError):
        PublicKey.from_jwk(jwk)


def test_only_p256_is_accepted_for_ecdsa():
    with pytest.raises(MalformedError):
        SigningKey(ec.generate_private_key(ec.SECP384R1()))


# The encrypted key store.


@pytest.fixture
def permissive_umask():
    # With umask 0 a file is created with exactly the mode asked for: 0600 must be asked for.
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
def test_save_and_load_round_trip(tmp_path, signing_key):
    path = tmp_path / "keys" / "node.key"

    signing_key.save(path, PASSPHRASE)
    loaded = SigningKey.load(path, PASSPHRASE)

    assert loaded.kid == signing_key.kid
    assert loaded.algorithm is signing_key.algorithm
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_the_key_file_is_encrypted_pkcs8(tmp_path):
    key = SigningKey(ed25519.Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D)))
    path = tmp_path / "node.key"

    key.save(path, PASSPHRASE)
    data = path.read_bytes()

    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert b64url_decode(RFC8037_D) not in base64.b64decode(b"".join(data.splitlines()[1:-1]))
    with pytest.raises(TypeError):  # cryptography itself wants the passphrase
        serialization.load_pem_private_key(data, password=None)


@pytest.mark.usefixtures("permissive_umask")
def test_save_replaces_a_readable_key_file_with_an_owner_only_one(tmp_path):
    path = tmp_path / "node.key"
    path.write_bytes(b"old")
    path.chmod(0o644)

    SigningKey.generate().save(path, PASSPHRASE)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_interrupted_save_does_not_block_the_next_one(tmp_path):
    path = tmp_path / "node.key"
    (tmp_path / "node.key.tmp").write_bytes(b"left by a crash")
    key = SigningKey.generate()

    key.save(path, PASSPHRASE)

    assert SigningKey.load(path, PASSPHRASE).kid == key.kid


def test_an_empty_passphrase_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "node.key"

    with pytest.raises(KeyStoreError, match="passphrase"):
        SigningKey.generate().save(path, "")

    assert list(tmp_path.iterdir()) == []


def test_wrong_passphrase_is_a_key_store_error(tmp_path, signing_key):
    path = tmp_path / "node.key"
    signing_key.save(path, PASSPHRASE)

    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        SigningKey.load(path, PASSPHRASE + "!")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        # A key stored in the clear is refused too: the store holds encrypted keys only.
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    ],
)
def test_damaged_or_unencrypted_files_are_key_store_errors(tmp_path, content):
    path = tmp_path / "node.key"
    path.write_bytes(content)

    with pytest.raises(KeyStoreError):
        SigningKey.load(path, PASSPHRASE)


def test_a_missing_file_is_a_key_store_error(tmp_path):
    with pytest.raises(KeyStoreError, match="cannot read"):
        SigningKey.load(tmp_path / "absent.key", PASSPHRASE)


def test_an_unwritable_place_is_a_key_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")

    with pytest.raises(KeyStoreError, match="cannot write"):
        SigningKey.generate().save(blocker / "node.key", PASSPHRASE)


def test_an_unsupported_key_type_in_the_store_is_refused():
    from cryptography.hazmat.primitives.asymmetric import x25519

    pem = x25519.X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    )

    with pytest.raises(KeyStoreError, match="unsupported"):
        SigningKey.from_encrypted_pem(pem, PASSPHRASE)


def test_repr_shows_the_kid_and_nothing_private(signing_key):
    text = repr(signing_key)

    assert signing_key.kid in text
    assert "_private" not in text
    if signing_key.algorithm is Algorithm.EDDSA:
        raw = signing_key.key_object.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        assert b64url(raw) not in text
