"""oidc_provider.jwk.import_jwk: the one JWK importer and its rules."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto import jwk as jwcrypto_jwk

from oidc_provider.jwk import InvalidJWK, import_jwk


def public(key, **extra):
    return {**jwcrypto_jwk.JWK.from_pyca(key.public_key()).export_public(as_dict=True), **extra}


def private(key, **extra):
    return {**jwcrypto_jwk.JWK.from_pyca(key).export_private(as_dict=True), **extra}


RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P256 = ec.generate_private_key(ec.SECP256R1())
ED = ed25519.Ed25519PrivateKey.generate()


@pytest.mark.parametrize(("key", "alg"), [(RSA, "RS256"), (RSA, "PS256"), (P256, "ES256"), (ED, "EdDSA")])
def test_public_signature_keys_import(key, alg):
    imported = import_jwk(public(key, alg=alg, kid="k1", use="sig"))
    assert imported.alg == alg and imported.kid == "k1"
    assert imported.key.public_bytes_raw() if alg == "EdDSA" else imported.key.public_numbers()


def test_alg_comes_from_the_caller_when_the_jwk_names_none():
    assert import_jwk(public(P256), alg="ES256").alg == "ES256"
    assert import_jwk(public(P256)).alg is None
    with pytest.raises(InvalidJWK, match="names no alg"):
        import_jwk(public(P256), require_alg=True)


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (private(RSA), "private or symmetric key material"),
        ({"kty": "oct", "k": "c2VjcmV0"}, "private or symmetric key material"),
        (public(RSA, use="enc"), "use must be sig"),
        (public(RSA, key_ops=["encrypt"]), "key_ops"),
        (public(RSA, alg="ES256"), "does not fit"),
        (public(RSA, alg="HS256"), "does not fit"),
        (public(RSA, alg="none"), "does not fit"),
        (public(P256, alg="ES384"), "needs curve P-384"),
        (public(ec.generate_private_key(ec.SECP256K1())), "Unsupported curve"),
        (public(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "at least 2048"),
        ({"kty": "RSA", "n": "!!", "e": "AQAB"}, "Not a valid key"),
        ({**public(RSA), "e": 65537}, "strings"),
        ("not a dict", "JSON object"),
    ],
)
def test_what_is_refused(member, message):
    with pytest.raises(InvalidJWK, match=message):
        import_jwk(member)


def test_private_keys_only_when_asked():
    key = import_jwk(private(P256, alg="ES256"), private=True).key
    assert isinstance(key, ec.EllipticCurvePrivateKey)


def test_members_beyond_the_key_are_never_read():
    deep = []
    for _ in range(10_000):
        deep = [deep]
    assert import_jwk(public(RSA, x5c=["junk"], extra=deep), alg="RS256").alg == "RS256"
