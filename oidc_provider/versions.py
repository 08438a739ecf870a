"""How every process learns that rows it keeps in memory (signing keys, client profiles) changed.

Each kind of row has a version: a counter in the database (``DataVersion``), bumped in the same
transaction as the change, and a stamp in the shared cache, replaced after commit (the fast path
when a cache is shared). A process reads both at most every ``KEY_CACHE_CHECK_INTERVAL`` seconds
(``Watch.current``): one primary-key query per interval, none per request. So a change made
anywhere (admin, command, shell, another host) is seen everywhere within the interval, whatever
the cache backend, and a cache that is down only costs its fast path.
"""

from __future__ import annotations

import threading
import time
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F

from . import shared_cache
from .conf import oidc_settings
from .models import DataVersion

STAMP_PREFIX = "oidc_provider:version:"


def bump(name: str) -> None:
    """Record a change of ``name``; call it inside the transaction that makes the change."""
    if not DataVersion.objects.filter(name=name).update(version=F("version") + 1):
        try:
            with transaction.atomic():
                DataVersion.objects.create(name=name, version=1)
        except IntegrityError:  # created meanwhile by a concurrent first change
            DataVersion.objects.filter(name=name).update(version=F("version") + 1)
    transaction.on_commit(lambda: shared_cache.set(STAMP_PREFIX + name, uuid.uuid4().hex, None))


def _cache_stamp(name: str) -> str:
    key = STAMP_PREFIX + name
    stamp = shared_cache.get(key)
    if stamp is None:
        # Gone (cleared, evicted, never set) or the cache is down: any new value means "reload once".
        shared_cache.add(key, uuid.uuid4().hex, None)
        stamp = shared_cache.get(key) or "no-cache"
    return stamp


def read(name: str) -> str:
    """The current version of ``name``: database counter and cache stamp (one query, one cache read)."""
    counter = DataVersion.objects.filter(name=name).values_list("version", flat=True).first() or 0
    return f"{counter}:{_cache_stamp(name)}"


class Watch:
    """The version of ``name`` as this process last read it, read again after the interval."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self.forget()

    def current(self) -> str:
        version, fresh_until = self._seen
        if time.monotonic() >= fresh_until:
            with self._lock:
                version, fresh_until = self._seen
                if time.monotonic() >= fresh_until:
                    version = read(self.name)
                    self._seen = (version, time.monotonic() + oidc_settings.KEY_CACHE_CHECK_INTERVAL)
        return version

    def forget(self) -> None:
        """Read the version again at the next ``current()`` (after a change made here, in tests)."""
        self._seen = ("", 0.0)
