"""Version stamps in Django's cache: how every process learns that rows it keeps in memory changed.

A process remembers the stamp its copy was loaded under; when the shared stamp differs (bumped
after a change, or gone because the cache was cleared or evicted it), the copy is stale.
"""

from __future__ import annotations

import uuid

from django.core.cache import caches

from .conf import oidc_settings


def current(key: str) -> str:
    cache = caches[oidc_settings.CACHE_ALIAS]
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, None)
        version = cache.get(key) or "unset"
    return version


def bump(key: str) -> None:
    caches[oidc_settings.CACHE_ALIAS].set(key, uuid.uuid4().hex, None)
