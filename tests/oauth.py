"""Helpers that drive the provider over HTTP the way a client would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt

from .factories import CLIENT_SECRET

REDIRECT_URI = "https://rp.example.com/callback"


class FakeHTTPResponse:
    """What ``oidc_provider.fetch`` reads from a ``requests`` response, for tests that stand in
    for the network: status, headers, and the raw (undecoded) body stream."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        import io

        self.status_code, self.headers = status, headers or {}
        self.raw = io.BytesIO(body)

    def close(self) -> None:
        self.raw.close()


def basic(client_id: str, secret: str = CLIENT_SECRET) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(client, application, scope="openid", prefix="/o", **extra) -> tuple[str, str]:
    """Run /o/authorize/ for a logged-in user with a skip-authorization client; returns (code, verifier)."""
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    response = client.get(f"{prefix}/authorize/", params)
    assert response.status_code == 302, response.content
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["state"] == ["st4te"], query
    return query["code"][0], verifier


def exchange_code(client, application, code: str, verifier: str, secret=CLIENT_SECRET, prefix="/o"):
    """POST the authorization code (with its PKCE verifier) to /o/token/; returns the response."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return client.post(
        f"{prefix}/token/", {**data, "code_verifier": verifier}, **basic(application.client_id, secret)
    )


def code_flow(client, application, user, scope="openid", secret=CLIENT_SECRET, **extra) -> dict:
    client.force_login(user)
    code, verifier = authorize(client, application, scope, **extra)
    response = exchange_code(client, application, code, verifier, secret)
    assert response.status_code == 200, response.content
    return response.json()


def client_credentials(client, application, scope="read", **extra) -> dict:
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": scope, **extra},
        **basic(application.client_id),
    )
    assert response.status_code == 200, response.content
    return response.json()


def verify(token: str, jwks: dict, audience, algorithms=("RS256", "PS256", "ES256", "ES384", "EdDSA")):
    """Decode with PyJWT (an independent library) using the key named by kid in the JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in jwks["keys"] if k["kid"] == kid)
    return jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=list(algorithms),
        audience=audience,
        issuer="https://testserver/o",
        options={"require": ["exp", "iat", "iss", "sub", "aud"]},
    )
