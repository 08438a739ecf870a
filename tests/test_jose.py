"""jose.py: one token, one encoding; RFC 8259 JSON only; ECDSA signatures in range."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from oidc_provider import jose

from .test_attacks import b64, claims


def test_canonical_base64url_round_trips():
    for raw in (b"", b"a", b"ab", b"abc", b"\xff\xfe\xfd\xfc"):
        assert jose.b64decode(jose.b64encode(raw)) == raw


@pytest.mark.parametrize(
    "encoded",
    [
        "YQ==",  # padding (RFC 7515 §2: base64url without "=")
        "YQ=",
        "YR",  # "a" with non-zero trailing bits: a second spelling of the same byte
        "YWJ",  # "ab" with non-zero trailing bits
        "+/8",  # standard alphabet
        "Y",  # impossible length
        "YW\nI",
        " YWI",
    ],
)
def test_non_canonical_base64url_is_refused(encoded):
    with pytest.raises(jose.InvalidToken):
        jose.b64decode(encoded)


def _token(payload: bytes, header=None) -> str:
    header = header or {"alg": "ES256", "typ": "at+jwt", "kid": "k"}
    return f"{b64(header)}.{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}.c2ln"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_json_that_rfc_8259_does_not_allow_is_refused(number):
    payload = json.dumps(claims(exp=0)).replace('"exp": 0', f'"exp": {number}').encode()
    assert number.encode() in payload
    with pytest.raises(jose.InvalidToken):
        jose.parse(_token(payload)).claims()


def test_non_finite_numbers_are_refused_in_the_header_too():
    header = b'{"alg":"ES256","kid":"k","x":NaN}'
    token = f"{base64.urlsafe_b64encode(header).rstrip(b'=').decode()}.{b64(claims())}.c2ln"
    with pytest.raises(jose.InvalidToken):
        jose.parse(token)


def test_large_but_finite_numbers_still_parse():
    payload = json.dumps(claims(exp=1e300, big=10**30)).encode()
    assert jose.parse(_token(payload)).claims()["exp"] == 1e300


@pytest.mark.parametrize("alg,curve", [("ES256", ec.SECP256R1()), ("ES384", ec.SECP384R1())])
def test_ecdsa_signatures_outside_1_to_n_minus_1_are_refused(alg, curve):
    """RFC 7518 §3.4 / SEC 1 §4.1.4: r and s are integers in [1, n-1]."""
    key = ec.generate_private_key(curve)
    algorithm = jose.ALGORITHMS[alg]
    data = b"header.payload"
    signature = algorithm.sign(key, data)
    size = len(signature) // 2
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    n = jose.CURVE_ORDERS[algorithm.curve]
    assert algorithm.verify(key.public_key(), signature, data)
    for bad_r, bad_s in ((0, s), (r, 0), (r + n, s), (r, s + n), (n, s)):
        if max(bad_r, bad_s).bit_length() > size * 8:
            continue  # does not fit the fixed-size encoding at all: refused by length
        forged = bad_r.to_bytes(size, "big") + bad_s.to_bytes(size, "big")
        assert not algorithm.verify(key.public_key(), forged, data)


def test_high_s_signatures_are_accepted_as_the_standard_allows():
    """RFC 7518 §3.4 does not require low-S; see the note in jose.py on why that is safe here."""
    key = ec.generate_private_key(ec.SECP256R1())
    algorithm = jose.ALGORITHMS["ES256"]
    data = b"header.payload"
    signature = algorithm.sign(key, data)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    flipped = r.to_bytes(32, "big") + (jose.CURVE_ORDERS["P-256"] - s).to_bytes(32, "big")
    assert algorithm.verify(key.public_key(), flipped, data)


def test_a_jwk_with_private_members_is_refused_wherever_keys_are_imported():
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwcrypto import jwk

    from oidc_provider import client_jwks
    from oidc_provider.contrib.rest_framework.jwks import parse_jwks

    key = jwk.JWK.from_pyca(rsa.generate_private_key(65537, 2048))
    public = {**key.export_public(as_dict=True), "kid": "k", "alg": "RS256"}
    private = {**key.export_private(as_dict=True), "kid": "k", "alg": "RS256"}
    assert client_jwks.load_key(public, "RS256") is not None
    assert client_jwks.load_key(private, "RS256") is None
    assert set(parse_jwks({"keys": [public]})) == {"k"}
    assert parse_jwks({"keys": [private]}) == {}
