"""oidc_provider.validation: the named profiles, through ``decode`` with a key of our own."""

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from oidc_provider import jose
from oidc_provider.validation import (
    ACCESS_TOKEN,
    BACKCHANNEL_LOGOUT_EVENT,
    CLIENT_ASSERTION,
    DPOP_PROOF,
    ID_TOKEN,
    ID_TOKEN_HINT,
    LOGOUT_TOKEN,
    decode,
)

KEY = ec.generate_private_key(ec.SECP256R1())
ISS, AUD = "https://testserver/o", "https://api.example.com"


class OneKey:
    def get(self, kid):
        return KEY.public_key(), "ES256"


def token(typ="at+jwt", kid="k", **claims):
    return jose.sign({k: v for k, v in claims.items() if v is not None}, KEY, "ES256", kid=kid, typ=typ)


def access(**over):
    now = int(time.time())
    return {
        "iss": ISS,
        "aud": AUD,
        "sub": "1",
        "client_id": "c",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
        **over,
    }


def check(profile, value, **options):
    return decode(value, profile, OneKey(), **{"issuer": ISS, **options})[1]


def test_access_token_profile_rfc_9068():
    assert check(ACCESS_TOKEN, token(**access()), audience=AUD)["sub"] == "1"
    with pytest.raises(jose.InvalidToken, match="no client_id"):  # RFC 9068 §2.2
        check(ACCESS_TOKEN, token(**access(client_id=None)))
    with pytest.raises(jose.InvalidToken, match="type"):
        check(ACCESS_TOKEN, token(typ="JWT", **access()))
    with pytest.raises(jose.InvalidToken, match="expired"):
        check(ACCESS_TOKEN, token(**access(exp=int(time.time()) - 3600)))
    with pytest.raises(jose.InvalidToken, match="audience"):
        check(ACCESS_TOKEN, token(**access()), audience="https://other.example")


def test_id_token_and_hint_profiles():
    claims = access(aud="client-1", exp=int(time.time()) - 3600)
    with pytest.raises(jose.InvalidToken, match="expired"):
        check(ID_TOKEN, token(typ="JWT", **claims))
    assert check(ID_TOKEN_HINT, token(typ="JWT", **claims), audience="client-1")["sub"] == "1"
    with pytest.raises(jose.InvalidToken, match="type"):  # never an access token
        check(ID_TOKEN_HINT, token(**claims))


def test_client_assertion_profile_rfc_7523():
    now = int(time.time())
    claims = {"iss": "c", "sub": "c", "aud": ISS, "exp": now + 60, "jti": "j"}
    assert check(CLIENT_ASSERTION, token(typ=None, kid=None, **claims), issuer="c")["sub"] == "c"
    with pytest.raises(jose.InvalidToken, match="seconds ahead"):
        check(CLIENT_ASSERTION, token(kid=None, **{**claims, "exp": now + 86400}), issuer="c")
    with pytest.raises(jose.InvalidToken, match="jti"):
        check(CLIENT_ASSERTION, token(kid=None, **{**claims, "jti": "x" * 300}), issuer="c")
    with pytest.raises(jose.InvalidToken, match="not accepted for this key"):
        check(CLIENT_ASSERTION, token(kid=None, **claims), issuer="c", algorithms=["HS256"])


def test_dpop_proof_profile_rfc_9449():
    now = int(time.time())
    proof = {"jti": "j", "htm": "POST", "htu": "https://testserver/o/token/", "iat": now}
    assert check(DPOP_PROOF, token(typ="dpop+jwt", kid=None, **proof), issuer=None)["htm"] == "POST"
    with pytest.raises(jose.InvalidToken, match="htu"):
        check(DPOP_PROOF, token(typ="dpop+jwt", kid=None, **{**proof, "htu": None}), issuer=None)
    with pytest.raises(jose.InvalidToken, match="too long ago"):
        check(DPOP_PROOF, token(typ="dpop+jwt", kid=None, **{**proof, "iat": now - 3600}), issuer=None)


def test_logout_token_profile_back_channel_logout():
    now = int(time.time())
    claims = {"iss": ISS, "aud": "c", "iat": now, "exp": now + 60, "jti": "j", "sid": "s"}
    claims["events"] = {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert check(LOGOUT_TOKEN, token(typ="logout+jwt", **claims), audience="c")["sid"] == "s"
    for bad, message in [
        ({"nonce": "n"}, "nonce"),
        ({"sid": None}, "neither sub nor sid"),
        ({"events": {}}, "event"),
    ]:
        with pytest.raises(jose.InvalidToken, match=message):
            check(LOGOUT_TOKEN, token(typ="logout+jwt", **{**claims, **bad}))
