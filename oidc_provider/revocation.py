"""Revocation markers: when DOT deletes a JWT access token's row (RFC 7009 revocation, refresh
rotation, logout), remember its ``jti`` in the shared cache until the token would expire anyway.

Resource servers that validate JWTs locally (``RESOURCE_SERVER["REVOCATION_CHECK"] = "cache"``)
then refuse a revoked token with one cache read per request and no database query.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import caches

from .conf import oidc_settings
from .jose import InvalidToken, parse

MARKER_PREFIX = "oidc_provider:revoked:"


def _cache():
    return caches[oidc_settings.CACHE_ALIAS]


def mark_revoked(jti: str, exp: float) -> None:
    """Remember ``jti`` as revoked until ``exp`` (plus leeway); nothing to do once it expired."""
    remaining = int(exp - time.time()) + oidc_settings.LEEWAY + 1
    if remaining > 0:
        _cache().set(MARKER_PREFIX + jti, 1, remaining)


def is_revoked(jti: str) -> bool:
    """One cache read."""
    return _cache().get(MARKER_PREFIX + jti) is not None


def access_token_deleted(instance: Any, **kwargs: Any) -> None:
    """post_delete receiver for DOT's access-token model: mark the JWT's jti revoked."""
    token = getattr(instance, "token", "") or ""
    if token.count(".") != 2:
        return  # opaque token, or a row that does not keep the token value
    try:
        claims = parse(token, max_size=max(len(token), 1)).claims()
    except InvalidToken:
        return
    jti, exp = claims.get("jti"), claims.get("exp")
    if isinstance(jti, str) and isinstance(exp, int | float) and not isinstance(exp, bool):
        mark_revoked(jti, exp)
