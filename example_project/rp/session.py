"""Each demo RP keeps its own session under its own cookie, as a separate site would.

The provider's Django session is not the RP's: signing out at the provider ends the RP's
session only when the provider tells it so (back-channel logout). The sid index maps the
provider's session id to this RP's session; a real RP keeps it in its own database, the
demo keeps it in Django's cache (one process).
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

INDEX_TIMEOUT = 14 * 24 * 3600


def cookie(name: str) -> str:
    return f"{name}_session"


def load(request: HttpRequest, name: str) -> SessionStore:
    return SessionStore(session_key=request.COOKIES.get(cookie(name)))


def save(response: HttpResponse, store: SessionStore, name: str) -> HttpResponse:
    if store.modified or store.session_key is None:
        store.save()
    response.set_cookie(cookie(name), store.session_key, httponly=True, samesite="Lax")
    return response


def remember_sid(name: str, sid: str, store: SessionStore) -> None:
    cache.set(f"demo_rp:{name}:sid:{sid}", store.session_key, INDEX_TIMEOUT)


def forget_sid(name: str, sid: str) -> None:
    cache.delete(f"demo_rp:{name}:sid:{sid}")


def end_for_sid(name: str, sid: str) -> bool:
    """End this RP's session of the provider session ``sid``; True if there was one."""
    key = cache.get(f"demo_rp:{name}:sid:{sid}")
    if not key:
        return False
    SessionStore(session_key=key).delete()
    cache.set(f"demo_rp:{name}:ended:{key}", True, INDEX_TIMEOUT)
    forget_sid(name, sid)
    return True


def ended_by_provider(request: HttpRequest, name: str) -> bool:
    key = request.COOKIES.get(cookie(name))
    return bool(key) and bool(cache.get(f"demo_rp:{name}:ended:{key}"))
