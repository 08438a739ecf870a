"""DRF authentication with RFC 9068 JWT access tokens, validated without a database query.

Local mode checks tokens against this site's key ring; remote mode against another issuer's
JWKS. Both call ``oidc_provider.validation.decode``, the app's one validation function.
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from oidc_provider import revocation
from oidc_provider.conf import oidc_settings
from oidc_provider.jose import InvalidToken
from oidc_provider.validation import ACCESS_TOKEN, KeySource, LocalKeys, decode

from . import introspection
from .conf import resource_settings
from .jwks import remote_jwks
from .token import AccessTokenClaims, LazyUser, TokenUser

ERROR_ATTRIBUTE = "_oidc_bearer_error"
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def challenge(error: str | None = None, description: str | None = None, scope: str | None = None) -> str:
    """A ``WWW-Authenticate: Bearer`` challenge (RFC 6750 §3) with safe attribute values."""
    parts = [f'realm="{_UNSAFE.sub("", str(resource_settings.REALM))}"']
    for name, value in (("error", error), ("error_description", description), ("scope", scope)):
        if value:
            parts.append(f'{name}="{_UNSAFE.sub("", value)}"')
    return "Bearer " + ", ".join(parts)


class InvalidBearerToken(AuthenticationFailed):
    """401 ``invalid_token`` (RFC 6750 §3.1); the message is safe to show."""

    default_code = "invalid_token"


def key_source() -> KeySource:
    if resource_settings.remote:
        return remote_jwks()
    return LocalKeys()


def load_user(token: AccessTokenClaims, request: Request) -> Any:
    """The user row for ``sub``; a deleted or inactive user fails the request with 401."""
    model = get_user_model()
    try:
        user = model._default_manager.get(pk=token.sub)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        user = None
    if user is None or not getattr(user, "is_active", True):
        setattr(request, ERROR_ATTRIBUTE, "The token's user is unknown or inactive.")
        raise InvalidBearerToken("The token's user is unknown or inactive.")
    return user


def user_for(token: AccessTokenClaims, request: Request) -> Any:
    """``request.user``: a TokenUser for clients and in stateless mode, else a LazyUser."""
    if token.is_client_token or resource_settings.USER_MODE == "stateless":
        return TokenUser(token)
    return LazyUser(lambda: load_user(token, request), token.sub)


def revoked(token: AccessTokenClaims) -> bool:
    check = resource_settings.REVOCATION_CHECK
    if not check or not token.jti:
        return False
    if check == "introspection":
        return introspection.is_revoked(token)
    if check == "database":
        return revocation.is_revoked(token.jti)
    return revocation.is_marked(token.jti)


class JWTAccessTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <JWT>``; returns (user, AccessTokenClaims) or None without a Bearer header."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, AccessTokenClaims] | None:
        # The Django request's META directly: DRF's attribute proxy costs more than the lookup.
        header = getattr(request, "_request", request).META.get("HTTP_AUTHORIZATION")
        if not header or not isinstance(header, str):
            return None
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != self.keyword:
            return None
        credentials = credentials.strip()
        if not credentials or " " in credentials:
            self.fail(request, "Malformed Bearer credentials.")
        try:
            header_, claims = decode(
                credentials,
                ACCESS_TOKEN,
                key_source(),
                issuer=resource_settings.issuer,
                audience=resource_settings.audience,
                remember=True,
            )
        except InvalidToken as exc:
            self.fail(request, str(exc))
        token = AccessTokenClaims(credentials, header_, claims, oidc_settings.LEEWAY)
        if revoked(token):
            self.fail(request, "Token has been revoked.")
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
