"""Values accepted exactly once until they expire, decided by the database.

``claim_once("client-assertion", f"{client_id}\\0{jti}", exp)`` is True for the first caller
only, across threads, processes and hosts: the ``UsedJti`` unique constraint decides. With a
shared cache, ``cache.add`` is asked first so a replay costs no query, but only a "no" from the
cache is trusted; a "yes" (or a cache that is down) still goes to the database. Expired rows are
pruned opportunistically (at most once a minute per process) and by ``manage.py oidc_prune``.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import shared_cache
from .models import UsedJti

PRUNE_EVERY = 60  # seconds between opportunistic prunes in one process
_next_prune = 0.0


def _digest(namespace: str, key: str) -> str:
    return hashlib.sha256(f"{namespace}\x00{key}".encode()).hexdigest()


def claim_once(namespace: str, key: str, expires_at: datetime) -> bool:
    """True if ``key`` was not claimed in ``namespace`` (or its claim expired); records it until
    ``expires_at``. Safe inside an outer transaction (it uses a savepoint)."""
    digest = _digest(namespace, key)
    now = timezone.now()
    timeout = max(1, int((expires_at - now).total_seconds()) + 1)
    if shared_cache.is_shared() and shared_cache.add(f"oidc:once:{digest}", 1, timeout) is False:
        return False  # seen by another process through the shared cache: no query needed
    _prune_now_and_then()
    try:
        with transaction.atomic():
            UsedJti.objects.create(namespace=namespace[:64], key=digest, expires_at=expires_at)
        return True
    except IntegrityError:
        # Taken, unless the earlier claim expired: reclaim it with one conditional UPDATE, which
        # only one of several racing processes can win.
        reclaimed = UsedJti.objects.filter(namespace=namespace[:64], key=digest, expires_at__lte=now).update(
            expires_at=expires_at
        )
        return reclaimed == 1


def prune(now: datetime | None = None) -> int:
    """Delete expired records; returns how many."""
    deleted, _ = UsedJti.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def _prune_now_and_then() -> None:
    global _next_prune
    if time.monotonic() >= _next_prune:
        _next_prune = time.monotonic() + PRUNE_EVERY
        prune()
