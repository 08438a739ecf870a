"""Helpers for the DRF tests: tokens minted through /o/token/ or signed by hand."""

import time
import uuid

from oidc_provider import jose
from oidc_provider.keys import keyring

from .conftest import basic_auth
from .factories import ClientCredentialsApplicationFactory

ISSUER = "https://testserver/o"
AUDIENCE = "https://api.example.com"


def claims(**overrides):
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "exp": now + 300,
        "aud": AUDIENCE,
        "sub": "42",
        "client_id": "rp-client",
        "iat": now,
        "jti": uuid.uuid4().hex,
        "scope": "openid read",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def sign(alg="RS256", typ="at+jwt", kid=None, key=None, **overrides):
    """A token signed by this site's active key for ``alg`` (or ``key``/``kid`` when given)."""
    active = keyring().signing_key(alg)
    return jose.sign(claims(**overrides), key or active.private_key, alg, kid=kid or active.kid, typ=typ)


def client_credentials_token(client, scope="read", app=None):
    app = app or ClientCredentialsApplicationFactory()
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=basic_auth(app.client_id),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def challenge(response):
    return response.headers.get("WWW-Authenticate", "")
