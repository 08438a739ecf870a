"""Hybrid mode for a separate service: ask the issuer (RFC 7662) whether a token is still active,
at most once per token per ``REVOCATION_CHECK_DELAY`` seconds, and remember the answer in the
shared cache, so steady-state requests make no HTTP call.
"""

from __future__ import annotations

import hashlib
import logging
import time

from oidc_provider import shared_cache
from oidc_provider.conf import oidc_settings

from .conf import resource_settings
from .jwks import FetchError, discover, fetch_json
from .token import AccessTokenClaims

logger = logging.getLogger("oidc_provider.resource_server")

ACTIVE, INACTIVE = "active", "inactive"
_discovered: dict[str, str] = {}


def introspection_url() -> str:
    """INTROSPECTION_URL, or the discovery document's introspection_endpoint (fetched once)."""
    s = resource_settings
    if s.INTROSPECTION_URL:
        return s.INTROSPECTION_URL
    url = _discovered.get(s.DISCOVERY_URL)
    if url is None:
        metadata = discover(s.DISCOVERY_URL, s.issuer, s.HTTP_TIMEOUT)
        url = metadata.get("introspection_endpoint")
        if not isinstance(url, str):
            raise FetchError(f"{s.DISCOVERY_URL}: no introspection_endpoint")
        _discovered[s.DISCOVERY_URL] = url
    return url


def is_revoked(token: AccessTokenClaims) -> bool:
    """True when the issuer says the token is no longer active (RFC 7662 §2.2)."""
    s = resource_settings
    name = f"{token.claims['iss']}|{token.jti}".encode()
    key = "oidc_provider:introspected:" + hashlib.sha256(name).hexdigest()
    cached = shared_cache.get(key)
    if cached is not None:
        return cached == INACTIVE
    remaining = max(int(token.claims["exp"] - time.time()) + oidc_settings.LEEWAY, 1)
    try:
        result = fetch_json(
            introspection_url(),
            timeout=s.HTTP_TIMEOUT,
            auth=(s.INTROSPECTION_CLIENT_ID or "", s.INTROSPECTION_CLIENT_SECRET or ""),
            data={"token": token.token, "token_type_hint": "access_token"},
        )
    except FetchError as exc:
        # Fail open: the signature is valid and the issuer is unreachable; retried after the delay.
        logger.warning("Introspection failed, accepting the signed token: %s", exc)
        shared_cache.set(key, ACTIVE, min(s.REVOCATION_CHECK_DELAY, remaining))
        return False
    active = isinstance(result, dict) and result.get("active") is True
    if active:
        shared_cache.set(key, ACTIVE, min(s.REVOCATION_CHECK_DELAY, remaining))
    else:
        shared_cache.set(key, INACTIVE, remaining)
    return not active
