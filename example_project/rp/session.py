"""The RP's own session, under a cookie of its own (``demo_rp_session``).

The demo serves the provider, the admin and the RP from one Django project. A relying party
normally has its own site and its own session; sharing Django's session here meant that
signing in to the admin (``django.contrib.auth.login`` flushes the session when the user
changes) wiped the RP's sign-in. Same session engine, separate cookie: separate state.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE_NAME = "demo_rp_session"


def load(request: HttpRequest) -> Any:
    """The RP's session store for this browser (empty when it has none yet)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store(request.COOKIES.get(COOKIE_NAME))


def uses_rp_session(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give the view ``request.rp_session`` and save it (and its cookie) after the view ran."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.rp_session = session = load(request)
        response = view(request, *args, **kwargs)
        if session.modified:
            if session.is_empty():
                session.flush()
                response.delete_cookie(COOKIE_NAME, samesite="Lax")
            else:
                session.save()
                response.set_cookie(
                    COOKIE_NAME,
                    session.session_key,
                    max_age=settings.SESSION_COOKIE_AGE,
                    secure=request.is_secure(),
                    httponly=True,
                    samesite="Lax",  # the provider's redirect to /rp/callback is a top-level GET
                )
        return response

    return wrapper
