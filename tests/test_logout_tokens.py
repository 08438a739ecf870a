"""Logout tokens (Back-Channel Logout 1.0 §2.4), checked with PyJWT as a relying party would."""

from __future__ import annotations

import jwt
import pytest

from oidc_provider import jose, logout_tokens
from oidc_provider.models import ClientProfile

from .factories import ApplicationFactory
from .oauth import verify

pytestmark = pytest.mark.django_db
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _app(alg="RS256", **kwargs):
    app = ApplicationFactory(**kwargs)
    ClientProfile.objects.update_or_create(application=app, defaults={"id_token_algorithm": alg})
    return app


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_claims_and_signature_verified_with_pyjwt(signing_keys, jwks, alg):
    app = _app(alg)
    token = logout_tokens.build(app, subject="42", sid="the-sid")
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt"
    assert header["alg"] == alg and header["kid"] == signing_keys[alg].kid
    claims = verify(token, jwks(), audience=app.client_id)
    assert claims["iss"] == "https://testserver/o"
    assert claims["aud"] == app.client_id
    assert claims["events"] == {EVENT: {}}
    assert claims["sub"] == "42" and claims["sid"] == "the-sid"
    assert 0 < claims["exp"] - claims["iat"] <= 120
    assert "nonce" not in claims
    assert (
        claims["jti"]
        != jwt.decode(
            logout_tokens.build(app, subject="42", sid="the-sid"), options={"verify_signature": False}
        )["jti"]
    )


def test_hs256_client_gets_a_token_signed_with_its_secret():
    secret = "an-unhashed-client-secret-of-32-chars-or-more"
    app = _app("HS256", client_secret=secret, hash_client_secret=False)
    token = logout_tokens.build(app, subject=None, sid="s")
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience=app.client_id)
    assert claims["sid"] == "s" and "sub" not in claims


def test_needs_a_subject_or_a_session():
    with pytest.raises(ValueError):
        logout_tokens.claims("client", subject=None, sid=None)


def test_validate_accepts_ours_and_refuses_other_token_types(rsa_key):
    app = _app()
    token = logout_tokens.build(app, subject="1", sid=None)
    assert logout_tokens.validate(token, app.client_id)["sub"] == "1"
    with pytest.raises(jose.InvalidToken):
        logout_tokens.validate(token, "another-client")
    from oidc_provider.tokens import sign

    claims = logout_tokens.claims(app.client_id, subject="1", sid=None)
    with pytest.raises(jose.InvalidToken, match="type"):
        logout_tokens.validate(sign(claims, "RS256", "JWT"), app.client_id)  # an ID token's typ
    with pytest.raises(jose.InvalidToken, match="nonce"):
        logout_tokens.validate(sign({**claims, "nonce": "n"}, "RS256", "logout+jwt"), app.client_id)
    with pytest.raises(jose.InvalidToken, match="event"):
        logout_tokens.validate(sign({**claims, "events": {}}, "RS256", "logout+jwt"), app.client_id)
