"""``JWTAccessTokenBearer``: ninja's ``HttpBearer`` validating RFC 9068 JWT access tokens.

Same checks, settings and cost as DRF's ``JWTAccessTokenAuthentication`` (no query per
request): both call ``oidc_provider.resource_server``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from oidc_provider import resource_server
from oidc_provider.contrib.rest_framework.token import AccessTokenClaims
from oidc_provider.resource_server import BearerError

from .errors import http_error


def load_user(token: AccessTokenClaims) -> Any:
    """The user row for ``sub``; a deleted or inactive user fails the request with 401."""
    user = resource_server.find_user(token)
    if user is None:
        raise http_error(BearerError("invalid_token", resource_server.UNKNOWN_USER))
    return user


class JWTAccessTokenBearer(HttpBearer):
    """``auth=JWTAccessTokenBearer(scopes=[...])``: ``request.auth`` is the AccessTokenClaims.

    ``request.user`` is set as in DRF (a TokenUser for clients and in stateless mode, else the
    user row loaded on first access). Without a Bearer header it returns None, so ninja tries
    the operation's next auth or answers 401; a bad token is 401 ``invalid_token`` and a token
    without every scope in ``scopes`` is 403 ``insufficient_scope``.
    """

    openapi_bearerFormat = "JWT"

    def __init__(self, *, scopes: Iterable[str] | None = None) -> None:
        super().__init__()
        self.scopes = list(scopes or [])

    def __call__(self, request: HttpRequest) -> AccessTokenClaims | None:
        try:
            credentials = resource_server.bearer_credentials(request.META.get("HTTP_AUTHORIZATION"))
        except BearerError as exc:
            raise http_error(exc) from None
        if credentials is None:
            return None
        return self.authenticate(request, credentials)

    def authenticate(self, request: HttpRequest, token: str) -> AccessTokenClaims:
        try:
            claims = resource_server.validate(token)
            if self.scopes:
                resource_server.check_scopes(claims, self.scopes)
        except BearerError as exc:
            raise http_error(exc) from None
        # ninja leaves request.user to the session middleware; a token names its own subject.
        request.user = resource_server.user_for(claims, lambda: load_user(claims))
        return claims


def require_scopes(request: HttpRequest, *scopes: str) -> AccessTokenClaims:
    """In an operation: the request's token, or 403 ``insufficient_scope`` unless it grants
    every one of ``scopes`` (RFC 6750 §3.1)."""
    token = getattr(request, "auth", None)
    try:
        resource_server.check_scopes(token, scopes)
    except BearerError as exc:
        raise http_error(exc) from None
    return token
