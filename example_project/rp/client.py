"""A minimal OpenID Connect relying party that reaches the provider over HTTP only.

It imports nothing from ``oidc_provider``: discovery, the token exchange, the JWKS and the
API call go through ``requests``, and tokens (ID tokens, logout tokens) are checked with
PyJWT, an independent implementation, the way any third-party client would (OIDC Core
§3.1.3.7, Back-Channel Logout §2.6).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

import jwt
import requests
from django.conf import settings

TIMEOUT = 5
# Algorithms this client accepts; never "none", never HMAC with a public key.
ACCEPTED_ALGS = ("RS256", "PS256", "ES256", "EdDSA")


class RelyingPartyError(Exception):
    """The flow cannot go on; the message is safe to show."""


BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def conf(name: str = "rp") -> dict[str, str]:
    """Settings of one demo RP: ``DEMO_RPS[name]``, or ``DEMO_RP`` for the first."""
    return getattr(settings, "DEMO_RPS", {}).get(name) or settings.DEMO_RP


def http() -> requests.Session:
    """The HTTP client every call goes through (tests route it to Django's test client)."""
    return requests.Session()


def _get_json(url: str, **kwargs: Any) -> Any:
    try:
        response = http().get(url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise RelyingPartyError(f"Could not reach {url}: {exc.__class__.__name__}") from None
    if response.status_code != 200:
        raise RelyingPartyError(f"{url} answered HTTP {response.status_code}.")
    return response.json()


def discover() -> dict[str, Any]:
    """OpenID Provider metadata (OIDC Discovery §4); the issuer must match exactly."""
    issuer = conf()["ISSUER"].rstrip("/")
    metadata = _get_json(f"{issuer}/.well-known/openid-configuration")
    if metadata.get("issuer") != issuer:
        raise RelyingPartyError("The discovery document names another issuer.")
    return metadata


def new_pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def exchange_code(
    metadata: dict[str, Any], code: str, verifier: str, rp: dict[str, str] | None = None
) -> dict[str, Any]:
    """Authorization code -> tokens at the token endpoint (RFC 6749 §4.1.3, client_secret_basic)."""
    rp = rp or conf()
    try:
        response = http().post(
            metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": rp["REDIRECT_URI"],
                "code_verifier": verifier,
            },
            auth=(rp["CLIENT_ID"], rp["CLIENT_SECRET"]),
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise RelyingPartyError(f"Could not reach the token endpoint: {exc.__class__.__name__}") from None
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code != 200 or "id_token" not in body:
        raise RelyingPartyError(f"Token endpoint refused the code: {body.get('error', response.status_code)}")
    return body


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _signing_key(token: str, jwks: dict[str, Any]) -> jwt.PyJWK:
    header = jwt.get_unverified_header(token)
    if header.get("alg") not in ACCEPTED_ALGS:
        raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not accepted")
    for key in jwt.PyJWKSet.from_dict(jwks).keys:
        if key.key_id == header.get("kid"):
            if key.algorithm_name != header["alg"]:
                raise jwt.InvalidAlgorithmError("the key is not made for this algorithm")
            return key
    raise jwt.PyJWKError(f"no key {header.get('kid')!r} in the provider's JWKS")


def _check(name: str, fn: Any) -> Check:
    try:
        detail = fn()
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        return Check(name, False, str(exc) or exc.__class__.__name__)
    return Check(name, True, detail)


def verify_token(
    token: str,
    jwks: dict[str, Any],
    *,
    issuer: str,
    audience: str | None,
    nonce: str | None = None,
    access_token: str | None = None,
) -> list[dict[str, Any]]:
    """Every check of OIDC Core §3.1.3.7 (and at_hash, §3.2.2.9), each listed on its own."""
    options = {"verify_aud": False, "verify_iss": False, "verify_exp": False, "verify_iat": False}

    def decoded(**kw: Any) -> dict[str, Any]:
        key = _signing_key(token, jwks)
        return jwt.decode(token, key=key, algorithms=[key.algorithm_name], **kw)

    def signature() -> str:
        decoded(options=options)
        key = _signing_key(token, jwks)
        return f"{key.algorithm_name} signature valid (kid {key.key_id[:12]}...)"

    def iss() -> str:
        decoded(issuer=issuer, options={**options, "verify_iss": True})
        return f"iss is {issuer}"

    def aud() -> str:
        decoded(audience=audience, options={**options, "verify_aud": True})
        return f"aud contains {audience}"

    def exp() -> str:
        claims = decoded(options={**options, "verify_exp": True, "require": ["exp"]})
        return f"expires in {int(claims['exp'] - time.time())} s"

    checks = [_check("signature", signature), _check("iss", iss)]
    if audience is not None:
        checks.append(_check("aud", aud))
    checks.append(_check("exp", exp))
    if nonce is not None:

        def nonce_check() -> str:
            if not secrets.compare_digest(str(decoded(options=options).get("nonce", "")), nonce):
                raise ValueError("nonce does not match the one this client sent")
            return "nonce matches the one sent with the request"

        checks.append(_check("nonce", nonce_check))
    if access_token is not None:

        def at_hash() -> str:
            claims = decoded(options=options)
            alg = jwt.get_unverified_header(token)["alg"]
            digest = jwt.get_algorithm_by_name(alg).compute_hash_digest(access_token.encode("ascii"))
            expected = base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
            if not secrets.compare_digest(str(claims.get("at_hash", "")), expected):
                raise ValueError("at_hash does not match the access token")
            return "at_hash binds the access token to this ID token"

        checks.append(_check("at_hash", at_hash))
    return [asdict(c) for c in checks]


def verify_logout_token(token: str, jwks: dict[str, Any], *, issuer: str, client_id: str) -> dict[str, Any]:
    """Back-Channel Logout §2.6: signature, iss, aud, iat, typ, the event, sub or sid, no nonce.

    Raises ``jwt.PyJWTError`` (or ValueError) for anything that is not a logout token for us.
    """
    if jwt.get_unverified_header(token).get("typ") != "logout+jwt":
        raise jwt.InvalidTokenError("not a logout token (typ is not logout+jwt)")
    key = _signing_key(token, jwks)
    claims = jwt.decode(
        token,
        key=key,
        algorithms=[key.algorithm_name],
        audience=client_id,
        issuer=issuer,
        options={"require": ["iss", "aud", "iat", "exp", "jti", "events"]},
    )
    events = claims["events"]
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise jwt.InvalidTokenError("no back-channel logout event")
    if "nonce" in claims:
        raise jwt.InvalidTokenError("a logout token never carries a nonce")
    if not (isinstance(claims.get("sid"), str) or isinstance(claims.get("sub"), str)):
        raise jwt.InvalidTokenError("names neither sid nor sub")
    return claims


def unverified_parts(token: str) -> dict[str, Any]:
    """Header and claims for display only (verification is done by ``verify_token``)."""
    try:
        return {
            "header": jwt.get_unverified_header(token),
            "claims": jwt.decode(token, options={"verify_signature": False}),
        }
    except jwt.PyJWTError:
        return {"header": {}, "claims": {}, "opaque": True}


def call_api(access_token: str, url: str | None = None) -> dict[str, Any]:
    """GET the protected API with the access token as a Bearer credential (RFC 6750 §2.1)."""
    url = url or conf()["API_URL"]
    try:
        response = http().get(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return {"url": url, "status": None, "body": f"unreachable: {exc.__class__.__name__}"}
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    return {"url": url, "status": response.status_code, "body": body}


def fetch_jwks(metadata: dict[str, Any]) -> dict[str, Any]:
    return _get_json(metadata["jwks_uri"])


def fetch_userinfo(metadata: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The claims the user consented to release, from the UserInfo endpoint (OIDC Core §5.3)."""
    endpoint = metadata.get("userinfo_endpoint")
    if not endpoint:
        return {"url": None, "status": None, "body": "the provider publishes no userinfo_endpoint"}
    return call_api(access_token, endpoint)
