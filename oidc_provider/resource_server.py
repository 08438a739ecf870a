"""Bearer-token checks for an API, shared by every web framework we support.

``contrib.rest_framework`` and ``contrib.ninja`` are thin adapters over this module: the
same access-token validation (local or remote keys, hybrid revocation, no query), the same
RFC 6750 errors and the same ``WWW-Authenticate`` challenge. Nothing here imports a
framework, and nothing imports a model until a user row is needed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.urls import NoReverseMatch, reverse

from . import events, jose, revocation
from .conf import oidc_settings
from .contrib.rest_framework import introspection
from .contrib.rest_framework.conf import resource_settings
from .contrib.rest_framework.jwks import remote_jwks
from .contrib.rest_framework.token import AccessTokenClaims, LazyUser, TokenUser
from .jose import InvalidToken
from .validation import ACCESS_TOKEN, KeySource, LocalKeys, decode

#: URL name of ``resource_metadata.ProtectedResourceMetadataView`` (RFC 9728 §3).
METADATA_URL_NAME = "oidc_provider_resource_metadata"
WELL_KNOWN = "/.well-known/oauth-protected-resource"
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class BearerError(Exception):
    """An RFC 6750 §3.1 error: ``invalid_token`` (401) or ``insufficient_scope`` (403).

    ``description`` is safe to show to the caller.
    """

    def __init__(self, error: str, description: str, scope: str | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.scope = scope

    @property
    def status(self) -> int:
        return 403 if self.error == "insufficient_scope" else 401

    @property
    def challenge(self) -> str:
        return challenge(self.error, self.description, self.scope)


def resource_identifier() -> str | None:
    """RFC 9728 §1.2: this API's resource identifier (``RESOURCE``, else its first audience)."""
    s = resource_settings
    return s.RESOURCE or (s.audience[0] if s.audience else None)


def well_known_url(resource: str) -> str:
    """RFC 9728 §3.1: ``/.well-known/oauth-protected-resource`` between host and path."""
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def resource_metadata_url() -> str | None:
    """The ``resource_metadata`` of our challenges (RFC 9728 §5.1), or None to leave it out.

    ``RESOURCE_METADATA_URL`` when set; else the well-known URL of ``resource_identifier()``
    when this site serves the metadata view, so a challenge never points at a missing page.
    """
    configured = resource_settings.RESOURCE_METADATA_URL
    if configured is not None:
        return configured or None
    resource = resource_identifier()
    if not resource:
        return None
    try:
        reverse(METADATA_URL_NAME)
    except NoReverseMatch:
        return None
    return well_known_url(resource)


def challenge(error: str | None = None, description: str | None = None, scope: str | None = None) -> str:
    """A ``WWW-Authenticate: Bearer`` challenge (RFC 6750 §3, RFC 9728 §5.1) with safe values."""
    parts = [f'realm="{_UNSAFE.sub("", str(resource_settings.REALM))}"']
    attributes = (
        ("error", error),
        ("error_description", description),
        ("scope", scope),
        ("resource_metadata", resource_metadata_url()),
    )
    for name, value in attributes:
        if value:
            parts.append(f'{name}="{_UNSAFE.sub("", str(value))}"')
    return "Bearer " + ", ".join(parts)


def bearer_credentials(header: Any, keyword: str = "bearer") -> str | None:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1); None when there is none.

    Raises BearerError for a Bearer header whose credentials are malformed.
    """
    if not header or not isinstance(header, str):
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != keyword:
        return None
    credentials = credentials.strip()
    if not credentials or " " in credentials:
        raise BearerError("invalid_token", "Malformed Bearer credentials.")
    return credentials


def key_source() -> KeySource:
    if resource_settings.remote:
        return remote_jwks()
    return LocalKeys()


def revoked(token: AccessTokenClaims) -> bool:
    check = resource_settings.REVOCATION_CHECK
    if not check or not token.jti:
        return False
    if check == "introspection":
        return introspection.is_revoked(token)
    if check == "database":
        return revocation.is_revoked(token.jti)
    return revocation.is_marked(token.jti)


def validate(credentials: str) -> AccessTokenClaims:
    """The access token, validated for this API (RFC 9068 §4), or BearerError ``invalid_token``."""
    try:
        header, claims = decode(
            credentials,
            ACCESS_TOKEN,
            key_source(),
            issuer=resource_settings.issuer,
            audience=resource_settings.audience,
            remember=True,
        )
    except InvalidToken as exc:
        events.token_refused("resource server", str(exc), _claimed_client(credentials))
        raise BearerError("invalid_token", str(exc)) from None
    token = AccessTokenClaims(credentials, header, claims, oidc_settings.LEEWAY)
    if revoked(token):
        events.token_refused("resource server", "revoked", token.client_id)
        raise BearerError("invalid_token", "Token has been revoked.")
    return token


def _claimed_client(credentials: str) -> Any:
    """The unverified client_id of a refused token, for the log line only."""
    try:
        return jose.parse(credentials, max_size=oidc_settings.MAX_TOKEN_SIZE).claims().get("client_id")
    except (InvalidToken, AttributeError):
        return None


def check_scopes(token: Any, scopes: Any) -> None:
    """RFC 6750 §3.1: BearerError ``insufficient_scope`` unless the token grants every scope."""
    scopes = list(scopes)
    if not isinstance(token, AccessTokenClaims):
        raise BearerError("invalid_token", "The request has no JWT access token.")
    if not token.allow_scopes(scopes):
        raise BearerError(
            "insufficient_scope",
            "The access token does not grant the scope this request needs.",
            " ".join(scopes),
        )


def find_user(token: AccessTokenClaims) -> Any | None:
    """The active user row for ``sub``, or None when it is deleted or inactive."""
    model = get_user_model()
    try:
        user = model._default_manager.get(pk=token.sub)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        return None
    return user if getattr(user, "is_active", True) else None


UNKNOWN_USER = "The token's user is unknown or inactive."


def user_for(token: AccessTokenClaims, load: Any) -> Any:
    """``request.user``: a TokenUser for clients and in stateless mode, else ``LazyUser(load)``."""
    if token.is_client_token or resource_settings.USER_MODE == "stateless":
        return TokenUser(token)
    return LazyUser(load, token.sub)
