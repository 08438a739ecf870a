"""Revoked JWT access tokens: a database list (``RevokedToken``) plus markers in the shared cache.

When DOT deletes a JWT access token's row (RFC 7009 revocation, refresh rotation, logout, a
reused authorization code), its ``jti`` is recorded in the database until the token would have
expired anyway, and marked in the shared cache as the fast path.

- ``is_revoked(jti)``: resource servers in the same site (``REVOCATION_CHECK = "database"``).
  Each process keeps the list in memory and reads what was added since its last look at most
  every ``KEY_CACHE_CHECK_INTERVAL`` seconds: one indexed query per interval, none per request,
  and a revocation made anywhere is refused everywhere within the interval.
- ``is_marked(jti)``: one cache read, for separate services that share only the cache.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import shared_cache
from .conf import oidc_settings
from .jose import InvalidToken, parse

MARKER_PREFIX = "oidc_provider:revoked:"


class _RevokedList:
    """This process's copy of the database list: jti -> expiry (epoch seconds).

    Reads rows with a primary key above the highest one seen two looks ago, so a row whose
    transaction committed after a higher id was already visible (PostgreSQL sequences) is
    still found at the next look.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.expiries: dict[str, float] = {}
        self.seen: tuple[int, int] | None = None  # (highest pk two looks ago, at the last look)
        self.fresh_until = 0.0

    def contains(self, jti: str) -> bool:
        if time.monotonic() >= self.fresh_until:
            with self.lock:
                if time.monotonic() >= self.fresh_until:
                    self._refresh()
        return jti in self.expiries

    def _refresh(self) -> None:
        now = time.time()
        low, highest = self.seen or (0, 0)
        rows = _models().objects.filter(pk__gt=low, expires_at__gt=timezone.now())
        expiries = {jti: e for jti, e in self.expiries.items() if e > now}
        for pk, jti, expires_at in rows.values_list("pk", "jti", "expires_at"):
            expiries[jti] = expires_at.timestamp()
            highest = max(highest, pk)
        self.expiries = expiries
        self.seen = (self.seen[1] if self.seen else 0, highest)
        self.fresh_until = time.monotonic() + oidc_settings.KEY_CACHE_CHECK_INTERVAL

    def add(self, jti: str, expires: float) -> None:
        self.expiries[jti] = expires


_list = _RevokedList()


def _models() -> Any:
    # Imported on first use: separate resource servers (is_marked only) never load models.
    from .models import RevokedToken

    return RevokedToken


def mark_revoked(jti: str, exp: float) -> None:
    """Record ``jti`` as revoked until ``exp`` (plus leeway); nothing to do once it expired."""
    remaining = int(exp - time.time()) + oidc_settings.LEEWAY + 1
    if remaining <= 0:
        return
    expires_at = datetime.fromtimestamp(time.time() + remaining, tz=UTC)
    try:
        with transaction.atomic():
            _models().objects.create(jti=jti, expires_at=expires_at)
    except IntegrityError:
        pass  # already on the list
    _list.add(jti, expires_at.timestamp())
    shared_cache.set(MARKER_PREFIX + jti, 1, remaining)


def is_revoked(jti: str) -> bool:
    """Same-site check against the database list; no query per request."""
    return _list.contains(jti)


def is_marked(jti: str) -> bool:
    """Separate services: one cache read (a cache that is down knows no markers)."""
    return shared_cache.get(MARKER_PREFIX + jti) is not None


def prune(now: datetime | None = None) -> int:
    deleted, _ = _models().objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def clear_local_cache() -> None:
    _list.clear()


def access_token_deleted(instance: Any, **kwargs: Any) -> None:
    """post_delete receiver for DOT's access-token model: record the JWT's jti as revoked."""
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
