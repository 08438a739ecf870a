"""jose.py: one token, one encoding; RFC 8259 JSON only; ECDSA signatures in range; known-answer
vectors (RFC 7515, RFC 8037) and a differential test against PyJWT."""

import base64
import json

import hypothesis
import hypothesis.strategies as st
import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

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


# -- known-answer vectors -------------------------------------------------------------------
# RFC 7515 Appendix A.1 (HS256) and A.3 (ES256), RFC 8037 Appendix A.4 (Ed25519). No maintained
# PyPI package ships the Wycheproof vectors, so they are not used here.

RFC7515_PAYLOAD = (
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)
RFC7515_CLAIMS = {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}


def _b64(value: str) -> bytes:
    return jose.b64decode(value)


def test_rfc_7515_a1_hs256():
    key = _b64("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
    header, signature = (
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    )
    token = f"{header}.{RFC7515_PAYLOAD}.{signature}"
    assert jose.verify_signature(jose.parse(token), key, "HS256", ["HS256"]) == RFC7515_CLAIMS
    with pytest.raises(jose.InvalidToken, match="signature is invalid"):
        jose.verify_signature(jose.parse(token), key[:-1] + b"\0", "HS256", ["HS256"])


def test_rfc_7515_a3_es256():
    x = int.from_bytes(_b64("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"), "big")
    y = int.from_bytes(_b64("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"), "big")
    key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    signature = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
    token = f"eyJhbGciOiJFUzI1NiJ9.{RFC7515_PAYLOAD}.{signature}"
    assert jose.verify_signature(jose.parse(token), key, "ES256", ["ES256"]) == RFC7515_CLAIMS
    with pytest.raises(jose.InvalidToken, match="not accepted for this key"):
        jose.verify_signature(jose.parse(token), key, "ES256", ["RS256"])


def test_rfc_8037_a4_ed25519_signs_and_verifies_the_published_bytes():
    private = ed25519.Ed25519PrivateKey.from_private_bytes(
        _b64("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    )
    assert (
        jose.b64encode(private.public_key().public_bytes_raw())
        == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    )
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    expected = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    eddsa = jose.ALGORITHMS["EdDSA"]
    assert jose.b64encode(eddsa.sign(private, signing_input)) == expected
    assert eddsa.verify(private.public_key(), _b64(expected), signing_input)
    assert not eddsa.verify(private.public_key(), _b64(expected), signing_input + b"x")


# -- differential: our jose and PyJWT agree on accept/reject ----------------------------------

_DIFF_KEYS = {
    "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
}
_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _ours_accept(token: str, key, alg: str) -> bool:
    try:
        jose.verify_signature(jose.parse(token), key, alg, [alg])
    except jose.InvalidToken:
        return False
    return True


def _pyjwt_accepts(token: str, key, alg: str) -> bool:
    try:
        pyjwt.decode(token, key, algorithms=[alg], options={"verify_exp": False, "verify_iat": False})
    except pyjwt.PyJWTError:
        return False
    return True


def _mutate(token: str, mutation: str, where: int, value: str) -> str:
    parts = token.split(".")
    if mutation == "char":
        # Any character but a segment's last: those can differ only in unused trailing bits,
        # which our strict decoder refuses on purpose and PyJWT ignores.
        segment = where % 3
        text = parts[segment]
        i = where % (len(text) - 1)
        parts[segment] = text[:i] + value + text[i + 1 :]
    elif mutation == "alg":
        header = json.loads(jose.b64decode(parts[0]))
        header["alg"] = value
        parts[0] = jose.b64encode(json.dumps(header).encode())
    elif mutation == "claims":
        parts[1] = jose.b64encode(json.dumps({"sub": value}).encode())
    elif mutation == "drop":
        parts = parts[: where % 3]
    return ".".join(parts)


@hypothesis.settings(max_examples=80, deadline=None, derandomize=True)
@hypothesis.given(
    alg=st.sampled_from(sorted(_DIFF_KEYS)),
    mutation=st.sampled_from(["none", "char", "alg", "claims", "drop"]),
    where=st.integers(min_value=0, max_value=10_000),
    value=st.one_of(
        st.sampled_from(_B64_CHARS), st.sampled_from(["none", "HS256", "RS256", "ES256", "EdDSA", "PS256"])
    ),
)
def test_ours_and_pyjwt_agree_on_random_mutations(alg, mutation, where, value):
    private = _DIFF_KEYS[alg]
    token = jose.sign({"sub": "1", "exp": 2_000_000_000}, private, alg, typ="JWT")
    if mutation == "char" and value not in _B64_CHARS:
        value = "A"
    mutated = _mutate(token, mutation, where, value)
    public = private.public_key()
    assert _ours_accept(mutated, public, alg) == _pyjwt_accepts(mutated, public, alg)
    assert _ours_accept(token, public, alg)


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
