"""Django's cache as an accelerator that may fail: every call on a request path goes through here.

A cache that is down (Redis restarting, a network split) must never turn a request into a 500:
each helper catches the backend's error, logs one warning per ``KEY_CACHE_CHECK_INTERVAL`` per
process, and returns what the caller treats as "the cache knows nothing". Callers then decide
from the database or from what they hold in memory.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import caches

from .conf import oidc_settings

logger = logging.getLogger("oidc_provider.cache")
_warned_at: dict[str, float] = {}


def _cache() -> Any:
    return caches[oidc_settings.CACHE_ALIAS]


def _failed(operation: str, exc: Exception) -> None:
    alias = oidc_settings.CACHE_ALIAS
    now = time.monotonic()
    if now - _warned_at.get(alias, -float("inf")) >= oidc_settings.KEY_CACHE_CHECK_INTERVAL:
        _warned_at[alias] = now
        logger.warning(
            "Cache %r is unavailable (%s failed: %s: %s); using the database and in-memory state.",
            alias,
            operation,
            type(exc).__name__,
            exc,
        )


def get(key: str, default: Any = None) -> Any:
    try:
        return _cache().get(key, default)
    except Exception as exc:  # any backend's connection error: redis, pymemcache, a database
        _failed("get", exc)
        return default


def set(key: str, value: Any, timeout: float | None) -> bool:
    """True when stored."""
    try:
        _cache().set(key, value, timeout)
    except Exception as exc:
        _failed("set", exc)
        return False
    return True


def add(key: str, value: Any, timeout: float | None) -> bool | None:
    """True when added, False when the key existed, None when the cache could not say."""
    try:
        return bool(_cache().add(key, value, timeout))
    except Exception as exc:
        _failed("add", exc)
        return None


def delete(key: str) -> None:
    try:
        _cache().delete(key)
    except Exception as exc:
        _failed("delete", exc)


def is_shared() -> bool:
    """False for caches that live in one process (LocMem) or store nothing (Dummy)."""
    backend = type(_cache()).__name__
    return backend not in ("LocMemCache", "DummyCache")


_local_throttle: dict[str, float] = {}


def throttle(key: str, seconds: float) -> bool:
    """True for one caller per ``seconds`` across processes (``cache.add``); when the cache cannot
    say, once per ``seconds`` in this process, so an outage never unleashes a fetch per request."""
    added = add(key, 1, seconds)
    if added is not None:
        return added
    now = time.monotonic()
    if now < _local_throttle.get(key, -float("inf")):
        return False
    _local_throttle[key] = now + seconds
    return True
