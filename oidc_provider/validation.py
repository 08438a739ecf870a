"""The one JWT validation path: DRF authentication, introspection, the admin inspector,
id_token_hint and client assertions all call ``decode``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from typing import Any, Protocol

from .conf import oidc_settings
from .jose import InvalidToken, parse, verify_signature

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})


class KeySource(Protocol):
    """Finds the verification key for a kid: returns (public key object, alg) or None.

    ``kid`` is None only when ``decode`` is called with ``require_kid=False``.
    """

    def get(self, kid: str | None) -> tuple[Any, str] | None: ...


class LocalKeys:
    """This site's published keys, from the in-process key ring (no query when warm)."""

    def get(self, kid: str | None) -> tuple[Any, str] | None:
        key = _keyring().keys.get(kid)
        return (key.public_key, key.alg) if key is not None else None


def _keyring() -> Any:
    # keys imports the models: resolved on first use, so remote-only services never load them,
    # then bound here (a function-level import on every call costs more than the lookup).
    global _keyring
    from .keys import keyring

    _keyring = keyring
    return keyring()


REQUIRED_CLAIMS = ("iss", "exp", "aud", "sub", "iat", "jti")
STRING_CLAIMS = ("iss", "sub", "jti", "client_id", "scope")


def _numeric(claims: dict[str, Any], name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise InvalidToken(f"Token has no {name} claim.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidToken(f"Token claim {name} is not a number.")
    return value


def decode(
    token: str | bytes,
    keys: KeySource,
    *,
    allowed_algs: Iterable[str],
    issuer: str | None,
    audience: str | Collection[str] | None,
    typ: frozenset[str] | None = ACCESS_TOKEN_TYPES,
    leeway: int = 30,
    max_size: int = 8192,
    require: Iterable[str] = REQUIRED_CLAIMS,
    check_exp: bool = True,
    require_kid: bool = True,
    remember: bool = False,
    now: Callable[[], float] = time.time,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS and its claims; returns (header, claims) or raises InvalidToken.

    ``remember``: check each token's signature once per process and key (access tokens that
    come back with every request; see ``jose.verify_signature``).
    """
    unverified = parse(token, max_size=max_size)
    header = unverified.header
    if typ is not None and str(header.get("typ", "")).lower() not in typ:
        # RFC 9068 §4: an access token's typ is at+jwt, so an ID token is never one.
        raise InvalidToken("Token type is not accepted here.")
    kid = header.get("kid")
    # OIDC Core §10.1: a signer with a single key may omit kid where the caller allows it.
    if (kid is not None or require_kid) and (not isinstance(kid, str) or not kid):
        raise InvalidToken("Token has no key id.")
    found = keys.get(kid)
    if found is None:
        raise InvalidToken("Token is signed by an unknown key.")
    claims = verify_signature(unverified, found[0], found[1], allowed_algs, remember=remember)

    for name in require:
        if name not in claims:
            raise InvalidToken(f"Token has no {name} claim.")
    if issuer is not None and claims.get("iss") != issuer:
        raise InvalidToken("Token issuer is not accepted.")
    if audience is not None:
        expected = (audience,) if isinstance(audience, str) else audience
        aud = claims.get("aud")
        if isinstance(aud, str):
            accepted = aud in expected
        else:
            accepted = isinstance(aud, list) and any(isinstance(v, str) and v in expected for v in aud)
        if not accepted:
            raise InvalidToken("Token audience is not accepted.")
    current = now()
    exp = _numeric(claims, "exp", "exp" in require)
    if check_exp and exp is not None and exp <= current - leeway:
        raise InvalidToken("Token has expired.")
    nbf = _numeric(claims, "nbf", False)
    if nbf is not None and nbf > current + leeway:
        raise InvalidToken("Token is not valid yet.")
    iat = _numeric(claims, "iat", "iat" in require)
    if iat is not None and iat > current + leeway:
        raise InvalidToken("Token was issued in the future.")
    for name in STRING_CLAIMS:  # present means a string: null is not one
        if not isinstance(claims.get(name, ""), str):
            raise InvalidToken(f"Token claim {name} is not a string.")
    return header, claims


def decode_local(token: str | bytes, **options: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``decode`` against this site's own keys, issuer, algorithms, leeway and size limit.

    No audience check unless ``audience`` is given; any other option of ``decode`` may be overridden.
    """
    defaults = {
        "allowed_algs": oidc_settings.ALLOWED_ALGORITHMS,
        "issuer": oidc_settings.ISSUER,
        "audience": None,
        "leeway": oidc_settings.LEEWAY,
        "max_size": oidc_settings.MAX_TOKEN_SIZE,
    }
    return decode(token, LocalKeys(), **{**defaults, **options})
