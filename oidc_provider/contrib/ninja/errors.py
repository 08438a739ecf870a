"""RFC 6750 §3 error responses for django-ninja: 401/403 with a ``WWW-Authenticate`` challenge.

ninja renders exceptions through the API's handlers, which cannot set headers by default;
``add_error_handlers(api)`` installs one that adds the Bearer challenge.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, AuthorizationError

from oidc_provider.resource_server import BearerError, challenge


class InvalidBearerToken(AuthenticationError):
    """401 ``invalid_token`` (RFC 6750 §3.1) for a Bearer token we refuse."""

    def __init__(self, bearer: BearerError) -> None:
        super().__init__(status_code=401, message=bearer.description)
        self.bearer = bearer


class InsufficientScope(AuthorizationError):
    """403 ``insufficient_scope`` (RFC 6750 §3.1) naming the scopes the request needs."""

    def __init__(self, bearer: BearerError) -> None:
        super().__init__(status_code=403, message=bearer.description)
        self.bearer = bearer


def http_error(bearer: BearerError) -> InvalidBearerToken | InsufficientScope:
    if bearer.error == "insufficient_scope":
        return InsufficientScope(bearer)
    return InvalidBearerToken(bearer)


def bearer_error_response(request: HttpRequest, exc: Any, *, api: Any) -> HttpResponse:
    """ninja's JSON ``{"detail": ...}`` plus the challenge: every 401 of the API carries one
    (RFC 6750 §3), naming the error when a token was presented."""
    response = api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
    bearer = getattr(exc, "bearer", None)
    if bearer is not None:
        response["WWW-Authenticate"] = bearer.challenge
    elif exc.status_code == 401:
        response["WWW-Authenticate"] = challenge()
    return response


def add_error_handlers(api: Any) -> Any:
    """Install the RFC 6750 handlers on a ``NinjaAPI``; returns the API."""
    handler = partial(bearer_error_response, api=api)
    api.add_exception_handler(AuthenticationError, handler)
    api.add_exception_handler(InsufficientScope, handler)
    return api
