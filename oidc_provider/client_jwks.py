"""Clients' public keys for private_key_jwt: stored JWKS or a fetched, cached ``jwks_uri``.

Fetched sets live in Django's cache so every process shares them, and a shared throttle
lets each URI be fetched at most once per ``CLIENT_JWKS_MIN_REFETCH_INTERVAL``: a client
signing with unknown kids cannot make us hammer its (or anyone's) server. Each process also
keeps the sets it used for as long as the shared cache would (``CLIENT_JWKS_CACHE_SECONDS``),
so a shared cache that is down costs nothing but a warning: clients keep authenticating.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

from . import events, shared_cache
from .conf import oidc_settings
from .fetch import FetchError, fetch_json, scheme_allowed
from .jwk import InvalidJWK, import_jwk

MAX_JWKS_BYTES = 64 * 1024
MAX_LOCAL_SETS = 256  # URIs held per process; the least recently used one goes first


KEYS_UNAVAILABLE = "Could not fetch the client's keys."


class KeysUnavailable(Exception):
    """The client's keys could not be loaded; ``str(exc)`` is safe to show."""


def _cache_key(uri: str) -> str:
    return "oidc:client-jwks:" + hashlib.sha256(uri.encode()).hexdigest()


uri_allowed = scheme_allowed  # https only; plain http only while DEBUG

# cache key -> (monotonic expiry, JWKS): this process's copy of what the shared cache holds.
_local: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()


def clear_local_cache() -> None:
    _local.clear()


def _remember(key: str, data: dict[str, Any]) -> None:
    _local[key] = (time.monotonic() + oidc_settings.CLIENT_JWKS_CACHE_SECONDS, data)
    _local.move_to_end(key)
    while len(_local) > MAX_LOCAL_SETS:
        _local.popitem(last=False)


def _cached(key: str) -> dict[str, Any] | None:
    """The shared cache's set, else this process's unexpired copy (the cache may be down)."""
    shared = shared_cache.get(key)
    if shared is not None:
        _remember(key, shared)
        return shared
    expires, data = _local.get(key, (0.0, None))
    if data is not None and time.monotonic() < expires:
        return data
    _local.pop(key, None)
    return None


def _download(uri: str) -> dict[str, Any]:
    data = fetch_json(
        uri,
        timeout=oidc_settings.HTTP_TIMEOUT,
        max_bytes=MAX_JWKS_BYTES,
        accept="application/jwk-set+json, application/json",
    )
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise FetchError(f"{uri}: not a JWK Set")
    return data


def fetch_jwks(uri: str, *, refresh: bool = False) -> dict[str, Any] | None:
    """The JWKS at ``uri`` from the cache, downloading when missing or on ``refresh``.

    On a throttled refresh returns the cached set (another process may have refetched it) or
    None; raises KeysUnavailable when there is no usable set at all.
    """
    key = _cache_key(uri)
    if not refresh:
        cached = _cached(key)
        if cached is not None:
            return cached
    # cache.add is atomic (Redis SET NX): one process per interval downloads.
    if not shared_cache.throttle(key + ":throttle", oidc_settings.CLIENT_JWKS_MIN_REFETCH_INTERVAL):
        if refresh:
            return _cached(key)
        raise KeysUnavailable(KEYS_UNAVAILABLE)
    try:
        data = _download(uri)
    except FetchError as exc:
        # What went wrong is logged; the client only learns that its keys could not be fetched.
        events.jwks_fetch_failed(uri, str(exc))
        if refresh:
            return None
        raise KeysUnavailable(KEYS_UNAVAILABLE) from None
    shared_cache.set(key, data, oidc_settings.CLIENT_JWKS_CACHE_SECONDS)
    _remember(key, data)
    return data


def load_key(member: Any, header_alg: str) -> tuple[Any, str] | None:
    """(public key, alg) of one JWK usable to verify ``header_alg`` signatures, else None."""
    try:
        imported = import_jwk(member, alg=header_alg)
    except InvalidJWK:
        return None
    return imported.key, imported.alg


class ClientKeys:
    """KeySource over one client's JWKS; an unknown kid triggers one throttled refetch."""

    def __init__(self, jwks: dict[str, Any] | None, uri: str, header_alg: str) -> None:
        self.jwks, self.uri, self.header_alg = jwks, uri, header_alg

    def _members(self) -> list[Any]:
        if self.jwks is None:
            self.jwks = fetch_jwks(self.uri)
        members = self.jwks.get("keys") if isinstance(self.jwks, dict) else None
        return members if isinstance(members, list) else []

    def _find(self, kid: str | None) -> tuple[Any, str] | None:
        members = self._members()
        if kid is None:
            # OIDC Core §10.1: kid may be omitted only when the set holds one usable key.
            usable = [found for m in members if (found := load_key(m, self.header_alg))]
            return usable[0] if len(usable) == 1 else None
        for member in members:
            if isinstance(member, dict) and member.get("kid") == kid:
                return load_key(member, self.header_alg)
        return None

    def get(self, kid: str | None) -> tuple[Any, str] | None:
        found = self._find(kid)
        if found is None and self.uri and kid is not None:
            # The client may have rotated keys since we cached its set.
            fresh = fetch_jwks(self.uri, refresh=True)
            if fresh is not None:
                self.jwks = fresh
                found = self._find(kid)
        return found
