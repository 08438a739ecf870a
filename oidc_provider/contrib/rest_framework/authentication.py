"""DRF authentication with RFC 9068 JWT access tokens, validated without a database query.

Local mode checks tokens against this site's key ring; remote mode against another issuer's
JWKS. The checks live in ``oidc_provider.resource_server``, shared with django-ninja.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from oidc_provider import resource_server
from oidc_provider.resource_server import BearerError, challenge, key_source, revoked  # noqa: F401

from .token import AccessTokenClaims

ERROR_ATTRIBUTE = "_oidc_bearer_error"


class InvalidBearerToken(AuthenticationFailed):
    """401 ``invalid_token`` (RFC 6750 §3.1); the message is safe to show."""

    default_code = "invalid_token"


def load_user(token: AccessTokenClaims, request: Request) -> Any:
    """The user row for ``sub``; a deleted or inactive user fails the request with 401."""
    user = resource_server.find_user(token)
    if user is None:
        setattr(request, ERROR_ATTRIBUTE, resource_server.UNKNOWN_USER)
        raise InvalidBearerToken(resource_server.UNKNOWN_USER)
    return user


def user_for(token: AccessTokenClaims, request: Request) -> Any:
    """``request.user``: a TokenUser for clients and in stateless mode, else a LazyUser."""
    return resource_server.user_for(token, lambda: load_user(token, request))


class JWTAccessTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <JWT>``; returns (user, AccessTokenClaims) or None without a Bearer header."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, AccessTokenClaims] | None:
        # The Django request's META directly: DRF's attribute proxy costs more than the lookup.
        header = getattr(request, "_request", request).META.get("HTTP_AUTHORIZATION")
        try:
            credentials = resource_server.bearer_credentials(header, self.keyword)
            if credentials is None:
                return None
            token = resource_server.validate(credentials)
        except BearerError as exc:
            self.fail(request, exc.description)
        return user_for(token, request), token

    def fail(self, request: Request, message: str) -> None:
        setattr(request, ERROR_ATTRIBUTE, message)
        raise InvalidBearerToken(message)

    def authenticate_header(self, request: Request) -> str:
        """401 challenge; names the error when a token was presented (RFC 6750 §3)."""
        description = getattr(request, ERROR_ATTRIBUTE, None)
        if description is None:
            return challenge()
        return challenge("invalid_token", description)


if importlib.util.find_spec("drf_spectacular") is not None:
    from . import spectacular  # noqa: F401  (registers the OpenAPI security scheme)
